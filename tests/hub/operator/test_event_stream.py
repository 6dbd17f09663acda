"""`GET /api/v1/events` from the real hub: a drift made with a real client on the kubesim cluster reaches the
stream as DRIFT_DETECTED (with the drifted field and who changed it) and then DRIFT_HEALED, from the agent
through the session layer and the recorder; a token scoped to another region sees none of it."""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import ClientSession

from agent.cluster import ObjectRef
from tests.hub.operator.conftest import STAGING_FLEET
from tests.hub.pipeline.conftest import deployment_yaml, kustomization


class Stream:
    """An open event stream, read into `messages` ((kind, data), in order) by a task."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []
        self.status = 0
        self.content_type = ""
        self._task: asyncio.Task[None] | None = None

    def start(self, session: ClientSession, url: str, token: str) -> None:
        self._task = asyncio.create_task(self._read(session, url, token))

    async def _read(self, session: ClientSession, url: str, token: str) -> None:
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            self.status, self.content_type = response.status, response.headers.get("Content-Type", "")
            kind = ""
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[len("event: "):]
                elif line.startswith("data: "):
                    self.messages.append((kind, json.loads(line[len("data: "):])))

    def events(self, type_: str) -> list[dict]:
        return [data for kind, data in self.messages if kind == "event" and data.get("type") == type_]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def test_a_real_drift_arrives_through_the_event_stream(operator_stack) -> None:
    stack = operator_stack(["stg-1"])
    first = stack.commit({"fleet.yaml": STAGING_FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1")}, "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first), timeout=60, message="v1 synced")
    eu, elsewhere = Stream(), Stream()
    async with ClientSession() as session:
        eu.start(session, stack.api_url + "/api/v1/events", stack.token("eu-viewer", "viewer", regions=("eu",)))
        elsewhere.start(session, stack.api_url + "/api/v1/events",
                        stack.token("us-viewer", "viewer", regions=("us-east",)))
        try:
            # both streams are subscribed (the hub sends the response headers with the first message)
            await stack.eventually(lambda: stack.operator.recorder.broadcast.subscribers >= 2, timeout=20,
                                   message="the two streams subscribed")
            await stack.accesses["stg-1"].patch(
                ObjectRef("apps/v1", "Deployment", "ml", "inference"),
                {"spec": {"template": {"spec": {"containers": [{"name": "server", "image": "model-server:hotfix"}]}}}},
                content_type="application/strategic-merge-patch+json", field_manager="kubectl-set")
            detected = await stack.eventually(lambda: eu.events("DRIFT_DETECTED"), timeout=30,
                                              message="DRIFT_DETECTED on the stream")
            healed = await stack.eventually(lambda: eu.events("DRIFT_HEALED"), timeout=30,
                                            message="DRIFT_HEALED on the stream")
        finally:
            await eu.close()
            await elsewhere.close()
    assert (eu.status, eu.content_type) == (200, "text/event-stream")
    drift = detected[0]
    assert (drift["cluster"], drift["region"], drift["environment"], drift["application"]) == (
        "stg-1", "eu", "staging", "inference")
    assert "Deployment" in drift["object"] and "ml/inference" in drift["object"], drift
    assert drift["sequence"] > 0 and drift["revision"] == first
    image = [f for f in drift["fields"] if "image" in f["path"]]
    assert image and image[0]["live"] == "model-server:hotfix" and image[0]["desired"] == "model-server:v1", drift
    assert "kubectl-set" in json.dumps(drift), "who changed it"
    assert healed[0]["cluster"] == "stg-1" and healed[0]["object"] == drift["object"]
    assert eu.messages.index(("event", healed[0])) > eu.messages.index(("event", drift))
    assert not [d for _, d in elsewhere.messages if d.get("cluster") == "stg-1"], \
        "a token scoped to us-east sees nothing of eu"


async def test_an_agent_cannot_rewrite_where_its_event_comes_from(operator_stack) -> None:
    """The stream's scope filter and the dashboard trust an event's cluster, region and type: details the agent
    sends (details_json) must never overwrite them."""
    from fleetline.wire import fleet_pb2

    stack = operator_stack(["stg-1"])
    first = stack.commit({"fleet.yaml": STAGING_FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1")}, "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first), timeout=60, message="v1 synced")
    recorder = stack.operator.recorder
    items = recorder.broadcast.subscribe()
    forged = json.dumps({"cluster": "use-1", "region": "us-east", "environment": "prod", "type": "SYNC_FAILED",
                         "sequence": 1, "fields": [{"path": "/data/x"}]})
    next_item = asyncio.ensure_future(anext(items))
    await asyncio.sleep(0)  # the subscription is registered once the generator runs
    await recorder._event("stg-1", fleet_pb2.Event(type=fleet_pb2.DRIFT_DETECTED, application="inference",
                                                   sequence=10_000, details_json=forged))
    kind, data = await asyncio.wait_for(next_item, 10)
    await items.aclose()
    assert kind == "event"
    assert (data["cluster"], data["region"], data["environment"], data["type"], data["sequence"]) == (
        "stg-1", "eu", "staging", "DRIFT_DETECTED", 10_000)
    assert data["fields"] == [{"path": "/data/x"}]  # the agent's own details still come through
