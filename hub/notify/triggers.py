"""The triggers: pure functions turning what the hub sees into `Notification` records.

Inputs are agent events (`fleet_pb2.Event`, as `SessionHub.subscribe_events` delivers them), the pipeline's
rollout halts and pending approvals, and the session registry's disconnections (`DisconnectTracker`, which
fires only when an agent stays away longer than a grace period). Nothing here sends, stores or reads a clock:
the caller passes every time. Each notification carries its once-per key (`Notification.key`): the trigger, the
application, the cluster, the environment and `once_per`, which is the revision for everything but a
disconnection (the time the agent went away) and a refused sync request (its request id as well).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from fleetline.wire import fleet_pb2

ON_DEPLOYED = "on-deployed"
ON_SYNC_FAILED = "on-sync-failed"
ON_HEALTH_DEGRADED = "on-health-degraded"
ON_DRIFT_DETECTED = "on-drift-detected"
ON_SYNC_LOOP = "on-sync-loop"
ON_ROLLOUT_HALTED = "on-rollout-halted"
ON_AGENT_DISCONNECTED = "on-agent-disconnected"
ON_APPROVAL_REQUIRED = "on-approval-required"
TRIGGERS = (ON_DEPLOYED, ON_SYNC_FAILED, ON_HEALTH_DEGRADED, ON_DRIFT_DETECTED, ON_SYNC_LOOP, ON_ROLLOUT_HALTED,
            ON_AGENT_DISCONNECTED, ON_APPROVAL_REQUIRED)

DEGRADED = "Degraded"


@dataclass(frozen=True)
class Notification:
    """Something worth telling people about. `cluster` is "" for what concerns an environment (a rollout, an
    approval); `regions` then lists the regions involved (subscriptions filter on them), and `region` shows them.
    `details` is a JSON-ready dict sent as is by the webhook sink (never secret values: drift details carry
    field paths and managers, not the values). `occurred_at` is unix seconds."""

    trigger: str
    cluster: str
    region: str
    environment: str
    application: str
    revision: str
    message: str
    details: dict = field(default_factory=dict, hash=False, compare=False)
    occurred_at: float = 0.0
    once_per: str = ""  # "" means the revision
    regions: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """The once-per key: (trigger, application, cluster, environment, revision or episode)."""
        return (self.trigger, self.application, self.cluster, self.environment, self.once_per or self.revision)

    def all_regions(self) -> tuple[str, ...]:
        """The regions subscriptions filter on."""
        return self.regions or ((self.region,) if self.region else ())


EVENT_TRIGGERS = {fleet_pb2.SYNC_SUCCEEDED: ON_DEPLOYED, fleet_pb2.SYNC_FAILED: ON_SYNC_FAILED,
                  fleet_pb2.DRIFT_DETECTED: ON_DRIFT_DETECTED, fleet_pb2.SYNC_LOOP: ON_SYNC_LOOP,
                  fleet_pb2.HEALTH_CHANGED: ON_HEALTH_DEGRADED}
"""The trigger each event type may fire (HEALTH_CHANGED only when the new health is Degraded)."""


def _details(event: fleet_pb2.Event) -> dict:
    try:
        details = json.loads(event.details_json) if event.details_json else {}
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}


def from_event(cluster: str, region: str, environment: str, event: fleet_pb2.Event) -> Notification | None:
    """The notification an agent event calls for, or None (most events call for none).

    SYNC_SUCCEEDED -> on-deployed, SYNC_FAILED -> on-sync-failed (a refused sync request too, once per request),
    DRIFT_DETECTED -> on-drift-detected, SYNC_LOOP -> on-sync-loop, HEALTH_CHANGED to Degraded ->
    on-health-degraded."""
    if event.type not in EVENT_TRIGGERS:
        return None
    details = _details(event)
    revision = event.revision or str(details.get("revision", "") or "")
    result = details.get("result") if isinstance(details.get("result"), dict) else {}
    once_per = ""
    kept: dict
    if event.type == fleet_pb2.SYNC_SUCCEEDED:
        trigger = ON_DEPLOYED
        kept = _sync_details(details, result)
    elif event.type == fleet_pb2.SYNC_FAILED:
        trigger = ON_SYNC_FAILED
        kept = _sync_details(details, result)
        if not result and details.get("request_id"):  # a refused SyncRequest: each one is its own incident
            once_per = f"{revision}/request/{details['request_id']}"
    elif event.type == fleet_pb2.DRIFT_DETECTED:
        trigger = ON_DRIFT_DETECTED
        fields = [{"path": f.get("path", ""), "manager": f.get("manager", "")}
                  for f in details.get("fields", []) if isinstance(f, dict)]
        kept = {key: details[key] for key in ("object", "missing", "more_fields", "managers", "self_heal")
                if key in details}
        kept["fields"] = fields  # paths and managers only: desired and live values may be secret
    elif event.type == fleet_pb2.SYNC_LOOP:
        trigger = ON_SYNC_LOOP
        kept = {key: details[key] for key in ("object", "field", "manager", "reverts", "window_s", "suggestion",
                                              "fleet_yaml") if key in details}
    elif event.type == fleet_pb2.HEALTH_CHANGED and details.get("health") == DEGRADED \
            and details.get("previous") != DEGRADED:
        trigger = ON_HEALTH_DEGRADED
        kept = {key: details[key] for key in ("health", "previous", "message") if key in details}
    else:
        return None
    message = event.message or str(result.get("message", "") or "")
    if event.resource:
        kept["resource"] = event.resource
    kept["generation"] = event.generation
    return Notification(trigger=trigger, cluster=cluster, region=region, environment=environment,
                        application=event.application, revision=revision, message=message, details=kept,
                        occurred_at=event.occurred_at_ms / 1000.0, once_per=once_per)


def _sync_details(details: dict, result: dict) -> dict:
    kept = {key: details[key] for key in ("trigger", "request_id", "approved_by") if key in details}
    if result:
        kept["result"] = {key: result[key] for key in ("phase", "message", "duration_ms", "warnings") if key in result}
        failed = [r for r in result.get("resources", []) if isinstance(r, dict)
                  and (r.get("status", "Synced") != "Synced" or r.get("hook_phase") == "Failed")]
        if failed:
            kept["result"]["failed_resources"] = failed[:10]
    return kept


def rollout_halted(environment: str, application: str, revision: str, reason: str, *, at: float,
                   regions: tuple[str, ...] = (), failed: dict[str, str] | None = None, step: str = "",
                   previous_revision: str = "") -> Notification:
    """A rollout of `application` to `revision` in `environment` halted (`reason`, as the rollout's Decision
    says it); `failed` maps clusters to why they failed, `regions` are those clusters' regions."""
    details = {"failed": dict(failed or {}), "step": step, "previous_revision": previous_revision}
    return Notification(trigger=ON_ROLLOUT_HALTED, cluster="", region=", ".join(regions), environment=environment,
                        application=application, revision=revision, message=reason, details=details,
                        occurred_at=at, regions=tuple(regions))


def approval_required(environment: str, application: str, revision: str, *, at: float, required: int = 1,
                      approvers: tuple[str, ...] = (), clusters: tuple[str, ...] = (),
                      regions: tuple[str, ...] = ()) -> Notification:
    """`revision` of `application` waits in `environment` for approvals (`required` distinct ones, `approvers`
    given so far) before it syncs on `clusters`."""
    missing = max(0, required - len(approvers))
    message = (f"{missing} more approval{'s' if missing != 1 else ''} needed"
               + (f" (approved by {', '.join(approvers)})" if approvers else "")
               + (f" to sync {', '.join(clusters)}" if clusters else ""))
    details = {"required": required, "approvers": list(approvers), "clusters": list(clusters)}
    return Notification(trigger=ON_APPROVAL_REQUIRED, cluster="", region=", ".join(regions), environment=environment,
                        application=application, revision=revision, message=message, details=details,
                        occurred_at=at, regions=tuple(regions))


@dataclass
class _Away:
    since: float
    region: str
    environment: str
    notified: bool = False


class DisconnectTracker:
    """Agents away from the hub: `disconnected` and `connected` record what the registry says, `due(now)`
    returns one on-agent-disconnected notification per disconnection that has lasted `grace` seconds (once; an
    agent back before that causes none)."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self._away: dict[str, _Away] = {}

    def disconnected(self, cluster: str, at: float, region: str = "", environment: str = "") -> None:
        """The cluster's session ended at `at` (a second call keeps the first time)."""
        if cluster not in self._away:
            self._away[cluster] = _Away(at, region, environment)

    def connected(self, cluster: str) -> None:
        """The cluster has a session again."""
        self._away.pop(cluster, None)

    def away(self) -> dict[str, float]:
        """Clusters away now, and since when."""
        return {cluster: away.since for cluster, away in self._away.items()}

    def due(self, now: float) -> list[Notification]:
        out = []
        for cluster, away in sorted(self._away.items()):
            if away.notified or now - away.since < self.grace:
                continue
            away.notified = True
            minutes = (now - away.since) / 60
            out.append(Notification(
                trigger=ON_AGENT_DISCONNECTED, cluster=cluster, region=away.region, environment=away.environment,
                application="", revision="", message=f"no session for {minutes:.1f} minutes",
                details={"disconnected_at": away.since, "grace_seconds": self.grace}, occurred_at=away.since,
                once_per=f"disconnected@{away.since:.3f}"))
        return out
