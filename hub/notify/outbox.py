"""The notifier's durable record: one SQLite file, `<data_dir>/notify/deliveries.sqlite`, of its own (not the hub's
main store).

One row per (once-per key, sink): its delivery id, the body to send, and its state: `pending` until it is sent,
then `sent`, `rejected` (the sink refused it), `expired` (retried until its maximum age) or `dropped` (the
queue overflowed). The row's uniqueness is the de-duplication: a notification whose key already has a row for
that sink is not sent again, across restarts. Pending rows are sent again after a restart (at least once).
Finished rows keep their key but lose their body, and are deleted after the retention period.

Synchronous, for one thread: the `Notifier` runs every call on its own single-thread executor. A file that is
not a readable database is moved aside (`.corrupt-<time>`) with an error in the log, and a new one started:
notifications may then be sent a second time, never lost silently.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PENDING, SENT, REJECTED, EXPIRED, DROPPED = "pending", "sent", "rejected", "expired", "dropped"
FILE = Path("notify") / "deliveries.sqlite"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL,
    sink TEXT NOT NULL,
    trigger TEXT NOT NULL,
    created_at REAL NOT NULL,
    state TEXT NOT NULL,
    finished_at REAL,
    body BLOB,
    UNIQUE (dedup_key, sink)
);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state, created_at);
"""


@dataclass
class Delivery:
    """One notification for one sink: `body` is what is POSTed, `key` the once-per key (JSON text),
    `created_at` unix seconds (its age counts from there), `attempts` made since this process loaded it."""

    id: str
    sink: str
    trigger: str
    key: str
    created_at: float
    body: bytes
    attempts: int = 0


class DeliveryStore:
    """See the module docstring."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            log.error("event=notify_store_unreadable file=%s error=%r action=moved_aside to=%s", self.path, str(exc),
                      aside)
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema version {version} is newer than this hub's {SCHEMA_VERSION}")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def add(self, deliveries: list[Delivery]) -> list[Delivery]:
        """Record new pending deliveries; returns those that were new (the others' key was already recorded for
        their sink: duplicates, not to be sent)."""
        added = []
        with self._db:
            self._db.execute("BEGIN")
            for delivery in deliveries:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO deliveries (id, dedup_key, sink, trigger, created_at, state, body) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (delivery.id, delivery.key, delivery.sink, delivery.trigger, delivery.created_at, PENDING,
                     delivery.body))
                if cursor.rowcount == 1:
                    added.append(delivery)
        return added

    def finish(self, delivery_id: str, state: str, at: float) -> None:
        """A delivery reached its final `state` (sent, rejected, expired or dropped)."""
        self._db.execute("UPDATE deliveries SET state = ?, finished_at = ?, body = NULL WHERE id = ?",
                         (state, at, delivery_id))

    def pending(self) -> list[Delivery]:
        """Every delivery not finished, oldest first."""
        rows = self._db.execute("SELECT id, sink, trigger, dedup_key, created_at, body FROM deliveries "
                                "WHERE state = ? ORDER BY created_at, rowid", (PENDING,)).fetchall()
        return [Delivery(id=r[0], sink=r[1], trigger=r[2], key=r[3], created_at=r[4], body=bytes(r[5] or b""))
                for r in rows]

    def states(self) -> dict[str, int]:
        """How many deliveries are in each state."""
        return dict(self._db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())

    def prune(self, before: float) -> int:
        """Delete finished rows finished before `before`; returns how many."""
        cursor = self._db.execute("DELETE FROM deliveries WHERE state != ? AND finished_at < ?", (PENDING, before))
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()
