"""Pod health: Argo CD's Pod rule, GPU-aware, with messages that say which container is wrong and why.

Argo CD's rule (`health_pod.go`, reference §A1.3), in order:

- a long-running pod (restartPolicy Always, or OnFailure/Never with the annotation
  `argocd.argoproj.io/ignore-restart-policy: "true"` on a pod that is not a hook) with a container waiting
  for a reason that starts with `Err` or ends with `Error` or `BackOff` is Degraded (CrashLoopBackOff,
  ImagePullBackOff, ErrImagePull, CreateContainerConfigError);
- then by phase: Pending is Progressing, Succeeded Healthy, Failed Degraded; Running is Healthy when Ready,
  Degraded when not Ready and a container has a last terminated state, otherwise Progressing; a Running
  run-to-completion pod (OnFailure/Never) is Progressing; anything else is Unknown.

Where we depart from it, on purpose:

- Init containers count too: an init container in CrashLoopBackOff makes a long-running pod Degraded
  (Argo CD only looks at `containerStatuses`, so such a pod stays Progressing forever).
- GPU-aware Pending: a pod the scheduler left Pending with `PodScheduled=False`, reason `Unschedulable`
  and a message mentioning `Insufficient nvidia.com/gpu` is Progressing, `waiting for GPU capacity:
  <scheduler message>`, until `gpu_grace_seconds` after it became unschedulable (the condition's
  lastTransitionTime, else the pod's creationTimestamp), then Degraded, saying how long it waited. We go by
  the mention alone (the scheduler's message aggregates reasons over nodes, so "only for lack of GPUs" cannot
  be told apart from a node that also had an untolerated taint); the grace period bounds the cost of a pod
  that was in fact misconfigured, and the Degraded message carries the scheduler's full text.
- Messages name the container (when the pod has more than one) and give the waiting reason with the restart
  count, `CrashLoopBackOff (restarts: 4)`, the last state when it was OOMKilled, and the kubelet's message
  for reasons other than CrashLoopBackOff (`ImagePullBackOff: Back-off pulling image "x"`); a pod Pending
  for other scheduling reasons says `Unschedulable: <scheduler message>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.health.fields import (
    annotation,
    condition,
    duration,
    integer,
    is_true,
    mapping,
    name_of,
    objects,
    sequence,
    string,
    timestamp,
)
from agent.health.status import Health, HealthStatus

GPU_SHORTAGE = "Insufficient nvidia.com/gpu"
HOOK_ANNOTATIONS = ("argocd.argoproj.io/hook", "fleetline.io/hook", "helm.sh/hook")
IGNORE_RESTART_POLICY_ANNOTATIONS = ("argocd.argoproj.io/ignore-restart-policy",
                                     "fleetline.io/ignore-restart-policy")


@dataclass(frozen=True)
class PodAssessment:
    """A pod's health and what a workload needs to pick its worst pod."""

    name: str
    health: Health
    unschedulable: bool = False  # the scheduler could not place it (for lack of GPUs or otherwise)
    waiting_for_gpu: bool = False  # Pending for lack of GPUs and still within the grace period
    restarts: int = 0


def is_hook(obj: Mapping[str, Any]) -> bool:
    return any(annotation(obj, key) for key in HOOK_ANNOTATIONS)


def is_long_running(pod: Mapping[str, Any]) -> bool:
    """Argo CD's test: restartPolicy Always (the API's default), or the ignore-restart-policy annotation."""
    if string(pod, "spec.restartPolicy", "Always") == "Always":
        return True
    opted_in = any(annotation(pod, key) == "true" for key in IGNORE_RESTART_POLICY_ANNOTATIONS)
    return opted_in and not is_hook(pod)


def pod_health(pod: Mapping[str, Any], *, now: float, gpu_grace_seconds: float) -> Health:
    """The health of one Pod (see the module docstring for the rules)."""
    return assess_pod(pod, now=now, gpu_grace_seconds=gpu_grace_seconds).health


def assess_pod(pod: Mapping[str, Any], *, now: float, gpu_grace_seconds: float) -> PodAssessment:
    name = name_of(pod)
    statuses = objects(pod, "status.initContainerStatuses") + objects(pod, "status.containerStatuses")
    restarts = sum(integer(status, "restartCount") for status in statuses)
    named = _container_count(pod) > 1

    def result(status: HealthStatus, message: str, **flags: bool) -> PodAssessment:
        return PodAssessment(name, Health(status, message), restarts=restarts, **flags)

    if is_long_running(pod):
        failing = [_waiting_text(status, named) for status in statuses if _bad_waiting(status)]
        if failing:
            return result(HealthStatus.DEGRADED, "; ".join(failing))

    phase = string(pod, "status.phase")
    if phase == "Pending":
        status, message, flags = _pending(pod, statuses, named, now, gpu_grace_seconds)
        return result(status, message, **flags)
    if phase == "Succeeded":
        return result(HealthStatus.HEALTHY, string(pod, "status.message"))
    if phase == "Failed":
        return result(HealthStatus.DEGRADED, _failure_text(pod, statuses))
    if phase == "Running":
        if not is_long_running(pod):
            return result(HealthStatus.PROGRESSING, string(pod, "status.message") or "running to completion")
        if is_true(condition(pod, "Ready")):
            return result(HealthStatus.HEALTHY, string(pod, "status.message"))
        for status in objects(pod, "status.containerStatuses"):
            if mapping(status, "lastState.terminated"):
                return result(HealthStatus.DEGRADED, _restarted_text(status, named))
        ready = condition(pod, "Ready") or {}
        return result(HealthStatus.PROGRESSING, string(pod, "status.message") or _not_ready_text(ready))
    return result(HealthStatus.UNKNOWN, string(pod, "status.message") or f"pod phase is {phase or 'not set'}")


def _pending(pod: Mapping[str, Any], statuses: list[Mapping[str, Any]], named: bool, now: float,
             grace: float) -> tuple[HealthStatus, str, dict[str, bool]]:
    """A Pending pod: Progressing, except a GPU wait past its grace period; the message says what it waits for."""
    scheduled = condition(pod, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        message = string(scheduled, "message") or "the scheduler found no node"
        if GPU_SHORTAGE not in message:
            return HealthStatus.PROGRESSING, f"Unschedulable: {message}", {"unschedulable": True}
        since = timestamp(scheduled.get("lastTransitionTime"), "status.conditions[PodScheduled].lastTransitionTime")
        if since is None:
            since = timestamp(mapping(pod, "metadata").get("creationTimestamp"), "metadata.creationTimestamp")
        waited = 0.0 if since is None else now - since
        if waited >= grace:
            text = f"waited {duration(waited)} for GPU capacity (grace {duration(grace)}): {message}"
            return HealthStatus.DEGRADED, text, {"unschedulable": True}
        return (HealthStatus.PROGRESSING, f"waiting for GPU capacity: {message}",
                {"unschedulable": True, "waiting_for_gpu": True})
    waiting = [_waiting_text(status, named) for status in statuses if mapping(status, "state.waiting")]
    return HealthStatus.PROGRESSING, "; ".join(waiting) or string(pod, "status.message") or "Pending", {}


def _container_count(pod: Mapping[str, Any]) -> int:
    return len(sequence(pod, "spec.containers")) + len(sequence(pod, "spec.initContainers"))


def _bad_waiting(status: Mapping[str, Any]) -> bool:
    reason = string(status, "state.waiting.reason")
    return reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff")


def _prefix(status: Mapping[str, Any], named: bool) -> str:
    return f"container {string(status, 'name')} " if named else ""


def _waiting_text(status: Mapping[str, Any], named: bool) -> str:
    """`CrashLoopBackOff (restarts: 4)`, `ImagePullBackOff: Back-off pulling image "x"`."""
    reason = string(status, "state.waiting.reason") or "Waiting"
    details = []
    restarts = integer(status, "restartCount")
    if restarts:
        details.append(f"restarts: {restarts}")
    if string(status, "lastState.terminated.reason") == "OOMKilled":
        details.append("last state: OOMKilled")
    text = _prefix(status, named) + reason + (f" ({', '.join(details)})" if details else "")
    message = string(status, "state.waiting.message")
    if message and reason != "CrashLoopBackOff":
        text += f": {message}"
    return text


def _restarted_text(status: Mapping[str, Any], named: bool) -> str:
    """`not ready (restarts: 3, last state: Error, exit code 1)` for a container running again after a crash."""
    last = mapping(status, "lastState.terminated")
    details = [f"restarts: {integer(status, 'restartCount')}", f"last state: {string(last, 'reason') or 'Terminated'}"]
    if integer(last, "exitCode"):
        details.append(f"exit code {integer(last, 'exitCode')}")
    return f"{_prefix(status, named)}not ready ({', '.join(details)})"


def _not_ready_text(ready: Mapping[str, Any]) -> str:
    message = string(ready, "message")
    return f"not ready: {message}" if message else "not ready"


def _failure_text(pod: Mapping[str, Any], statuses: list[Mapping[str, Any]]) -> str:
    """Argo CD's order: the pod's message, else the first container's terminated message, OOMKilled, exit code."""
    message = string(pod, "status.message")
    if message:
        reason = string(pod, "status.reason")
        return f"{reason}: {message}" if reason else message
    for status in statuses:
        terminated = mapping(status, "state.terminated")
        if not terminated:
            continue
        if string(terminated, "message"):
            return string(terminated, "message")
        if string(terminated, "reason") == "OOMKilled":
            return f"container {string(status, 'name')} OOMKilled"
        if integer(terminated, "exitCode"):
            return f"container {string(status, 'name')} failed with exit code {integer(terminated, 'exitCode')}"
    return "pod failed"
