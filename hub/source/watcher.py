"""Watching the fleet repository: fetch on an interval and at once when nudged (by a webhook), resolve each tracked
ref (environment -> branch, tag or sha), and hand every new commit to the hub with `on_revision(name, sha)`.

When a fetch fails the watcher keeps the last good commit of every ref, reports the source stale (attribute,
status and metric), and retries with a backoff no longer than the interval until the repository answers again.
A tracked ref that stops resolving keeps its last good commit too, with its own error. Owns no Git logic itself:
that is `GitMirror`'s, run in a worker thread so that the event loop never waits on git.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from hub.source.errors import SourceError
from hub.source.metrics import SourceMetrics
from hub.source.mirror import GitMirror
from hub.source.redact import kv

if TYPE_CHECKING:
    from hub.source.webhooks import PushNotice

log = logging.getLogger(__name__)
T = TypeVar("T")
OnRevision = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True)
class TrackedRef:
    """One tracked ref as last seen: the commit it is on (the last good one) and why it does not resolve now."""

    name: str
    ref: str
    sha: str | None
    error: str | None = None


@dataclass(frozen=True)
class SourceStatus:
    """The source as the hub's interfaces show it (a snapshot)."""

    url: str
    stale: bool
    last_error: str | None  # the current fetch error (None once a fetch succeeds again)
    last_success_at: float | None  # in the watcher's clock
    failures: int  # consecutive failed fetches
    refs: tuple[TrackedRef, ...]


def retry_delay(failures: int, initial: float, maximum: float) -> float:
    """Seconds before the next attempt after `failures` consecutive failures: `initial` doubling, at most
    `maximum`."""
    if failures <= 0:
        return 0.0
    return min(maximum, initial * 2 ** min(failures - 1, 30))


class SourceWatcher:
    """Fetches `mirror` every `interval` seconds (and on `nudge()`), and calls `on_revision(name, sha)` for every
    tracked ref (`refs`: name -> ref) that resolves to a commit it has not delivered yet (each ref once at start).

    `clock` gives `last_success_at` and fetch durations; retries after a failure wait `retry_initial` seconds,
    doubling up to `retry_max` (default: `interval`). Callbacks run one at a time, in the watcher's task; one that
    raises is logged and called again for the same commit at the next fetch."""

    def __init__(self, mirror: GitMirror, refs: Mapping[str, str], on_revision: OnRevision,
                 interval: float = 60.0, clock: Callable[[], float] = time.monotonic, *,
                 retry_initial: float = 1.0, retry_max: float | None = None,
                 metrics: SourceMetrics | None = None) -> None:
        if interval <= 0 or retry_initial <= 0:
            raise ValueError(f"interval ({interval}) and retry_initial ({retry_initial}) must be positive")
        self.mirror = mirror
        self.on_revision = on_revision
        self.interval = interval
        self.clock = clock
        self.retry_initial = retry_initial
        self.retry_max = retry_max if retry_max is not None else interval
        self.metrics = metrics if metrics is not None else SourceMetrics()
        self.stale = False
        self.last_error: str | None = None
        self.last_success_at: float | None = None
        self.failures = 0
        self._refs: dict[str, str] = dict(refs)
        self._revisions: dict[str, str] = {}  # name -> last good sha
        self._delivered: dict[str, str] = {}  # name -> sha on_revision accepted
        self._ref_errors: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._inflight: concurrent.futures.Future[object] | None = None
        self.metrics.last_success_age.set_function(self._age)
        # told after every fetch: (result "success" | "failure", seconds); the hub's Argo CD-named metrics listen
        self.on_fetch: Callable[[str, float], None] | None = None

    @property
    def revisions(self) -> dict[str, str]:
        """name -> the last good commit of every tracked ref that has resolved once."""
        return dict(self._revisions)

    async def start(self) -> None:
        """Start watching: the first fetch (or clone) begins at once, in the background."""
        if self._task is not None:
            return
        self._stopping = False
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleetline-source")
        self._task = asyncio.create_task(self._run(), name="fleetline-source-watcher")

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop watching; waits up to `timeout` seconds for a git command under way to end."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        inflight, self._inflight = self._inflight, None
        if inflight is not None and not inflight.done():
            await asyncio.wait({asyncio.wrap_future(inflight)}, timeout=timeout)
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def nudge(self) -> None:
        """Fetch now (what the webhook calls); nudges while a fetch runs are folded into one more fetch."""
        self._wake.set()

    async def on_push(self, notice: PushNotice) -> None:
        """A webhook's `on_push`: any push to the repository makes the watcher fetch at once."""
        log.info(kv(event="source_push_notice", ref=notice.ref, after=notice.after_sha))
        self.nudge()

    def track(self, refs: Mapping[str, str]) -> None:
        """Track `refs` from now on (the fleet definition changed); new names are delivered at the next fetch,
        which starts at once."""
        for name in set(self._refs) - set(refs):
            self._forget(name)
        for name, ref in refs.items():
            if name in self._refs and self._refs[name] != ref:
                self._forget(name)
        self._refs = dict(refs)
        self.nudge()

    def status(self) -> SourceStatus:
        refs = tuple(TrackedRef(name, ref, self._revisions.get(name), self._ref_errors.get(name))
                     for name, ref in sorted(self._refs.items()))
        return SourceStatus(url=self.mirror.display_url, stale=self.stale, last_error=self.last_error,
                            last_success_at=self.last_success_at, failures=self.failures, refs=refs)

    async def _run(self) -> None:
        delay = 0.0
        while not self._stopping:
            if delay > 0:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that meets a nudge
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            if await self._cycle():
                delay = self.interval
            else:
                delay = retry_delay(self.failures, self.retry_initial, self.retry_max)

    async def _cycle(self) -> bool:
        """One fetch and the deliveries it leads to; False when the fetch failed."""
        refs = dict(self._refs)
        started = self.clock()
        try:
            shas, errors = await self._in_thread(lambda: self._fetch_and_resolve(refs))
        except SourceError as exc:
            self._failed(self.mirror.redact(str(exc)), started)
            return False
        except Exception as exc:  # noqa: BLE001 - the watcher outlives anything a fetch may raise
            log.error(kv(event="source_fetch_crashed", url=self.mirror.display_url,
                         error=self.mirror.redact(f"{type(exc).__name__}: {exc}")), exc_info=True)
            self._failed(self.mirror.redact(f"{type(exc).__name__}: {exc}"), started)
            return False
        self._succeeded(started)
        for name, ref in refs.items():
            if self._refs.get(name) != ref:
                continue  # untracked or changed while the fetch ran (the nudge from track() fetches again)
            if name in errors:
                self._ref_failed(name, ref, errors[name])
            else:
                self._ref_resolved(name, ref, shas[name])
            sha = self._revisions.get(name)
            if sha is not None and self._delivered.get(name) != sha:
                await self._deliver(name, ref, sha)
        return True

    def _fetch_and_resolve(self, refs: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        self.mirror.fetch()
        shas, errors = {}, {}
        for name, ref in refs.items():
            try:
                shas[name] = self.mirror.resolve(ref)
            except SourceError as exc:
                errors[name] = self.mirror.redact(str(exc))
        return shas, errors

    async def _in_thread(self, function: Callable[[], T]) -> T:
        if self._executor is None:
            raise RuntimeError("SourceWatcher is not started")
        future = self._executor.submit(function)
        self._inflight = future
        return await asyncio.wrap_future(future)

    def _succeeded(self, started: float) -> None:
        now = self.clock()
        self.metrics.fetches.labels("success").inc()
        self.metrics.fetch_seconds.observe(max(0.0, now - started))
        if self.on_fetch is not None:
            self.on_fetch("success", max(0.0, now - started))
        if self.stale:
            log.info(kv(event="source_recovered", url=self.mirror.display_url, failures=self.failures))
        self.stale, self.last_error, self.failures, self.last_success_at = False, None, 0, now
        self.metrics.stale.set(0)

    def _failed(self, error: str, started: float) -> None:
        self.metrics.fetches.labels("failure").inc()
        self.metrics.fetch_seconds.observe(max(0.0, self.clock() - started))
        if self.on_fetch is not None:
            self.on_fetch("failure", max(0.0, self.clock() - started))
        self.stale, self.last_error = True, error
        self.failures += 1
        self.metrics.stale.set(1)
        log.warning(kv(event="source_fetch_failed", url=self.mirror.display_url, failures=self.failures,
                       retry_in=f"{retry_delay(self.failures, self.retry_initial, self.retry_max):g}s",
                       serving=",".join(f"{n}@{s[:12]}" for n, s in sorted(self._revisions.items())) or "nothing",
                       error=error))

    def _ref_resolved(self, name: str, ref: str, sha: str) -> None:
        if self._ref_errors.pop(name, None) is not None:
            self.metrics.ref_errors.remove(name, ref)
        previous = self._revisions.get(name)
        if previous == sha:
            return
        if previous is not None:
            self.metrics.revision.remove(name, ref, previous)
        self._revisions[name] = sha
        self.metrics.revision.labels(name, ref, sha).set(1)
        log.info(kv(event="source_revision", name=name, ref=ref, revision=sha, previous=previous))

    def _ref_failed(self, name: str, ref: str, error: str) -> None:
        if self._ref_errors.get(name) != error:
            log.warning(kv(event="source_ref_unresolved", name=name, ref=ref, kept=self._revisions.get(name),
                           error=error))
        self._ref_errors[name] = error
        self.metrics.ref_errors.labels(name, ref).set(1)

    async def _deliver(self, name: str, ref: str, sha: str) -> None:
        try:
            await self.on_revision(name, sha)
        except Exception:  # noqa: BLE001 - the caller's failure must not stop the watcher
            log.error(kv(event="source_revision_handler_failed", name=name, ref=ref, revision=sha,
                         action="called again at the next fetch"), exc_info=True)
            return
        self._delivered[name] = sha

    def _forget(self, name: str) -> None:
        ref = self._refs.get(name)
        sha = self._revisions.pop(name, None)
        self._delivered.pop(name, None)
        if sha is not None:
            self.metrics.revision.remove(name, ref, sha)
        if self._ref_errors.pop(name, None) is not None:
            self.metrics.ref_errors.remove(name, ref)

    def _age(self) -> float:
        return -1.0 if self.last_success_at is None else max(0.0, self.clock() - self.last_success_at)
