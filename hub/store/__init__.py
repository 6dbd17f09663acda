"""The hub's durable state: SQLite (one WAL file, `<data_dir>/fleetline.db`) behind the `Store` interface, and the
hash-chained, append-only audit log with its verification, compliance reports and `fleetline audit` commands.

Modules: `base` (the Store interface), `sqlite` (SqliteStore), `schema` (versioned migrations), `runner`
(AsyncStore: one writer thread, batched audit appends, reader threads), `records` (dataclasses and errors),
`drafts` (a draft's canonical, redacted texts), `redact` (no Secret value is stored), `chain` (hashing, verify),
`kinds` (the entry kinds and their data), `events` (agent events to records and entries), `report`,
`report_csv`, `report_html`, `timefmt`, `cli`. The package never touches Git, the wire or the clusters: the
hub's other parts call it.
"""

from __future__ import annotations

from hub.store.base import Store
from hub.store.chain import GENESIS, VerifyResult, verify
from hub.store.records import (
    ApprovalRecord,
    AuditDraft,
    AuditEntry,
    AuditError,
    AuditQuery,
    ClusterRecord,
    CredentialRecord,
    EventRecord,
    RolloutRecord,
    SchemaTooNewError,
    StoreError,
    SyncRecord,
)
from hub.store.runner import AsyncStore
from hub.store.sqlite import SqliteStore, database_path

__all__ = [
    "GENESIS", "ApprovalRecord", "AsyncStore", "AuditDraft", "AuditEntry", "AuditError", "AuditQuery",
    "ClusterRecord", "CredentialRecord", "EventRecord", "RolloutRecord", "SchemaTooNewError", "SqliteStore", "Store",
    "StoreError", "SyncRecord", "VerifyResult", "database_path", "verify",
]
