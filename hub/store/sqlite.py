"""The SQLite store: one file, `<data_dir>/fleetline.db`, in WAL mode (readers never wait for the writer).

Opening a file migrates it to the newest schema (hub.store.schema) unless it is opened read-only (the audit
commands): a read-only store reads older schemas as they are and refuses newer ones like the writer does. Every
write is one transaction (BEGIN IMMEDIATE, so a second process waits for the lock, up to `busy_timeout`);
`synchronous=FULL` by default, so a committed transaction survives a power loss, not only a crash (NORMAL
survives a crash of the hub, which is what the benchmark's "normal" figure shows).

Audit appends validate and redact every draft before the transaction starts (an AuditError writes nothing),
then read the head, chain the drafts onto it and insert them with the new head in one transaction. Secret values
in entries' data and events' details are redacted (hub.store.redact) before they are written.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from hub.store import schema
from hub.store.base import Store
from hub.store.chain import GENESIS, entry_hash
from hub.store.drafts import prepare
from hub.store.records import (
    ApprovalRecord,
    AuditDraft,
    AuditEntry,
    AuditQuery,
    ClusterRecord,
    CredentialRecord,
    EventRecord,
    RolloutRecord,
    StoreError,
    SyncRecord,
)
from hub.store.redact import redact
from hub.store.timefmt import rfc3339

DB_NAME = "fleetline.db"
_AUDIT_COLUMNS = "seq, at, kind, region, environment, cluster, application, actor, revision, data, prev_hash, hash"
_ROLLOUT_COLUMNS = ("environment, application, revision, previous_revision, phase, step, done, failed, halted_reason, "
                    "started_at, updated_at, state")
_EVENT_COLUMNS = "cluster, sequence, occurred_at, type, application, resource, message, generation, revision, details"


def database_path(data_dir: str | Path) -> Path:
    """Where the hub's database lives in its data directory."""
    return Path(data_dir) / DB_NAME


class SqliteStore(Store):
    """The Store on one SQLite file; see the module docstring. Not thread-safe: one caller at a time (AsyncStore
    gives it a thread of its own)."""

    def __init__(self, path: str | Path, *, readonly: bool = False, synchronous: str = "FULL",
                 clock: Callable[[], datetime] | None = None, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.readonly = readonly
        self._clock = clock or (lambda: datetime.now(UTC))
        self._conn = self._connect(busy_timeout)
        try:
            self.schema_version = self._prepare(synchronous)
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def open(cls, data_dir: str | Path, **options: object) -> SqliteStore:
        """The store of a hub data directory (`<data_dir>/fleetline.db`); options as for the constructor."""
        return cls(database_path(data_dir), **options)  # type: ignore[arg-type]

    def _connect(self, busy_timeout: float) -> sqlite3.Connection:
        if self.readonly:
            if not self.path.is_file():
                raise StoreError(f"{self.path}: no such database; give the hub's data directory (--data-dir), "
                                 "where the hub keeps fleetline.db")
            target, uri = f"file:{quote(str(self.path.resolve()))}?mode=ro", True
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target, uri = str(self.path), False
        try:
            return sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False,
                                   timeout=busy_timeout)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the database: {exc}") from exc

    def _prepare(self, synchronous: str) -> int:
        try:
            version = schema.current_version(self._conn)
            schema.check_not_newer(version, self.where)
            if self.readonly:
                if version == 0:
                    raise StoreError(f"{self.path}: not a Fleetline database (no schema_version table); give the "
                                     "hub's data directory")
                return version
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch the database to WAL mode (got {mode}); put the data "
                                 "directory on a local filesystem")
            if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
                raise StoreError(f"synchronous={synchronous!r}: use FULL, EXTRA or NORMAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            return schema.migrate(self._conn, self.where)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise StoreError(f"{self.path}: cannot open the database ({exc})") from exc
            raise StoreError(f"{self.path}: the database is busy (another process holds a lock: {exc}); try again "
                             "in a moment") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable SQLite database ({exc}); move it aside to start a new one, "
                             "or restore a backup") from exc

    # -- plumbing -------------------------------------------------------------------------------------------
    def _now(self) -> str:
        return rfc3339(self._clock())

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    # -- clusters and credentials ---------------------------------------------------------------------------
    def upsert_cluster(self, cluster: ClusterRecord) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO clusters (name, region, environment, labels, updated_at) "
                         "VALUES (?, ?, ?, ?, ?)", (cluster.name, cluster.region, cluster.environment,
                                                    json.dumps(cluster.labels, sort_keys=True),
                                                    cluster.updated_at or self._now()))

    def clusters(self, region: str = "") -> list[ClusterRecord]:
        sql = "SELECT name, region, environment, labels, updated_at FROM clusters"
        rows = self._conn.execute(sql + (" WHERE region = ? ORDER BY name" if region else " ORDER BY name"),
                                  (region,) if region else ()).fetchall()
        return [ClusterRecord(name, reg, env, json.loads(labels), at) for name, reg, env, labels, at in rows]

    def add_credential(self, credential: CredentialRecord) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO credentials (fingerprint, cluster, kind, issued_at, revoked_at) "
                         "VALUES (?, ?, ?, ?, ?)", (credential.fingerprint, credential.cluster, credential.kind,
                                                    credential.issued_at or self._now(), credential.revoked_at))

    def revoke_credential(self, fingerprint: str, at: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute("UPDATE credentials SET revoked_at = ? WHERE fingerprint = ? AND revoked_at = ''",
                                  (at or self._now(), fingerprint))
            return cursor.rowcount == 1

    def credentials(self, cluster: str) -> list[CredentialRecord]:
        rows = self._conn.execute("SELECT fingerprint, cluster, kind, issued_at, revoked_at FROM credentials "
                                  "WHERE cluster = ? ORDER BY issued_at, fingerprint", (cluster,)).fetchall()
        return [CredentialRecord(*row) for row in rows]

    # -- approvals and rollouts -----------------------------------------------------------------------------
    def add_approval(self, approval: ApprovalRecord) -> bool:
        with self._write() as conn:
            cursor = conn.execute("INSERT OR IGNORE INTO approvals (environment, region, application, revision, "
                                  "approver, at) VALUES (?, ?, ?, ?, ?, ?)",
                                  (approval.environment, approval.region, approval.application, approval.revision,
                                   approval.approver, approval.at or self._now()))
            return cursor.rowcount == 1

    def approvals(self, environment: str = "", application: str = "", revision: str = "",
                  region: str | None = None) -> list[ApprovalRecord]:
        clauses, params = [], []
        for column, value in (("environment", environment), ("application", application), ("revision", revision)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if region is not None:
            clauses.append("region = ?")
            params.append(region)
        sql = "SELECT environment, application, revision, approver, at, region FROM approvals"
        sql += (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY at, rowid"
        return [ApprovalRecord(*row) for row in self._conn.execute(sql, params).fetchall()]

    def remove_approvals(self, environment: str, application: str, revisions: Sequence[str],
                         region: str = "") -> int:
        wanted = list(revisions)
        if not wanted:
            return 0
        with self._write() as conn:
            cursor = conn.execute(f"DELETE FROM approvals WHERE environment = ? AND region = ? AND application = ? "
                                  f"AND revision IN ({', '.join('?' * len(wanted))})",
                                  (environment, region, application, *wanted))
            return cursor.rowcount

    def save_rollout(self, rollout: RolloutRecord, previous: Mapping[str, bytes] | None = None) -> None:
        with self._write() as conn:
            conn.execute(f"INSERT OR REPLACE INTO rollouts ({_ROLLOUT_COLUMNS}) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (rollout.environment, rollout.application, rollout.revision, rollout.previous_revision,
                          rollout.phase, rollout.step, json.dumps(sorted(rollout.done)),
                          json.dumps(rollout.failed, sort_keys=True), rollout.halted_reason, rollout.started_at,
                          rollout.updated_at or self._now(), json.dumps(rollout.state, sort_keys=True)))
            if previous is not None:
                conn.execute("DELETE FROM rollout_bundles WHERE environment = ? AND application = ?",
                             (rollout.environment, rollout.application))
                conn.executemany("INSERT INTO rollout_bundles (environment, application, cluster, bundle) VALUES "
                                 "(?, ?, ?, ?)", [(rollout.environment, rollout.application, cluster, bytes(bundle))
                                                  for cluster, bundle in sorted(previous.items())])

    def rollouts(self, application: str = "") -> list[RolloutRecord]:
        sql = f"SELECT {_ROLLOUT_COLUMNS} FROM rollouts"
        rows = self._conn.execute(sql + (" WHERE application = ?" if application else "") +
                                  " ORDER BY updated_at DESC, rowid DESC", (application,) if application else ())
        return [RolloutRecord(application=app, revision=rev, state=json.loads(state), updated_at=updated,
                              environment=env, previous_revision=previous, phase=phase, step=int(step),
                              done=tuple(json.loads(done)), failed=json.loads(failed), halted_reason=halted,
                              started_at=started)
                for env, app, rev, previous, phase, step, done, failed, halted, started, updated, state
                in rows.fetchall()]

    def rollout_bundles(self, environment: str, application: str) -> dict[str, bytes]:
        rows = self._conn.execute("SELECT cluster, bundle FROM rollout_bundles WHERE environment = ? AND "
                                  "application = ? ORDER BY cluster", (environment, application)).fetchall()
        return {str(cluster): bytes(bundle) for cluster, bundle in rows}

    def delete_rollout(self, environment: str, application: str) -> bool:
        with self._write() as conn:
            conn.execute("DELETE FROM rollout_bundles WHERE environment = ? AND application = ?",
                         (environment, application))
            cursor = conn.execute("DELETE FROM rollouts WHERE environment = ? AND application = ?",
                                  (environment, application))
            return cursor.rowcount == 1

    # -- sync history and agent events ----------------------------------------------------------------------
    def record_sync(self, sync: SyncRecord) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO sync_history (cluster, application, revision, phase, started_at, finished_at, message, "
                "result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sync.cluster, sync.application, sync.revision, sync.phase, sync.started_at, sync.finished_at,
                 sync.message, json.dumps(redact(sync.result), sort_keys=True)))
            return int(cursor.lastrowid or 0)

    def sync_history(self, cluster: str, application: str, limit: int = 50) -> list[SyncRecord]:
        rows = self._conn.execute(
            "SELECT cluster, application, revision, phase, started_at, finished_at, message, result, id FROM "
            "sync_history WHERE cluster = ? AND application = ? ORDER BY id DESC LIMIT ?",
            (cluster, application, limit)).fetchall()
        return [SyncRecord(c, a, rev, phase, start, end, msg, json.loads(result), id_)
                for c, a, rev, phase, start, end, msg, result, id_ in rows]

    def add_events(self, events: Sequence[EventRecord]) -> list[EventRecord]:
        added = []
        with self._write() as conn:
            for event in events:
                cursor = conn.execute(
                    f"INSERT OR IGNORE INTO events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (event.cluster, event.sequence, event.occurred_at, event.type, event.application, event.resource,
                     event.message, event.generation, event.revision,
                     json.dumps(redact(event.details), sort_keys=True)))
                if cursor.rowcount == 1:
                    added.append(event)
        return added

    def events(self, cluster: str, after_sequence: int = 0, limit: int = 1000) -> list[EventRecord]:
        rows = self._conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE cluster = ? AND sequence > ? ORDER "
                                  "BY sequence LIMIT ?", (cluster, after_sequence, limit)).fetchall()
        return [EventRecord(*row[:9], details=json.loads(row[9])) for row in rows]

    def last_event_sequence(self, cluster: str) -> int:
        row = self._conn.execute("SELECT MAX(sequence) FROM events WHERE cluster = ?", (cluster,)).fetchone()
        return int(row[0] or 0)

    # -- the audit log --------------------------------------------------------------------------------------
    def append_audit(self, drafts: Sequence[AuditDraft]) -> list[AuditEntry]:
        now = self._now()
        prepared = [prepare(draft, now) for draft in drafts]
        if not prepared:
            return []
        rows = []
        with self._write() as conn:
            seq, prev = self._head_for_append()
            for at, kind, region, environment, cluster, application, actor, revision, data_json in prepared:
                seq += 1
                digest = entry_hash(seq, at, kind, region, environment, cluster, application, actor, revision,
                                    data_json, prev)
                rows.append((seq, at, kind, region, environment, cluster, application, actor, revision, data_json,
                             prev, digest))
                prev = digest
            conn.executemany(f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             rows)
            conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
        return [AuditEntry(*row) for row in rows]

    def _head_for_append(self) -> tuple[int, str]:
        row = self._conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def audit_entries(self, query: AuditQuery = AuditQuery()) -> Iterator[AuditEntry]:
        clauses: list[str] = []
        params: list[object] = []
        if query.region:
            clauses.append("(region = ? OR (region = '' AND cluster != '' AND cluster IN (SELECT name FROM clusters "
                           "WHERE region = ? UNION SELECT cluster FROM audit_log WHERE region = ?)))")
            params += [query.region] * 3
        for column, value in (("cluster", query.cluster), ("application", query.application)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        for column, values in (("kind", query.kinds), ("revision", query.revisions)):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                params += list(values)
        for clause, value in (("at >= ?", query.since), ("at < ?", query.until), ("seq > ?", query.after_seq)):
            if value:
                clauses.append(clause)
                params.append(value)
        sql = f"SELECT {_AUDIT_COLUMNS} FROM audit_log"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY seq DESC" if query.newest_first else " ORDER BY seq"
        if query.limit:
            sql += f" LIMIT {int(query.limit)}"
        return self._stream(sql, params)

    def _stream(self, sql: str, params: Sequence[object]) -> Iterator[AuditEntry]:
        cursor = self._conn.execute(sql, params)
        try:
            while rows := cursor.fetchmany(1000):
                for row in rows:
                    yield AuditEntry(*row)
        finally:
            cursor.close()

    def audit_head(self) -> tuple[int, str] | None:
        if self.schema_version < 2:
            return None
        row = self._conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        return (int(row[0]), str(row[1])) if row else None
