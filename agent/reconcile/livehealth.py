"""The health of a live object as the agent reports it: `agent.health`'s rules fed with the workload's pods.

Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job) are judged with their pods from the PodCache, so
a crash loop or a GPU wait is named in the message; every other kind is judged on its own, and its health is
cached per resourceVersion (status reports judge thousands of objects; a ConfigMap's health does not change
until the object does). Pods are never cached: a pod waiting for GPUs changes health with time alone.
"""

from __future__ import annotations

from agent.drift import PodCache
from agent.health import DEFAULT_GPU_GRACE_SECONDS, Health, HealthStatus, pods_of, resource_health

_CACHE_LIMIT = 100_000
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})


class LiveHealth:
    """Callable: `await live_health(obj)` -> Health or None (a kind without health)."""

    def __init__(self, pods: PodCache | None, gpu_grace_seconds: float = DEFAULT_GPU_GRACE_SECONDS) -> None:
        self.pods = pods
        self.gpu_grace_seconds = gpu_grace_seconds
        self._cache: dict[str, tuple[str, Health | None]] = {}  # uid -> (resourceVersion, health)

    def of(self, obj: dict) -> Health | None:
        kind = obj.get("kind")
        meta = obj.get("metadata") or {}
        uid, version = str(meta.get("uid", "")), str(meta.get("resourceVersion", ""))
        cacheable = kind not in WORKLOAD_KINDS and kind != "Pod" and uid and version
        if cacheable:
            cached = self._cache.get(uid)
            if cached is not None and cached[0] == version:
                return cached[1]
        health = self._judge(obj)
        if cacheable:
            if len(self._cache) >= _CACHE_LIMIT:  # objects come and go: start afresh rather than grow for ever
                self._cache.clear()
            self._cache[uid] = (version, health)
        return health

    def forget(self, uid: str) -> None:
        self._cache.pop(uid, None)

    def _judge(self, obj: dict) -> Health | None:
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
