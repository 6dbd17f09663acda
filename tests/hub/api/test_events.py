"""The Server-Sent Events stream: delivery in order, filtering by the token's scope, keep-alive comments, and a
clean end (the facade's subscription closed) when the client goes or the server stops."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from hub.api.app import build_app
from tests.hub.api.conftest import Api

DEADLINE = 5.0


async def wait_for(condition, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def next_message(response: aiohttp.ClientResponse) -> tuple[str, dict]:
    """The next `event:`/`data:` block, skipping comments."""
    kind, data = None, None
    while True:
        line = (await asyncio.wait_for(response.content.readline(), DEADLINE)).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[len("event: "):]
        elif line.startswith("data: "):
            data = json.loads(line[len("data: "):])
        elif line == "" and kind is not None:
            return kind, data


async def open_stream(api: Api, token: str) -> aiohttp.ClientResponse:
    response = await api.client.get("/api/v1/events", headers=api.auth(token))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    await wait_for(lambda: api.facade.subscribers >= 1, "the subscription")
    return response


async def test_events_are_delivered_in_order(api: Api) -> None:
    response = await open_stream(api, "viewer")
    api.facade.publish("status", {"cluster": "eu-1", "sync_status": "OutOfSync"})
    api.facade.publish("event", {"cluster": "us-east-1", "type": "SYNC_FAILED"})
    api.facade.publish("pipeline", {"environment": "prod", "application": "inference", "phase": "Paused"})
    assert await next_message(response) == ("status", {"cluster": "eu-1", "sync_status": "OutOfSync"})
    assert await next_message(response) == ("event", {"cluster": "us-east-1", "type": "SYNC_FAILED"})
    assert (await next_message(response))[0] == "pipeline"
    response.close()


async def test_events_are_filtered_to_the_token_scope(api: Api) -> None:
    response = await open_stream(api, "eu-viewer")
    api.facade.publish("event", {"cluster": "us-east-1", "type": "DRIFT_DETECTED"})
    api.facade.publish("pipeline", {"environment": "prod", "region": "us-east", "phase": "Halted"})
    api.facade.publish("status", {"cluster": "mars-9"})  # a cluster the fleet does not name
    api.facade.publish("event", {"cluster": "eu-2", "type": "DRIFT_HEALED"})
    api.facade.publish("pipeline", {"environment": "prod", "application": "inference"})  # prod spans eu too
    assert await next_message(response) == ("event", {"cluster": "eu-2", "type": "DRIFT_HEALED"})
    assert (await next_message(response))[1] == {"environment": "prod", "application": "inference"}
    response.close()


async def test_keep_alive_comments(api: Api) -> None:
    response = await open_stream(api, "viewer")
    line = await asyncio.wait_for(response.content.readline(), DEADLINE)  # keep-alive every 0.05 s in the tests
    assert line == b": keep-alive\n"
    response.close()


async def test_client_disconnect_closes_the_subscription(api: Api) -> None:
    response = await open_stream(api, "viewer")
    api.facade.publish("status", {"cluster": "eu-1"})
    await next_message(response)
    response.close()
    await wait_for(lambda: api.facade.subscribers == 0, "the subscription to close after the client went")


async def test_stream_ends_when_the_facade_ends_it(api: Api) -> None:
    response = await open_stream(api, "viewer")
    api.facade.end_streams()
    assert await asyncio.wait_for(response.content.read(), DEADLINE) is not None
    await wait_for(lambda: api.facade.subscribers == 0, "the subscription to close")


async def test_server_shutdown_ends_open_streams(api: Api) -> None:
    app = build_app(api.facade, api.store, sse_keepalive=60.0)
    client = TestClient(TestServer(app))
    await client.start_server()
    response = await client.get("/api/v1/events", headers=api.auth("viewer"))
    await wait_for(lambda: api.facade.subscribers == 1, "the subscription")
    await asyncio.wait_for(client.close(), DEADLINE)
    await wait_for(lambda: api.facade.subscribers == 0, "the subscription to close at shutdown")
    response.close()


async def test_events_need_a_token(api: Api) -> None:
    response = await api.client.get("/api/v1/events")
    assert response.status == 401
    assert api.facade.subscribers == 0


async def test_disconnect_is_noticed_between_keep_alives(api: Api) -> None:
    """With the production keep-alive (15 s), a client that goes is still noticed within about a second."""
    app = build_app(api.facade, api.store)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/api/v1/events", headers=api.auth("viewer"))
        await wait_for(lambda: api.facade.subscribers == 1, "the subscription")
        response.close()
        await wait_for(lambda: api.facade.subscribers == 0, "the subscription to close after the client went")
