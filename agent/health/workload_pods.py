"""What a workload's pods add to its health: the worst pod named in the message, and two verdicts of ours.

Argo CD judges a workload from its status counts alone. When the caller passes the pods, a workload that is
not Healthy gets the worst of its pods (by `agent.health.pods`) appended to its message, e.g.
`2/3 replicas available; pod inference-7d9f CrashLoopBackOff (restarts: 4)`, and:

- **crash loops are Degraded at once.** A long-running workload (Deployment, StatefulSet, DaemonSet,
  ReplicaSet) that Argo CD calls Progressing and that has a Degraded pod (CrashLoopBackOff,
  ImagePullBackOff, ErrImagePull, CreateContainerConfigError, a failed pod, a pod restarted and not
  ready) is Degraded, with that pod's reason. Argo CD would say Progressing until the progress deadline
  (10 minutes by default) and StatefulSets and DaemonSets, which have no deadline, Progressing forever;
  a sync wave would wait for nothing. A Job keeps Argo CD's verdict (its backoffLimit decides failure),
  so for a Job only a GPU wait past its grace period makes it Degraded.
- **waiting for GPUs is Progressing, for a while.** A workload with a pod Pending for lack of
  `nvidia.com/gpu` within the grace period, and no Degraded pod, is Progressing even when its Deployment's
  progress deadline has passed (so a configurable grace period, not `progressDeadlineSeconds`, decides);
  once a pod has waited past the grace period, that pod is Degraded and so is the workload.

A Healthy workload stays Healthy whatever its pods say, pods being deleted are not looked at, and without
pods the result is exactly Argo CD's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from agent.health.fields import mapping
from agent.health.pods import PodAssessment, assess_pod
from agent.health.selection import pods_of
from agent.health.status import Health, HealthStatus

_RANK = {HealthStatus.DEGRADED: 3, HealthStatus.PROGRESSING: 2, HealthStatus.UNKNOWN: 1}


def with_pods(base: Health, workload: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], *, now: float,
              gpu_grace_seconds: float, crash_is_degraded: bool = True, deadline_exceeded: bool = False) -> Health:
    """`base` (Argo CD's verdict on `workload`) refined by the workload's pods among `pods`.

    `crash_is_degraded` is False for run-to-completion workloads (Jobs); `deadline_exceeded` says that
    `base` is Degraded only because a Deployment's progress deadline passed.
    """
    if base.status == HealthStatus.HEALTHY or not pods:
        return base
    assessments = [assess_pod(pod, now=now, gpu_grace_seconds=gpu_grace_seconds)
                   for pod in pods_of(workload, pods) if not mapping(pod, "metadata").get("deletionTimestamp")]
    troubled = [item for item in assessments if item.health.status != HealthStatus.HEALTHY]
    if not troubled:
        return base
    worst = max(troubled, key=_rank)
    status = base.status
    pod_degraded = worst.health.status == HealthStatus.DEGRADED
    if status == HealthStatus.PROGRESSING and pod_degraded and (crash_is_degraded or worst.unschedulable):
        status = HealthStatus.DEGRADED
    if deadline_exceeded and not pod_degraded and any(item.waiting_for_gpu for item in troubled):
        status = HealthStatus.PROGRESSING
    return Health(status, _message(base.message, worst, [item for item in troubled if item is not worst]))


def _rank(item: PodAssessment) -> tuple[int, bool, int]:
    return _RANK.get(item.health.status, 0), item.unschedulable, item.restarts


def _message(base: str, worst: PodAssessment, others: list[PodAssessment]) -> str:
    """`<base>; pod <name> <its message>; other pods: 1 Degraded, 2 Progressing`."""
    parts = [base] if base else []
    parts.append(f"pod {worst.name} {worst.health.message}".rstrip())
    if others:
        counts = Counter(item.health.status for item in others)
        ordered = sorted(counts, key=lambda status: -_RANK.get(status, 0))
        parts.append("other pods: " + ", ".join(f"{counts[status]} {status.value}" for status in ordered))
    return "; ".join(parts)
