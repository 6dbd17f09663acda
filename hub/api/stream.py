"""`GET /api/v1/events`: the hub's changes as Server-Sent Events, filtered to the caller's scope.

Each change the facade streams is one `event: <kind>` / `data: <JSON on one line>` block; a `: keep-alive`
comment goes out after `keepalive` seconds without one, so that proxies keep the connection and clients notice
a dead hub. The facade's iterator is read by a pump task into a small bounded queue (a slow client slows the
pump, and the facade's own bound cuts it off); the stream ends, closing the facade's iterator, when the client
goes (noticed within a second, or at the next write), when the iterator ends, or when the app shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from hub.api.scope import Scope

log = logging.getLogger(__name__)

QUEUE_SIZE = 64
DISCONNECT_POLL = 1.0  # seconds between checks that the client is still there
HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def encode(kind: str, data: dict) -> bytes:
    """One SSE message: `event: <kind>\\ndata: <compact JSON>\\n\\n`."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


async def serve_events(request: web.Request, scope: Scope, keepalive: float,
                       stopping: asyncio.Event) -> web.StreamResponse:
    """Stream the facade's changes to the client until one side goes (see the module docstring)."""
    response = web.StreamResponse(headers=HEADERS)
    iterator = scope.facade.subscribe()
    queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue(QUEUE_SIZE)
    pump = asyncio.create_task(_pump(iterator, queue))
    stop = asyncio.create_task(stopping.wait())
    getter: asyncio.Task | None = None
    try:
        await response.prepare(request)
        next_keepalive = time.monotonic() + keepalive
        while True:
            if getter is None:
                getter = asyncio.create_task(queue.get())
            timeout = max(0.0, min(DISCONNECT_POLL, next_keepalive - time.monotonic()))
            done, _ = await asyncio.wait({getter, pump, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                kind, data = getter.result()
                getter = None
                if await _visible(scope, data):
                    await response.write(encode(kind, data))
                    next_keepalive = time.monotonic() + keepalive
                continue
            if stop in done or (pump in done and queue.empty()) or _client_gone(request):
                break
            if time.monotonic() >= next_keepalive:
                await response.write(b": keep-alive\n\n")
                next_keepalive = time.monotonic() + keepalive
    except ConnectionResetError:
        pass  # the client went away while we wrote
    finally:
        tasks = [task for task in (getter, pump, stop) if task is not None]
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        pumped = outcomes[tasks.index(pump)]
        if isinstance(pumped, Exception):
            log.warning("event=api_event_stream_source_failed error=%r", str(pumped))
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    return response


async def _pump(iterator: AsyncIterator[tuple[str, dict]], queue: asyncio.Queue[tuple[str, dict]]) -> None:
    async for item in iterator:
        await queue.put(item)


async def _visible(scope: Scope, data: dict) -> bool:
    """Whether the caller may see `data`; an error while checking hides it (and is logged), never the stream."""
    try:
        return await scope.visible(data)
    except Exception as exc:  # noqa: BLE001 - one unreadable item must not end every client's stream
        log.warning("event=api_event_scope_check_failed error=%r", str(exc))
        return False


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()
