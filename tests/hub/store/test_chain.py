"""Appends and the hash chain: entries link up, and verify names the first entry a direct edit of the SQLite file
broke (content changed, rows deleted, reordered, rehashed, added behind the store's back)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from fleetline.identity import canonical_json, content_hash
from hub.store.chain import GENESIS, encode, entry_hash, hash_of, verify
from hub.store.records import AuditDraft, AuditError
from hub.store.sqlite import SqliteStore

from .conftest import Clock, drafts


def tamper(store: SqliteStore, *statements: str) -> None:
    """Edit the file as an attacker with the sqlite3 shell would: drop the append-only triggers first."""
    with sqlite3.connect(store.path) as conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for statement in statements:
            conn.execute(statement)


def rehash(store: SqliteStore, seq: int) -> None:
    """Recompute entry `seq`'s hash after changing it (what a careful attacker does)."""
    with sqlite3.connect(store.path) as conn:
        row = conn.execute("SELECT seq, at, kind, region, environment, cluster, application, actor, revision, data, "
                           "prev_hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        conn.execute("UPDATE audit_log SET hash = ? WHERE seq = ?", (entry_hash(*row), seq))


def test_the_encoding_is_canonical_json_of_every_field_but_the_hash() -> None:
    data = {"b": [1, {"y": None, "x": "é"}], "a": "line\n\"quoted\""}
    fields = {"seq": 12, "at": "2026-03-01T09:00:00.000000Z", "kind": "sync_result", "region": "eu",
              "environment": "prod", "cluster": "eu-1", "application": "web", "actor": "Zoë", "revision": "abc",
              "data": data, "prev_hash": GENESIS}
    data_json = canonical_json(data).decode()
    args = (12, fields["at"], "sync_result", "eu", "prod", "eu-1", "web", "Zoë", "abc", data_json, GENESIS)
    assert encode(*args) == canonical_json(fields)
    assert entry_hash(*args) == content_hash(fields)


def test_appends_chain_from_genesis_and_verify_holds(store: SqliteStore, clock: Clock) -> None:
    first = store.append_audit(drafts(3))
    clock.advance(60)
    second = store.append_audit([AuditDraft("approval", environment="prod", application="web", revision="r1",
                                            actor="alice", at=datetime(2026, 2, 1, tzinfo=UTC))])
    entries = first + second
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert all(hash_of(e) == e.hash for e in entries)
    assert entries[0].at == "2026-03-01T09:00:00.000000Z" and entries[3].at == "2026-02-01T00:00:00.000000Z"
    assert list(store.audit_entries()) == entries
    result = verify(store)
    assert (result.ok, result.entries, result.last_seq, result.last_hash, result.first_broken) == \
        (True, 4, 4, entries[-1].hash, None)
    assert store.audit_head() == (4, entries[-1].hash)


def test_an_empty_log_verifies() -> None:
    from hub.store.chain import verify_entries
    result = verify_entries([], (0, GENESIS))
    assert result.ok and result.entries == 0 and result.last_hash == GENESIS


def test_a_bad_draft_writes_nothing(store: SqliteStore) -> None:
    store.append_audit(drafts(2))
    for bad, message in ((AuditDraft("Sync Result"), "lowercase words"),
                         (AuditDraft("sync_result", cluster=None), "cluster must be a string"),  # type: ignore[arg-type]
                         (AuditDraft("sync_result", data=["x"]), "must be a JSON object"),  # type: ignore[arg-type]
                         (AuditDraft("sync_result", data={"when": datetime.now(UTC)}), "not JSON"),
                         (AuditDraft("sync_result", data={"ratio": float("nan")}), "not JSON")):
        with pytest.raises(AuditError, match=message):
            store.append_audit([*drafts(1), bad])  # the good one before it is not written either
    assert [e.seq for e in store.audit_entries()] == [1, 2]
    assert verify(store).ok


def test_a_changed_row_is_named(store: SqliteStore) -> None:
    store.append_audit(drafts(10))
    tamper(store, "UPDATE audit_log SET data = '{\"n\":4,\"phase\":\"Failed\"}' WHERE seq = 5")
    result = verify(store)
    assert not result.ok and result.first_broken == 5 and result.entries == 4
    assert "entry 5" in result.reason and "changed after it was written" in result.reason


@pytest.mark.parametrize("column", ["actor", "region", "at", "prev_hash"])
def test_any_changed_field_is_named(store: SqliteStore, column: str) -> None:
    store.append_audit(drafts(6))
    tamper(store, f"UPDATE audit_log SET {column} = {column} || 'x' WHERE seq = 3")
    assert verify(store).first_broken == 3


def test_a_changed_and_rehashed_row_is_named_by_the_link_after_it(store: SqliteStore) -> None:
    entries = store.append_audit(drafts(6))
    tamper(store, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
    rehash(store, 2)
    result = verify(store)
    assert not result.ok and result.first_broken == 2
    assert "entry 2 was changed and its hash recomputed" in result.reason
    assert (result.entries, result.last_hash) == (1, entries[0].hash)


def test_the_last_row_changed_and_rehashed_is_named_by_the_head(store: SqliteStore) -> None:
    store.append_audit(drafts(4))
    tamper(store, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4")
    rehash(store, 4)
    result = verify(store)
    assert result.first_broken == 4 and "recorded" in result.reason


def test_a_deleted_row_is_named(store: SqliteStore) -> None:
    store.append_audit(drafts(10))
    tamper(store, "DELETE FROM audit_log WHERE seq = 6")
    result = verify(store)
    assert not result.ok and result.first_broken == 6 and result.entries == 5
    assert "entry 6 is missing" in result.reason


def test_deleted_rows_at_the_start_are_named(store: SqliteStore) -> None:
    store.append_audit(drafts(10))
    tamper(store, "DELETE FROM audit_log WHERE seq IN (1, 2)")
    result = verify(store)
    assert result.first_broken == 1 and "entries 1 to 2 are missing" in result.reason


def test_rows_deleted_from_the_end_are_named(store: SqliteStore) -> None:
    store.append_audit(drafts(10))
    tamper(store, "DELETE FROM audit_log WHERE seq > 8")
    result = verify(store)
    assert not result.ok and result.first_broken == 9 and result.entries == 8
    assert "entries 9 to 10 are missing" in result.reason and "deleted from the end" in result.reason


def test_reordered_rows_are_named(store: SqliteStore) -> None:
    store.append_audit(drafts(10))
    tamper(store, "UPDATE audit_log SET seq = -1 WHERE seq = 4", "UPDATE audit_log SET seq = 4 WHERE seq = 7",
           "UPDATE audit_log SET seq = 7 WHERE seq = -1")
    result = verify(store)
    assert not result.ok and result.first_broken == 4 and "changed after it was written" in result.reason


def test_a_row_added_behind_the_stores_back_is_named(store: SqliteStore) -> None:
    entries = store.append_audit(drafts(3))
    last = entries[-1]
    data = '{"phase":"Succeeded"}'
    digest = entry_hash(4, last.at, "sync_result", "eu", "", "eu-1", "web", "", "r9", data, last.hash)
    tamper(store, f"INSERT INTO audit_log VALUES (4, '{last.at}', 'sync_result', 'eu', '', 'eu-1', 'web', '', 'r9', "
                  f"'{data}', '{last.hash}', '{digest}')")
    result = verify(store)
    assert not result.ok and result.first_broken == 4 and "not appended by the store" in result.reason
    assert (result.entries, result.last_hash) == (3, last.hash)


def test_expect_catches_a_chain_rewritten_wholesale(store: SqliteStore) -> None:
    entries = store.append_audit(drafts(5))
    assert verify(store, expect=(3, entries[2].hash)).ok
    for seq in range(3, 6):  # rewrite from entry 3 on, every hash and the head recomputed
        tamper(store, f"UPDATE audit_log SET actor = 'forger' WHERE seq = {seq}")
        if seq > 3:
            with sqlite3.connect(store.path) as conn:
                prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq - 1,)).fetchone()[0]
                conn.execute("UPDATE audit_log SET prev_hash = ? WHERE seq = ?", (prev, seq))
        rehash(store, seq)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE audit_head SET hash = (SELECT hash FROM audit_log WHERE seq = 5)")
    assert verify(store).ok  # the chain alone cannot tell...
    result = verify(store, expect=(3, entries[2].hash))
    assert not result.ok and result.first_broken == 3 and "not the expected" in result.reason  # ...a kept hash can
    missing = verify(store, expect=(9, entries[2].hash))
    assert not missing.ok and "is not in the log" in missing.reason


def test_the_store_refuses_updates_and_deletes_itself(store: SqliteStore) -> None:
    store.append_audit(drafts(2))
    with sqlite3.connect(store.path) as conn:
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    assert verify(store).ok


def test_verify_reads_the_head_and_the_entries_in_one_snapshot(store: SqliteStore) -> None:
    store.append_audit(drafts(3))

    class AppendAfterHead(SqliteStore):
        """A reader beside which the hub commits an append just after the head was read."""

        def audit_head(self) -> tuple[int, str] | None:
            head = super().audit_head()
            store.append_audit(drafts(1))
            return head

    reader = AppendAfterHead(store.path, readonly=True)
    result = verify(reader)
    reader.close()
    assert result.ok and result.entries == 3  # the snapshot of the head, not entry 4 "added behind its back"
    assert verify(store).entries == 4
