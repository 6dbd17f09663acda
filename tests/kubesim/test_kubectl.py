"""Real kubectl against a live kubesim, with the generated kubeconfig, as a user would run it."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from kubesim.cluster import ClusterOptions
from tests.kubesim.conftest import Kubectl, wait_for

pytestmark = pytest.mark.kubectl

WEB_V1 = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: default
data:
  model: v1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        env:
        - {name: MODEL, value: v1}
        - {name: DEBUG, value: "1"}
      - name: sidecar
        image: busybox:1.36
"""

WEB_V2 = WEB_V1.replace("""        - {name: DEBUG, value: "1"}
      - name: sidecar
        image: busybox:1.36
""", "")


@pytest.fixture
def sim_options() -> ClusterOptions:
    return ClusterOptions(speed=50.0, nodes=3)


def get_json(kubectl: Kubectl, *args: str) -> dict:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def test_get_lists_namespaces_nodes_and_all_namespaces(kubectl: Kubectl) -> None:
    out = kubectl("get", "namespaces").stdout
    assert out.split("\n")[0].split() == ["NAME", "STATUS", "AGE"]
    assert "kube-system" in out and "Active" in out
    nodes = kubectl("get", "nodes").stdout
    assert "sim-node-1" in nodes and "Ready" in nodes
    kubectl("apply", "-f", "-", input=WEB_V1)
    wide = kubectl("get", "pods", "-A").stdout
    assert wide.split("\n")[0].split()[:2] == ["NAMESPACE", "NAME"]
    doc = yaml.safe_load(kubectl("get", "configmap", "web-config", "-o", "yaml").stdout)
    assert doc["data"] == {"model": "v1"} and doc["metadata"]["resourceVersion"].isdigit()
    assert "managedFields" not in doc["metadata"]  # hidden by kubectl, but present on the server
    assert get_json(kubectl, "deployment", "web")["spec"]["replicas"] == 2


def test_get_watch_receives_a_change(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=WEB_V1.split("---")[0])
    watcher = kubectl.popen("get", "configmap", "web-config", "-w", "-o", "json")
    try:
        first = watcher.stdout.readline()
        assert "web-config" in first or first.strip() == "{"
        kubectl("label", "configmap", "web-config", "changed=yes")
        seen = ""
        deadline = time.monotonic() + 20
        while "changed" not in seen and time.monotonic() < deadline:
            line = watcher.stdout.readline()
            if not line:
                break
            seen += line
        assert '"changed": "yes"' in seen
    finally:
        watcher.kill()
        watcher.wait()


def test_apply_twice_removes_a_container_and_an_env_var(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=WEB_V1)
    live = get_json(kubectl, "deployment", "web")
    assert [c["name"] for c in live["spec"]["template"]["spec"]["containers"]] == ["nginx", "sidecar"]
    kubectl("apply", "-f", "-", input=WEB_V2)
    live = get_json(kubectl, "deployment", "web")
    containers = live["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["nginx"]
    assert [e["name"] for e in containers[0]["env"]] == ["MODEL"]
    assert live["metadata"]["generation"] == 2


def test_server_side_apply_conflict_after_set_image_then_force(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "-f", "-", input=WEB_V1)
    kubectl("set", "image", "deployment/web", "nginx=nginx:1.27")
    proc = kubectl("apply", "--server-side", "-f", "-", input=WEB_V1, check=False)
    assert proc.returncode != 0
    assert 'conflict with "kubectl-set"' in proc.stderr
    assert ".spec.template.spec.containers[name=\"nginx\"].image" in proc.stderr
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=WEB_V1)
    live = get_json(kubectl, "deployment", "web")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    managers = {e["manager"] for e in get_json(kubectl, "deployment", "web", "--show-managed-fields")
                ["metadata"]["managedFields"]}
    assert "kubectl" in managers


def test_diff_exit_codes(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=WEB_V1)
    assert kubectl("diff", "-f", "-", input=WEB_V1, check=False).returncode == 0
    changed = kubectl("diff", "-f", "-", input=WEB_V1.replace("model: v1", "model: v2"), check=False)
    assert changed.returncode == 1, changed.stderr
    assert "+  model: v2" in changed.stdout


def test_set_image_scale_patch_label_annotate_restart(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=WEB_V1)
    kubectl("set", "image", "deployment/web", "nginx=nginx:1.27")
    kubectl("scale", "deployment/web", "--replicas=4")
    kubectl("patch", "deployment", "web", "-p", '{"spec":{"template":{"spec":{"containers":'
            '[{"name":"sidecar","image":"busybox:1.37"}]}}}}')
    kubectl("patch", "deployment", "web", "--type=merge", "-p", '{"metadata":{"labels":{"tier":"frontend"}}}')
    kubectl("patch", "deployment", "web", "--type=json", "-p",
            '[{"op":"add","path":"/spec/minReadySeconds","value":1}]')
    kubectl("label", "deployment", "web", "team=ml")
    kubectl("annotate", "deployment", "web", "owner=platform")
    kubectl("rollout", "restart", "deployment/web")
    live = get_json(kubectl, "deployment", "web")
    containers = {c["name"]: c["image"] for c in live["spec"]["template"]["spec"]["containers"]}
    assert containers == {"nginx": "nginx:1.27", "sidecar": "busybox:1.37"}
    assert live["spec"]["replicas"] == 4 and live["spec"]["minReadySeconds"] == 1
    assert live["metadata"]["labels"] == {"app": "web", "tier": "frontend", "team": "ml"}
    assert live["metadata"]["annotations"]["owner"] == "platform"
    assert "kubectl.kubernetes.io/restartedAt" in live["spec"]["template"]["metadata"]["annotations"]


def test_rollout_status_and_wait_available(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=WEB_V1)
    out = kubectl("rollout", "status", "deployment/web", "--timeout=60s").stdout
    assert "successfully rolled out" in out
    kubectl("wait", "--for=condition=Available", "deployment/web", "--timeout=60s")
    table = kubectl("get", "deployment", "web").stdout.split("\n")
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[1] == "2/2"


def test_delete_returns_once_gone(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=WEB_V1)
    kubectl("delete", "deployment", "web", "--timeout=60s")
    proc = kubectl("get", "deployment", "web", check=False)
    assert proc.returncode == 1 and 'deployments.apps "web" not found' in proc.stderr
    wait_for(lambda: not get_json(kubectl, "replicasets")["items"], message="ReplicaSets garbage-collected")


def test_api_resources_and_events(kubectl: Kubectl) -> None:
    out = kubectl("api-resources").stdout
    for name in ("deployments", "horizontalpodautoscalers", "customresourcedefinitions", "poddisruptionbudgets"):
        assert name in out
    kubectl("apply", "-f", "-", input=WEB_V1)
    wait_for(lambda: "ScalingReplicaSet" in kubectl("get", "events").stdout, message="events")


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.example.com
spec:
  group: monitoring.example.com
  scope: Namespaced
  names: {plural: servicemonitors, singular: servicemonitor, kind: ServiceMonitor, shortNames: [smon]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""

MONITOR = """\
apiVersion: monitoring.example.com/v1
kind: ServiceMonitor
metadata: {name: inference, namespace: default}
spec:
  endpoints: [{port: metrics, interval: 30s}]
"""


def test_crd_then_custom_resource(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=CRD)
    kubectl("wait", "--for=condition=established", "crd/servicemonitors.monitoring.example.com", "--timeout=30s")
    kubectl("apply", "-f", "-", input=MONITOR)
    got = get_json(kubectl, "servicemonitors", "inference")
    assert got["spec"]["endpoints"][0]["port"] == "metrics"
    assert "inference" in kubectl("get", "smon").stdout
    kubectl("apply", "-f", "-", input=MONITOR.replace("30s", "10s"))  # client-side apply of a CR: merge patch
    assert get_json(kubectl, "servicemonitors", "inference")["spec"]["endpoints"][0]["interval"] == "10s"


def test_gpu_deployment_pending_until_a_gpu_node_joins(kubectl: Kubectl) -> None:
    deployment = WEB_V1.split("---")[1].replace("      - name: sidecar\n        image: busybox:1.36\n", "")
    deployment = deployment.replace("        image: nginx:1.25\n", "        image: nginx:1.25\n        resources:\n"
                                    "          limits: {nvidia.com/gpu: 2}\n")
    kubectl("apply", "-f", "-", input=deployment)

    def pending_message() -> str:
        pods = get_json(kubectl, "pods", "-l", "app=web")["items"]
        for pod in pods:
            for cond in pod.get("status", {}).get("conditions", []):
                if cond["type"] == "PodScheduled" and cond["status"] == "False":
                    return cond["message"] if cond.get("reason") == "Unschedulable" else ""
        return ""

    message = wait_for(pending_message, message="an Unschedulable pod")
    assert message.startswith("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.")
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-node-1"},
            "status": {"capacity": {"cpu": "32", "memory": "128Gi", "pods": "110", "nvidia.com/gpu": "8"},
                       "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110", "nvidia.com/gpu": "8"}}}
    kubectl("create", "-f", "-", input=json.dumps(node))
    kubectl("wait", "--for=condition=Available", "deployment/web", "--timeout=60s")


def test_drain_deletes_pods_with_protobuf_delete_options(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=WEB_V1)
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    node = get_json(kubectl, "pods", "-l", "app=web")["items"][0]["spec"]["nodeName"]
    kubectl("drain", node, "--ignore-daemonsets", "--disable-eviction", "--timeout=60s")
    assert get_json(kubectl, "node", node)["spec"]["unschedulable"] is True
    wait_for(lambda: all(p["spec"].get("nodeName") != node for p in get_json(kubectl, "pods", "-l", "app=web")
                         ["items"]), message=f"no web pod left on {node}")
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")


def test_scale_with_current_replicas_puts_a_scale_object(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=WEB_V1)
    kubectl("scale", "deployment/web", "--current-replicas=2", "--replicas=3")
    assert get_json(kubectl, "deployment", "web")["spec"]["replicas"] == 3
    proc = kubectl("scale", "deployment/web", "--current-replicas=2", "--replicas=5", check=False)
    assert proc.returncode != 0 and "expected replicas to be 2" in proc.stderr.lower() + proc.stdout.lower()


def test_reapplying_equivalent_quantities_changes_nothing(kubectl: Kubectl) -> None:
    manifest = WEB_V1.replace("        image: busybox:1.36\n", "        image: busybox:1.36\n        resources:\n"
                              "          requests: {cpu: 0.5}\n")
    kubectl("apply", "-f", "-", input=manifest)
    before = get_json(kubectl, "deployment", "web")["metadata"]
    kubectl("apply", "-f", "-", input=manifest)
    after = get_json(kubectl, "deployment", "web")["metadata"]
    assert after["generation"] == before["generation"] == 1
    assert after["resourceVersion"] == before["resourceVersion"]
