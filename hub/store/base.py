"""The store's interface: what the hub keeps durably, whatever database keeps it.

`Store` is synchronous and single-threaded by contract (one connection, one caller at a time): SQLite implements
it (hub.store.sqlite), PostgreSQL can later, and `hub.store.runner.AsyncStore` puts any of them behind an asyncio
API with one writer thread and batched audit appends. Readers that must not wait behind writes (reports, verify)
open a second Store on the same database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager

from hub.store.records import (
    ApprovalRecord,
    AuditDraft,
    AuditEntry,
    AuditQuery,
    ClusterRecord,
    CredentialRecord,
    EventRecord,
    RolloutRecord,
    SyncRecord,
)


class Store(ABC):
    """Durable hub state; see the module docstring. Times are the store's RFC 3339 texts (hub.store.timefmt)."""

    where: str  # the database, as errors name it (a file path, a DSN without its password)
    schema_version: int

    # -- clusters and credentials ---------------------------------------------------------------------------
    @abstractmethod
    def upsert_cluster(self, cluster: ClusterRecord) -> None:
        """Create or replace a cluster's record."""

    @abstractmethod
    def clusters(self, region: str = "") -> list[ClusterRecord]:
        """Every cluster (of `region` when given), by name."""

    @abstractmethod
    def add_credential(self, credential: CredentialRecord) -> None:
        """Record a credential's fingerprint (replacing a record of the same fingerprint)."""

    @abstractmethod
    def revoke_credential(self, fingerprint: str, at: str) -> bool:
        """Mark a credential revoked; False when the fingerprint is unknown or already revoked."""

    @abstractmethod
    def credentials(self, cluster: str) -> list[CredentialRecord]:
        """A cluster's credentials, oldest first."""

    # -- approvals and rollouts -----------------------------------------------------------------------------
    @abstractmethod
    def add_approval(self, approval: ApprovalRecord) -> bool:
        """Record an approval; False when that person (compared without case) had already approved it (for the
        same environment, region, application and revision)."""

    @abstractmethod
    def approvals(self, environment: str = "", application: str = "", revision: str = "",
                  region: str | None = None) -> list[ApprovalRecord]:
        """The approvals matching the fields given ("" and None: any), in the order given."""

    @abstractmethod
    def remove_approvals(self, environment: str, application: str, revisions: Sequence[str],
                         region: str = "") -> int:
        """Forget the approvals of these revisions (superseded); how many approvals were removed."""

    @abstractmethod
    def save_rollout(self, rollout: RolloutRecord, previous: Mapping[str, bytes] | None = None) -> None:
        """Create or replace the rollout of (environment, application); with `previous` (cluster -> the bundle
        it would roll back to, opaque bytes), also replace the rollout's saved bundles."""

    @abstractmethod
    def rollouts(self, application: str = "") -> list[RolloutRecord]:
        """Rollouts (of `application` when given), most recently updated first."""

    @abstractmethod
    def rollout_bundles(self, environment: str, application: str) -> dict[str, bytes]:
        """The bundles saved with the rollout of (environment, application), by cluster."""

    @abstractmethod
    def delete_rollout(self, environment: str, application: str) -> bool:
        """Forget the rollout of (environment, application) and its bundles; False when there was none."""

    # -- sync history and agent events ----------------------------------------------------------------------
    @abstractmethod
    def record_sync(self, sync: SyncRecord) -> int:
        """Append a sync to the history; its id."""

    @abstractmethod
    def sync_history(self, cluster: str, application: str, limit: int = 50) -> list[SyncRecord]:
        """The latest syncs of one application on one cluster, newest first."""

    @abstractmethod
    def add_events(self, events: Sequence[EventRecord]) -> list[EventRecord]:
        """Keep the events not already held (unique on cluster and sequence); return those, in order."""

    @abstractmethod
    def events(self, cluster: str, after_sequence: int = 0, limit: int = 1000) -> list[EventRecord]:
        """A cluster's events after `after_sequence`, in sequence order."""

    @abstractmethod
    def last_event_sequence(self, cluster: str) -> int:
        """The highest event sequence held for `cluster` (0 for none)."""

    # -- the audit log --------------------------------------------------------------------------------------
    @abstractmethod
    def append_audit(self, drafts: Sequence[AuditDraft]) -> list[AuditEntry]:
        """Append entries to the chain in one transaction (all or none), in order; return them as stored."""

    @abstractmethod
    def audit_entries(self, query: AuditQuery = AuditQuery()) -> Iterator[AuditEntry]:
        """Entries matching `query` in seq order, streamed (the whole log does not fit in memory)."""

    @abstractmethod
    def audit_head(self) -> tuple[int, str] | None:
        """(seq, hash) recorded with the last append, kept apart from the log (None when not kept)."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """A context in which every read sees one consistent state of the database (re-entrant)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""
