"""The browser-test harness itself, without depending on the dashboard's details: the three regions converge
(seen through the API and kubectl), `restart_hub` keeps the HTTP port and ends open event streams, and Chromium
loads the page the hub serves at `/` and screenshots it."""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import ClientSession, ClientTimeout

from tests.dashboard.conftest import CLUSTERS, PROD, REGIONS, ThreeRegions


async def test_the_three_regions_converge_and_tokens_carry_their_roles(three_regions: ThreeRegions) -> None:
    status, body = await three_regions.api("GET", "/api/v1/fleet", three_regions.tokens["viewer"])
    assert status == 200, body
    assert [region["name"] for region in body["regions"]] == list(REGIONS)
    by_name = {c["name"]: c for region in body["regions"] for c in region["clusters"]}
    assert {name: (c["region"], c["environment"]) for name, c in by_name.items()} == CLUSTERS
    assert {a["name"] for a in by_name["staging-1"]["applications"]} == {"inference", "model-registry"}
    for name in PROD:
        [app] = by_name[name]["applications"]
        assert (app["name"], app["revision"], app["sync_status"], app["health"]) == (
            "inference", three_regions.revision, "Synced", "Healthy")
    # the scoped tokens: the eu operator sees only eu; a viewer may not sync
    status, body = await three_regions.api("GET", "/api/v1/fleet", three_regions.tokens["eu-operator"])
    assert [c["name"] for region in body["regions"] for c in region["clusters"]] == ["eu-west-1"]
    status, body = await three_regions.api("POST", "/api/v1/clusters/us-east-1/applications/inference/sync",
                                           three_regions.tokens["viewer"], {})
    assert status == 403, body
    # the real kubectl reaches each cluster's kubesim
    result = await three_regions.kubectl("eu-west-1", "get", "deployment", "inference", "-n", "ml", "-o",
                                         "jsonpath={.spec.template.spec.containers[0].image}")
    assert result.stdout == "model-server:v1"


async def _open_stream(url: str, token: str) -> asyncio.Task[bool]:
    """Open the event stream (200, text/event-stream); return a task that ends when the stream ends."""
    client = ClientSession(timeout=ClientTimeout(total=None, sock_read=None))
    response = await client.get(url + "/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200 and response.content_type == "text/event-stream"

    async def drain() -> bool:
        try:
            while await response.content.readline():
                pass
            return True
        finally:
            response.release()
            await client.close()

    return asyncio.create_task(drain())


async def test_restart_hub_keeps_the_port_and_ends_open_streams(three_regions: ThreeRegions) -> None:
    url = three_regions.url
    stream = await _open_stream(url, three_regions.tokens["viewer"])
    await three_regions.stop_hub()
    assert await asyncio.wait_for(stream, 10), "the open event stream ended when the hub stopped"
    async with ClientSession() as client:
        try:
            async with client.get(url + "/healthz") as response:
                raise AssertionError(f"the stopped hub answered {response.status}")
        except OSError:
            pass  # connection refused while it is down
    await three_regions.start_hub()
    assert three_regions.url == url
    async with ClientSession() as client, client.get(url + "/healthz") as response:
        assert response.status == 200
    # the agents redial by themselves; the restarted hub reads back what it pushed
    await three_regions.wait_for(lambda: three_regions.converged(three_regions.revision), timeout=30,
                                 message="every cluster back, Synced and Healthy")
    stream = await _open_stream(url, three_regions.tokens["viewer"])
    stream.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stream


async def test_chromium_loads_the_page_the_hub_serves(three_regions: ThreeRegions, browser_page, screenshot,
                                                      page_errors: list[str]) -> None:
    response = await browser_page.goto(three_regions.url + "/")
    assert response is not None and response.status == 200, "the hub serves the dashboard at /"
    assert "text/html" in response.headers["content-type"]
    title = await browser_page.title()
    assert title.strip(), "the page has a title"
    # the page's own scripts load without an uncaught exception
    assert not [e for e in page_errors if e.startswith("pageerror")], page_errors
    path = await screenshot(browser_page, "harness-first-load")
    assert path.stat().st_size > 1000
    # fetch() from the page reaches the API with a token, as the dashboard's scripts do
    status = await browser_page.evaluate("""async (token) => {
        const r = await fetch('/api/v1/fleet', {headers: {Authorization: 'Bearer ' + token}});
        return [r.status, (await r.json()).regions.length];
    }""", three_regions.tokens["viewer"])
    assert status == [200, len(REGIONS)], json.dumps(status)
