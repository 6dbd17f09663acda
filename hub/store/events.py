"""From the wire to the store: an agent's Event as an EventRecord, the audit entry it makes, and its sync record.

The hub's event consumer (which sees each event exactly once) calls, per cluster:

    added = await store.add_events([event_record(cluster, e) for e in events])   # de-duplicated
    for record in added:
        draft = audit_draft(record, region, environment)    # None for events the audit log does not keep
        sync = sync_record(record)                          # None unless the event ends a sync

Kept in the audit log: SYNC_SUCCEEDED and SYNC_FAILED (as sync_result), DRIFT_DETECTED, DRIFT_HEALED, SYNC_LOOP,
OUTBOX_GAP (events were lost: the record says how many) and DESIRED_STATE_APPLIED. Not kept: SYNC_STARTED (the
result says when it started), HOOK_RESULT (in the result's resources), HEALTH_CHANGED (status, not a change).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fleetline.wire import fleet_pb2
from hub.store import kinds
from hub.store.records import AuditDraft, EventRecord, SyncRecord
from hub.store.timefmt import from_ms, parse_time, rfc3339

MAX_FAILED_RESOURCES = 20
_AUDITED = {"SYNC_SUCCEEDED": kinds.SYNC_RESULT, "SYNC_FAILED": kinds.SYNC_RESULT,
            "DRIFT_DETECTED": kinds.DRIFT_DETECTED, "DRIFT_HEALED": kinds.DRIFT_HEALED, "SYNC_LOOP": kinds.SYNC_LOOP,
            "OUTBOX_GAP": kinds.OUTBOX_GAP, "DESIRED_STATE_APPLIED": kinds.DESIRED_STATE_APPLIED}


def event_record(cluster: str, event: fleet_pb2.Event) -> EventRecord:
    """The record of one wire event of `cluster` (details_json parsed; not a JSON object: replaced by a note)."""
    try:
        details = json.loads(event.details_json) if event.details_json else {}
    except ValueError:
        details = None
    if not isinstance(details, dict):
        details = {"details_error": "details_json was not a JSON object; dropped (it may hold Secret values)"}
    type_name = fleet_pb2.EventType.Name(event.type) if event.type in fleet_pb2.EventType.values() else \
        f"EVENT_TYPE_{event.type}"
    occurred = from_ms(event.occurred_at_ms) if event.occurred_at_ms > 0 else rfc3339(datetime.now(UTC))
    return EventRecord(cluster=cluster, sequence=event.sequence, occurred_at=occurred, type=type_name,
                       application=event.application, resource=event.resource, message=event.message,
                       generation=event.generation, revision=event.revision, details=details)


def audit_draft(record: EventRecord, region: str = "", environment: str = "") -> AuditDraft | None:
    """The audit entry an event makes (None for kinds the log does not keep), at the time it occurred."""
    kind = _AUDITED.get(record.type)
    if kind is None:
        return None
    details = record.details
    actor = ""
    if kind == kinds.SYNC_RESULT:
        data = _sync_data(record)
        actor = str(details.get("approved_by") or "")
    elif kind in (kinds.DRIFT_DETECTED, kinds.DRIFT_HEALED):
        data = {**details, "resource": record.resource}
        if kind == kinds.DRIFT_DETECTED:
            actor = ", ".join(str(m) for m in details.get("managers") or [])
        elif details.get("self_heal"):
            actor = "fleetline"
    else:
        data = {**details, "message": record.message}
    data["event_sequence"] = record.sequence
    return AuditDraft(kind, region=region, environment=environment, cluster=record.cluster,
                      application=record.application, actor=actor, revision=record.revision, data=data,
                      at=parse_time(record.occurred_at))


def sync_record(record: EventRecord) -> SyncRecord | None:
    """The sync history row of a SYNC_SUCCEEDED or SYNC_FAILED event (None for any other)."""
    if record.type not in ("SYNC_SUCCEEDED", "SYNC_FAILED"):
        return None
    data = _sync_data(record)
    return SyncRecord(cluster=record.cluster, application=record.application, revision=record.revision,
                      phase=data["phase"], started_at=data["started_at"], finished_at=data["finished_at"],
                      message=data["message"], result=record.details.get("result") or {})


def _sync_data(record: EventRecord) -> dict:
    details = record.details
    result = details.get("result") if isinstance(details.get("result"), dict) else {}
    phase = str(result.get("phase") or ("Succeeded" if record.type == "SYNC_SUCCEEDED" else "Failed"))
    duration = result.get("duration_ms")
    finished = record.occurred_at
    started = ""
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        started = rfc3339(parse_time(finished) - timedelta(milliseconds=duration))
    resources = [r for r in result.get("resources") or [] if isinstance(r, dict)]
    failed = [{key: r.get(key, "") for key in ("kind", "namespace", "name", "status", "message")}
              for r in resources if r.get("status") not in (None, "Synced") or r.get("hook_phase") == "Failed"]
    return {"phase": phase, "message": str(result.get("message") or record.message), "trigger":
            str(details.get("trigger") or ""), "request_id": str(details.get("request_id") or ""),
            "generation": record.generation, "started_at": started, "finished_at": finished,
            "duration_ms": duration, "warnings": list(result.get("warnings") or []), "resources": len(resources),
            "failed_resources": failed[:MAX_FAILED_RESOURCES]}
