"""Notifications from the running hub: an agent's sync reaching a local webhook receiver once per event, also
when the receiver was down when it happened."""

from __future__ import annotations

import json

from aiohttp import web

from tests.hub.operator.conftest import STAGING_FLEET
from tests.hub.pipeline.conftest import deployment_yaml, kustomization

FLEET = STAGING_FLEET


class Receiver:
    """A local webhook receiver that can be taken down and brought back on the same port."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        app = web.Application()

        async def hook(request: web.Request) -> web.Response:
            self.received.append(await request.json())
            return web.json_response({"ok": True})

        app.router.add_post("/hook", hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


async def test_a_deployment_is_notified_once_even_across_a_receiver_outage(operator_stack, tmp_path) -> None:
    receiver = Receiver()
    await receiver.start()
    port = receiver.port
    await receiver.stop()  # down when the first deployment happens
    config = tmp_path / "hub.yaml"
    config.write_text(f"""\
notifications:
  sinks:
    audit-hook: {{type: webhook, url: "http://127.0.0.1:{port}/hook"}}
  subscriptions:
  - {{trigger: on-deployed, sinks: [audit-hook]}}
  delivery: {{initialBackoff: 0.2s, maxBackoff: 1s}}
""")
    stack = operator_stack(["stg-1"])
    stack.config = config
    first = stack.commit({"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1")}, "v1")
    try:
        await stack.start(interval=0.3)
        await stack.eventually(lambda: stack.runs("stg-1", "inference", first), timeout=30, message="v1 synced")
        await receiver.start(port)  # back up: the pending notification goes out
        await stack.eventually(lambda: receiver.received, timeout=30, message="the notification")
        second = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2")}, "v2")
        await stack.eventually(lambda: len(receiver.received) >= 2, timeout=30, message="the second one")
        await stack.operator.notifier.drain(5)
        revisions = [item.get("revision") for item in receiver.received]
        assert revisions.count(first) == 1 and revisions.count(second) == 1, json.dumps(receiver.received)
        assert all(item.get("trigger") == "on-deployed" for item in receiver.received)
    finally:
        await receiver.stop()
