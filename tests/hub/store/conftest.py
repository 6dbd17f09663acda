"""Fixtures of the store's tests: a fresh SQLite store in a temporary data directory, and a scripted two-region
history (eu and us-east) written through the public API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.store import kinds
from hub.store.records import AuditDraft, ClusterRecord
from hub.store.sqlite import SqliteStore

MARCH = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
COMMIT_EU = "a" * 40
COMMIT_US = "b" * 40
COMMIT_SHARED = "c" * 40


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, start: datetime = MARCH) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[SqliteStore]:
    opened = SqliteStore.open(tmp_path, clock=clock)
    yield opened
    opened.close()


def at(day: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def drafts(count: int, region: str = "eu", cluster: str = "eu-1") -> list[AuditDraft]:
    return [AuditDraft(kinds.SYNC_RESULT, region=region, cluster=cluster, application="web", revision=f"r{i}",
                       data={"phase": "Succeeded", "n": i}) for i in range(count)]


def two_regions(store: SqliteStore) -> None:
    """eu: eu-1 (prod) and eu-2 (staging); us-east: use-1 (prod). In eu, COMMIT_EU ran on both clusters and was
    approved by alice for prod; a drift on eu-1 by kubectl-edit was healed after 4 s; a sync failed on eu-2. In
    us-east, COMMIT_US ran on use-1 without approval; a drift there is still open. COMMIT_SHARED was seen but
    never ran. An API refusal names eu-1 (no region); another names nothing."""
    for name, region, env in (("eu-1", "eu", "prod"), ("eu-2", "eu", "staging"), ("use-1", "us-east", "prod")):
        store.upsert_cluster(ClusterRecord(name, region, env))
    entries = [
        kinds.revision_seen("prod", COMMIT_EU, author="Ann Author <ann@example.com>", committer="Cy <cy@example.com>",
                            signature_state="trusted", signer="Ann", subject="inference: bump image", at=at(1)),
        kinds.revision_seen("prod", COMMIT_US, author="Bob <bob@example.com>", committer="Bob <bob@example.com>",
                            signature_state="unsigned", subject="us: scale up", at=at(1, 10)),
        kinds.revision_seen("prod", COMMIT_SHARED, author="Zed <z@example.com>", committer="Zed <z@example.com>",
                            signature_state="trusted", subject="never deployed", at=at(1, 11)),
        kinds.approval("prod", "inference", COMMIT_EU, "alice", required=1, approvals=1, at=at(2)),
        kinds.approval_refused("prod", "inference", COMMIT_EU, "mallory", "not an approver of prod", at=at(2, 9, 5)),
        kinds.desired_state_pushed("eu-1", region="eu", environment="prod", revision=COMMIT_EU, generation=7,
                                   content_hash="sha256:11", applications=[
                                       {"name": "inference", "revision": COMMIT_EU, "content_hash": "sha256:12"}],
                                   at=at(3)),
        AuditDraft(kinds.SYNC_RESULT, region="eu", environment="prod", cluster="eu-1", application="inference",
                   revision=COMMIT_EU, actor="alice", at=at(3, 9, 1),
                   data={"phase": "Succeeded", "message": "successfully synced 6 resources", "generation": 7}),
        kinds.desired_state_pushed("eu-2", region="eu", environment="staging", revision=COMMIT_EU, generation=3,
                                   content_hash="sha256:21", applications=[
                                       {"name": "inference", "revision": COMMIT_EU, "content_hash": "sha256:22"}],
                                   at=at(3, 10)),
        AuditDraft(kinds.SYNC_RESULT, region="eu", environment="staging", cluster="eu-2", application="inference",
                   revision=COMMIT_EU, at=at(3, 10, 1),
                   data={"phase": "Failed", "message": "Deployment/inference: image pull failed", "generation": 3}),
        AuditDraft(kinds.DRIFT_DETECTED, region="eu", environment="prod", cluster="eu-1", application="inference",
                   actor="kubectl-edit", at=at(4), data={
                       "object": "Deployment ml/inference", "missing": False, "managers": ["kubectl-edit"],
                       "fields": [{"path": "/spec/replicas", "desired": 2, "live": 5, "manager": "kubectl-edit"}]}),
        AuditDraft(kinds.DRIFT_HEALED, region="eu", environment="prod", cluster="eu-1", application="inference",
                   actor="fleetline", at=at(4, 9, 0, 4), data={"object": "Deployment ml/inference",
                                                              "healed_after_ms": 4000, "self_heal": True}),
        kinds.desired_state_pushed("use-1", region="us-east", environment="prod", revision=COMMIT_US, generation=2,
                                   content_hash="sha256:31", applications=[
                                       {"name": "inference", "revision": COMMIT_US, "content_hash": "sha256:32"}],
                                   at=at(5)),
        AuditDraft(kinds.SYNC_RESULT, region="us-east", environment="prod", cluster="use-1", application="inference",
                   revision=COMMIT_US, at=at(5, 9, 1), data={"phase": "Succeeded", "message": "ok"}),
        AuditDraft(kinds.DRIFT_DETECTED, region="us-east", environment="prod", cluster="use-1",
                   application="inference", at=at(6), data={"object": "ConfigMap ml/settings", "managers": ["helm"],
                                                            "fields": [{"path": "/data/mode", "manager": "helm"}]}),
        AuditDraft(kinds.API_REFUSED, cluster="eu-1", actor="token:ci", at=at(7),
                   data={"method": "POST", "path": "/api/v1/clusters/eu-1/sync", "status": 403,
                         "reason": "role viewer cannot sync"}),
        AuditDraft(kinds.API_REFUSED, actor="anonymous", at=at(7, 10),
                   data={"method": "GET", "path": "/api/v1/fleet", "status": 401, "reason": "no token"}),
        AuditDraft(kinds.ROLLBACK, region="us-east", environment="prod", cluster="use-1", application="inference",
                   actor="bob", revision=COMMIT_US, at=at(8), data={"message": "rollback to previous"}),
    ]
    store.append_audit(entries)
