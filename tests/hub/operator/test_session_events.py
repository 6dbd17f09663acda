"""Agent sessions on the event stream, from the real hub: an agent that stops shows as a `session` item with
`connected: false` within seconds (no waiting for a fleet re-read), and one that dials in again as
`connected: true`; a token scoped to another region sees neither."""

from __future__ import annotations

import asyncio
import time

from aiohttp import ClientSession

from agent.cluster import ClusterAccess
from agent.reconcile import Settings
from agent.runtime import Agent
from tests.hub.operator.conftest import STAGING_FLEET
from tests.hub.operator.test_event_stream import Stream
from tests.hub.pipeline.conftest import deployment_yaml, kustomization


def sessions(stream: Stream, cluster: str) -> list[dict]:
    return [data for kind, data in stream.messages if kind == "session" and data.get("cluster") == cluster]


async def audited(stack, token: str, kind: str) -> list[dict]:
    status, body = await stack.api("GET", f"/api/v1/audit?kind={kind}", token)
    assert status == 200, body
    return body["entries"]


async def test_an_agent_stopping_and_returning_is_on_the_stream(operator_stack) -> None:
    stack = operator_stack(["stg-1"])
    first = stack.commit({"fleet.yaml": STAGING_FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1")}, "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first), timeout=60, message="v1 synced")
    eu, elsewhere = Stream(), Stream()
    admin = stack.token("admin", "admin")

    def after(item: dict) -> int:
        return sessions(eu, "stg-1").index(item) + 1

    async with ClientSession() as session:
        eu.start(session, stack.api_url + "/api/v1/events", stack.token("eu-viewer", "viewer", regions=("eu",)))
        elsewhere.start(session, stack.api_url + "/api/v1/events",
                        stack.token("us-viewer", "viewer", regions=("us-east",)))
        try:
            await stack.eventually(lambda: stack.operator.recorder.broadcast.subscribers >= 2, timeout=20,
                                   message="the two streams subscribed")
            # the recorder has seen the session (it looks at the registry every half second)
            await stack.eventually(lambda: audited(stack, admin, "agent_connected"), timeout=10,
                                   message="agent_connected in the audit log")
            stopped = time.monotonic()
            stack.agents["stg-1"].stop()
            gone = (await stack.eventually(lambda: [s for s in sessions(eu, "stg-1") if not s["connected"]],
                                           timeout=10, message="the disconnection on the stream"))[0]
            noticed = time.monotonic() - stopped
            status, fleet = await stack.api("GET", "/api/v1/fleet", admin)
            assert status == 200 and not fleet["regions"][0]["clusters"][0]["connected"], fleet

            agent = Agent(ClusterAccess.from_kubeconfig(stack.sims["stg-1"].kubeconfig_path),
                          f"127.0.0.1:{stack.hub.port}", "stg-1", "", stack.root / "agents" / "stg-1", insecure=True,
                          settings=Settings(wave_timeout=30.0), status_interval=0.05, unsettled_refresh=0.5)
            stack.agents["stg-1"] = agent
            stack._agent_tasks.append(asyncio.create_task(agent.run()))
            back = await stack.eventually(lambda: [s for s in sessions(eu, "stg-1")[after(gone):] if s["connected"]],
                                          timeout=20, message="the reconnection on the stream")
        finally:
            await eu.close()
            await elsewhere.close()
    assert noticed < 5, f"the stream told of the disconnection after {noticed:.1f}s"
    assert (gone["connected"], gone["region"], gone["environment"]) == (False, "eu", "staging"), gone
    assert gone["at"] and gone["reason"], gone
    assert back[0]["session_id"] and back[0]["agent_version"] and back[0]["region"] == "eu", back
    assert not [d for kind, d in elsewhere.messages if kind == "session"], "a token scoped to us-east sees nothing"
