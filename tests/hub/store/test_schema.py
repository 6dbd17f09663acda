"""Schema migrations: a fresh file, an upgrade from version 1 that keeps the chain, the refusal of a newer file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.store import schema
from hub.store.chain import GENESIS, entry_hash, verify
from hub.store.records import AuditDraft, SchemaTooNewError, StoreError
from hub.store.sqlite import SqliteStore, database_path


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}


def test_fresh_store_is_at_the_latest_version_in_wal_mode(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    store.close()
    path = database_path(tmp_path)
    assert path == tmp_path / "fleetline.db"
    assert {"clusters", "credentials", "approvals", "rollouts", "sync_history", "events", "audit_log", "audit_head",
            "schema_version", "audit_log_no_update", "audit_log_no_delete"} <= tables(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, schema.LATEST + 1))
    reopened = SqliteStore.open(tmp_path)  # opening again applies nothing
    assert reopened.schema_version == schema.LATEST
    reopened.close()


def test_upgrade_from_version_1_keeps_the_chain_and_continues_it(tmp_path: Path) -> None:
    path = database_path(tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(conn, str(path), target=1) == 1
    prev = GENESIS
    for seq in (1, 2, 3):  # what a version-1 hub wrote
        at, data = f"2026-03-0{seq}T09:00:00.000000Z", '{"phase":"Succeeded"}'
        digest = entry_hash(seq, at, "sync_result", "eu", "prod", "eu-1", "web", "", "r1", data, prev)
        conn.execute("INSERT INTO audit_log VALUES (?, ?, 'sync_result', 'eu', 'prod', 'eu-1', 'web', '', 'r1', ?, ?, "
                     "?)", (seq, at, data, prev, digest))
        prev = digest
    conn.close()
    assert "audit_head" not in tables(path)

    old_reader = SqliteStore(path, readonly=True)  # a read-only store reads an older file as it is
    assert old_reader.schema_version == 1 and old_reader.audit_head() is None
    assert verify(old_reader).ok
    old_reader.close()

    store = SqliteStore.open(tmp_path)
    assert store.schema_version == schema.LATEST
    assert store.audit_head() == (3, prev)  # the head starts at the last entry version 1 wrote
    entry = store.append_audit([AuditDraft("sync_result", region="eu", cluster="eu-1")])[0]
    assert (entry.seq, entry.prev_hash) == (4, prev)
    result = verify(store)
    assert result.ok and result.entries == 4
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._conn.execute("DELETE FROM audit_log WHERE seq = 1")  # version 2's trigger
    store.close()


def test_a_newer_schema_is_refused_and_the_file_left_untouched(tmp_path: Path) -> None:
    SqliteStore.open(tmp_path).close()
    path = database_path(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, '2027-01-01T00:00:00.000000Z')", (schema.LATEST + 1,))
    before = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(SchemaTooNewError) as caught:
            SqliteStore.open(tmp_path, readonly=readonly)
        message = str(caught.value)
        assert str(path) in message and f"schema version {schema.LATEST + 1}" in message
        assert "newer" in message and "not changed" in message
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_refused_and_kept(tmp_path: Path) -> None:
    path = database_path(tmp_path)
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        SqliteStore.open(tmp_path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_read_only_open_of_a_missing_database_names_the_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"fleetline\.db: no such database.*--data-dir"):
        SqliteStore.open(tmp_path / "nowhere", readonly=True)
    assert not (tmp_path / "nowhere").exists()


def test_a_failed_migration_leaves_the_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = database_path(tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate(conn, str(path), target=1)

    def broken(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(schema, "MIGRATIONS", (schema.MIGRATIONS[0], broken))
    with pytest.raises(RuntimeError, match="disk on fire"):
        schema.migrate(conn, str(path), target=2)
    assert schema.current_version(conn) == 1
    assert "half_done" not in tables(path)
    conn.close()


def test_upgrade_to_version_3_keeps_approvals_and_rollouts(tmp_path: Path) -> None:
    path = database_path(tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(conn, str(path), target=2) == 2
    conn.execute("INSERT INTO approvals VALUES ('prod', 'web', 'r1', 'alice', '2026-03-01T09:00:00.000000Z')")
    conn.execute("INSERT INTO approvals VALUES ('prod', 'web', 'r1', 'bob', '2026-03-01T09:05:00.000000Z')")
    conn.execute("INSERT INTO rollouts VALUES ('web', 'r1', '{\"step\": 0}', '2026-03-01T09:00:00.000000Z')")
    conn.execute("INSERT INTO rollouts VALUES ('web', 'r2', '{\"step\": 1}', '2026-03-02T09:00:00.000000Z')")
    conn.close()
    store = SqliteStore.open(tmp_path)
    assert store.schema_version == schema.LATEST >= 3
    assert [(a.approver, a.region) for a in store.approvals("prod", "web", "r1")] == [("alice", ""), ("bob", "")]
    [rollout] = store.rollouts("web")  # one per (environment, application): the newest of the old rows
    assert (rollout.environment, rollout.revision, rollout.state) == ("", "r2", {"step": 1})
    assert "rollout_bundles" in tables(path)
    store.close()
