"""One resource's health: which rule applies to an object, and what comes before every rule.

Resolution, as Argo CD's `GetResourceHealth` (reference §A1.2), then ours:

1. an object annotated `argocd.argoproj.io/ignore-healthcheck: "true"` (or `fleetline.io/ignore-healthcheck`)
   has no health (None): it is neither aggregated into the application nor waited for by a sync wave;
2. an object being deleted (`metadata.deletionTimestamp`) without a hook finalizer is Progressing,
   "Pending deletion";
3. the kind's rule: Argo CD's built-in checks (apps Deployment, StatefulSet, DaemonSet, ReplicaSet; Pod;
   Service; PersistentVolumeClaim; batch Job and CronJob; autoscaling HorizontalPodAutoscaler; Ingress in
   networking.k8s.io and extensions; apiregistration.k8s.io APIService; apiextensions.k8s.io
   CustomResourceDefinition; argoproj.io Workflow), with the pods refining the workloads;
4. any other kind of a built-in Kubernetes group (ConfigMap, Secret, Namespace, RBAC, ...) has no health
   (None), as in Argo CD;
5. a custom resource (any other group) gets kstatus's generic rule, where Argo CD would give it none.

A field of the wrong type (what Argo CD reports as a conversion error) makes the resource Unknown with a
message naming the object and the field.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.health.batch import cronjob_health, job_health
from agent.health.fields import HealthInputError, annotation, describe, group_of, mapping, sequence
from agent.health.generic import generic_health
from agent.health.kinds import (
    apiservice_health,
    crd_health,
    hpa_health,
    ingress_health,
    pvc_health,
    service_health,
    workflow_health,
)
from agent.health.pods import pod_health
from agent.health.status import Health, HealthStatus
from agent.health.workload_pods import with_pods
from agent.health.workloads import (
    daemonset_health,
    deadline_exceeded,
    deployment_health,
    replicaset_health,
    statefulset_health,
)

IGNORE_HEALTHCHECK_ANNOTATIONS = ("argocd.argoproj.io/ignore-healthcheck", "fleetline.io/ignore-healthcheck")
HOOK_FINALIZERS = ("argocd.argoproj.io/hook-finalizer", "fleetline.io/hook-finalizer")
DEFAULT_GPU_GRACE_SECONDS = 600.0

# Groups served by kube-apiserver itself: their kinds without a rule have no health. Every other group is
# a custom resource (or an aggregated API) and gets the generic rule.
BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "extensions", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "admissionregistration.k8s.io",
    "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io",
    "events.k8s.io", "flowcontrol.apiserver.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
    "resource.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io",
})


@dataclass(frozen=True)
class _Inputs:
    pods: list[Mapping[str, Any]]
    now: float
    gpu_grace_seconds: float


def _deployment(obj: Mapping[str, Any], inputs: _Inputs) -> Health:
    return with_pods(deployment_health(obj), obj, inputs.pods, now=inputs.now,
                     gpu_grace_seconds=inputs.gpu_grace_seconds, deadline_exceeded=deadline_exceeded(obj))


def _workload(rule: Callable[[Mapping[str, Any]], Health], *, crash_is_degraded: bool = True
              ) -> Callable[[Mapping[str, Any], _Inputs], Health]:
    def assess(obj: Mapping[str, Any], inputs: _Inputs) -> Health:
        return with_pods(rule(obj), obj, inputs.pods, now=inputs.now, gpu_grace_seconds=inputs.gpu_grace_seconds,
                         crash_is_degraded=crash_is_degraded)
    return assess


def _plain(rule: Callable[[Mapping[str, Any]], Health]) -> Callable[[Mapping[str, Any], _Inputs], Health]:
    return lambda obj, _inputs: rule(obj)


def _pod(obj: Mapping[str, Any], inputs: _Inputs) -> Health:
    return pod_health(obj, now=inputs.now, gpu_grace_seconds=inputs.gpu_grace_seconds)


RULES: dict[tuple[str, str], Callable[[Mapping[str, Any], _Inputs], Health]] = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _workload(statefulset_health),
    ("apps", "DaemonSet"): _workload(daemonset_health),
    ("apps", "ReplicaSet"): _workload(replicaset_health),
    ("", "Pod"): _pod,
    ("", "Service"): _plain(service_health),
    ("", "PersistentVolumeClaim"): _plain(pvc_health),
    ("batch", "Job"): _workload(job_health, crash_is_degraded=False),
    ("batch", "CronJob"): _plain(cronjob_health),
    ("autoscaling", "HorizontalPodAutoscaler"): _plain(hpa_health),
    ("networking.k8s.io", "Ingress"): _plain(ingress_health),
    ("extensions", "Ingress"): _plain(ingress_health),
    ("apiregistration.k8s.io", "APIService"): _plain(apiservice_health),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _plain(crd_health),
    ("argoproj.io", "Workflow"): _plain(workflow_health),
}


def ignores_health(obj: Mapping[str, Any]) -> bool:
    """The object opted out of health with `argocd.argoproj.io/ignore-healthcheck: "true"` (or our twin)."""
    return any(annotation(obj, key) == "true" for key in IGNORE_HEALTHCHECK_ANNOTATIONS)


def has_health(obj: Mapping[str, Any]) -> bool:
    """Whether `resource_health` gives this kind of object a health at all (before opting out)."""
    group = group_of(obj)
    return (group, obj.get("kind")) in RULES or group not in BUILTIN_GROUPS


def resource_health(obj: Mapping[str, Any], *, pods: Iterable[Mapping[str, Any]] = (), now: float | None = None,
                    gpu_grace_seconds: float = DEFAULT_GPU_GRACE_SECONDS) -> Health | None:
    """The health of one live object as the API returns it, or None when it has none (a ConfigMap, an opted-out
    object).

    `pods` are live Pods (any namespace, any owner; the workload's own are picked out) that let a workload's
    health name its worst pod and see crash loops and GPU waits; `now` is unix seconds (default: the clock);
    `gpu_grace_seconds` is how long a pod may wait for `nvidia.com/gpu` capacity before it is Degraded.
    Raises ValueError when `obj` is not an API object or a pod is not an object.
    """
    _check_object(obj)
    pod_list = list(pods)
    for index, pod in enumerate(pod_list):
        if not isinstance(pod, Mapping):
            raise ValueError(f"resource_health({describe(obj)}): pods[{index}] is {type(pod).__name__}, "
                             f"expected a Pod object as the API returns it")
    if gpu_grace_seconds < 0:
        raise ValueError(f"resource_health({describe(obj)}): gpu_grace_seconds is {gpu_grace_seconds}, "
                         f"expected 0 or more")
    try:
        if ignores_health(obj):
            return None
        metadata = mapping(obj, "metadata")
        finalizers = sequence(obj, "metadata.finalizers")
        if metadata.get("deletionTimestamp") and not any(name in finalizers for name in HOOK_FINALIZERS):
            return Health(HealthStatus.PROGRESSING, "Pending deletion")
        rule = RULES.get((group_of(obj), str(obj.get("kind"))))
        if rule is None:
            return None if group_of(obj) in BUILTIN_GROUPS else generic_health(obj)
        inputs = _Inputs(pod_list, time.time() if now is None else now, gpu_grace_seconds)
        return rule(obj, inputs)
    except HealthInputError as error:
        return Health(HealthStatus.UNKNOWN, f"{describe(obj)}: cannot assess health: {error}")


def _check_object(obj: Any) -> None:
    if not isinstance(obj, Mapping):
        raise ValueError(f"resource_health: expected a Kubernetes object (a dict as the API returns it), "
                         f"got {type(obj).__name__}")
    missing = [key for key in ("apiVersion", "kind") if not isinstance(obj.get(key), str) or not obj.get(key)]
    if missing:
        raise ValueError(f"resource_health: {describe(obj)} has no {' or '.join(missing)}; pass the object as the "
                         f"API returns it (convert a typed client model with ApiClient().sanitize_for_serialization)")
