"""The store for asyncio code: every write on one dedicated writer thread, audit appends batched.

`AsyncStore` owns a `Store` (the writer) and a thread that runs every call on it in the order made, so the event
loop never waits for SQLite. Audit appends queue up while the writer is busy and are committed together, up to
`max_batch` per transaction (one fsync for many entries): `append_nowait` returns a future at once (the hot path:
an event consumer does not wait), `append` awaits the commit (the entry is durable once it returns). A batch
that fails (the disk is full) fails every future in it and nothing of it is written. An invalid draft fails
alone: a bad kind or field raises AuditError at once, data that is not JSON fails its own future (its batch is
then written one entry per transaction, so the others still go in).

Reads that may take long (a report, verify) go to `read`, which runs them on a small pool of reader threads,
each with its own read-only Store on the same database (WAL: they see committed data and never block the
writer). Without a reader factory, `read` runs on the writer thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hub.store.base import Store
from hub.store.drafts import check_draft
from hub.store.records import (
    ApprovalRecord,
    AuditDraft,
    AuditEntry,
    AuditError,
    ClusterRecord,
    CredentialRecord,
    EventRecord,
    RolloutRecord,
    StoreError,
    SyncRecord,
)
from hub.store.sqlite import SqliteStore

T = TypeVar("T")
DEFAULT_MAX_BATCH = 1000


@dataclass
class _Call:
    function: Callable[..., Any]
    args: tuple
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


@dataclass
class _Append:
    draft: AuditDraft
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


@dataclass
class _Stop:
    pass


def _post(loop: asyncio.AbstractEventLoop, function: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(function, *args)


def _settle(future: asyncio.Future, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _settle_all(outcomes: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        _settle(future, result, error)


class AsyncStore:
    """See the module docstring. Make it with `AsyncStore.open(data_dir)` (SQLite) or around any Store."""

    def __init__(self, store: Store, *, reader: Callable[[], Store] | None = None, readers: int = 2,
                 max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Call | _Append | _Stop] = queue.SimpleQueue()
        self._closed = False
        self._reader_factory = reader
        self._reader_stores: list[Store] = []
        self._reader_lock = threading.Lock()
        self._local = threading.local()
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="store-reader") if reader else None
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    @classmethod
    async def open(cls, data_dir: str | Path, *, max_batch: int = DEFAULT_MAX_BATCH, **options: Any) -> AsyncStore:
        """The SQLite store of a hub data directory (created and migrated as needed, off the event loop), with
        read-only readers on the same file. `options` go to SqliteStore (synchronous, clock)."""
        store = await asyncio.to_thread(SqliteStore.open, data_dir, **options)
        clock = options.get("clock")
        return cls(store, reader=lambda: SqliteStore.open(data_dir, readonly=True, clock=clock),
                   max_batch=max_batch)

    # -- the writer thread ----------------------------------------------------------------------------------
    def _run(self) -> None:
        held: _Call | _Append | _Stop | None = None
        while True:
            item = held if held is not None else self._queue.get()
            held = None
            if isinstance(item, _Stop):
                return
            if isinstance(item, _Call):
                self._do_call(item)
                continue
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if not isinstance(following, _Append):
                    held = following  # a call or the end: after this batch, in the order it came
                    break
                batch.append(following)
            self._do_appends(batch)

    def _do_call(self, call: _Call) -> None:
        try:
            result, error = call.function(self.store, *call.args), None
        except Exception as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        _post(call.loop, _settle, call.future, result, error)

    def _do_appends(self, batch: list[_Append]) -> None:
        try:
            entries = self.store.append_audit([item.draft for item in batch])
            outcomes = [(item.future, entry, None) for item, entry in zip(batch, entries, strict=True)]
        except AuditError as exc:  # one draft's data is not JSON: the others must not fail with it
            if len(batch) == 1:
                outcomes = [(batch[0].future, None, exc)]
            else:
                outcomes = [self._append_alone(item) for item in batch]
        except Exception as exc:  # the whole transaction failed: nothing of the batch was written
            outcomes = [(item.future, None, exc) for item in batch]
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for item, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(item.loop, []).append(outcome)
        for loop, results in by_loop.items():
            _post(loop, _settle_all, results)

    def _append_alone(self, item: _Append) -> tuple[asyncio.Future, Any, BaseException | None]:
        try:
            return item.future, self.store.append_audit([item.draft])[0], None
        except Exception as exc:
            return item.future, None, exc

    # -- calls ----------------------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.store.where}: the store is closed")

    def call(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run `function(store, *args)` on the writer thread, after everything queued before it."""
        self._check_open()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Call(function, args, future, loop))
        return future

    def append_nowait(self, draft: AuditDraft) -> asyncio.Future[AuditEntry]:
        """Queue an audit entry; the future resolves to the stored entry once its batch is committed (or fails
        with the store's error). An invalid draft raises AuditError here and is not queued."""
        self._check_open()
        check_draft(draft)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AuditEntry] = loop.create_future()
        self._queue.put(_Append(draft, future, loop))
        return future

    async def append(self, draft: AuditDraft) -> AuditEntry:
        """Append one audit entry; returns it once committed (batched with whatever else is queued)."""
        return await self.append_nowait(draft)

    async def append_many(self, drafts: Sequence[AuditDraft]) -> list[AuditEntry]:
        """Append several entries; returns them once all are committed."""
        return list(await asyncio.gather(*(self.append_nowait(draft) for draft in drafts)))

    async def flush(self) -> None:
        """Wait until everything queued so far is done."""
        await self.call(lambda store: None)

    async def read(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(store, *args)` with a read-only store on a reader thread (the writer otherwise)."""
        self._check_open()
        if self._readers is None:
            return await self.call(function, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read, function, args)

    def _read(self, function: Callable[..., T], args: tuple) -> T:
        store = getattr(self._local, "store", None)
        if store is None:
            assert self._reader_factory is not None
            store = self._local.store = self._reader_factory()
            with self._reader_lock:
                self._reader_stores.append(store)
        return function(store, *args)

    async def close(self) -> None:
        """Finish what is queued, then close the writer and the readers."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_Stop())
        await asyncio.to_thread(self._thread.join)
        if self._readers is not None:
            await asyncio.to_thread(self._readers.shutdown, True)
        for store in [*self._reader_stores, self.store]:
            store.close()

    # -- the Store's writes, awaitable ----------------------------------------------------------------------
    async def add_events(self, events: Sequence[EventRecord]) -> list[EventRecord]:
        """Keep the events not held yet (de-duplicated on cluster and sequence); the new ones."""
        batch = list(events)
        return await self.call(lambda store: store.add_events(batch))

    async def record_sync(self, sync: SyncRecord) -> int:
        return await self.call(lambda store: store.record_sync(sync))

    async def upsert_cluster(self, cluster: ClusterRecord) -> None:
        await self.call(lambda store: store.upsert_cluster(cluster))

    async def add_credential(self, credential: CredentialRecord) -> None:
        await self.call(lambda store: store.add_credential(credential))

    async def revoke_credential(self, fingerprint: str, at: str = "") -> bool:
        return await self.call(lambda store: store.revoke_credential(fingerprint, at))

    async def add_approval(self, approval: ApprovalRecord) -> bool:
        return await self.call(lambda store: store.add_approval(approval))

    async def remove_approvals(self, environment: str, application: str, revisions: Sequence[str],
                               region: str = "") -> int:
        wanted = list(revisions)
        return await self.call(lambda store: store.remove_approvals(environment, application, wanted, region))

    async def save_rollout(self, rollout: RolloutRecord, previous: Mapping[str, bytes] | None = None) -> None:
        bundles = dict(previous) if previous is not None else None
        await self.call(lambda store: store.save_rollout(rollout, bundles))

    async def delete_rollout(self, environment: str, application: str) -> bool:
        return await self.call(lambda store: store.delete_rollout(environment, application))
