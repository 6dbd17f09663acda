"""The ReplicaSet controller: keeps `spec.replicas` pods of a ReplicaSet's template alive and reports on them.

Missing pods are created as `<rs>-<5 random characters>` (generateName) with the template's labels and a
controller ownerReference; surplus pods are deleted in kube's order of preference (unscheduled before
scheduled, pending before running, not ready before ready, lower `controller.kubernetes.io/pod-deletion-cost`,
ready for less time, more restarts, newer). Status: replicas, fullyLabeledReplicas, readyReplicas,
availableReplicas (Ready for at least minReadySeconds of simulated time), observedGeneration and the
ReplicaFailure condition when pods cannot be created.
"""

from __future__ import annotations

from kubesim.clock import Clock
from kubesim.controllers.base import Key
from kubesim.controllers.workloads import (
    PODS,
    REPLICASETS,
    WorkloadController,
    availability_requeue,
    pod_active,
    pod_available,
    pod_from_template,
    pod_ready,
    ready_for,
    remove_condition,
    set_condition,
    timestamp_seconds,
)
from kubesim.errors import ApiError
from kubesim.resources import ResourceType

BURST_REPLICAS = 500  # the replicaset controller's burstReplicas: pods created or deleted per sync
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_order(pod: dict, clock: Clock) -> tuple:
    """Sort key: the pod to delete first sorts lowest (kube's ActivePodsWithRanks, minus node co-location)."""
    status = pod.get("status") or {}
    try:
        cost = int((pod["metadata"].get("annotations") or {}).get(DELETION_COST, "0"))
    except ValueError:
        cost = 0
    restarts = sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or [])
    since = ready_for(pod, clock)
    return (1 if (pod.get("spec") or {}).get("nodeName") else 0,
            _PHASE_RANK.get(status.get("phase") or "Pending", 0),
            1 if pod_ready(pod) else 0,
            cost,
            since if since is not None else 0.0,
            -restarts,
            -timestamp_seconds(pod["metadata"].get("creationTimestamp")),
            pod["metadata"]["name"])


def _labels_cover(labels: dict | None, wanted: dict | None) -> bool:
    labels = labels or {}
    return all(labels.get(k) == v for k, v in (wanted or {}).items())


class ReplicaSetController(WorkloadController):
    name = "replicaset-controller"
    component = "replicaset-controller"
    watches = (REPLICASETS, PODS)
    owner_resource = REPLICASETS
    owner_kind = "ReplicaSet"
    child_resource = PODS

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        loaded = self.load_owner(key)
        if loaded is None:
            return None
        rt, rs = loaded
        spec = rs.get("spec") or {}
        pods = [p for p in self.claim(rs, spec.get("selector"), key) if pod_active(p)]
        failure = None
        if not rs["metadata"].get("deletionTimestamp"):
            failure = self._manage(rs, pods, int(spec.get("replicas", 1)))
            pods = [p for p in self.claim(rs, spec.get("selector"), key) if pod_active(p)]
        self._write_status(rt, rs, pods, failure)
        return availability_requeue(pods, int(spec.get("minReadySeconds") or 0), self.api.clock)

    def _manage(self, rs: dict, pods: list[dict], replicas: int) -> str | None:
        """Create or delete pods toward `replicas`; returns a creation failure message, if any."""
        meta = rs["metadata"]
        namespace = meta.get("namespace") or ""
        diff = len(pods) - replicas
        pod_rt = self.api.type("", "Pod")
        if diff < 0:
            template = (rs.get("spec") or {}).get("template") or {}
            for _ in range(min(-diff, BURST_REPLICAS)):
                body = self._new_pod(rs, template)
                try:
                    created = self.api.create(pod_rt, namespace, body, self.write_options())
                except ApiError as exc:
                    if exc.code in (404, 409):
                        raise
                    self.event(rs, "FailedCreate", f"Error creating: {exc.message}", warning=True)
                    return exc.message
                self.event(rs, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        elif diff > 0:
            clock = self.api.clock
            for pod in sorted(pods, key=lambda p: deletion_order(p, clock))[:min(diff, BURST_REPLICAS)]:
                try:
                    self.api.delete(pod_rt, namespace, pod["metadata"]["name"])
                except ApiError as exc:
                    if exc.code == 404:
                        continue
                    self.event(rs, "FailedDelete", f"Error deleting: {exc.message}", warning=True)
                    raise
                self.event(rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
        return None

    @staticmethod
    def _new_pod(rs: dict, template: dict) -> dict:
        pod = pod_from_template(template, rs)
        pod["metadata"]["generateName"] = f"{rs['metadata']['name']}-"
        return pod

    def _write_status(self, rt: ResourceType, rs: dict, pods: list[dict], failure: str | None) -> None:
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        old = rs.get("status") or {}
        status: dict = {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(1 for p in pods if _labels_cover(p["metadata"].get("labels"),
                                                                          template_labels)),
            "readyReplicas": sum(1 for p in pods if pod_ready(p)),
            "availableReplicas": sum(1 for p in pods if pod_available(p, min_ready, self.api.clock)),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        conditions = [dict(c) for c in old.get("conditions") or []]
        if failure:
            set_condition(conditions, {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                       "message": failure, "lastTransitionTime": self.api.clock.timestamp()})
        elif len(pods) == int(spec.get("replicas", 1)):
            remove_condition(conditions, "ReplicaFailure")
        if conditions:
            status["conditions"] = conditions
        # kube omits zero counts (omitempty) except replicas
        status = {k: v for k, v in status.items() if v or k == "replicas"}
        if status != old:
            namespace = rs["metadata"].get("namespace") or ""
            self.api.update(rt, namespace, rs["metadata"]["name"], {**rs, "status": status},
                            self.write_options(), subresource="status")
