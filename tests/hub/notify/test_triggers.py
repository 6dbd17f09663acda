"""The pure trigger functions: which events notify, with what key, message and details."""

from __future__ import annotations

import json

from fleetline.wire import fleet_pb2
from hub.notify import triggers
from hub.notify.triggers import DisconnectTracker, from_event

REV = "4f2a9c1e0b7d4c3a2f1e0d9c8b7a6f5e4d3c2b1a"


def event(kind: int, details: dict | None = None, message: str = "", app: str = "inference",
          revision: str = REV) -> fleet_pb2.Event:
    return fleet_pb2.Event(sequence=1, occurred_at_ms=1_700_000_000_000, type=kind, application=app,
                           message=message, generation=7, revision=revision,
                           details_json=json.dumps(details or {}))


def test_event_types_map_to_triggers() -> None:
    cases = {fleet_pb2.SYNC_SUCCEEDED: "on-deployed", fleet_pb2.SYNC_FAILED: "on-sync-failed",
             fleet_pb2.DRIFT_DETECTED: "on-drift-detected", fleet_pb2.SYNC_LOOP: "on-sync-loop"}
    for kind, trigger in cases.items():
        note = from_event("eu-1", "eu", "prod", event(kind, message="m"))
        assert note is not None and note.trigger == trigger
        assert (note.cluster, note.region, note.environment, note.application, note.revision) == (
            "eu-1", "eu", "prod", "inference", REV)
        assert note.key == (trigger, "inference", "eu-1", "prod", REV)
        assert note.occurred_at == 1_700_000_000.0
    for kind in (fleet_pb2.SYNC_STARTED, fleet_pb2.DRIFT_HEALED, fleet_pb2.HOOK_RESULT, fleet_pb2.OUTBOX_GAP,
                 fleet_pb2.DESIRED_STATE_APPLIED):
        assert from_event("eu-1", "eu", "prod", event(kind)) is None


def test_health_degraded_only_on_the_change_to_degraded() -> None:
    degraded = from_event("eu-1", "eu", "prod", event(fleet_pb2.HEALTH_CHANGED, {
        "health": "Degraded", "previous": "Healthy", "message": "pods crash"}, message="inference is Degraded"))
    assert degraded is not None and degraded.trigger == "on-health-degraded"
    assert degraded.details["previous"] == "Healthy"
    for details in ({"health": "Progressing", "previous": "Healthy"}, {"health": "Healthy", "previous": "Degraded"},
                    {"health": "Degraded", "previous": "Degraded"}):
        assert from_event("eu-1", "eu", "prod", event(fleet_pb2.HEALTH_CHANGED, details)) is None


def test_sync_failed_keeps_the_result_and_the_failed_resources() -> None:
    details = {"trigger": "automated", "revision": REV, "result": {
        "phase": "Failed", "message": "one or more objects failed to apply", "duration_ms": 12, "resources": [
            {"kind": "ConfigMap", "name": "ok", "status": "Synced"},
            {"kind": "Deployment", "name": "inference", "status": "SyncFailed", "message": "invalid"}]}}
    note = from_event("eu-1", "eu", "prod", event(fleet_pb2.SYNC_FAILED, details, revision=""))
    assert note is not None
    assert note.revision == REV  # from the details when the event has none
    assert note.message == "one or more objects failed to apply"  # from the result when the event has none
    assert note.details["result"]["failed_resources"] == [details["result"]["resources"][1]]


def test_a_refused_sync_request_is_its_own_incident() -> None:
    refused = [from_event("eu-1", "eu", "prod", event(fleet_pb2.SYNC_FAILED, {"request_id": rid},
                                                      message="refused")) for rid in ("r1", "r2")]
    failed = from_event("eu-1", "eu", "prod", event(fleet_pb2.SYNC_FAILED, {"result": {"phase": "Failed"}}))
    assert refused[0] is not None and refused[1] is not None and failed is not None
    assert len({refused[0].key, refused[1].key, failed.key}) == 3


def test_drift_details_carry_paths_and_managers_never_values() -> None:
    details = {"object": "Secret/ml/token", "missing": False, "managers": ["kubectl"], "self_heal": True,
               "fields": [{"path": "/data/token", "desired": "c2VjcmV0", "live": "b3RoZXI=", "manager": "kubectl"}]}
    note = from_event("eu-1", "eu", "prod", event(fleet_pb2.DRIFT_DETECTED, details, message="drifted"))
    assert note is not None
    assert note.details["fields"] == [{"path": "/data/token", "manager": "kubectl"}]
    assert "c2VjcmV0" not in json.dumps(note.details) and "b3RoZXI=" not in json.dumps(note.details)


def test_unreadable_details_do_not_fail() -> None:
    broken = fleet_pb2.Event(type=fleet_pb2.SYNC_FAILED, application="a", revision="r", details_json="{not json")
    note = from_event("c", "eu", "prod", broken)
    assert note is not None and note.trigger == "on-sync-failed"


def test_rollout_halted_and_approval_required_concern_an_environment() -> None:
    halted = triggers.rollout_halted("prod", "inference", REV, "2 clusters failed in step canary", at=5.0,
                                     regions=("eu", "us-east"), failed={"eu-1": "Degraded"})
    assert halted.key == ("on-rollout-halted", "inference", "", "prod", REV)
    assert halted.all_regions() == ("eu", "us-east") and halted.region == "eu, us-east"
    approval = triggers.approval_required("prod", "inference", REV, at=5.0, required=2, approvers=("ana",),
                                          clusters=("eu-1",), regions=("eu",))
    assert approval.key == ("on-approval-required", "inference", "", "prod", REV)
    assert approval.message == "1 more approval needed (approved by ana) to sync eu-1"


def test_disconnection_fires_once_after_the_grace_and_not_when_back_in_time() -> None:
    tracker = DisconnectTracker(grace=60)
    tracker.disconnected("eu-1", at=100.0, region="eu", environment="prod")
    assert tracker.due(159.0) == []
    tracker.connected("eu-1")  # back within the grace: nothing
    assert tracker.due(1000.0) == []
    tracker.disconnected("eu-1", at=2000.0, region="eu", environment="prod")
    tracker.disconnected("eu-1", at=2030.0)  # a second report keeps the first time
    [first] = tracker.due(2060.0)
    assert first.trigger == "on-agent-disconnected" and first.cluster == "eu-1" and first.region == "eu"
    assert tracker.due(3000.0) == []  # once per disconnection
    tracker.connected("eu-1")
    tracker.disconnected("eu-1", at=4000.0)
    [second] = tracker.due(4100.0)
    assert second.key != first.key  # a new disconnection is a new incident
