"""The store's other tables: clusters, credentials, approvals, rollouts, sync history, and events de-duplicated
on (cluster, sequence); and a restart keeps all of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.store.records import (
    ApprovalRecord,
    AuditDraft,
    ClusterRecord,
    CredentialRecord,
    EventRecord,
    RolloutRecord,
    StoreError,
    SyncRecord,
)
from hub.store.sqlite import SqliteStore

from .conftest import Clock


def event(cluster: str, sequence: int, type_: str = "DRIFT_DETECTED") -> EventRecord:
    return EventRecord(cluster, sequence, f"2026-03-01T09:00:{sequence:02d}.000000Z", type_, application="web",
                       details={"n": sequence})


def test_events_are_de_duplicated_on_cluster_and_sequence(store: SqliteStore) -> None:
    added = store.add_events([event("eu-1", 1), event("eu-1", 2), event("eu-2", 1)])
    assert [(e.cluster, e.sequence) for e in added] == [("eu-1", 1), ("eu-1", 2), ("eu-2", 1)]
    again = store.add_events([event("eu-1", 2), event("eu-1", 3), event("eu-1", 3), event("eu-2", 1)])
    assert [(e.cluster, e.sequence) for e in again] == [("eu-1", 3)]
    assert [e.sequence for e in store.events("eu-1")] == [1, 2, 3]
    assert store.events("eu-1", after_sequence=1, limit=1)[0].details == {"n": 2}
    assert store.last_event_sequence("eu-1") == 3 and store.last_event_sequence("nowhere") == 0


def test_clusters_credentials_approvals_rollouts_and_syncs(store: SqliteStore, clock: Clock) -> None:
    store.upsert_cluster(ClusterRecord("eu-1", "eu", "prod", {"gpu": "a100"}))
    store.upsert_cluster(ClusterRecord("use-1", "us-east", "prod"))
    assert store.clusters("eu")[0].labels == {"gpu": "a100"}
    store.upsert_cluster(ClusterRecord("eu-1", "eu", "staging"))  # replaces the record
    assert [(c.name, c.environment) for c in store.clusters()] == [("eu-1", "staging"), ("use-1", "prod")]
    assert [c.name for c in store.clusters("eu")] == ["eu-1"]

    store.add_credential(CredentialRecord("sha256:aa", "eu-1", "certificate"))
    assert store.revoke_credential("sha256:aa", "2026-03-02T00:00:00.000000Z")
    assert not store.revoke_credential("sha256:aa", "2026-03-03T00:00:00.000000Z")
    assert not store.revoke_credential("sha256:unknown", "")
    assert store.credentials("eu-1")[0].revoked_at == "2026-03-02T00:00:00.000000Z"

    assert store.add_approval(ApprovalRecord("prod", "web", "r1", "Alice"))
    clock.advance(5)
    assert not store.add_approval(ApprovalRecord("prod", "web", "r1", "alice"))  # the same person
    assert store.add_approval(ApprovalRecord("prod", "web", "r1", "bob"))
    assert store.add_approval(ApprovalRecord("prod", "web", "r1", "alice", region="eu"))  # another region's book
    assert [a.approver for a in store.approvals("prod", "web", "r1", region="")] == ["Alice", "bob"]
    assert [(a.approver, a.region) for a in store.approvals("prod", "web", "r1")] == [
        ("Alice", ""), ("bob", ""), ("alice", "eu")]
    assert store.approvals("prod", "web", "r2") == []
    assert store.remove_approvals("prod", "web", ["r1", "r2"], region="eu") == 1
    assert len(store.approvals()) == 2

    # one rollout per (environment, application): a newer revision's replaces the older one's
    store.save_rollout(RolloutRecord("web", "r1", {"step": 0}, environment="prod"), previous={"eu-1": b"\x00v0"})
    clock.advance(5)
    store.save_rollout(RolloutRecord("web", "r1", {"step": 1}, environment="staging"))
    store.save_rollout(RolloutRecord("web", "r2", {"step": 2}, environment="prod", previous_revision="r1",
                                     phase="Halted", step=1, done=("eu-2", "eu-1"), failed={"eu-3": "Degraded"},
                                     halted_reason="too many failures", started_at="2026-01-01T00:00:00.000000Z"))
    prod, staging = store.rollouts("web")  # most recently updated first
    assert (staging.environment, staging.revision, staging.state) == ("staging", "r1", {"step": 1})
    assert prod == RolloutRecord("web", "r2", {"step": 2}, prod.updated_at, "prod", "r1", "Halted", 1,
                                 ("eu-1", "eu-2"), {"eu-3": "Degraded"}, "too many failures",
                                 "2026-01-01T00:00:00.000000Z")
    assert store.rollout_bundles("prod", "web") == {"eu-1": b"\x00v0"}, "kept until a save gives new ones"
    store.save_rollout(RolloutRecord("web", "r3", {}, environment="prod"), previous={"eu-2": b"v2"})
    assert store.rollout_bundles("prod", "web") == {"eu-2": b"v2"}
    assert store.delete_rollout("prod", "web") and not store.delete_rollout("prod", "web")
    assert store.rollout_bundles("prod", "web") == {} and [r.environment for r in store.rollouts()] == ["staging"]

    first = store.record_sync(SyncRecord("eu-1", "web", "r1", "Failed", message="boom"))
    second = store.record_sync(SyncRecord("eu-1", "web", "r2", "Succeeded", result={"resources": 3}))
    history = store.sync_history("eu-1", "web")
    assert [h.id for h in history] == [second, first] and history[0].result == {"resources": 3}
    assert store.sync_history("eu-1", "web", limit=1)[0].revision == "r2"


def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    store.upsert_cluster(ClusterRecord("eu-1", "eu", "prod"))
    store.add_events([event("eu-1", 1)])
    assert store.append_audit([]) == []
    written = store.append_audit([AuditDraft("agent_connected", region="eu", cluster="eu-1")])
    store.close()
    reopened = SqliteStore.open(tmp_path)
    assert [c.name for c in reopened.clusters()] == ["eu-1"]
    assert reopened.add_events([event("eu-1", 1)]) == []
    assert list(reopened.audit_entries()) == written
    reopened.close()


def test_a_read_only_store_refuses_writes(store: SqliteStore, tmp_path: Path) -> None:
    reader = SqliteStore.open(tmp_path, readonly=True)
    with pytest.raises(StoreError, match="read-only"):
        reader.upsert_cluster(ClusterRecord("eu-1"))
    reader.close()
