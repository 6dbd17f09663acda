"""The records the store keeps, as dataclasses: clusters, credentials, approvals, rollouts, syncs, agent events,
and the audit log's drafts and entries. No I/O here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime


class StoreError(Exception):
    """The store cannot be used as asked; the message names the file or the field and the fix."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer Fleetline (its schema version is above the newest this code knows)."""


class AuditError(StoreError):
    """An audit entry that cannot be written (bad kind, data that is not JSON); nothing was written."""


@dataclass(frozen=True)
class ClusterRecord:
    """A spoke cluster as the hub registered it (labels free-form)."""

    name: str
    region: str = ""
    environment: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    updated_at: str = ""


@dataclass(frozen=True)
class CredentialRecord:
    """A cluster's credential by fingerprint only (a certificate's SHA-256, or a token's stored hash id); never
    the secret itself. `revoked_at` is "" while it is valid."""

    fingerprint: str
    cluster: str
    kind: str  # "certificate" or "token"
    issued_at: str = ""
    revoked_at: str = ""


@dataclass(frozen=True)
class ApprovalRecord:
    """One person's approval of one revision of one application in one environment; `region` when it was given
    for that region's clusters only ("" for the whole environment)."""

    environment: str
    application: str
    revision: str
    approver: str
    at: str = ""
    region: str = ""


@dataclass(frozen=True)
class RolloutRecord:
    """The rollout in progress (or last finished) of one application in one environment: `state` is the whole
    serialized RolloutState (its to_json()); the other fields repeat what people and queries look for in it
    (`done`: clusters Synced and Healthy at the revision; `failed`: cluster -> why). Times are store texts."""

    application: str
    revision: str
    state: dict
    updated_at: str = ""
    environment: str = ""
    previous_revision: str = ""
    phase: str = ""
    step: int = 0
    done: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    halted_reason: str = ""
    started_at: str = ""


@dataclass(frozen=True)
class SyncRecord:
    """One sync of one application on one cluster: its outcome and the agent's result (JSON)."""

    cluster: str
    application: str
    revision: str
    phase: str  # Succeeded, Failed, Error
    started_at: str = ""
    finished_at: str = ""
    message: str = ""
    result: dict = field(default_factory=dict)
    id: int = 0


@dataclass(frozen=True)
class EventRecord:
    """An agent's event as the hub keeps it: unique on (cluster, sequence); `details` is its details_json
    parsed (Secret values redacted)."""

    cluster: str
    sequence: int
    occurred_at: str
    type: str  # the wire's EventType name, e.g. DRIFT_DETECTED
    application: str = ""
    resource: str = ""
    message: str = ""
    generation: int = 0
    revision: str = ""
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AuditDraft:
    """An audit entry to append: the store gives it `seq`, `prev_hash`, `hash` (and `at` when None)."""

    kind: str
    region: str = ""
    environment: str = ""
    cluster: str = ""
    application: str = ""
    actor: str = ""
    revision: str = ""
    data: dict = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    """An entry of the hash-chained audit log as stored. `data_json` is the canonical JSON text of `data`, exactly
    the bytes that were hashed (see hub.store.chain)."""

    seq: int
    at: str
    kind: str
    region: str
    environment: str
    cluster: str
    application: str
    actor: str
    revision: str
    data_json: str
    prev_hash: str
    hash: str

    @property
    def data(self) -> dict:
        """`data_json` parsed ({} when it is not a JSON object: verify reports such an entry)."""
        try:
            value = json.loads(self.data_json)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def to_dict(self) -> dict:
        """The entry as JSON-ready fields (data parsed)."""
        return {"seq": self.seq, "at": self.at, "kind": self.kind, "region": self.region,
                "environment": self.environment, "cluster": self.cluster, "application": self.application,
                "actor": self.actor, "revision": self.revision, "data": self.data, "prev_hash": self.prev_hash,
                "hash": self.hash}


@dataclass(frozen=True)
class AuditQuery:
    """A filter over the audit log; empty fields match everything.

    region: entries of that region, and entries of no region that name one of its clusters (a cluster is the
        region's when the clusters table says so or an entry of that region names it);
    kinds, revisions: any of these; since: inclusive, until: exclusive (store time texts);
    after_seq: entries after it; newest_first and limit: the latest `limit` entries (0: all).
    """

    region: str = ""
    cluster: str = ""
    kinds: tuple[str, ...] = ()
    application: str = ""
    revisions: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    after_seq: int = 0
    newest_first: bool = False
    limit: int = 0
