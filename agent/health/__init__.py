"""Resource and application health for the agent (issue 5, scope 4): pure functions over the JSON objects the
Kubernetes API returns; no I/O, no clock except a default for `now`.

Argo CD's rules, exactly, for Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Job, CronJob,
PersistentVolumeClaim, Service, Ingress, HorizontalPodAutoscaler, APIService (and its bundled
CustomResourceDefinition and Workflow rules); kstatus's generic rule for other custom resources; Argo CD's
aggregation into an application's health. Ours on top, where the issue asks for it: messages that name the
worst pod (`2/3 replicas available; pod inference-7d9f CrashLoopBackOff (restarts: 4)`), crash-looping
workloads Degraded at once, and pods waiting for `nvidia.com/gpu` Progressing for a grace period before they
are Degraded. Each module's docstring states its rules and where they depart from Argo CD's.

Modules: `status` (codes, order, `Health`), `resource` (which rule applies), `workloads`, `pods`,
`workload_pods`, `batch`, `kinds`, `generic` (the rules), `selection` (a workload's pods), `application`
(aggregation), `fields` (typed reads of the objects). It imports nothing from `hub` or `kubesim`.
"""

from __future__ import annotations

from agent.health.application import application_health
from agent.health.pods import pod_health
from agent.health.resource import DEFAULT_GPU_GRACE_SECONDS, has_health, ignores_health, resource_health
from agent.health.selection import pods_of
from agent.health.status import ORDER, Health, HealthStatus, is_worse, worst

__all__ = [
    "DEFAULT_GPU_GRACE_SECONDS",
    "ORDER",
    "Health",
    "HealthStatus",
    "application_health",
    "has_health",
    "ignores_health",
    "is_worse",
    "pod_health",
    "pods_of",
    "resource_health",
    "worst",
]
