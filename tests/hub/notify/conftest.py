"""A local webhook receiver for the notifier's tests: a real aiohttp server on loopback that records every
request and answers as the test says (a status, a Retry-After, or holding the request until released)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from hub.notify.config import NotificationsConfig, parse_config

TIMEOUT = 10.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records requests; `statuses` are answered in order (then 200); `hold`, while set, keeps requests waiting
    until `release()`."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)  # answered 2xx
    attempts: list[Received] = field(default_factory=list)  # every request, whatever the answer
    statuses: list[int] = field(default_factory=list)
    retry_after: str | None = None
    holding: bool = False
    arrived: int = 0
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            self._release.set()
            await self._runner.cleanup()
            self._runner = None

    def release(self) -> None:
        self.holding = False
        self._release.set()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.arrived += 1
        self.attempts.append(Received(request.path, dict(request.headers), body))
        if self.holding:
            await self._release.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        if status < 300:
            self.requests.append(Received(request.path, dict(request.headers), body))
        headers = {"Retry-After": self.retry_after} if self.retry_after and status >= 300 else {}
        return web.Response(status=status, text="ok" if status < 300 else "no", headers=headers)

    def bodies(self) -> list[dict]:
        return [r.json for r in self.requests]


async def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll `condition` until it holds (AssertionError naming `what` after `timeout` seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()


def make_config(url: str, tmp_path: Path, *, sink_type: str = "webhook", extra: dict | None = None,
                subscriptions: list[dict] | None = None, delivery: dict | None = None) -> NotificationsConfig:
    """A config with one sink `hook` at `url` subscribed to every trigger (unless `subscriptions` is given)."""
    section: dict = {
        "sinks": {"hook": {"type": sink_type, "url": url, **(extra or {})}},
        "subscriptions": subscriptions if subscriptions is not None else [
            {"triggers": ["on-deployed", "on-sync-failed", "on-health-degraded", "on-drift-detected", "on-sync-loop",
                          "on-rollout-halted", "on-agent-disconnected", "on-approval-required"], "sinks": ["hook"]}],
        "delivery": {"initialBackoff": "20ms", "maxBackoff": "100ms", "timeout": "2s", **(delivery or {})},
    }
    return parse_config(section, str(tmp_path / "hub.yaml"), tmp_path)
