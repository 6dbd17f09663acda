"""How the Deployment controller reads a Deployment's numbers and reports its status and conditions.

`StatusSync` holds one pass's view of a Deployment (the stored status and a working copy whose conditions
the rollout changes) and computes what kube's deployment controller writes through the status subresource:
counts summed from the ReplicaSets, `Available` (at least replicas - maxUnavailable available) and
`Progressing` (NewReplicaSetCreated / FoundNewReplicaSet / ReplicaSetUpdated while pods move, then
NewReplicaSetAvailable; ProgressDeadlineExceeded after `progressDeadlineSeconds` of simulated time with no
progress; DeploymentPaused / DeploymentResumed), each with lastUpdateTime and lastTransitionTime.
`deployments.py` builds the rollout on top of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from fleetline.jsoncopy import clone
from kubesim.clock import rfc3339
from kubesim.controllers.workloads import (
    WorkloadController,
    get_condition,
    remove_condition,
    scaled_value,
    set_condition,
    status_condition,
)
from kubesim.resources import ResourceType

NO_DEADLINE = 2**31 - 1  # progressDeadlineSeconds of MaxInt32 means "never"

# Condition reasons (kube's deployment util)
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
FAILED_RS_CREATE = "ReplicaSetCreateError"

Marks = dict[str, tuple[str, datetime]]  # deployment uid -> (lastUpdateTime written, the exact moment)


def replicas_of(obj: dict) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1) or 0)


def status_count(obj: dict | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def is_rolling(d: dict) -> bool:
    return ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


def fenceposts(d: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas (both zero would stall: unavailable is 1)."""
    replicas = replicas_of(d)
    rolling = ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    surge = scaled_value(rolling.get("maxSurge"), replicas, round_up=True, default="25%")
    unavailable = scaled_value(rolling.get("maxUnavailable"), replicas, round_up=False, default="25%")
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return max(surge, 0), max(unavailable, 0)


def max_surge(d: dict) -> int:
    return fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: dict) -> int:
    replicas = replicas_of(d)
    if not is_rolling(d) or replicas == 0:
        return 0
    return min(fenceposts(d)[1], replicas)


def progress_deadline(d: dict) -> int | None:
    value = (d.get("spec") or {}).get("progressDeadlineSeconds", 600)
    return None if value is None or value >= NO_DEADLINE else int(value)


def spec_total(rss: Iterable[dict]) -> int:
    return sum(replicas_of(rs) for rs in rss)


def status_total(rss: Iterable[dict], field: str) -> int:
    return sum(status_count(rs, field) for rs in rss)


class StatusSync:
    """One pass over one Deployment: its numbers, its working status, and the status write at the end."""

    def __init__(self, ctl: WorkloadController, rt: ResourceType, d: dict, marks: Marks) -> None:
        self.ctl, self.api, self.rt, self.d, self.marks = ctl, ctl.api, rt, d, marks
        self.stored_status = d.get("status") or {}
        self.status = clone(self.stored_status)  # the working status (conditions change in place)
        self.status.setdefault("conditions", [])
        self.replicas = replicas_of(d)
        self.deadline = progress_deadline(d)
        self.moment = self.api.clock.now()
        self.now = rfc3339(self.moment)
        self.mark: tuple[str, datetime] | None = None  # (lastUpdateTime, exact moment) of a condition set now

    def complete(self, status: dict) -> bool:
        return (int(status.get("updatedReplicas") or 0) == self.replicas
                and int(status.get("replicas") or 0) == self.replicas
                and int(status.get("availableReplicas") or 0) == self.replicas
                and int(status.get("observedGeneration") or 0) >= self.d["metadata"].get("generation", 1))

    def set_progressing(self, state: str, reason: str, message: str) -> bool:
        return set_condition(self.status["conditions"], self.condition("Progressing", state, reason, message))

    def condition(self, kind: str, state: str, reason: str, message: str) -> dict:
        if kind == "Progressing":
            self.mark = (self.now, self.moment)
        return {"type": kind, "status": state, "lastUpdateTime": self.now, "lastTransitionTime": self.now,
                "reason": reason, "message": message}

    def check_paused_conditions(self) -> None:
        if self.deadline is None:
            return
        cond = status_condition(self.status, "Progressing")
        if cond is not None and cond.get("reason") == TIMED_OUT:
            return
        paused = bool((self.d.get("spec") or {}).get("paused"))
        shown = cond is not None and cond.get("reason") == PAUSED
        if paused and not shown:
            self.set_progressing("Unknown", PAUSED, "Deployment is paused")
        elif not paused and shown:
            self.set_progressing("Unknown", RESUMED, "Deployment is resumed")

    def calculate_status(self, new: dict | None, old: list[dict]) -> dict:
        everything = ([new] if new else []) + old
        available = status_total(everything, "availableReplicas")
        status = {
            "observedGeneration": self.d["metadata"].get("generation", 1),
            "replicas": status_total(everything, "replicas"),
            "updatedReplicas": status_count(new, "replicas"),
            "readyReplicas": status_total(everything, "readyReplicas"),
            "availableReplicas": available,
            "unavailableReplicas": max(spec_total(everything) - available, 0),
            "collisionCount": self.status.get("collisionCount"),
            "conditions": clone(self.status.get("conditions") or []),
        }
        if available >= self.replicas - max_unavailable(self.d):
            cond = self.condition("Available", "True", "MinimumReplicasAvailable",
                                  "Deployment has minimum availability.")
        else:
            cond = self.condition("Available", "False", "MinimumReplicasUnavailable",
                                  "Deployment does not have minimum availability.")
        set_condition(status["conditions"], cond)
        return status

    def progressed(self, status: dict) -> bool:
        old = self.stored_status

        def count(s: dict, field: str) -> int:
            return int(s.get(field) or 0)
        return (count(status, "updatedReplicas") > count(old, "updatedReplicas")
                or count(status, "readyReplicas") > count(old, "readyReplicas")
                or count(old, "replicas") - count(old, "updatedReplicas") >
                count(status, "replicas") - count(status, "updatedReplicas")
                or count(status, "availableReplicas") > count(old, "availableReplicas"))

    def timed_out(self, status: dict) -> bool:
        cond = status_condition(status, "Progressing")
        if self.deadline is None or cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
            return False
        if cond.get("reason") == TIMED_OUT:
            return True
        return self.since_progress(cond) > self.deadline

    def sync_rollout_status(self, new: dict | None, old: list[dict]) -> dict:
        status = self.calculate_status(new, old)
        conditions = status["conditions"]
        if self.deadline is None:
            remove_condition(conditions, "Progressing")
        current = status_condition(self.status, "Progressing")
        finished = (status["replicas"] == status["updatedReplicas"] and current is not None
                    and current.get("reason") == NEW_RS_AVAILABLE)
        rs_name = new["metadata"]["name"] if new else None
        subject = f'ReplicaSet "{rs_name}"' if rs_name else f'Deployment "{self.d["metadata"]["name"]}"'
        if self.deadline is not None and not finished:
            if self.complete(status):
                set_condition(conditions, self.condition("Progressing", "True", NEW_RS_AVAILABLE,
                                                         f"{subject} has successfully progressed."))
            elif self.progressed(status):
                cond = self.condition("Progressing", "True", RS_UPDATED, f"{subject} is progressing.")
                previous = status_condition(status, "Progressing")
                if previous is not None and previous.get("status") == "True":
                    cond["lastTransitionTime"] = previous.get("lastTransitionTime") or self.now
                remove_condition(conditions, "Progressing")
                conditions.append(cond)
            elif self.timed_out(status):
                set_condition(conditions, self.condition("Progressing", "False", TIMED_OUT,
                                                         f"{subject} has timed out progressing."))
        failure = self.replica_failure(new, old)
        if failure is not None:
            set_condition(conditions, failure)
        else:
            remove_condition(conditions, "ReplicaFailure")
        return status

    def replica_failure(self, new: dict | None, old: list[dict]) -> dict | None:
        for rs in ([new] if new else []) + old:
            cond = get_condition(rs, "ReplicaFailure")
            if cond is not None and cond.get("status") == "True":
                return {"type": "ReplicaFailure", "status": "True",
                        "lastUpdateTime": cond.get("lastTransitionTime") or self.now,
                        "lastTransitionTime": cond.get("lastTransitionTime") or self.now,
                        "reason": cond.get("reason", ""), "message": cond.get("message", "")}
        return None

    def requeue_stuck(self, status: dict) -> float | None:
        """Simulated seconds until the rollout would time out, to look again then (requeueStuckDeployment)."""
        cond = status_condition(status, "Progressing")
        if self.deadline is None or cond is None or self.complete(status) or cond.get("reason") in (
                TIMED_OUT, NEW_RS_AVAILABLE) or (self.d.get("spec") or {}).get("paused"):
            return None
        remaining = self.deadline - self.since_progress(cond)
        return max(remaining, 0.0) + 1.0

    def since_progress(self, cond: dict) -> float:
        """Simulated seconds since the Progressing condition's lastUpdateTime. Timestamps have whole seconds,
        which at a high `--speed` is many simulated seconds, so the exact moment this controller wrote is
        remembered and used while the stored timestamp is still the one it wrote."""
        text = cond.get("lastUpdateTime")
        for mark in (self.mark, self.marks.get(self.d["metadata"]["uid"])):
            if mark is not None and mark[0] == text:
                return (self.api.clock.now() - mark[1]).total_seconds() * self.api.clock.speed
        return self.api.clock.elapsed_since(text)

    def write_status(self, status: dict) -> None:
        status = {k: v for k, v in status.items() if v}  # every DeploymentStatus field is omitempty
        if status == self.stored_status:
            return
        progressing = status_condition(status, "Progressing")
        if self.mark is not None and progressing is not None and progressing.get("lastUpdateTime") == self.now:
            self.marks[self.d["metadata"]["uid"]] = self.mark
        meta = self.d["metadata"]
        self.d = self.api.update(self.rt, meta.get("namespace") or "", meta["name"],
                                 {**self.d, "status": status}, self.ctl.write_options(), subresource="status")
        self.stored_status = status
