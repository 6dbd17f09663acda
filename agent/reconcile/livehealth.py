"""The health of a live object as the agent reports it: `agent.health`'s rules fed with the workload's pods.

Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job) are judged with their pods from the PodCache, so
a crash loop or a GPU wait is named in the message; every other kind is judged on its own.
"""

from __future__ import annotations

from agent.drift import PodCache
from agent.health import DEFAULT_GPU_GRACE_SECONDS, Health, HealthStatus, pods_of, resource_health

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})


class LiveHealth:
    """Callable: `await live_health(obj)` -> Health or None (a kind without health)."""

    def __init__(self, pods: PodCache | None, gpu_grace_seconds: float = DEFAULT_GPU_GRACE_SECONDS) -> None:
        self.pods = pods
        self.gpu_grace_seconds = gpu_grace_seconds

    def of(self, obj: dict) -> Health | None:
        pods: list[dict] = []
        if self.pods is not None and obj.get("kind") in WORKLOAD_KINDS:
            namespace = (obj.get("metadata") or {}).get("namespace") or ""
            try:
                pods = [dict(p) for p in pods_of(obj, self.pods.in_namespace(namespace))]
            except ValueError as exc:
                return Health(HealthStatus.UNKNOWN, str(exc))
        try:
            return resource_health(obj, pods=pods, gpu_grace_seconds=self.gpu_grace_seconds)
        except ValueError as exc:
            return Health(HealthStatus.UNKNOWN, str(exc))

    async def __call__(self, obj: dict) -> Health | None:
        return self.of(obj)
