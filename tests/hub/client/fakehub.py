"""A fake of the hub's REST API for the CLI's tests: an aiohttp server on loopback, in its own thread (so that a
test may run the CLI in-process with asyncio.run, or as a subprocess), answering the contract's shapes and
recording every request. Routes are set per test: `(status, json)` or a function of the recorded request."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

TOKEN = "op-token-1"
Answer = tuple[int, Any] | Callable[["Recorded"], tuple[int, Any]]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str


def app_summary(name: str, sync: str = "Synced", health: str = "Healthy", revision: str = "4f2a9c1" + "0" * 33,
                message: str = "", phase: str = "", **extra: Any) -> dict:
    return {"name": name, "sync_status": sync, "health": health, "revision": revision, "message": message,
            "operation_phase": phase, **extra}


def cluster_summary(name: str, region: str, environment: str, apps: list[dict], connected: bool = True,
                    last_seen: str | None = "2026-03-01T10:00:00Z") -> dict:
    return {"name": name, "region": region, "environment": environment, "connected": connected,
            "last_seen": last_seen, "agent_version": "0.1.0", "revision": "4f2a9c1" + "0" * 33, "generation": 7,
            "applications": apps}


def healthy_fleet() -> dict:
    return {"regions": [
        {"name": "eu", "clusters": [cluster_summary("eu-1", "eu", "prod", [app_summary("inference-server"),
                                                                           app_summary("model-registry")])]},
        {"name": "us-east", "clusters": [cluster_summary("us-east-1", "us-east", "prod",
                                                         [app_summary("inference-server")])]}]}


class FakeHubApi:
    """The fake: `answers[(method, path)]`, `requests` recorded, `publish(kind, data)` on the event stream."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.answers: dict[tuple[str, str], Answer] = {("GET", "/api/v1/fleet"): (200, healthy_fleet())}
        self.requests: list[Recorded] = []
        self.streams: list[asyncio.Queue] = []
        self.events_status = 200  # what GET /api/v1/events answers (404: a hub without the stream)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ---- control from the test's thread -------------------------------------------------------------------

    def start(self) -> FakeHubApi:
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def on(self, method: str, path: str, answer: Answer) -> None:
        self.answers[(method, path)] = answer

    def publish(self, kind: str, data: dict) -> None:
        self.loop.call_soon_threadsafe(self._publish, kind, data)

    def _publish(self, kind: str, data: dict) -> None:
        for queue in self.streams:
            queue.put_nowait((kind, data))

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in list(self.requests) if r.method == method and r.path == path]

    # ---- the server ---------------------------------------------------------------------------------------

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_get("/api/v1/events", self._events)
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{port}"

    async def _stop(self) -> None:
        for queue in self.streams:
            queue.put_nowait(None)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record(self, request: web.Request) -> Recorded:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        recorded = Recorded(request.method, request.path, dict(request.query), body,
                            request.headers.get("Authorization", ""))
        self.requests.append(recorded)
        return recorded

    def _refused(self, recorded: Recorded) -> web.Response | None:
        if recorded.authorization != f"Bearer {TOKEN}":
            return web.json_response({"error": "unknown or revoked API token", "reason": "unauthenticated"},
                                     status=401)
        return None

    async def _any(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        refused = self._refused(recorded)
        if refused is not None:
            return refused
        answer = self.answers.get((recorded.method, recorded.path))
        if answer is None:
            return web.json_response({"error": f"no route {recorded.method} {recorded.path}",
                                      "reason": "not_found"}, status=404)
        status, body = answer(recorded) if callable(answer) else answer
        if isinstance(body, str):
            return web.Response(status=status, text=body, content_type="text/html")
        return web.json_response(body, status=status)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        refused = self._refused(recorded)
        if refused is not None:
            return refused
        if self.events_status != 200:
            return web.json_response({"error": "no stream", "reason": "not_found"}, status=self.events_status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        await response.write(b": connected\n\n")
        queue: asyncio.Queue = asyncio.Queue()
        self.streams.append(queue)
        try:
            while (item := await queue.get()) is not None:
                kind, data = item
                await response.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
        finally:
            self.streams.remove(queue)
        return response
