"""`Watch`: a list-then-watch of one kind that never loses an event, run in its own thread and delivered
to asyncio as `WatchEvent`s.

The thread lists (ADDED for every object), then watches from the list's resourceVersion with bookmarks and a
jittered server-side timeout. When the stream ends or fails it re-watches from the last resourceVersion seen;
on 410 Gone (an ERROR event with code 410, or a 410 response) it lists again and emits only what changed
meanwhile: ADDED/MODIFIED for objects whose resourceVersion differs from the last one it emitted, DELETED for
objects that vanished (carrying their last-known name, namespace, uid, labels and resourceVersion), so a
consumer's view is right after every restart. Attempts that fail quickly back off (jittered, capped at
`MAX_BACKOFF` seconds). List requests go through the shared rate limiter; the long-running streams do not.

An ADDED for an object already emitted is delivered as MODIFIED, and an event whose resourceVersion was
already emitted for that object is dropped, so replays never duplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import urllib3

from agent.cluster.errors import ClusterError
from agent.cluster.ratelimit import TokenBucket
from agent.cluster.refs import ObjectRef, ResourceKind
from agent.cluster.rest import Query, Stream, Transport

log = logging.getLogger(__name__)

BASE_BACKOFF = 0.1
MAX_BACKOFF = 5.0
HEALTHY_SECONDS = 1.0  # an attempt that lasted this long (or delivered an event) resets the backoff
PAGE_SIZE = 500
_END = object()


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED or DELETED
    object: dict


class _Gone(Exception):
    """The server no longer has the history we asked for: list again."""


@dataclass(frozen=True)
class _Seen:
    resource_version: str
    tombstone: dict  # what a DELETED found by a re-list carries


def backoff_delay(failures: int, rng: Callable[[], float] = random.random) -> float:
    """0 after a healthy attempt, then 0.1 s doubling up to MAX_BACKOFF, each scaled by a random 50-100%."""
    if failures <= 0:
        return 0.0
    return min(MAX_BACKOFF, BASE_BACKOFF * 2 ** (failures - 1)) * (0.5 + rng() / 2)


def _key(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


def _rv(obj: dict) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _tombstone(obj: dict) -> dict:
    meta = obj.get("metadata") or {}
    kept = {k: meta[k] for k in ("name", "namespace", "uid", "labels", "resourceVersion") if k in meta}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": kept}


def with_kind(kind: ResourceKind, items: list[dict]) -> list[dict]:
    """List items as full objects: the API server leaves apiVersion and kind out of each item."""
    return [item if item.get("kind") else {"apiVersion": kind.api_version, "kind": kind.kind, **item}
            for item in items]


class Watch:
    """Async iterator of `WatchEvent`s; starts on first iteration (or `await start()`); `aclose()` stops it.

    `restarts` counts re-watches and re-lists after the first list; `synced` is set once the first list has been
    delivered.
    """

    def __init__(self, *, resolve: Callable[[], Awaitable[ResourceKind]], transport: Transport,
                 limiter: TokenBucket, ref: ObjectRef, namespace: str | None = None,
                 label_selector: str | None = None, timeout_seconds: float = 300.0, emit_initial: bool = True,
                 on_close: Callable[[Watch], None] | None = None) -> None:
        self.ref = ref
        self.namespace, self.label_selector = namespace, label_selector
        self.timeout_seconds, self.emit_initial = timeout_seconds, emit_initial
        self.restarts = 0
        self.synced = asyncio.Event()
        self._resolve, self._transport, self._limiter, self._on_close = resolve, transport, limiter, on_close
        self._queue: asyncio.Queue = asyncio.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stream: Stream | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._known: dict[tuple[str, str], _Seen] = {}
        self._rv = ""
        self._delivered = 0
        self._listed_once = False

    # -- the asyncio side ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._thread is not None or self._stop.is_set():
            return
        kind = await self._resolve()
        if self._thread is not None or self._stop.is_set():
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, args=(kind,), name=f"watch-{kind.plural}", daemon=True)
        self._thread.start()

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchEvent:
        if self._thread is None and not self._stop.is_set():
            await self.start()
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # every later call ends too
            raise StopAsyncIteration
        return item

    def stop(self) -> None:
        """Stop the thread (without waiting for it) and end the iteration."""
        if self._stop.is_set():
            return
        self._stop.set()
        with self._lock:
            if self._stream is not None:
                self._stream.shutdown()
        self._queue.put_nowait(_END)
        if self._on_close is not None:
            self._on_close(self)

    async def aclose(self) -> None:
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            await asyncio.to_thread(self._thread.join, 10.0)

    # -- the thread ------------------------------------------------------------------------------------------------
    def _emit(self, item: object) -> None:
        try:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._stop.set()

    def _deliver(self, type_: str, obj: dict) -> None:
        self._delivered += 1
        self._emit(WatchEvent(type_, obj))

    def _run(self, kind: ResourceKind) -> None:
        failures = 0
        while not self._stop.is_set():
            started, delivered = time.monotonic(), self._delivered
            level = logging.WARNING
            try:
                if not self._rv:
                    self._relist(kind)
                if self._stop.is_set():
                    break
                self._watch(kind)
                reason, level = "the server ended the stream", logging.INFO
            except _Gone as exc:
                self._rv = ""
                reason, level = f"410 Gone ({exc}): listing again", logging.INFO
            except ClusterError as exc:
                if exc.status == 410:
                    self._rv = ""
                reason = str(exc)
            except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a bug must not silently end the watch the agent depends on
                log.exception("watch %s: unexpected error", self.ref)
                reason = f"unexpected {type(exc).__name__}: {exc}"
            finally:
                with self._lock:
                    if self._stream is not None:
                        self._stream.close()
                        self._stream = None
            if self._stop.is_set():
                break
            healthy = self._delivered > delivered or time.monotonic() - started >= HEALTHY_SECONDS
            failures = 0 if healthy else failures + 1
            delay = backoff_delay(failures)
            self.restarts += 1
            log.log(level if failures <= 1 else logging.WARNING,
                    'watch restart kind=%s namespace=%s selector="%s" reason="%s" restarts=%d retry_in=%.2fs',
                    self.ref.kind, self.namespace or "*", self.label_selector or "", reason, self.restarts, delay)
            self._stop.wait(delay)
        self._emit(_END)

    def _throttle(self) -> None:
        delay = self._limiter.reserve()
        if delay > 0:
            self._stop.wait(delay)

    def _selector(self) -> Query:
        return [("labelSelector", self.label_selector)] if self.label_selector else []

    def _relist(self, kind: ResourceKind) -> None:
        path = kind.collection_path(self.namespace or "")
        items: list[dict] = []
        resource_version, token = "", ""
        while True:
            self._throttle()
            if self._stop.is_set():
                return
            query = [("limit", str(PAGE_SIZE)), *self._selector()] + ([("continue", token)] if token else [])
            page = self._transport.request("GET", path, query=query, ref=self.ref)
            items += page.get("items") or []
            meta = page.get("metadata") or {}
            resource_version = resource_version or str(meta.get("resourceVersion") or "")
            token = meta.get("continue") or ""
            if not token:
                break
        self._apply_list(with_kind(kind, items))
        self._rv = resource_version
        if not self._listed_once:
            self._listed_once = True
            self._emit_synced()

    def _emit_synced(self) -> None:
        try:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.synced.set)
        except RuntimeError:
            self._stop.set()

    def _apply_list(self, items: list[dict]) -> None:
        """Emit the differences between what we emitted so far and the fresh list."""
        emit = self._listed_once or self.emit_initial
        fresh: dict[tuple[str, str], _Seen] = {}
        for obj in items:
            key, rv = _key(obj), _rv(obj)
            fresh[key] = _Seen(rv, _tombstone(obj))
            before = self._known.get(key)
            if before is None:
                if emit:
                    self._deliver("ADDED", obj)
            elif before.resource_version != rv:
                self._deliver("MODIFIED", obj)
        for key, seen in self._known.items():
            if key not in fresh:
                self._deliver("DELETED", seen.tombstone)
        self._known = fresh

    def _watch(self, kind: ResourceKind) -> None:
        timeout = int(self.timeout_seconds * (1 + random.random())) or 1  # jittered like client-go's reflector
        query = [("watch", "true"), ("resourceVersion", self._rv), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", str(timeout)), *self._selector()]
        stream = self._transport.stream(kind.collection_path(self.namespace or ""), query,
                                        read_timeout=timeout + 30.0, ref=self.ref)
        with self._lock:
            self._stream = stream
            if self._stop.is_set():
                return
        for line in stream.lines():
            if self._stop.is_set():
                return
            self._on_event(json.loads(line))

    def _on_event(self, event: dict) -> None:
        type_, obj = event.get("type"), event.get("object")
        if not isinstance(obj, dict):
            raise ValueError(f"watch event without an object: {str(event)[:200]}")
        if type_ == "ERROR":
            if obj.get("code") == 410:
                raise _Gone(obj.get("message") or "resource version too old")
            raise ClusterError.from_status(obj, self.ref)
        if type_ == "BOOKMARK":
            self._rv = _rv(obj) or self._rv
            return
        if type_ not in ("ADDED", "MODIFIED", "DELETED"):
            raise ValueError(f"unknown watch event type {type_!r}")
        key, rv = _key(obj), _rv(obj)
        if type_ == "DELETED":
            self._known.pop(key, None)
            self._deliver("DELETED", obj)
        else:
            before = self._known.get(key)
            if before is None or before.resource_version != rv:
                self._known[key] = _Seen(rv, _tombstone(obj))
                self._deliver("MODIFIED" if before is not None else "ADDED", obj)
        self._rv = rv or self._rv
