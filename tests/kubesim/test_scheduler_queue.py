"""The scheduler's queue: no full pod scans per attempt, back-off for unschedulable pods, batched retries."""

from __future__ import annotations

from kubernetes import client as k8s

from kubesim import store as store_module
from kubesim.api import ClusterAPI, WriteOptions
from kubesim.clock import Clock
from kubesim.cluster import ClusterOptions, node_manifest
from kubesim.controllers import default_controllers
from kubesim.controllers import scheduler as scheduler_module
from kubesim.controllers.pods import PODS
from kubesim.controllers.scheduler import SCHEDULE_BATCH, SCHEDULING_QUEUE, Scheduler
from tests.kubesim.conftest import Clients, wait_for

OPTS = WriteOptions("test")


def cluster(gpus: int, speed: float = 1.0) -> ClusterAPI:
    api = ClusterAPI("queue", clock=Clock(speed))
    default_controllers(api, False)  # registers the Pod admission plug-in
    api.create(api.type("", "Node"), "", node_manifest("gpu-1", "64", "256Gi", gpus, now=api.clock.timestamp()), OPTS)
    return api


def gpu_pod(api: ClusterAPI, name: str) -> None:
    api.create(api.type("", "Pod"), "default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "containers": [{"name": "m", "image": "model:v1", "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}, OPTS)


def drain(scheduler: Scheduler, sub: store_module.Subscription) -> list[float]:
    """Play the controller manager: feed events to the scheduler, run what they make dirty; the delays asked."""
    delays = []
    while not sub.queue.empty():
        event = sub.queue.get_nowait()
        if event.resource not in scheduler.watches:
            continue
        for key in dict.fromkeys(scheduler.keys_for(event)):
            while (again := scheduler.reconcile(key)) == 0.0:
                pass
            if again is not None:
                delays.append(again)
    return delays


def bound(api: ClusterAPI) -> list[str]:
    return [p["metadata"]["name"] for p in api.store.list(PODS) if p["spec"].get("nodeName")]


def test_an_attempt_does_not_scan_every_pod(monkeypatch) -> None:
    api = cluster(gpus=1)
    scheduler = Scheduler(api)
    sub = api.store.subscribe(None)
    for i in range(40):
        gpu_pod(api, f"p{i:02}")
    scans = []
    original = store_module.Store.list
    monkeypatch.setattr(store_module.Store, "list", lambda self, resource, namespace=None: (
        scans.append(resource) if resource == PODS else None, original(self, resource, namespace))[1])
    drain(scheduler, sub)
    assert scans == []  # the bound pods come from the scheduler's index, not a scan per attempt
    monkeypatch.undo()
    assert len(bound(api)) == 1


def test_unschedulable_pods_back_off_and_retry_in_batches(monkeypatch) -> None:
    api = cluster(gpus=1)
    scheduler = Scheduler(api)
    sub = api.store.subscribe(None)
    count = SCHEDULE_BATCH * 2 + 10
    for i in range(count):
        gpu_pod(api, f"p{i:03}")
    drain(scheduler, sub)
    first = bound(api)
    assert len(first) == 1
    attempts = []
    original = scheduler_module.choose_node

    def counting_choose_node(pod, *rest):  # noqa: ANN001, ANN202 - same signature as choose_node
        attempts.append(pod)
        return original(pod, *rest)

    monkeypatch.setattr(scheduler_module, "choose_node", counting_choose_node)

    # A freed GPU right after their first attempt: the waiting pods are still in back-off (1 s at speed 1).
    api.delete(api.type("", "Pod"), "default", first[0])
    delays = drain(scheduler, sub)
    assert attempts == [] and bound(api) == []
    assert delays and 0 < min(delays) <= 1.0

    # New capacity is tried at once, in batches that let the event loop run in between.
    api.create(api.type("", "Node"), "", node_manifest("gpu-2", "64", "256Gi", 2, now=api.clock.timestamp()), OPTS)
    event = None
    while not sub.queue.empty():
        event = sub.queue.get_nowait()
    assert event is not None and event.resource == ("", "nodes")
    assert list(scheduler.keys_for(event)) == [SCHEDULING_QUEUE]
    assert scheduler.reconcile(SCHEDULING_QUEUE) == 0.0  # more are due: yield, then go on
    assert len(attempts) == SCHEDULE_BATCH
    while scheduler.reconcile(SCHEDULING_QUEUE) == 0.0:
        pass
    assert len(attempts) == count - 1 and len(bound(api)) == 3  # gpu-1 freed one, gpu-2 brings two
    # The pods that failed again wait out a longer back-off; a status-only write does not retry them.
    attempts.clear()
    drain(scheduler, sub)
    assert attempts == []


def gpu_deployment(replicas: int) -> k8s.V1Deployment:
    labels = {"app": "gpu"}
    ctr = k8s.V1Container(name="m", image="model:v1",
                          resources=k8s.V1ResourceRequirements(limits={"nvidia.com/gpu": "1"}))
    return k8s.V1Deployment(metadata=k8s.V1ObjectMeta(name="gpu"), spec=k8s.V1DeploymentSpec(
        replicas=replicas, selector=k8s.V1LabelSelector(match_labels=labels),
        template=k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels=labels), spec=k8s.V1PodSpec(containers=[ctr]))))


def test_a_freed_gpu_goes_to_a_waiting_pod(sim_options: ClusterOptions, kube: Clients) -> None:
    kube.core_v1.create_node(k8s.V1Node(metadata=k8s.V1ObjectMeta(name="gpu-node"), status=k8s.V1NodeStatus(
        capacity={"cpu": "64", "memory": "256Gi", "pods": "110", "nvidia.com/gpu": "2"},
        allocatable={"cpu": "64", "memory": "256Gi", "pods": "110", "nvidia.com/gpu": "2"})))
    kube.apps_v1.create_namespaced_deployment("default", gpu_deployment(60))

    def pods_by_state() -> tuple[list[str], list[str]]:
        items = kube.core_v1.list_namespaced_pod("default", label_selector="app=gpu").items
        return ([p.metadata.name for p in items if p.status.phase == "Running"],
                [p.metadata.name for p in items if p.spec.node_name is None and any(
                    c.type == "PodScheduled" and c.status == "False" for c in p.status.conditions or ())])

    running, _ = wait_for(lambda: (s := pods_by_state()) and len(s[0]) == 2 and len(s[1]) == 58 and s,
                          message="2 GPU pods running, 58 Unschedulable")
    kube.core_v1.delete_namespaced_pod(running[0], "default", grace_period_seconds=0)
    wait_for(lambda: (s := pods_by_state()) and len(s[0]) == 2 and running[0] not in s[0] and len(s[1]) == 58,
             message="a waiting pod takes the freed GPU")
