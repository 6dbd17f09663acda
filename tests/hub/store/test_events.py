"""Agent events as the store keeps them: records, the audit entries they make, and sync history rows."""

from __future__ import annotations

import json

from fleetline.wire import fleet_pb2
from hub.store.events import audit_draft, event_record, sync_record
from hub.store.redact import REDACTED

T0 = 1772355600000  # 2026-03-01T09:00:00Z in unix ms


def wire(type_: int, sequence: int, details: dict | str, **fields: object) -> fleet_pb2.Event:
    text = details if isinstance(details, str) else json.dumps(details)
    return fleet_pb2.Event(type=type_, sequence=sequence, occurred_at_ms=T0, application="inference",
                           revision="4f2a9c1", generation=7, details_json=text, **fields)


def test_a_sync_result_becomes_a_sync_result_entry_and_a_history_row() -> None:
    details = {"trigger": "request", "approved_by": "alice", "request_id": "q1", "result": {
        "phase": "Failed", "message": "one resource failed", "duration_ms": 1500, "warnings": ["slow"],
        "resources": [{"kind": "ConfigMap", "name": "a", "status": "Synced"},
                      {"kind": "Deployment", "namespace": "ml", "name": "web", "status": "SyncFailed",
                       "message": "invalid image"}]}}
    record = event_record("eu-1", wire(fleet_pb2.SYNC_FAILED, 9, details, message="sync failed"))
    assert (record.cluster, record.sequence, record.type, record.occurred_at) == \
        ("eu-1", 9, "SYNC_FAILED", "2026-03-01T09:00:00.000000Z")
    draft = audit_draft(record, "eu", "prod")
    assert draft is not None and draft.kind == "sync_result"
    assert (draft.region, draft.environment, draft.cluster, draft.application, draft.actor, draft.revision) == \
        ("eu", "prod", "eu-1", "inference", "alice", "4f2a9c1")
    assert draft.data["phase"] == "Failed" and draft.data["resources"] == 2
    assert draft.data["started_at"] == "2026-03-01T08:59:58.500000Z"
    assert draft.data["failed_resources"] == [{"kind": "Deployment", "namespace": "ml", "name": "web",
                                               "status": "SyncFailed", "message": "invalid image"}]
    sync = sync_record(record)
    assert sync is not None and (sync.phase, sync.finished_at, sync.message) == \
        ("Failed", "2026-03-01T09:00:00.000000Z", "one resource failed")


def test_a_refused_sync_request_is_a_failed_sync_result() -> None:
    record = event_record("eu-1", wire(fleet_pb2.SYNC_FAILED, 3, {"request_id": "q2"},
                                       message="unknown application"))
    draft = audit_draft(record)
    assert draft is not None and draft.data["phase"] == "Failed" and draft.data["message"] == "unknown application"


def test_drift_entries_name_who_caused_and_who_healed() -> None:
    detected = event_record("eu-1", wire(fleet_pb2.DRIFT_DETECTED, 4, {
        "object": "Secret ml/db", "managers": ["kubectl-edit"], "self_heal": True,
        "fields": [{"path": "/data/password", "desired": "aGk=", "live": "c2VjcmV0", "manager": "kubectl-edit"}]},
        resource="inference:/Secret:ml/db"))
    draft = audit_draft(detected, "eu")
    assert draft is not None and draft.kind == "drift_detected" and draft.actor == "kubectl-edit"
    assert draft.data["resource"] == "inference:/Secret:ml/db" and draft.data["event_sequence"] == 4
    healed = audit_draft(event_record("eu-1", wire(fleet_pb2.DRIFT_HEALED, 5, {
        "object": "Secret ml/db", "healed_after_ms": 120, "self_heal": True})))
    assert healed is not None and healed.kind == "drift_healed" and healed.actor == "fleetline"


def test_drift_of_a_secret_is_redacted_when_stored(store) -> None:
    record = event_record("eu-1", wire(fleet_pb2.DRIFT_DETECTED, 4, {
        "object": "Secret ml/db", "fields": [{"path": "/data/password", "desired": "aGk=", "live": "c2VjcmV0"}]}))
    store.add_events([record])
    entry = store.append_audit([audit_draft(record, "eu")])[0]
    assert store.events("eu-1")[0].details["fields"][0]["live"] == REDACTED
    assert entry.data["fields"][0] == {"path": "/data/password", "desired": REDACTED, "live": REDACTED}


def test_events_the_audit_log_does_not_keep_and_bad_details() -> None:
    for type_ in (fleet_pb2.SYNC_STARTED, fleet_pb2.HOOK_RESULT, fleet_pb2.HEALTH_CHANGED):
        record = event_record("eu-1", wire(type_, 1, {}))
        assert audit_draft(record) is None and sync_record(record) is None
    gap = audit_draft(event_record("eu-1", wire(fleet_pb2.OUTBOX_GAP, 2, {"dropped": 12}, message="dropped 12")))
    assert gap is not None and gap.kind == "outbox_gap" and gap.data["dropped"] == 12
    broken = event_record("eu-1", wire(fleet_pb2.DRIFT_DETECTED, 3, "{not json password=hunter2"))
    assert "hunter2" not in json.dumps(broken.details) and "not a JSON object" in broken.details["details_error"]
