"""Table responses (`kubectl get`): columns per kind, cells as kube-apiserver prints them, CRD printer
columns, includeObject, watch headers, HumanDuration; and real kubectl rendering our Tables."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from kubesim import jsonpath
from kubesim.resources import BUILTIN_TYPES, ResourceType
from kubesim.tables import column_definitions, go_float, human_duration, to_table

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
TYPES = {(rt.group, rt.kind): rt for rt in BUILTIN_TYPES}


def ago(**kw) -> str:
    return (NOW - timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rt_of(kind: str, group: str = "") -> ResourceType:
    return TYPES[(group, kind)]


def row(kind: str, obj: dict, group: str = "") -> list:
    return to_table(rt_of(kind, group), [obj], now=NOW)["rows"][0]["cells"]


def headers(kind: str, group: str = "", wide: bool = False) -> list[str]:
    """Column headers as kubectl shows them (upper-cased; priority 1 only with -o wide)."""
    return [c["name"].upper() for c in column_definitions(rt_of(kind, group)) if wide or c["priority"] == 0]


def meta(name: str, **extra) -> dict:
    return {"name": name, "namespace": "default", "creationTimestamp": ago(minutes=5), **extra}


# --- HumanDuration ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("delta", "want"), [
    (timedelta(seconds=0), "0s"),
    (timedelta(seconds=1), "1s"),
    (timedelta(seconds=45), "45s"),
    (timedelta(seconds=70), "70s"),
    (timedelta(seconds=119), "119s"),
    (timedelta(seconds=120), "2m"),
    (timedelta(seconds=190), "3m10s"),
    (timedelta(minutes=5, seconds=30), "5m30s"),
    (timedelta(minutes=10, seconds=30), "10m"),
    (timedelta(minutes=70), "70m"),
    (timedelta(minutes=179), "179m"),
    (timedelta(hours=3), "3h"),
    (timedelta(hours=3, minutes=15), "3h15m"),
    (timedelta(hours=8, minutes=15), "8h"),
    (timedelta(hours=47), "47h"),
    (timedelta(hours=49), "2d1h"),
    (timedelta(days=2), "2d"),
    (timedelta(days=2, hours=3), "2d3h"),
    (timedelta(hours=8 * 24 + 2), "8d"),
    (timedelta(days=367), "367d"),
    (timedelta(hours=365 * 2 * 24 + 25), "2y1d"),
    (timedelta(days=365 * 3), "3y"),
    (timedelta(hours=365 * 8 * 24 + 2), "8y"),
    (timedelta(seconds=-1.5), "0s"),  # up to 2 s of clock skew counts as now
    (timedelta(seconds=-2), "<invalid>"),
])
def test_human_duration_matches_apimachinery(delta: timedelta, want: str) -> None:
    assert human_duration(delta) == want


def test_age_is_unknown_without_a_creation_timestamp() -> None:
    assert row("ConfigMap", {"metadata": {"name": "c"}})[-1] == "<unknown>"


# --- column sets ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("group", "kind", "default", "wide_extra"), [
    ("", "Pod", "NAME READY STATUS RESTARTS AGE", "IP NODE NOMINATED NODE READINESS GATES"),
    ("apps", "Deployment", "NAME READY UP-TO-DATE AVAILABLE AGE", "CONTAINERS IMAGES SELECTOR"),
    ("apps", "ReplicaSet", "NAME DESIRED CURRENT READY AGE", "CONTAINERS IMAGES SELECTOR"),
    ("apps", "StatefulSet", "NAME READY AGE", "CONTAINERS IMAGES"),
    ("apps", "DaemonSet", "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE",
     "CONTAINERS IMAGES SELECTOR"),
    ("", "Service", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", "SELECTOR"),
    ("", "Node", "NAME STATUS ROLES AGE VERSION",
     "INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME"),
    ("", "Namespace", "NAME STATUS AGE", ""),
    ("", "ConfigMap", "NAME DATA AGE", ""),
    ("", "Secret", "NAME TYPE DATA AGE", ""),
    ("batch", "Job", "NAME STATUS COMPLETIONS DURATION AGE", "CONTAINERS IMAGES SELECTOR"),
    ("batch", "CronJob", "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE",
     "CONTAINERS IMAGES SELECTOR"),
    ("", "Event", "LAST SEEN TYPE REASON OBJECT MESSAGE", None),  # wide columns interleave: own test
    ("autoscaling", "HorizontalPodAutoscaler", "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE", ""),
    ("", "PersistentVolumeClaim",
     "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE", "VOLUMEMODE"),
    ("", "ServiceAccount", "NAME SECRETS AGE", ""),
    ("", "Endpoints", "NAME ENDPOINTS AGE", ""),
    ("networking.k8s.io", "Ingress", "NAME CLASS HOSTS ADDRESS PORTS AGE", ""),
    ("rbac.authorization.k8s.io", "RoleBinding", "NAME ROLE AGE", "USERS GROUPS SERVICEACCOUNTS"),
    ("policy", "PodDisruptionBudget", "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE", ""),
    # kinds without a printer get apiserver's generic convertor
    ("rbac.authorization.k8s.io", "Role", "NAME CREATED AT", ""),
    ("apiextensions.k8s.io", "CustomResourceDefinition", "NAME CREATED AT", ""),
])
def test_columns_per_kind(group: str, kind: str, default: str, wide_extra: str | None) -> None:
    assert " ".join(headers(kind, group)) == default
    if wide_extra is not None:
        assert " ".join(headers(kind, group, wide=True)) == f"{default} {wide_extra}".strip()


def test_every_builtin_row_has_one_cell_per_column_and_is_json() -> None:
    for rt in BUILTIN_TYPES:
        table = to_table(rt, [{"metadata": meta("x")}], now=NOW)
        assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"]), rt.kind
        assert all(set(c) == {"name", "type", "format", "description", "priority"}
                   for c in table["columnDefinitions"])
        json.dumps(table)


def test_event_columns_interleave_wide_ones_like_kube_apiserver() -> None:
    names = [(c["name"], c["priority"]) for c in column_definitions(rt_of("Event"))]
    assert names == [("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0), ("Subobject", 1),
                     ("Source", 1), ("Message", 0), ("First Seen", 1), ("Count", 1), ("Name", 1)]


# --- pods -------------------------------------------------------------------------------------------------

def pod(statuses: list[dict], phase: str = "Running", **extra_meta) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": meta("web-0", **extra_meta),
        "spec": {"nodeName": "node-1", "containers": [{"name": s["name"], "image": "img"} for s in statuses]},
        "status": {"phase": phase, "podIP": "10.0.0.7", "containerStatuses": statuses},
    }


def test_pod_in_crashloop_shows_the_waiting_reason_and_recent_restart() -> None:
    cells = row("Pod", pod([{
        "name": "app", "ready": False, "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(seconds=12)}},
    }]))
    assert cells == ["web-0", "0/1", "CrashLoopBackOff", "3 (12s ago)", "5m",
                     "10.0.0.7", "node-1", "<none>", "<none>"]


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ContainerCreating", "ErrImagePull"])
def test_pod_status_is_the_waiting_reason(reason: str) -> None:
    cells = row("Pod", pod([{"name": "app", "ready": False, "restartCount": 0,
                             "state": {"waiting": {"reason": reason}}}], phase="Pending"))
    assert cells[1:4] == ["0/1", reason, "0"]


def test_running_pod_counts_ready_containers_and_sums_restarts() -> None:
    running = {"running": {"startedAt": ago(minutes=4)}}
    cells = row("Pod", pod([{"name": "a", "ready": True, "restartCount": 1, "state": running},
                            {"name": "b", "ready": False, "restartCount": 2, "state": running}]))
    assert cells[1:4] == ["1/2", "Running", "3"]


def test_terminating_pod_and_completed_pod() -> None:
    running = {"name": "a", "ready": True, "restartCount": 0, "state": {"running": {}}}
    assert row("Pod", pod([running], deletionTimestamp=ago(seconds=5)))[2] == "Terminating"
    done = pod([{"name": "a", "ready": False, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}], phase="Succeeded")
    table = to_table(rt_of("Pod"), [done], now=NOW)
    assert table["rows"][0]["cells"][2] == "Completed"
    assert table["rows"][0]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                               "message": "The pod has completed successfully."}]


def test_pod_waiting_on_init_container() -> None:
    obj = pod([{"name": "app", "ready": False, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}], phase="Pending")
    obj["spec"]["initContainers"] = [{"name": "fetch-model", "image": "busybox"}]
    obj["status"]["initContainerStatuses"] = [{"name": "fetch-model", "ready": False, "restartCount": 0,
                                               "state": {"running": {}}}]
    assert row("Pod", obj)[1:3] == ["0/1", "Init:0/1"]


# --- workloads --------------------------------------------------------------------------------------------

def test_deployment_ready_is_ready_over_desired_and_counts_are_ints() -> None:
    deploy = {
        "metadata": meta("inference"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "inference", "tier": "gpu"}},
                 "template": {"spec": {"containers": [{"name": "server", "image": "triton:24.01"},
                                                      {"name": "proxy", "image": "envoy:1.29"}]}}},
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert row("Deployment", deploy, "apps") == ["inference", "2/3", 3, 2, "5m", "server,proxy",
                                                 "triton:24.01,envoy:1.29", "app=inference,tier=gpu"]


def test_replicaset_statefulset_daemonset_rows() -> None:
    template = {"spec": {"nodeSelector": {"gpu": "a100"}, "containers": [{"name": "c", "image": "i"}]}}
    selector = {"matchLabels": {"app": "x"}, "matchExpressions": [{"key": "env", "operator": "In",
                                                                   "values": ["prod", "dev"]}]}
    rs = {"metadata": meta("x-1"), "spec": {"replicas": 2, "selector": selector, "template": template},
          "status": {"replicas": 2, "readyReplicas": 1}}
    assert row("ReplicaSet", rs, "apps") == ["x-1", 2, 2, 1, "5m", "c", "i", "app=x,env in (dev,prod)"]
    sts = {"metadata": meta("db"), "spec": {"replicas": 3, "template": template},
           "status": {"readyReplicas": 3}}
    assert row("StatefulSet", sts, "apps") == ["db", "3/3", "5m", "c", "i"]
    ds = {"metadata": meta("agent"), "spec": {"selector": selector, "template": template},
          "status": {"desiredNumberScheduled": 4, "currentNumberScheduled": 4, "numberReady": 3,
                     "updatedNumberScheduled": 4, "numberAvailable": 3}}
    assert row("DaemonSet", ds, "apps")[:8] == ["agent", 4, 4, 3, 4, 3, "gpu=a100", "5m"]


@pytest.mark.parametrize(("conditions", "status"), [
    ([{"type": "Complete", "status": "True"}], "Complete"),
    ([{"type": "Failed", "status": "True"}], "Failed"),
    ([{"type": "Suspended", "status": "True"}], "Suspended"),
    ([], "Running"),
])
def test_job_status_completions_and_duration(conditions: list, status: str) -> None:
    job = {"metadata": meta("train"), "spec": {"completions": 1, "template": {"spec": {"containers": []}}},
           "status": {"succeeded": 1 if status == "Complete" else 0, "startTime": ago(minutes=4),
                      "completionTime": ago(minutes=1) if status == "Complete" else None,
                      "conditions": conditions}}
    cells = row("Job", job, "batch")
    assert cells[:5] == ["train", status, f"{1 if status == 'Complete' else 0}/1",
                         "3m" if status == "Complete" else "4m", "5m"]


def test_cronjob_row() -> None:
    cj = {"metadata": meta("nightly-train"),
          "spec": {"schedule": "0 2 * * *", "timeZone": "Europe/Paris", "suspend": False,
                   "jobTemplate": {"spec": {"template": {"spec": {
                       "containers": [{"name": "t", "image": "i"}]}}}}},
          "status": {"active": [{"name": "nightly-train-1"}], "lastScheduleTime": ago(hours=10)}}
    assert row("CronJob", cj, "batch") == ["nightly-train", "0 2 * * *", "Europe/Paris", "False", 1, "10h",
                                           "5m", "t", "i", "<none>"]


# --- services and the rest --------------------------------------------------------------------------------

def service(spec: dict, status: dict | None = None) -> dict:
    return {"metadata": meta("svc"), "spec": spec, "status": status or {}}


def test_service_cluster_ip_ports_and_selector() -> None:
    ports = [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]
    spec = {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
            "selector": {"app": "web"}, "ports": ports}
    cells = row("Service", service(spec))
    assert cells == ["svc", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "5m", "app=web"]


def test_service_node_port_and_load_balancer() -> None:
    node_port = row("Service", service({"type": "NodePort", "clusterIPs": ["10.96.0.11"],
                                        "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}))
    assert node_port[1:5] == ["NodePort", "10.96.0.11", "<none>", "80:30080/TCP"]
    pending = row("Service", service({"type": "LoadBalancer", "clusterIPs": ["10.96.0.12"],
                                      "ports": [{"port": 443, "nodePort": 31443}]}))
    assert pending[3:5] == ["<pending>", "443:31443/TCP"]
    ready = row("Service", service({"type": "LoadBalancer", "clusterIPs": ["10.96.0.12"], "ports": []},
                                   {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}))
    assert ready[3:5] == ["203.0.113.9", "<none>"]


def test_headless_and_external_name_services() -> None:
    headless = row("Service", service({"clusterIP": "None", "clusterIPs": ["None"], "selector": {"a": "b"}}))
    assert headless[1:3] == ["ClusterIP", "None"]
    external = row("Service", service({"type": "ExternalName", "externalName": "db.example.com"}))
    assert external[1:4] == ["ExternalName", "<none>", "db.example.com"]


def test_node_row() -> None:
    node = {"metadata": {"name": "gpu-1", "creationTimestamp": ago(days=2, hours=3),
                         "labels": {"node-role.kubernetes.io/control-plane": "",
                                    "kubernetes.io/role": "gpu"}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "MemoryPressure", "status": "False"},
                                      {"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
                       "nodeInfo": {"kubeletVersion": "v1.32.4", "osImage": "Ubuntu 24.04",
                                    "kernelVersion": "6.8.0", "containerRuntimeVersion": "containerd://1.7.0"}}}
    assert row("Node", node) == ["gpu-1", "Ready,SchedulingDisabled", "control-plane,gpu", "2d3h", "v1.32.4",
                                 "172.18.0.2", "<none>", "Ubuntu 24.04", "6.8.0", "containerd://1.7.0"]


def test_namespace_configmap_secret_rows() -> None:
    assert row("Namespace", {"metadata": meta("eu"), "status": {"phase": "Active"}}) == ["eu", "Active", "5m"]
    cm = {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert row("ConfigMap", cm) == ["cfg", 3, "5m"]
    secret = {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
    assert row("Secret", secret) == ["tls", "kubernetes.io/tls", 2, "5m"]


def test_event_row_as_kubectl_get_events_shows_it() -> None:
    event = {"metadata": meta("web-0.17a"), "type": "Warning", "reason": "BackOff",
             "message": "Back-off restarting failed container app\n",
             "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
             "source": {"component": "kubelet", "host": "node-1"},
             "firstTimestamp": ago(minutes=9), "lastTimestamp": ago(seconds=30), "count": 7}
    assert row("Event", event) == ["30s", "Warning", "BackOff", "pod/web-0", "spec.containers{app}",
                                   "kubelet, node-1", "Back-off restarting failed container app", "9m", 7,
                                   "web-0.17a"]


def test_hpa_row() -> None:
    hpa = {"metadata": meta("inference"),
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "inference"}, "minReplicas": 2,
                    "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": 80}}},
                                {"type": "Resource", "resource": {"name": "memory", "target": {
                                    "type": "AverageValue", "averageValue": "2Gi"}}}]},
           "status": {"currentReplicas": 3, "currentMetrics": [
               {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45}}}]}}
    assert row("HorizontalPodAutoscaler", hpa, "autoscaling") == [
        "inference", "Deployment/inference", "cpu: 45%/80%, memory: <unknown>/2Gi", "2", 10, 3, "5m"]


def test_pvc_row() -> None:
    bound = {"metadata": meta("models"),
             "spec": {"volumeName": "pv-1", "storageClassName": "fast", "accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "10Gi"}}},
             "status": {"phase": "Bound", "capacity": {"storage": "10Gi"},
                        "accessModes": ["ReadWriteMany", "ReadWriteOnce"]}}
    assert row("PersistentVolumeClaim", bound) == ["models", "Bound", "pv-1", "10Gi", "RWO,RWX", "fast",
                                                   "<unset>", "5m", "<unset>"]
    pending = {"metadata": meta("scratch"), "spec": {"storageClassName": "fast"},
               "status": {"phase": "Pending"}}
    assert row("PersistentVolumeClaim", pending)[1:6] == ["Pending", "", "", "", "fast"]


def test_generic_convertor_prints_created_at_in_rfc3339() -> None:
    role = {"metadata": {"name": "reader", "creationTimestamp": "2025-02-01T08:30:00Z"}}
    assert row("Role", role, "rbac.authorization.k8s.io") == ["reader", "2025-02-01T08:30:00Z"]


# --- custom resources -------------------------------------------------------------------------------------

MODEL = ResourceType(
    "ml.example.com", "v1", "InferenceModel", "inferencemodels", True, builtin=False,
    printer_columns=(
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
         "description": "Whether the model serves"},
        {"name": "Framework", "type": "string", "jsonPath": ".spec.framework", "priority": 1},
        {"name": "Labels", "type": "string", "jsonPath": ".metadata.labels"},
        {"name": "Score", "type": "number", "jsonPath": ".status.score"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ),
)


def test_crd_printer_columns() -> None:
    obj = {"apiVersion": "ml.example.com/v1", "kind": "InferenceModel",
           "metadata": {**meta("llama"), "labels": {"team": "ml", "app": "llama"}},
           "spec": {"replicas": 2},
           "status": {"score": 0.5, "conditions": [{"type": "Loaded", "status": "True"},
                                                   {"type": "Ready", "status": "False"}]}}
    table = to_table(MODEL, [obj], now=NOW)
    assert [(c["name"], c["type"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", 0), ("Replicas", "integer", 0), ("Ready", "string", 0), ("Framework", "string", 1),
        ("Labels", "string", 0), ("Score", "number", 0), ("Age", "date", 0)]
    assert table["columnDefinitions"][2]["description"] == "Whether the model serves"
    # a missing value is null (kubectl prints <none>); maps print as compact JSON with sorted keys
    assert table["rows"][0]["cells"] == ["llama", 2, "False", None, '{"app":"llama","team":"ml"}', 0.5, "5m"]


def test_crd_without_printer_columns_gets_age() -> None:
    plain = ResourceType("ml.example.com", "v1", "Dataset", "datasets", True, builtin=False)
    table = to_table(plain, [{"metadata": meta("imagenet")}], now=NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"] == ["imagenet", "5m"]


@pytest.mark.parametrize(("path", "want"), [
    (".spec.replicas", [3]),
    ("{.spec.replicas}", [3]),
    (".spec.containers[0].name", ["a"]),
    (".spec.containers[-1].name", ["b"]),
    (".spec.containers[*].name", ["a", "b"]),
    (".spec.containers[0:1].name", ["a"]),
    (".metadata.labels.app\\.kubernetes\\.io/name", ["web"]),
    (".metadata.labels['app.kubernetes.io/name']", ["web"]),
    ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
    (".status.conditions[?(@.type!='Ready')].type", ["Synced"]),
    (".status.conditions[?(@.observedGeneration>=2)].type", ["Synced"]),
    ("..name", ["a", "b"]),
    (".spec.missing.deeper", []),
])
def test_jsonpath_subset(path: str, want: list) -> None:
    obj = {"metadata": {"labels": {"app.kubernetes.io/name": "web"}},
           "spec": {"replicas": 3, "containers": [{"name": "a"}, {"name": "b"}]},
           "status": {"conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1},
                                     {"type": "Synced", "status": "True", "observedGeneration": 2}]}}
    assert jsonpath.find(obj, path) == want


@pytest.mark.parametrize(("value", "text"), [
    (1.5, "1.5"), (3.0, "3"), (123456.0, "123456"), (1e6, "1e+06"), (1234567.0, "1.234567e+06"),
    (0.0001, "0.0001"), (1e-05, "1e-05"), (-2.25, "-2.25"),
])
def test_string_columns_print_floats_like_go(value: float, text: str) -> None:
    assert go_float(value) == text


# --- includeObject, headers, list metadata ----------------------------------------------------------------

CM = {"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "cfg", "namespace": "eu", "uid": "u-1", "resourceVersion": "42",
                   "labels": {"a": "b"}, "annotations": {"x": "y"}, "creationTimestamp": ago(minutes=5)},
      "data": {"k": "v"}}


def test_include_object_metadata_is_partial_object_metadata() -> None:
    table = to_table(rt_of("ConfigMap"), [CM], now=NOW)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["rows"][0]["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                          "metadata": CM["metadata"]}
    assert to_table(rt_of("ConfigMap"), [CM], now=NOW, include_object="")["rows"][0]["object"]["kind"] == \
        "PartialObjectMetadata"


def test_include_object_object_and_none() -> None:
    assert to_table(rt_of("ConfigMap"), [CM], now=NOW, include_object="Object")["rows"][0]["object"] == CM
    bare = {k: v for k, v in CM.items() if k not in ("kind", "apiVersion")}
    full = to_table(rt_of("ConfigMap"), [bare], now=NOW, include_object="Object")["rows"][0]["object"]
    assert full["kind"] == "ConfigMap" and full["apiVersion"] == "v1"
    none_row = to_table(rt_of("ConfigMap"), [CM], now=NOW, include_object="None")["rows"][0]
    assert none_row["object"] is None and none_row["cells"] == ["cfg", 1, "5m"]


def test_unknown_include_object_is_rejected() -> None:
    with pytest.raises(ValueError, match='unrecognized includeObject value: "Everything"'):
        to_table(rt_of("ConfigMap"), [CM], now=NOW, include_object="Everything")


def test_headers_false_for_later_watch_events_and_list_metadata() -> None:
    first = to_table(rt_of("ConfigMap"), [CM], now=NOW, resource_version="42", continue_token="abc")
    later = to_table(rt_of("ConfigMap"), [CM], now=NOW, headers=False)
    assert first["metadata"] == {"resourceVersion": "42", "continue": "abc"}
    assert [c["name"] for c in first["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert later["columnDefinitions"] == [] and later["metadata"] == {}
    assert later["rows"] == first["rows"]


def test_empty_list_has_no_rows() -> None:
    table = to_table(rt_of("Pod"), [], now=NOW, resource_version="7")
    assert table["rows"] == [] and len(table["columnDefinitions"]) == 9


# --- real kubectl renders our Tables ----------------------------------------------------------------------

def _kubectl() -> str | None:
    found = shutil.which("kubectl")
    if found is None:
        return None
    pinned = Path(os.path.realpath(found)).parent / "kubectl.1.32"  # skip the gcloud version dispatcher
    return str(pinned) if pinned.exists() else found


def _api_resource(name: str, kind: str, short: list[str]) -> dict:
    return {"name": name, "singularName": kind.lower(), "namespaced": True, "kind": kind, "shortNames": short,
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}


@pytest.mark.kubectl
@pytest.mark.skipif(_kubectl() is None, reason="kubectl is not on PATH")
async def test_kubectl_prints_our_tables(tmp_path: Path) -> None:
    now = datetime.now(UTC)

    def stamp(delta: timedelta) -> str:
        return (now - delta).strftime("%Y-%m-%dT%H:%M:%SZ")

    crashing = pod([{"name": "app", "ready": False, "restartCount": 3,
                     "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                     "lastState": {"terminated": {"exitCode": 1,
                                                  "finishedAt": stamp(timedelta(minutes=10))}}}])
    crashing["metadata"].update(creationTimestamp=stamp(timedelta(hours=3)), labels={"app": "web"})
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "inference", "namespace": "default",
                           "creationTimestamp": stamp(timedelta(days=2))},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "inference"}},
                       "template": {"spec": {"containers": [{"name": "server", "image": "triton:24.01"}]}}},
              "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    seen_accept: list[str] = []

    async def serve(request: web.Request) -> web.Response:
        path = request.path
        if path == "/api":
            return web.json_response({"kind": "APIVersions", "versions": ["v1"],
                                      "serverAddressByClientCIDRs": [
                                          {"clientCIDR": "0.0.0.0/0", "serverAddress": request.host}]})
        if path == "/apis":
            return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]})
        if path == "/api/v1":
            return web.json_response({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
                                      "resources": [_api_resource("pods", "Pod", ["po"])]})
        if path == "/apis/apps/v1":
            return web.json_response({"kind": "APIResourceList", "apiVersion": "v1",
                                      "groupVersion": "apps/v1",
                                      "resources": [_api_resource("deployments", "Deployment", ["deploy"])]})
        routes = {"/api/v1/namespaces/default/pods": ("Pod", "", crashing),
                  "/api/v1/pods": ("Pod", "", crashing),
                  "/apis/apps/v1/namespaces/default/deployments": ("Deployment", "apps", deploy)}
        if path in routes:
            seen_accept.append(request.headers.get("Accept", ""))
            kind, group, obj = routes[path]
            include = request.query.get("includeObject", "Metadata")
            return web.json_response(to_table(rt_of(kind, group), [obj], now=datetime.now(UTC),
                                              include_object=include, resource_version="10"))
        return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                  "reason": "NotFound", "code": 404, "message": f"{path} not found"},
                                 status=404)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        async def kubectl(*args: str) -> list[list[str]]:
            proc = await asyncio.create_subprocess_exec(
                _kubectl(), "--server", f"http://127.0.0.1:{port}", "--cache-dir", str(tmp_path / "cache"),
                "--request-timeout", "20s", *args,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env={**os.environ, "KUBECONFIG": str(tmp_path / "none"), "HOME": str(tmp_path)})
            out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
            assert proc.returncode == 0, err.decode()
            return [line.split() for line in out.decode().splitlines()]

        assert await kubectl("get", "pods") == [
            ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            ["web-0", "0/1", "CrashLoopBackOff", "3", "(10m", "ago)", "3h"]]
        wide = await kubectl("get", "pods", "-o", "wide")
        assert wide[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                           "READINESS", "GATES"]
        assert wide[1][-4:] == ["10.0.0.7", "node-1", "<none>", "<none>"]
        everywhere = await kubectl("get", "pods", "-A", "--show-labels")
        assert everywhere[0][0] == "NAMESPACE" and everywhere[0][-1] == "LABELS"
        assert everywhere[1][0] == "default" and everywhere[1][-1] == "app=web"
        assert await kubectl("get", "deploy") == [["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
                                                  ["inference", "2/3", "3", "2", "2d"]]
        assert all("as=Table" in accept for accept in seen_accept)
    finally:
        await runner.cleanup()
