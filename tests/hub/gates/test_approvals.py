"""Approvals: per (environment, application, revision), per distinct approver, per region when given, kept in the
hub's store (one book); an earlier hub's JSON file is moved into the store once, a corrupt one set aside."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.gates import ApprovalBook
from hub.store import AsyncStore

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
REV_A = "a" * 40
REV_B = "b" * 40


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AsyncStore]:
    opened = await AsyncStore.open(tmp_path / "hub", synchronous="NORMAL")
    yield opened
    await opened.close()


def rows(data_dir: Path) -> list[tuple]:
    with sqlite3.connect(data_dir / "fleetline.db") as conn:
        return conn.execute("SELECT environment, region, application, revision, approver, at FROM approvals "
                            "ORDER BY at, rowid").fetchall()


async def test_approvals_count_per_distinct_approver(store: AsyncStore) -> None:
    book = await ApprovalBook.open(store)
    first = await book.approve("production", "inference", REV_A, "alice", NOW, required=2)
    assert (first.approvers, first.required, first.satisfied, first.missing) == (["alice"], 2, False, 1)
    again = await book.approve("production", "inference", REV_A, " Alice ", NOW + timedelta(minutes=1), required=2)
    assert (again.approvers, again.satisfied) == (["alice"], False)
    second = await book.approve("production", "inference", REV_A, "bob", NOW + timedelta(minutes=2), required=2)
    assert (second.approvers, second.satisfied, second.missing) == (["alice", "bob"], True, 0)
    assert [approval.at for approval in second.approvals] == [NOW, NOW + timedelta(minutes=2)]


async def test_an_empty_approver_is_refused_and_nothing_is_written(store: AsyncStore, tmp_path: Path) -> None:
    book = await ApprovalBook.open(store)
    for nobody in ("", "   "):
        with pytest.raises(ValueError, match="the approver is empty"):
            await book.approve("production", "inference", REV_A, nobody, NOW, required=1)
    with pytest.raises(ValueError, match="line break"):
        await book.approve("production", "inference", REV_A, "alice\nbob", NOW)
    with pytest.raises(ValueError, match="non-empty revision"):
        await book.approve("production", "inference", "", "alice", NOW)
    with pytest.raises(ValueError, match="no time zone"):
        await book.approve("production", "inference", REV_A, "alice", datetime(2026, 12, 1))
    assert book.state("production", "inference", REV_A, 1).approvers == []
    await store.flush()
    assert rows(tmp_path / "hub") == []


async def test_a_newer_revision_needs_approvals_of_its_own(store: AsyncStore) -> None:
    book = await ApprovalBook.open(store)
    await book.approve("production", "inference", REV_A, "alice", NOW)
    assert book.state("production", "inference", REV_A, required=1).satisfied
    fresh = book.state("production", "inference", REV_B, required=1)
    assert (fresh.approvers, fresh.satisfied) == ([], False)


async def test_approvals_are_per_environment_and_application(store: AsyncStore) -> None:
    book = await ApprovalBook.open(store)
    await book.approve("production", "inference", REV_A, "alice", NOW)
    assert book.state("staging", "inference", REV_A, 1).approvers == []
    assert book.state("production", "registry", REV_A, 1).approvers == []


async def test_a_regional_approval_counts_for_that_region_only(store: AsyncStore) -> None:
    book = await ApprovalBook.open(store)
    await book.approve("production", "inference", REV_A, "eu-ops", NOW, required=2, region="eu")
    await book.approve("production", "inference", REV_A, "lead", NOW + timedelta(minutes=1), required=2)
    await book.approve("production", "inference", REV_A, "LEAD", NOW + timedelta(minutes=2), required=2, region="eu")
    eu = book.state_for("production", "eu", "inference", REV_A, required=2)
    assert (eu.approvers, eu.satisfied) == (["lead", "eu-ops"], True), "the environment's and eu's, each once"
    us = book.state_for("production", "us-east", "inference", REV_A, required=2)
    assert (us.approvers, us.satisfied) == (["lead"], False)
    assert book.state("production", "inference", REV_A, 2, region="eu").approvers == ["eu-ops", "LEAD"]


async def test_a_regional_approval_answers_with_what_counts_for_that_region(store: AsyncStore) -> None:
    """The state a regional approval returns (the API's answer, the audit entry's count) is what the gate of
    that region's clusters counts: the environment's approvals and the region's."""
    book = await ApprovalBook.open(store)
    await book.approve("production", "inference", REV_A, "alice", NOW, required=2)
    state = await book.approve("production", "inference", REV_A, "bob", NOW + timedelta(minutes=1), required=2,
                               region="eu")
    assert (state.approvers, state.satisfied) == (["alice", "bob"], True)


def test_no_required_approvals_is_always_satisfied() -> None:
    assert ApprovalBook().state("production", "inference", REV_A).satisfied


async def test_approvals_are_in_the_store_and_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    store = await AsyncStore.open(data_dir, synchronous="NORMAL")
    book = await ApprovalBook.open(store)
    await book.approve("production", "inference", REV_A, "alice", NOW)
    await book.approve("production", "inference", REV_A, "bob", NOW + timedelta(minutes=5), region="eu")
    await store.close()
    assert rows(data_dir) == [("production", "", "inference", REV_A, "alice", "2026-12-01T09:30:00.000000Z"),
                              ("production", "eu", "inference", REV_A, "bob", "2026-12-01T09:35:00.000000Z")]
    assert not (data_dir / "pipeline").exists(), "no JSON book is written any more"

    store = await AsyncStore.open(data_dir, synchronous="NORMAL")
    reopened = await ApprovalBook.open(store)
    state = reopened.state_for("production", "eu", "inference", REV_A, required=2)
    assert (state.approvers, state.satisfied) == (["alice", "bob"], True)
    assert state.approvals[1].at == NOW + timedelta(minutes=5)
    again = await reopened.approve("production", "inference", REV_A, "ALICE", NOW, required=3)
    assert again.approvers == ["alice"]
    await store.close()
    assert len(rows(data_dir)) == 2


async def test_last_approved_is_the_revision_that_most_recently_got_enough_approvals(store: AsyncStore) -> None:
    book = await ApprovalBook.open(store)
    assert book.last_approved("production", "inference", required=2) is None
    await book.approve("production", "inference", REV_A, "alice", NOW)
    await book.approve("production", "inference", REV_A, "bob", NOW + timedelta(hours=1))
    await book.approve("production", "inference", REV_B, "carol", NOW + timedelta(hours=2))
    assert book.last_approved("production", "inference", required=2) == REV_A
    await book.approve("production", "inference", REV_B, "dave", NOW + timedelta(hours=3))
    await book.approve("production", "inference", REV_A, "erin", NOW + timedelta(hours=4))  # a late third approval
    assert book.last_approved("production", "inference", required=2) == REV_B
    assert book.last_approved("production", "inference", required=3) == REV_A
    assert (await ApprovalBook.open(store)).last_approved("production", "inference", 2) == REV_B


async def test_superseded_revisions_are_forgotten(store: AsyncStore) -> None:
    book = await ApprovalBook.open(store)
    for index, revision in enumerate(("1" * 40, "2" * 40, REV_A, REV_B)):
        await book.approve("production", "inference", revision, "alice", NOW + timedelta(hours=index))
    await book.approve("production", "registry", "1" * 40, "alice", NOW)
    assert await book.forget_superseded("production", "inference", keep=[REV_A, REV_B]) == 2
    assert book.revisions("production", "inference") == [REV_A, REV_B]
    assert book.revisions("production", "registry") == ["1" * 40]
    assert (await ApprovalBook.open(store)).revisions("production", "inference") == [REV_A, REV_B]
    assert await book.forget_superseded("production", "inference", keep=[]) == 2
    assert (await ApprovalBook.open(store)).revisions("production", "inference") == []
    assert await book.forget_superseded("staging", "inference", keep=[]) == 0


LEGACY = {"version": 1, "approvals": {
    "prod": {"inference": {REV_A: [{"approver": "alice", "at": "2026-12-01T09:30:00+00:00"},
                                   {"approver": "bob", "at": "2026-12-01T10:40:00+01:00"}]}},
    "prod@eu": {"inference": {REV_B: [{"approver": "eu-ops", "at": "2026-12-02T08:00:00+00:00"}]}}}}


async def test_an_earlier_hubs_json_book_is_moved_into_the_store_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    legacy = data_dir / "pipeline" / "approvals.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps(LEGACY))
    store = await AsyncStore.open(data_dir, synchronous="NORMAL")
    book = await ApprovalBook.open(store, legacy=legacy)
    assert book.state("prod", "inference", REV_A, 2).approvers == ["alice", "bob"]
    assert book.state_for("prod", "eu", "inference", REV_B, 1).satisfied
    assert not book.state_for("prod", "us-east", "inference", REV_B, 1).satisfied
    assert not legacy.exists() and json.loads((legacy.parent / "approvals.json.migrated").read_text()) == LEGACY
    await store.flush()
    assert ("prod", "eu", "inference", REV_B, "eu-ops", "2026-12-02T08:00:00.000000Z") in rows(data_dir)

    # the file is not read again: an approval forgotten in the store stays forgotten, a file put back is imported
    # again without doubling what the store holds
    await book.forget_superseded("prod", "inference", keep=[])
    assert (await ApprovalBook.open(store, legacy=legacy)).revisions("prod", "inference") == []
    legacy.write_text(json.dumps(LEGACY))
    again = await ApprovalBook.open(store, legacy=legacy)
    assert again.state("prod", "inference", REV_A, 2).approvers == ["alice", "bob"]
    assert (legacy.parent / "approvals.json.migrated.1").exists()
    await store.close()
    assert len(rows(data_dir)) == 3


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe", b"[]", b'{"version": 2, "approvals": {}}',
    b'{"version": 1, "approvals": {"production": {"inference": {"abc": [{"approver": ""}]}}}}',
    b'{"version": 1, "approvals": {"production": {"inference": {"abc": [{"approver": "a", "at": "noon"}]}}}}',
])
async def test_a_corrupt_json_book_is_set_aside_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                               store: AsyncStore, content: bytes) -> None:
    path = tmp_path / "approvals.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="hub.gates.approvals"):
        book = await ApprovalBook.open(store, legacy=path)
    assert "event=approvals_file_corrupt" in caplog.text and "approvals.json.corrupt" in caplog.text
    assert (tmp_path / "approvals.json.corrupt").read_bytes() == content
    assert not path.exists()
    assert (await book.approve("production", "inference", REV_A, "alice", NOW, required=1)).satisfied
    assert (await ApprovalBook.open(store, legacy=path)).state("production", "inference", REV_A, 1).approvers == [
        "alice"]


async def test_a_failed_write_leaves_the_book_as_the_store_says(store: AsyncStore) -> None:
    book = await ApprovalBook.open(store)
    await store.close()
    with pytest.raises(Exception, match="closed"):
        await book.approve("production", "inference", REV_A, "alice", NOW)
    assert book.state("production", "inference", REV_A, 1).approvers == []
