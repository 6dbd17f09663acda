"""Scheduler, kubelet, Services, Endpoints, PVCs and sidecar injection, through the official client."""

from __future__ import annotations

import ipaddress
import re

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from kubesim.cluster import ClusterOptions
from tests.kubesim.conftest import Clients, wait_for

GPU = "nvidia.com/gpu"
NO_GPU_MESSAGE = ("0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are "
                  "available: 3 No preemption victims found for incoming pod.")


@pytest.fixture
def sim_options() -> ClusterOptions:
    return ClusterOptions(speed=50.0, nodes=3)


def gpu_node(name: str, gpus: int) -> dict:
    """A Node as someone adding GPU capacity would post it (its kubelet fills in conditions and addresses)."""
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "110", GPU: str(gpus)}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"capacity": capacity, "allocatable": dict(capacity)}}


def container(image: str = "nginx:1.25", name: str = "main", gpus: int = 0, ready_delay: int | None = None,
              ports: list[k8s.V1ContainerPort] | None = None) -> k8s.V1Container:
    resources = k8s.V1ResourceRequirements(limits={GPU: str(gpus)}) if gpus else None
    probe = None
    if ready_delay is not None:
        probe = k8s.V1Probe(initial_delay_seconds=ready_delay,
                            http_get=k8s.V1HTTPGetAction(path="/", port=80))
    return k8s.V1Container(name=name, image=image, resources=resources, readiness_probe=probe, ports=ports)


def pod(name: str, *containers: k8s.V1Container, labels: dict | None = None,
        restart_policy: str | None = None) -> k8s.V1Pod:
    return k8s.V1Pod(metadata=k8s.V1ObjectMeta(name=name, labels=labels),
                     spec=k8s.V1PodSpec(containers=list(containers) or [container()],
                                        restart_policy=restart_policy))


def cond(obj: object, kind: str) -> k8s.V1PodCondition | None:
    return next((c for c in obj.status.conditions or [] if c.type == kind), None)


def is_ready(p: k8s.V1Pod) -> bool:
    ready = cond(p, "Ready")
    return ready is not None and ready.status == "True"


def read(kube: Clients, name: str, namespace: str = "default") -> k8s.V1Pod:
    return kube.core_v1.read_namespaced_pod(name, namespace)


def events_for(kube: Clients, name: str, namespace: str = "default") -> list[k8s.CoreV1Event]:
    return [e for e in kube.core_v1.list_namespaced_event(namespace).items if e.involved_object.name == name]


def test_create_sets_pending_phase_and_qos_class(kube: Clients) -> None:
    guaranteed = container(name="g")
    guaranteed.resources = k8s.V1ResourceRequirements(limits={"cpu": "500m", "memory": "128Mi"})
    created = kube.core_v1.create_namespaced_pod("default", pod("qos", guaranteed))
    assert created.status.phase == "Pending"
    assert created.status.qos_class == "Guaranteed"
    best_effort = kube.core_v1.create_namespaced_pod("default", pod("plain"))
    assert best_effort.status.qos_class == "BestEffort"


def unschedulable(kube: Clients, name: str) -> k8s.V1PodCondition | None:
    scheduled = cond(read(kube, name), "PodScheduled")
    return scheduled if scheduled is not None and scheduled.reason == "Unschedulable" else None


def running_and_ready(kube: Clients, name: str) -> k8s.V1Pod:
    return wait_for(lambda: (p := read(kube, name)).status.phase == "Running" and is_ready(p) and p,
                    message=f"{name} Running and Ready")


def test_gpu_pod_waits_for_a_gpu_node_then_runs(kube: Clients) -> None:
    kube.core_v1.create_namespaced_pod("default", pod("trainer", container("model:v1", gpus=1)))
    scheduled = wait_for(lambda: unschedulable(kube, "trainer"), message="trainer Unschedulable")
    assert scheduled.status == "False"
    assert scheduled.message == NO_GPU_MESSAGE
    trainer = read(kube, "trainer")
    assert trainer.status.phase == "Pending" and trainer.spec.node_name is None
    # A change elsewhere makes the scheduler look again, but the same verdict is not reported twice.
    kube.core_v1.create_namespaced_pod("default", pod("bystander"))
    running_and_ready(kube, "bystander")
    kube.core_v1.delete_namespaced_pod("bystander", "default")
    failed = [e for e in events_for(kube, "trainer") if e.reason == "FailedScheduling"]
    assert [(e.type, e.message, e.count) for e in failed] == [("Warning", NO_GPU_MESSAGE, 1)]

    kube.core_v1.create_node(gpu_node("gpu-node-1", gpus=1))
    running = running_and_ready(kube, "trainer")
    assert running.spec.node_name == "gpu-node-1"
    assert cond(running, "PodScheduled").status == "True"
    assert ipaddress.ip_address(running.status.pod_ip) in ipaddress.ip_network("10.244.0.0/16")

    def node_ip() -> str | None:
        addresses = kube.core_v1.read_node("gpu-node-1").status.addresses or []
        return next((a.address for a in addresses if a.type == "InternalIP"), None)

    wait_for(lambda: (ip := node_ip()) and read(kube, "trainer").status.host_ip == ip,
             message="the pod's hostIP is its node's InternalIP")
    assert any(e.reason == "Scheduled" and e.message == "Successfully assigned default/trainer to gpu-node-1"
               for e in events_for(kube, "trainer"))


def test_gpu_deployment_waits_for_a_gpu_node_then_becomes_available(kube: Clients) -> None:
    labels = {"app": "inference"}
    kube.apps_v1.create_namespaced_deployment("default", k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="inference"),
        spec=k8s.V1DeploymentSpec(replicas=2, selector=k8s.V1LabelSelector(match_labels=labels),
                                  template=k8s.V1PodTemplateSpec(
                                      metadata=k8s.V1ObjectMeta(labels=labels),
                                      spec=k8s.V1PodSpec(containers=[container("model:v1", gpus=4)])))))

    def pending_pods() -> list[str]:
        pods = kube.core_v1.list_namespaced_pod("default", label_selector="app=inference").items
        names = [p.metadata.name for p in pods]
        return names if len(names) == 2 and all(unschedulable(kube, n) for n in names) else []

    for name in wait_for(pending_pods, message="the Deployment's pods Unschedulable"):
        assert unschedulable(kube, name).message == NO_GPU_MESSAGE
    kube.core_v1.create_node(gpu_node("gpu-node-1", gpus=8))
    for name in [p.metadata.name for p in kube.core_v1.list_namespaced_pod(
            "default", label_selector="app=inference").items]:
        assert running_and_ready(kube, name).spec.node_name == "gpu-node-1"
    wait_for(lambda: kube.apps_v1.read_namespaced_deployment("inference", "default").status.available_replicas
             == 2, message="the GPU Deployment available")


def test_pod_runs_and_becomes_ready_after_the_probe_delay(kube: Clients) -> None:
    kube.core_v1.create_namespaced_pod("default", pod("slow", container(ready_delay=100)))  # 2 s at speed 50
    kube.core_v1.create_namespaced_pod("default", pod("fast"))
    running = wait_for(lambda: (p := read(kube, "slow")).status.phase == "Running" and p,
                       message="slow running")
    assert not is_ready(running), "Ready before the readiness probe's initialDelaySeconds"
    status = running.status.container_statuses[0]
    assert status.state.running.started_at is not None and status.started is True
    assert cond(running, "Ready").reason == "ContainersNotReady"
    assert running.status.host_ip and running.status.pod_ip and running.status.start_time
    fast = wait_for(lambda: is_ready(p := read(kube, "fast")) and p, message="fast Ready")
    assert fast.status.container_statuses[0].ready is True
    assert {c.type for c in fast.status.conditions} >= {"Initialized", "ContainersReady", "Ready",
                                                        "PodScheduled"}
    assert all(c.last_transition_time is not None for c in fast.status.conditions)
    wait_for(lambda: is_ready(read(kube, "slow")), message="slow Ready after its delay")
    reasons = [e.reason for e in events_for(kube, "fast")]
    for reason in ("Scheduled", "Pulling", "Pulled", "Created", "Started"):
        assert reason in reasons


def test_crashing_image_goes_into_crash_loop_backoff(kube: Clients) -> None:
    kube.core_v1.create_namespaced_pod("default", pod("crash", container("model:v2-crash")))
    counts: list[int] = []

    def looping() -> k8s.V1ContainerStatus | None:
        p = read(kube, "crash")
        assert not is_ready(p)
        status = (p.status.container_statuses or [None])[0]
        if status is None:
            return None
        counts.append(status.restart_count)
        waiting = status.state.waiting
        in_loop = waiting is not None and waiting.reason == "CrashLoopBackOff"
        return status if in_loop and status.restart_count >= 2 else None

    status = wait_for(looping, message="CrashLoopBackOff with two restarts")
    assert counts == sorted(counts), f"restartCount went down: {counts}"
    assert re.fullmatch(r"back-off (\d+s|\d+m\d+s) restarting failed container=main pod=crash_default\(.+\)",
                        status.state.waiting.message)
    assert status.last_state.terminated.exit_code == 1 and status.last_state.terminated.reason == "Error"
    assert status.ready is False
    assert read(kube, "crash").status.phase == "Running"
    assert any(e.reason == "BackOff" and e.type == "Warning" for e in events_for(kube, "crash"))


def test_missing_image_goes_into_image_pull_backoff(kube: Clients) -> None:
    image = "registry.example.com/model:does-not-exist"
    kube.core_v1.create_namespaced_pod("default", pod("pull", container(image)))

    def backing_off() -> k8s.V1ContainerStateWaiting | None:
        p = read(kube, "pull")
        assert not is_ready(p)
        waiting = p.status.container_statuses and p.status.container_statuses[0].state.waiting
        return waiting if waiting and waiting.reason == "ImagePullBackOff" else None

    waiting = wait_for(backing_off, message="ImagePullBackOff")
    assert waiting.message == f'Back-off pulling image "{image}"'
    assert read(kube, "pull").status.phase == "Pending"
    messages = {(e.reason, e.message) for e in events_for(kube, "pull")}
    assert ("Failed", "Error: ErrImagePull") in messages and ("BackOff", waiting.message) in messages


def test_run_to_completion_pods_succeed_or_fail(kube: Clients) -> None:
    kube.core_v1.create_namespaced_pod("default", pod("once", restart_policy="Never"))
    kube.core_v1.create_namespaced_pod("default", pod("broken", container("tool:v1-crash"),
                                                      restart_policy="Never"))
    done = wait_for(lambda: (p := read(kube, "once")).status.phase == "Succeeded" and p, message="Succeeded")
    terminated = done.status.container_statuses[0].state.terminated
    assert terminated.exit_code == 0 and terminated.reason == "Completed"
    assert cond(done, "Ready").reason == "PodCompleted"
    failed = wait_for(lambda: (p := read(kube, "broken")).status.phase == "Failed" and p, message="Failed")
    assert failed.status.container_statuses[0].state.terminated.exit_code == 1


def test_services_get_addresses_and_endpoints(kube: Clients) -> None:
    web_port = [k8s.V1ContainerPort(container_port=8080, name="http")]
    kube.core_v1.create_namespaced_pod("default", pod("web-1", container(ports=web_port),
                                                      labels={"app": "web"}))
    kube.core_v1.create_namespaced_pod("default", pod("web-2", container(ready_delay=100_000, ports=web_port),
                                                      labels={"app": "web"}))
    ports = [k8s.V1ServicePort(name="http", port=80, target_port="http")]
    cluster_ip = kube.core_v1.create_namespaced_service("default", k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="web"), spec=k8s.V1ServiceSpec(selector={"app": "web"}, ports=ports)))
    assert ipaddress.ip_address(cluster_ip.spec.cluster_ip) in ipaddress.ip_network("10.96.0.0/12")
    assert cluster_ip.spec.cluster_ips == [cluster_ip.spec.cluster_ip]
    headless = kube.core_v1.create_namespaced_service("default", k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="web-headless"),
        spec=k8s.V1ServiceSpec(cluster_ip="None", selector={"app": "web"}, ports=ports)))
    assert headless.spec.cluster_ip == "None"
    balancer = kube.core_v1.create_namespaced_service("default", k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="web-public"),
        spec=k8s.V1ServiceSpec(type="LoadBalancer", selector={"app": "web"}, ports=ports)))
    assert 30000 <= balancer.spec.ports[0].node_port <= 32767

    # A re-apply that leaves the allocated values out keeps them; taking one that is in use is refused.
    replaced = kube.core_v1.replace_namespaced_service("web-public", "default", k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="web-public", resource_version=balancer.metadata.resource_version),
        spec=k8s.V1ServiceSpec(type="LoadBalancer", selector={"app": "web"}, ports=ports)))
    assert replaced.spec.cluster_ip == balancer.spec.cluster_ip
    assert replaced.spec.ports[0].node_port == balancer.spec.ports[0].node_port
    with pytest.raises(ApiException) as err:
        kube.core_v1.create_namespaced_service("default", k8s.V1Service(
            metadata=k8s.V1ObjectMeta(name="thief"),
            spec=k8s.V1ServiceSpec(cluster_ip=cluster_ip.spec.cluster_ip, ports=ports)))
    assert err.value.status == 422 and "provided IP is already allocated" in err.value.body

    ingress = wait_for(lambda: (kube.core_v1.read_namespaced_service("web-public", "default").status
                                .load_balancer.ingress), message="a load balancer IP")
    assert ingress[0].ip.startswith("172.18.255.")

    ready_ip = wait_for(lambda: is_ready(p := read(kube, "web-1")) and p.status.pod_ip, message="web-1 Ready")
    unready_ip = wait_for(lambda: read(kube, "web-2").status.pod_ip, message="web-2 has an IP")

    def endpoints() -> k8s.V1EndpointSubset | None:
        subsets = kube.core_v1.read_namespaced_endpoints("web", "default").subsets or []
        subset = subsets[0] if subsets else None
        return subset if subset and subset.addresses and subset.not_ready_addresses else None

    subset = wait_for(endpoints, message="Endpoints with ready and unready addresses")
    assert [a.ip for a in subset.addresses] == [ready_ip]
    assert subset.addresses[0].target_ref.name == "web-1"
    assert [a.ip for a in subset.not_ready_addresses] == [unready_ip]
    assert [(p.name, p.port, p.protocol) for p in subset.ports] == [("http", 8080, "TCP")]

    kube.core_v1.delete_namespaced_pod("web-1", "default")
    wait_for(lambda: not (kube.core_v1.read_namespaced_endpoints("web", "default").subsets[0].addresses),
             message="the deleted pod leaves the Endpoints")


def test_persistent_volume_claim_gets_bound(kube: Clients) -> None:
    kube.core_v1.create_namespaced_persistent_volume_claim("default", k8s.V1PersistentVolumeClaim(
        metadata=k8s.V1ObjectMeta(name="models"),
        spec=k8s.V1PersistentVolumeClaimSpec(access_modes=["ReadWriteOnce"],
                                             resources=k8s.V1VolumeResourceRequirements(
                                                 requests={"storage": "20Gi"}))))
    claim = wait_for(lambda: (c := kube.core_v1.read_namespaced_persistent_volume_claim("models", "default"))
                     .status.phase == "Bound" and c, message="the claim Bound")
    assert claim.spec.volume_name == f"pvc-{claim.metadata.uid}"
    assert claim.status.capacity == {"storage": "20Gi"}
    assert claim.status.access_modes == ["ReadWriteOnce"]


def test_sidecar_is_injected_only_in_labelled_namespaces(kube: Clients) -> None:
    kube.core_v1.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(
        name="meshed", labels={"sidecar-injection": "enabled"})))
    kube.core_v1.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="plain")))
    labels = {"app": "api"}

    def deployment() -> k8s.V1Deployment:
        return k8s.V1Deployment(metadata=k8s.V1ObjectMeta(name="api"), spec=k8s.V1DeploymentSpec(
            selector=k8s.V1LabelSelector(match_labels=labels), template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels), spec=k8s.V1PodSpec(containers=[container()]))))

    meshed = kube.apps_v1.create_namespaced_deployment("meshed", deployment())
    names = [c.name for c in meshed.spec.template.spec.containers]
    assert names == ["main", "mesh-proxy"]
    proxy = meshed.spec.template.spec.containers[1]
    assert proxy.image == "kubesim/mesh-proxy:1.0" and proxy.ports[0].container_port == 15001
    assert proxy.image_pull_policy == "IfNotPresent"
    assert meshed.spec.template.metadata.annotations == {"sidecar.fleetline.io/injected": "true"}
    plain = kube.apps_v1.create_namespaced_deployment("plain", deployment())
    assert [c.name for c in plain.spec.template.spec.containers] == ["main"]
    assert not plain.spec.template.metadata.annotations

    # Applying the Git version again (one container) gets the sidecar back: the live object keeps two.
    def replace_with_git_version() -> k8s.V1Deployment:
        live = kube.apps_v1.read_namespaced_deployment("api", "meshed")
        live.spec.template.spec.containers = [container()]
        return kube.apps_v1.replace_namespaced_deployment("api", "meshed", live)  # retried on a 409

    replaced = wait_for(replace_with_git_version, message="the Deployment replaced")
    assert [c.name for c in replaced.spec.template.spec.containers] == ["main", "mesh-proxy"]

    bare = kube.core_v1.create_namespaced_pod("meshed", pod("bare"))
    assert [c.name for c in bare.spec.containers] == ["main", "mesh-proxy"]
    assert bare.metadata.annotations == {"sidecar.fleetline.io/injected": "true"}
    unmeshed = kube.core_v1.create_namespaced_pod("plain", pod("bare"))
    assert [c.name for c in unmeshed.spec.containers] == ["main"]
    pods = wait_for(lambda: kube.core_v1.list_namespaced_pod("meshed", label_selector="app=api").items,
                    message="the meshed Deployment's pod")
    assert [c.name for c in pods[0].spec.containers] == ["main", "mesh-proxy"]
    wait_for(lambda: is_ready(read(kube, "bare", "meshed")), message="the injected pod Ready")


def test_events_list_in_the_order_they_happened_and_repeats_aggregate(sim) -> None:
    from kubesim.api import WriteOptions
    from kubesim.controllers.events import record_event

    def record(api):
        cm = api.create(api.type("", "ConfigMap"), "default", {"metadata": {"name": "evented"}}, WriteOptions("t"))
        for reason in ("Zeta", "Alpha", "Mid", "Alpha"):
            record_event(api, cm, "Normal", reason, f"{reason} happened", "tester")
        events = [e for e in api.list(api.type("", "Event"), "default").items
                  if e["involvedObject"]["name"] == "evented"]
        return [(e["reason"], e["count"]) for e in events]

    assert sim.call(record) == [("Zeta", 1), ("Alpha", 2), ("Mid", 1)]
