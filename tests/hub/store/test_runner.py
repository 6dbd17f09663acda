"""AsyncStore: writes run on one writer thread in the order made, audit appends queue up and commit in batches,
a bad draft fails alone, the event loop never waits, readers use their own connections."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.store.chain import verify
from hub.store.records import AuditDraft, AuditEntry, AuditError, ClusterRecord, EventRecord, StoreError
from hub.store.runner import AsyncStore
from hub.store.sqlite import SqliteStore

from .conftest import drafts


class CountingStore(SqliteStore):
    """Counts append transactions; `fail_next` makes the next one fail as a full disk would."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.batches: list[int] = []
        self.fail_next = False

    def append_audit(self, drafts: Sequence[AuditDraft]) -> list[AuditEntry]:
        self.batches.append(len(drafts))
        if self.fail_next:
            self.fail_next = False
            raise sqlite3.OperationalError("database or disk is full")
        return super().append_audit(drafts)


@pytest.fixture
async def counting(tmp_path: Path):
    store = CountingStore(tmp_path / "fleetline.db")
    runner = AsyncStore(store, reader=lambda: SqliteStore.open(tmp_path, readonly=True))
    yield runner, store
    await runner.close()


async def hold_writer(runner: AsyncStore) -> tuple[threading.Event, asyncio.Future]:
    """Keep the writer thread busy until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def block(_store: object) -> None:
        started.set()
        release.wait(10)

    blocked = runner.call(block)
    assert await asyncio.to_thread(started.wait, 10)
    return release, blocked


async def test_appends_queued_while_the_writer_is_busy_commit_as_one_batch(counting) -> None:
    runner, store = counting
    release, blocked = await hold_writer(runner)
    futures = [runner.append_nowait(d) for d in drafts(200)]
    ticks = 0
    for _ in range(5):  # the loop runs on while the writer is busy: nothing waits for SQLite
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 5 and not any(f.done() for f in futures)
    release.set()
    entries = await asyncio.gather(*futures)
    await blocked
    assert [e.seq for e in entries] == list(range(1, 201))
    assert [e.revision for e in entries] == [f"r{i}" for i in range(200)]
    assert store.batches == [200]
    assert verify(store).ok


async def test_calls_and_appends_run_in_the_order_made(counting) -> None:
    runner, store = counting
    release, _ = await hold_writer(runner)
    first = [runner.append_nowait(d) for d in drafts(3)]
    counted = runner.call(lambda s: sum(1 for _ in s.audit_entries()))
    second = [runner.append_nowait(d) for d in drafts(2)]
    release.set()
    assert await counted == 3
    await asyncio.gather(*first, *second)
    assert store.batches == [3, 2]


async def test_a_bad_draft_fails_alone(counting) -> None:
    runner, store = counting
    with pytest.raises(AuditError, match="lowercase"):
        runner.append_nowait(AuditDraft("Bad Kind"))  # refused where it is made
    release, _ = await hold_writer(runner)
    good = runner.append_nowait(drafts(1)[0])
    bad = runner.append_nowait(AuditDraft("sync_result", data={"when": datetime.now(UTC)}))
    after = runner.append_nowait(drafts(1)[0])
    release.set()
    assert (await good).seq == 1 and (await after).seq == 2
    with pytest.raises(AuditError, match="not JSON"):
        await bad
    assert verify(store).ok


async def test_a_failed_batch_fails_every_append_in_it_and_writes_none(counting) -> None:
    runner, store = counting
    release, _ = await hold_writer(runner)
    store.fail_next = True
    futures = [runner.append_nowait(d) for d in drafts(3)]
    release.set()
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(r, sqlite3.OperationalError) for r in results)
    assert (await runner.append(drafts(1)[0])).seq == 1  # the store goes on
    assert verify(store).entries == 1


async def test_reads_run_on_their_own_connection_beside_a_busy_writer(counting) -> None:
    runner, _ = counting
    await runner.append_many(drafts(5))
    release, _ = await hold_writer(runner)
    try:
        names = await runner.read(lambda s: (threading.current_thread().name, s.readonly, verify(s).entries))
    finally:
        release.set()
    assert names[0].startswith("store-reader") and names[1] is True and names[2] == 5


async def test_open_close_and_reopen_lose_nothing(tmp_path: Path) -> None:
    runner = await AsyncStore.open(tmp_path)
    await runner.upsert_cluster(ClusterRecord("eu-1", "eu", "prod"))
    added = await runner.add_events([EventRecord("eu-1", 1, "2026-03-01T09:00:00.000000Z", "SYNC_STARTED")])
    assert len(added) == 1
    pending = [runner.append_nowait(d) for d in drafts(50)]
    await runner.close()  # finishes what is queued first
    assert all(f.done() and not f.exception() for f in pending)
    with pytest.raises(StoreError, match="closed"):
        runner.append_nowait(drafts(1)[0])
    again = await AsyncStore.open(tmp_path)
    assert await again.read(lambda s: verify(s).entries) == 50
    assert await again.add_events([EventRecord("eu-1", 1, "2026-03-01T09:00:00.000000Z", "SYNC_STARTED")]) == []
    assert [c.name for c in await again.read(lambda s: s.clusters())] == ["eu-1"]
    await again.close()

