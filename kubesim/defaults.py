"""kube-apiserver's defaulting of built-in kinds, applied to every object kubesim is asked to write.

`apply_defaults(rt, obj)` mutates `obj` (a fresh copy owned by the caller) the way the `SetDefaults_*`
functions of Kubernetes 1.32 do for the fields that show in `kubectl get -o yaml`, `kubectl diff` and
server-side apply ownership. Only fields that are absent (or null) are set, so applying it twice changes
nothing. It also writes resource quantities given as JSON numbers (`cpu: 1`) as the strings the API
returns (`"1"`), and folds a Secret's write-only `stringData` into `data`, as the real API server does.

Run it before `kubesim.validation.validate`, as kube-apiserver defaults before it validates.
"""

from __future__ import annotations

import base64

from kubesim.quantity import format_quantity, parse_quantity
from kubesim.resources import ResourceType


def _set(obj: dict, key: str, value: object) -> None:
    if obj.get(key) is None:
        obj[key] = value


def _child(obj: dict, key: str) -> dict | None:
    """obj[key] as a dict, created when absent; None when it holds something else (validation reports it)."""
    if obj.get(key) is None:
        obj[key] = {}
    value = obj[key]
    return value if isinstance(value, dict) else None


def _dict(value: object) -> dict | None:
    return value if isinstance(value, dict) else None


def _items(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# ---------------------------------------------------------------- quantities


def quantity(value: object) -> object:
    """A quantity given as a JSON number, as the string kube-apiserver stores (1 -> "1", 0.5 -> "500m")."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value  # strings are kept as written; anything else is for validation to report
    try:
        return format_quantity(parse_quantity(value))
    except ValueError:  # inf, nan
        return value


def _quantities(mapping: object) -> None:
    if isinstance(mapping, dict):
        for key, value in mapping.items():
            mapping[key] = quantity(value)


def _resources(holder: dict) -> None:
    resources = _dict(holder.get("resources"))
    if resources is not None:
        _quantities(resources.get("limits"))
        _quantities(resources.get("requests"))


# ---------------------------------------------------------------- pods and pod templates


def image_pull_policy(image: object) -> str:
    """SetDefaults_Container: Always for `:latest` or an untagged image, else (tag or digest) IfNotPresent."""
    if not isinstance(image, str):
        return "IfNotPresent"
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _probe(probe: dict) -> None:
    """SetDefaults_Probe and SetDefaults_HTTPGetAction."""
    _set(probe, "timeoutSeconds", 1)
    _set(probe, "periodSeconds", 10)
    _set(probe, "successThreshold", 1)
    _set(probe, "failureThreshold", 3)
    http_get = _dict(probe.get("httpGet"))
    if http_get is not None:
        _set(http_get, "scheme", "HTTP")


def _container(ctr: dict) -> None:
    _set(ctr, "imagePullPolicy", image_pull_policy(ctr.get("image")))
    _set(ctr, "terminationMessagePath", "/dev/termination-log")
    _set(ctr, "terminationMessagePolicy", "File")
    for port in _items(ctr.get("ports")):
        _set(port, "protocol", "TCP")
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = _dict(ctr.get(kind))
        if probe is not None:
            _probe(probe)
    _resources(ctr)


def _requests_from_limits(ctr: dict) -> None:
    """SetDefaults_Pod: each limit without a request becomes the request too (Pods only, not templates)."""
    resources = _dict(ctr.get("resources"))
    limits = _dict((resources or {}).get("limits"))
    if not limits:
        return
    requests = _child(resources, "requests")
    if requests is not None:
        for name, value in limits.items():
            if requests.get(name) is None:
                requests[name] = value


def pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and its containers (also used for the pod templates of workloads)."""
    _set(spec, "restartPolicy", "Always")
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "schedulerName", "default-scheduler")
    _set(spec, "terminationGracePeriodSeconds", 30)
    _set(spec, "securityContext", {})
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for ctr in _items(spec.get(group)):
            _container(ctr)
    for volume in _items(spec.get("volumes")):
        empty_dir = _dict(volume.get("emptyDir"))
        if empty_dir is not None and "sizeLimit" in empty_dir:
            empty_dir["sizeLimit"] = quantity(empty_dir["sizeLimit"])
    _quantities(spec.get("overhead"))
    _resources(spec)


def _template(spec: dict) -> None:
    template = _dict(spec.get("template"))
    if template is not None:
        pod = _dict(template.get("spec"))
        if pod is not None:
            pod_spec(pod)


# ---------------------------------------------------------------- kinds


def _pod(obj: dict) -> None:
    """SetDefaults_Pod, plus what the ServiceAccount and Priority admission plug-ins add to every Pod."""
    spec = _dict(obj.get("spec"))
    if spec is not None:
        pod_spec(spec)
        for group in ("initContainers", "containers"):
            for ctr in _items(spec.get(group)):
                _requests_from_limits(ctr)
        _set(spec, "enableServiceLinks", True)
        _set(spec, "serviceAccountName", spec.get("serviceAccount") or "default")
        _set(spec, "serviceAccount", spec["serviceAccountName"])
        if not spec.get("priorityClassName"):
            _set(spec, "priority", 0)


def _deployment(spec: dict) -> None:
    _set(spec, "replicas", 1)
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "progressDeadlineSeconds", 600)
    strategy = _child(spec, "strategy")
    if strategy is not None:
        _set(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate" and (rolling := _child(strategy, "rollingUpdate")) is not None:
            _set(rolling, "maxSurge", "25%")
            _set(rolling, "maxUnavailable", "25%")
    _template(spec)


def _replicaset(spec: dict) -> None:
    _set(spec, "replicas", 1)
    _template(spec)


def _statefulset(spec: dict) -> None:
    _set(spec, "replicas", 1)
    _set(spec, "podManagementPolicy", "OrderedReady")
    _set(spec, "revisionHistoryLimit", 10)
    strategy = _child(spec, "updateStrategy")
    if strategy is not None:
        _set(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate" and (rolling := _child(strategy, "rollingUpdate")) is not None:
            _set(rolling, "partition", 0)
    retention = _child(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        _set(retention, "whenDeleted", "Retain")
        _set(retention, "whenScaled", "Retain")
    for claim in _items(spec.get("volumeClaimTemplates")):
        _pvc(claim)
    _template(spec)


def _daemonset(spec: dict) -> None:
    _set(spec, "revisionHistoryLimit", 10)
    strategy = _child(spec, "updateStrategy")
    if strategy is not None:
        _set(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate" and (rolling := _child(strategy, "rollingUpdate")) is not None:
            _set(rolling, "maxUnavailable", 1)
            _set(rolling, "maxSurge", 0)
    _template(spec)


def _job(spec: dict) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    _set(spec, "parallelism", 1)
    _set(spec, "backoffLimit", 6)
    _set(spec, "completionMode", "NonIndexed")
    _set(spec, "suspend", False)
    _set(spec, "podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")
    _template(spec)


def _cronjob(spec: dict) -> None:
    _set(spec, "concurrencyPolicy", "Allow")
    _set(spec, "suspend", False)
    _set(spec, "successfulJobsHistoryLimit", 3)
    _set(spec, "failedJobsHistoryLimit", 1)
    job = _dict(spec.get("jobTemplate"))
    if job is not None and (job_spec := _dict(job.get("spec"))) is not None:
        _template(job_spec)  # Job-level defaults are applied when the CronJob creates the Job


def _cronjob_object(obj: dict) -> None:
    _child(obj, "status")  # CronJobStatus is a struct, not a pointer: kube-apiserver returns `status: {}` at once
    spec = _child(obj, "spec")
    if spec is not None:
        _cronjob(spec)


def _service(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _set(spec, "type", "ClusterIP")
    _set(spec, "sessionAffinity", "None")
    kind = spec["type"]
    if kind != "ExternalName":
        _set(spec, "ipFamilies", ["IPv4"])
        _set(spec, "ipFamilyPolicy", "SingleStack")
        _set(spec, "internalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer"):
        _set(spec, "externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        _set(spec, "allocateLoadBalancerNodePorts", True)
    for port in _items(spec.get("ports")):
        _set(port, "protocol", "TCP")
        if port.get("targetPort") is None and port.get("port") is not None:
            port["targetPort"] = port["port"]


def _namespace(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is not None:
        _set(spec, "finalizers", ["kubernetes"])
    status = _child(obj, "status")
    if status is not None:
        _set(status, "phase", "Active")
    meta = _child(obj, "metadata")
    if meta is not None and isinstance(meta.get("name"), str) and meta["name"]:
        labels = _child(meta, "labels")
        if labels is not None:  # kube-apiserver always (re)sets it to the name
            labels["kubernetes.io/metadata.name"] = meta["name"]


def _secret(obj: dict) -> None:
    _set(obj, "type", "Opaque")
    string_data = obj.get("stringData")
    if isinstance(string_data, dict) and all(isinstance(v, str) for v in string_data.values()):
        data = _child(obj, "data")
        if data is not None:
            for key, value in string_data.items():
                data[key] = base64.b64encode(value.encode()).decode()
            del obj["stringData"]


def _pvc(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is not None:
        _set(spec, "volumeMode", "Filesystem")
        _resources(spec)
    status = _child(obj, "status")
    if status is not None:
        _set(status, "phase", "Pending")


def _hpa(spec: dict) -> None:
    _set(spec, "minReplicas", 1)
    if not spec.get("metrics"):  # autoscaling/v2: no metrics means 80% average CPU utilization
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    for metric in _items(spec.get("metrics")):
        for source in metric.values():
            target = _dict(source.get("target")) if isinstance(source, dict) else None
            if target is not None:
                for key in ("value", "averageValue"):
                    if key in target:
                        target[key] = quantity(target[key])


def _crd(spec: dict) -> None:
    names = _dict(spec.get("names"))
    if names is not None and isinstance(names.get("kind"), str) and names["kind"]:
        _set(names, "singular", names["kind"].lower())
        _set(names, "listKind", names["kind"] + "List")
    conversion = _child(spec, "conversion")
    if conversion is not None:
        _set(conversion, "strategy", "None")


def _node(obj: dict) -> None:
    status = _dict(obj.get("status"))
    if status is not None:
        _quantities(status.get("capacity"))
        _quantities(status.get("allocatable"))


def _on_spec(fn):
    def apply(obj: dict) -> None:
        spec = _child(obj, "spec")
        if spec is not None:
            fn(spec)
    return apply


_DEFAULTS = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("", "Secret"): _secret,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Node"): _node,
    ("apps", "Deployment"): _on_spec(_deployment),
    ("apps", "ReplicaSet"): _on_spec(_replicaset),
    ("apps", "StatefulSet"): _on_spec(_statefulset),
    ("apps", "DaemonSet"): _on_spec(_daemonset),
    ("batch", "Job"): _on_spec(_job),
    ("batch", "CronJob"): _cronjob_object,
    ("autoscaling", "HorizontalPodAutoscaler"): _on_spec(_hpa),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _on_spec(_crd),
}


def apply_defaults(rt: ResourceType, obj: dict) -> None:
    """Fill in kube-apiserver's defaults for a built-in kind, in place. Idempotent; custom resources: none."""
    if rt.builtin and isinstance(obj, dict) and (fn := _DEFAULTS.get((rt.group, rt.kind))) is not None:
        fn(obj)
