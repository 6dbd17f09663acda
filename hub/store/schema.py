"""The SQLite schema and its versioned migrations.

`schema_version` holds one row per migration applied (version, when). Migration N is the function
`MIGRATIONS[N - 1]`; `migrate` applies the missing ones in order, each in its own transaction together with its
`schema_version` row, so a crash leaves the file at the last whole version. A file whose version is above
`LATEST` was written by a newer Fleetline and is refused untouched (SchemaTooNewError).

Version 1: clusters, credentials, approvals, rollouts, sync_history, events, audit_log.
Version 2: the audit log's head (seq and hash of the last append, checked by verify to catch entries removed
from the end), triggers refusing UPDATE and DELETE on audit_log (the store only ever inserts), and the indexes
the reports and `audit log` query by (region and cluster with time; kind with revision).
Version 3: approvals gain a `region` (an approval given for one region's clusters only; '' for the whole
environment) and become the hub's one approval book; rollouts become one row per (environment, application),
the rollout in progress or last finished, with its revision, phase, step, clusters done and failed, halted reason
and times beside the whole serialized state; `rollout_bundles` keeps, per cluster, the bundle a rollout would roll
back to (opaque bytes), written when the rollout starts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from hub.store.chain import GENESIS
from hub.store.records import SchemaTooNewError
from hub.store.timefmt import rfc3339

_V1 = (
    """CREATE TABLE clusters (
        name TEXT PRIMARY KEY,
        region TEXT NOT NULL DEFAULT '',
        environment TEXT NOT NULL DEFAULT '',
        labels TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE credentials (
        fingerprint TEXT PRIMARY KEY,
        cluster TEXT NOT NULL,
        kind TEXT NOT NULL,
        issued_at TEXT NOT NULL DEFAULT '',
        revoked_at TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE INDEX credentials_by_cluster ON credentials (cluster)""",
    """CREATE TABLE approvals (
        environment TEXT NOT NULL,
        application TEXT NOT NULL,
        revision TEXT NOT NULL,
        approver TEXT NOT NULL COLLATE NOCASE,
        at TEXT NOT NULL,
        PRIMARY KEY (environment, application, revision, approver)
    )""",
    """CREATE TABLE rollouts (
        application TEXT NOT NULL,
        revision TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (application, revision)
    )""",
    """CREATE TABLE sync_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cluster TEXT NOT NULL,
        application TEXT NOT NULL,
        revision TEXT NOT NULL DEFAULT '',
        phase TEXT NOT NULL,
        started_at TEXT NOT NULL DEFAULT '',
        finished_at TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        result TEXT NOT NULL DEFAULT '{}'
    )""",
    """CREATE INDEX sync_history_by_app ON sync_history (cluster, application, id)""",
    """CREATE TABLE events (
        cluster TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        occurred_at TEXT NOT NULL,
        type TEXT NOT NULL,
        application TEXT NOT NULL DEFAULT '',
        resource TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        generation INTEGER NOT NULL DEFAULT 0,
        revision TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (cluster, sequence)
    ) WITHOUT ROWID""",
    """CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        region TEXT NOT NULL DEFAULT '',
        environment TEXT NOT NULL DEFAULT '',
        cluster TEXT NOT NULL DEFAULT '',
        application TEXT NOT NULL DEFAULT '',
        actor TEXT NOT NULL DEFAULT '',
        revision TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
)


def _v1(conn: sqlite3.Connection) -> None:
    for statement in _V1:
        conn.execute(statement)


_V2 = (
    "CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)",
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE INDEX audit_by_region ON audit_log (region, at)",
    "CREATE INDEX audit_by_cluster ON audit_log (cluster, at)",
    "CREATE INDEX audit_by_kind ON audit_log (kind, revision)",
)


def _v2(conn: sqlite3.Connection) -> None:
    for statement in _V2:
        conn.execute(statement)
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)", row or (0, GENESIS))


_V3 = (
    """CREATE TABLE approvals_v3 (
        environment TEXT NOT NULL,
        region TEXT NOT NULL DEFAULT '',
        application TEXT NOT NULL,
        revision TEXT NOT NULL,
        approver TEXT NOT NULL COLLATE NOCASE,
        at TEXT NOT NULL,
        PRIMARY KEY (environment, region, application, revision, approver)
    )""",
    "INSERT OR IGNORE INTO approvals_v3 (environment, region, application, revision, approver, at) "
    "SELECT environment, '', application, revision, approver, at FROM approvals ORDER BY rowid",
    "DROP TABLE approvals",
    "ALTER TABLE approvals_v3 RENAME TO approvals",
    """CREATE TABLE rollouts_v3 (
        environment TEXT NOT NULL DEFAULT '',
        application TEXT NOT NULL,
        revision TEXT NOT NULL,
        previous_revision TEXT NOT NULL DEFAULT '',
        phase TEXT NOT NULL DEFAULT '',
        step INTEGER NOT NULL DEFAULT 0,
        done TEXT NOT NULL DEFAULT '[]',
        failed TEXT NOT NULL DEFAULT '{}',
        halted_reason TEXT NOT NULL DEFAULT '',
        started_at TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (environment, application)
    )""",
    "INSERT OR REPLACE INTO rollouts_v3 (environment, application, revision, state, updated_at) "
    "SELECT '', application, revision, state, updated_at FROM rollouts ORDER BY updated_at, rowid",
    "DROP TABLE rollouts",
    "ALTER TABLE rollouts_v3 RENAME TO rollouts",
    """CREATE TABLE rollout_bundles (
        environment TEXT NOT NULL,
        application TEXT NOT NULL,
        cluster TEXT NOT NULL,
        bundle BLOB NOT NULL,
        PRIMARY KEY (environment, application, cluster)
    )""",
)


def _v3(conn: sqlite3.Connection) -> None:
    for statement in _V3:
        conn.execute(statement)


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3)
LATEST = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """The file's schema version (0 for a new, empty file)."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def check_not_newer(version: int, where: str) -> None:
    """SchemaTooNewError when `version` is above what this code knows."""
    if version > LATEST:
        raise SchemaTooNewError(
            f"{where}: the database is at schema version {version}, newer than this Fleetline knows (up to "
            f"{LATEST}); it was written by a newer hub. Run that newer Fleetline, or restore a backup taken with "
            "this version. The file was not changed.")


def migrate(conn: sqlite3.Connection, where: str, target: int = LATEST) -> int:
    """Apply the migrations the file lacks, up to `target`; return the version it is at. `conn` must be in
    autocommit mode (isolation_level None): each migration is one BEGIN IMMEDIATE ... COMMIT."""
    check_not_newer(current_version(conn), where)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT "
                         "NOT NULL)")
            version = current_version(conn)  # again, under the write lock: another process may have migrated
            check_not_newer(version, where)
            if version >= target:
                conn.execute("COMMIT")
                return version
            MIGRATIONS[version](conn)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                         (version + 1, rfc3339(datetime.now(UTC))))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

