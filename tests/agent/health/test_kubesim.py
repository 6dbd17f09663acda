"""Real objects from a live kubesim over HTTP (the official client), judged by resource_health.

One cluster for the module (2 nodes with 1 GPU each, 20x simulated time); each test uses its own names.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.health import Health, HealthStatus, resource_health
from kubesim.cluster import ClusterOptions, node_manifest
from tests.kubesim.conftest import Clients, ClusterThread, make_clients, wait_for

NAMESPACE = "default"
GRACE = 600.0


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clients]:
    options = ClusterOptions(speed=20.0, nodes=2, gpus_per_node=1,
                             kubeconfig_dir=Path(tmp_path_factory.mktemp("health")) / "kubeconfigs")
    cluster = ClusterThread("health", options)
    clients = make_clients(cluster)
    try:
        yield clients
    finally:
        clients.api_client.close()
        cluster.stop()


def raw(response: object) -> dict:
    """The JSON body as the API sent it (not the client's typed model)."""
    return json.loads(response.data)  # type: ignore[attr-defined]


def live_deployment(kube: Clients, name: str) -> dict:
    return raw(kube.apps_v1.read_namespaced_deployment(name, NAMESPACE, _preload_content=False))


def live_job(kube: Clients, name: str) -> dict:
    return raw(kube.batch_v1.read_namespaced_job(name, NAMESPACE, _preload_content=False))


def live_pods(kube: Clients) -> list[dict]:
    return raw(kube.core_v1.list_namespaced_pod(NAMESPACE, _preload_content=False))["items"]


def health_of(kube: Clients, kind: str, name: str, now: float | None = None) -> Health:
    obj = live_deployment(kube, name) if kind == "Deployment" else live_job(kube, name)
    result = resource_health(obj, pods=live_pods(kube), now=now, gpu_grace_seconds=GRACE)
    assert result is not None
    return result


def create_deployment(kube: Clients, name: str, image: str, replicas: int, *, gpus: int = 0,
                      progress_deadline: int | None = None) -> None:
    resources = {"limits": {"nvidia.com/gpu": str(gpus)}} if gpus else {}
    spec: dict = {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                  "template": {"metadata": {"labels": {"app": name}},
                               "spec": {"containers": [{"name": "model", "image": image, "resources": resources}]}}}
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    kube.apps_v1.create_namespaced_deployment(NAMESPACE, {"apiVersion": "apps/v1", "kind": "Deployment",
                                                          "metadata": {"name": name}, "spec": spec})


def create_job(kube: Clients, name: str, image: str) -> None:
    kube.batch_v1.create_namespaced_job(NAMESPACE, {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 1, "template": {"spec": {"restartPolicy": "Never",
                                                          "containers": [{"name": "task", "image": image}]}}}})


def wait_for_health(kube: Clients, kind: str, name: str, status: HealthStatus, pattern: str = "",
                    now: float | None = None) -> Health:
    def check() -> Health | None:
        result = health_of(kube, kind, name, now)
        return result if result.status == status and re.search(pattern, result.message) else None
    return wait_for(check, timeout=20, message=f"{kind} {name} to be {status.value} matching {pattern!r}")


def test_deployment_becomes_healthy(kube: Clients) -> None:
    create_deployment(kube, "web", "nginx:1.27", 2)
    result = wait_for_health(kube, "Deployment", "web", HealthStatus.HEALTHY)
    assert result.message == "2/2 replicas available"


def test_crash_looping_deployment_is_degraded_with_reason_and_restarts(kube: Clients) -> None:
    create_deployment(kube, "inference", "model:v2-crash", 1)
    result = wait_for_health(kube, "Deployment", "inference", HealthStatus.DEGRADED, r"CrashLoopBackOff")
    assert re.fullmatch(r"0/1 replicas available; pod inference-\w+-\w+ CrashLoopBackOff \(restarts: [1-9]\d*\)",
                        result.message), result.message
    # Argo CD's rule alone (no pods) calls the same object Progressing
    alone = resource_health(live_deployment(kube, "inference"))
    assert alone is not None and alone.status == HealthStatus.PROGRESSING


def test_gpu_deployment_waits_then_degrades_then_heals_when_a_node_is_added(kube: Clients) -> None:
    # 3 replicas of 1 GPU on 2 nodes with 1 GPU each; a short progress deadline that Argo CD would call Degraded
    create_deployment(kube, "llm", "model:v1", 3, gpus=1, progress_deadline=30)
    wait_for(lambda: (live_deployment(kube, "llm")["status"].get("availableReplicas") == 2 and any(
        c.get("reason") == "ProgressDeadlineExceeded" for c in live_deployment(kube, "llm")["status"]["conditions"])),
        timeout=20, message="2 of 3 GPU replicas available and the progress deadline exceeded")
    waiting = health_of(kube, "Deployment", "llm")
    assert waiting.status == HealthStatus.PROGRESSING, waiting
    assert re.search(r"^2/3 replicas available; .*pod llm-\w+-\w+ waiting for GPU capacity: 0/2 nodes are "
                     r"available: 2 Insufficient nvidia.com/gpu\.", waiting.message), waiting.message

    later = health_of(kube, "Deployment", "llm", now=time.time() + GRACE + 60)
    assert later.status == HealthStatus.DEGRADED
    assert re.search(r"pod llm-\w+-\w+ waited 1[01]m\d*s? for GPU capacity \(grace 10m\): 0/2 nodes are available",
                     later.message), later.message

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    kube.core_v1.create_node(node_manifest("health-gpu-extra", "16", "64Gi", 1, index=9, now=now))
    healed = wait_for_health(kube, "Deployment", "llm", HealthStatus.HEALTHY)
    assert healed.message == "3/3 replicas available"


def test_completed_job_is_healthy_and_failed_job_degraded(kube: Clients) -> None:
    create_job(kube, "migrate", "busybox:1.36")
    create_job(kube, "broken", "busybox:1.36-crash")
    done = wait_for_health(kube, "Job", "migrate", HealthStatus.HEALTHY)
    assert done.message == "Reached expected number of succeeded pods"
    failed = wait_for_health(kube, "Job", "broken", HealthStatus.DEGRADED)
    assert failed.message.startswith("BackoffLimitExceeded: Job has reached the specified backoff limit; pod broken-")
