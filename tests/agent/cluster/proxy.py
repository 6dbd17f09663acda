"""A real HTTP proxy in front of kubesim, on its own event loop in a thread, that injects what kubesim does
not produce on demand: watch streams cut by the server (cleanly or abruptly), 410 Gone on re-watch (as an
ERROR event or as a response status), watches held back while the test changes the cluster, and slow
responses. Plain HTTP towards the client (the Python client sends the bearer token over HTTP), TLS upstream.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from typing import Any

import aiohttp
from aiohttp import web

FORWARDED_HEADERS = ("Authorization", "Content-Type", "Accept", "User-Agent")
GONE = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version: 5 (4000)", "reason": "Expired", "code": 410}


class Proxy:
    def __init__(self, upstream: str, ssl_context: ssl.SSLContext | None) -> None:
        self.upstream, self.ssl_context = upstream, ssl_context
        self.delay = 0.0  # added before every non-watch request
        self.gone_events = 0  # the next N watches with a resourceVersion get an ERROR 410 event
        self.gone_responses = 0  # the next N watches with a resourceVersion get a 410 response
        self.held = 0  # watch requests waiting for release()
        self.delayed, self.most_delayed = 0, 0  # requests inside `delay` now, and the most at once
        self.watch_queries: list[dict[str, str]] = []
        self.list_queries: list[dict[str, str]] = []
        self._hold = False
        self._streams: dict[asyncio.Task, web.Request] = {}
        self._abort: set[asyncio.Task] = set()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="kube-proxy", daemon=True)
        self._thread.start()
        self.url = self._run(self._start())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    async def _start(self) -> str:
        self._released = asyncio.Event()
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # aiohttp has no public accessor for the bound port
        return f"http://127.0.0.1:{port}"

    def close(self) -> None:
        async def stop() -> None:
            pumps = list(self._streams)
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            self._released.set()
            await self._runner.cleanup()
            await self._session.close()
        self._run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    # controls, called from the test's thread
    def hold_watches(self) -> None:
        def hold() -> None:
            self._hold = True
            self._released.clear()
        self.loop.call_soon_threadsafe(hold)

    def release_watches(self) -> None:
        def release() -> None:
            self._hold = False
            self._released.set()
        self.loop.call_soon_threadsafe(release)

    def end_watches(self, abort: bool = False) -> None:
        """End every open watch stream: cleanly (as a server timeout does) or by dropping the connection."""
        def end() -> None:
            for task in self._streams:
                if abort:
                    self._abort.add(task)
                task.cancel()
        self.loop.call_soon_threadsafe(end)

    @property
    def open_watches(self) -> int:
        return len(self._streams)

    # serving
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        watch = request.query.get("watch", "").lower() in ("true", "1")
        if watch:
            self.watch_queries.append(dict(request.query))
            if self._hold:
                self.held += 1
                await self._released.wait()
                self.held -= 1
            if request.query.get("resourceVersion") not in (None, "", "0"):
                if self.gone_responses > 0:
                    self.gone_responses -= 1
                    return web.json_response(GONE, status=410)
                if self.gone_events > 0:
                    self.gone_events -= 1
                    response = web.StreamResponse(headers={"Content-Type": "application/json"})
                    await response.prepare(request)
                    await response.write(json.dumps({"type": "ERROR", "object": GONE}).encode() + b"\n")
                    await response.write_eof()
                    return response
        else:
            if request.method == "GET" and "limit" in request.query:
                self.list_queries.append(dict(request.query))
            if self.delay:
                self.delayed += 1
                self.most_delayed = max(self.most_delayed, self.delayed)
                await asyncio.sleep(self.delay)
                self.delayed -= 1
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        body = await request.read()
        upstream = await self._session.request(request.method, self.upstream + request.path_qs, headers=headers,
                                               data=body or None, ssl=self.ssl_context)
        content_type = {"Content-Type": upstream.headers.get("Content-Type", "application/json")}
        if not watch or upstream.status != 200:
            data = await upstream.read()
            upstream.release()
            return web.Response(body=data, status=upstream.status, headers=content_type)
        response = web.StreamResponse(status=200, headers=content_type)
        await response.prepare(request)
        pump = asyncio.ensure_future(self._pump(upstream, response))
        self._streams[pump] = request
        try:
            await pump
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # the handler itself is being cancelled
                raise
        finally:
            self._streams.pop(pump, None)
            upstream.close()
        if pump in self._abort:
            self._abort.discard(pump)
            request.transport.close()
            return response
        await response.write_eof()
        return response

    @staticmethod
    async def _pump(upstream: aiohttp.ClientResponse, response: web.StreamResponse) -> None:
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
