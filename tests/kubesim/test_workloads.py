"""The workload controllers (Deployments, ReplicaSets, StatefulSets, DaemonSets, HPAs) on a live kubesim,
through the official client over HTTP, and through the real kubectl where it is on PATH."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import watch

from kubesim.cluster import ClusterOptions
from tests.kubesim.conftest import Clients, ClusterThread, Kubectl, wait_for

NS = "default"


@pytest.fixture
def sim_options() -> ClusterOptions:
    return ClusterOptions(speed=50.0, nodes=3)


# -- helpers -------------------------------------------------------------------------------------------------------
def template(app: str, image: str = "nginx:1.25", extra_labels: dict | None = None) -> dict:
    return {"metadata": {"labels": {"app": app, **(extra_labels or {})}},
            "spec": {"containers": [{"name": "main", "image": image}]}}


def deployment(name: str, replicas: int = 3, image: str = "nginx:1.25", **spec: Any) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": template(name, image), **spec}}


def condition(obj: Any, kind: str) -> Any:
    return next((c for c in (obj.status.conditions or []) if c.type == kind), None)


def pod_is_ready(pod: k8s.V1Pod) -> bool:
    ready = condition(pod, "Ready") if pod.status else None
    return ready is not None and ready.status == "True"


def rollout_done(d: k8s.V1Deployment) -> bool:
    """kubectl rollout status' test for a Deployment."""
    s = d.status
    if s is None or (s.observed_generation or 0) < d.metadata.generation:
        return False
    progressing = condition(d, "Progressing")
    assert progressing is None or progressing.reason != "ProgressDeadlineExceeded", progressing.message
    updated = s.updated_replicas or 0
    return (updated == d.spec.replicas and (s.replicas or 0) == updated
            and (s.available_replicas or 0) == updated)


def read_deploy(kube: Clients, name: str) -> k8s.V1Deployment:
    return kube.apps_v1.read_namespaced_deployment(name, NS)


def wait_rolled_out(kube: Clients, name: str, timeout: float = 20.0) -> k8s.V1Deployment:
    return wait_for(lambda: (d := read_deploy(kube, name)) and rollout_done(d) and d, timeout,
                    message=f"deployment {name} to roll out")


def replica_sets(kube: Clients, app: str) -> list[k8s.V1ReplicaSet]:
    items = kube.apps_v1.list_namespaced_replica_set(NS, label_selector=f"app={app}").items
    return sorted(items, key=lambda rs: int(rs.metadata.annotations["deployment.kubernetes.io/revision"]))


def pods(kube: Clients, selector: str) -> list[k8s.V1Pod]:
    return kube.core_v1.list_namespaced_pod(NS, label_selector=selector).items


def events(kube: Clients, name: str, reason: str | None = None) -> list[str]:
    return [e.message for e in kube.core_v1.list_namespaced_event(NS).items
            if e.involved_object.name == name and (reason is None or e.reason == reason)]


def set_image(kube: Clients, name: str, image: str) -> None:
    kube.apps_v1.patch_namespaced_deployment(name, NS, {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": image}]}}}})


class PodWatch:
    """Watches pods in a thread and checks `check(pods_by_name, event_type, pod)` after every event."""

    def __init__(self, kube: Clients, selector: str, check: Callable[[dict, str, k8s.V1Pod], None]) -> None:
        listing = kube.core_v1.list_namespaced_pod(NS, label_selector=selector)
        self.pods: dict[str, k8s.V1Pod] = {p.metadata.name: p for p in listing.items}
        self.events: list[tuple[str, str]] = []
        self.failures: list[str] = []
        self._stopped = False
        self._watch = watch.Watch()
        self._thread = threading.Thread(target=self._run, daemon=True, args=(
            kube, selector, listing.metadata.resource_version, check))
        self._thread.start()

    def _run(self, kube: Clients, selector: str, rv: str, check: Callable) -> None:
        try:
            self._consume(kube, selector, rv, check)
        except Exception as exc:  # the cluster stopping under a watch that outlived its test
            if not self._stopped:
                self.failures.append(f"watch failed: {exc!r}")

    def _consume(self, kube: Clients, selector: str, rv: str, check: Callable) -> None:
        for event in self._watch.stream(kube.core_v1.list_namespaced_pod, NS, label_selector=selector,
                                        resource_version=rv, timeout_seconds=60):
            pod, kind = event["object"], event["type"]
            if kind not in ("ADDED", "MODIFIED", "DELETED"):
                continue
            if kind == "DELETED":
                self.pods.pop(pod.metadata.name, None)
            else:
                self.pods[pod.metadata.name] = pod
            self.events.append((kind, pod.metadata.name))
            try:
                check(self.pods, kind, pod)
            except AssertionError as exc:
                self.failures.append(str(exc))

    def stop(self) -> None:
        self._stopped = True
        self._watch.stop()


# -- Deployments -------------------------------------------------------------------------------------------------------
def test_deployment_becomes_available_through_a_replicaset(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("web"))
    d = wait_for(lambda: (d := read_deploy(kube, "web")) and condition(d, "Available") and
                 condition(d, "Available").status == "True" and (d.status.ready_replicas or 0) == 3 and d,
                 message="web to become Available with 3 ready pods")
    available = condition(d, "Available")
    assert (available.reason, available.message) == ("MinimumReplicasAvailable", "Deployment has minimum availability.")
    [rs] = replica_sets(kube, "web")
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{pod_hash}" and re.fullmatch("[bcdfghjklmnpqrstvwxz2456789]{1,10}", pod_hash)
    assert rs.spec.selector.match_labels == {"app": "web", "pod-template-hash": pod_hash}
    assert rs.spec.template.metadata.labels == {"app": "web", "pod-template-hash": pod_hash}
    [owner] = rs.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == ("Deployment", "web", d.metadata.uid, True)
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert rs.metadata.annotations["deployment.kubernetes.io/desired-replicas"] == "3"
    assert rs.metadata.annotations["deployment.kubernetes.io/max-replicas"] == "4"  # 3 + ceil(25% of 3)
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "1"

    d = wait_rolled_out(kube, "web")
    progressing = condition(d, "Progressing")
    assert (progressing.status, progressing.reason) == ("True", "NewReplicaSetAvailable")
    assert progressing.message == f'ReplicaSet "{rs.metadata.name}" has successfully progressed.'
    assert progressing.last_update_time is not None and progressing.last_transition_time is not None
    assert (d.status.replicas, d.status.updated_replicas, d.status.available_replicas) == (3, 3, 3)
    assert d.status.observed_generation == d.metadata.generation

    web_pods = pods(kube, "app=web")
    assert len(web_pods) == 3 and all(pod_is_ready(p) for p in web_pods)
    for p in web_pods:
        assert p.metadata.name.startswith(f"{rs.metadata.name}-") and len(p.metadata.name) == len(rs.metadata.name) + 6
        assert p.metadata.labels["pod-template-hash"] == pod_hash
        [ref] = p.metadata.owner_references
        assert (ref.kind, ref.name, ref.controller, ref.block_owner_deletion) == ("ReplicaSet", rs.metadata.name,
                                                                                   True, True)
    assert events(kube, "web", "ScalingReplicaSet") == [f"Scaled up replica set {rs.metadata.name} from 0 to 3"]
    created = events(kube, rs.metadata.name, "SuccessfulCreate")
    assert sorted(created) == sorted(f"Created pod: {p.metadata.name}" for p in web_pods)
    rs = kube.apps_v1.read_namespaced_replica_set(rs.metadata.name, NS)
    assert (rs.status.replicas, rs.status.fully_labeled_replicas, rs.status.ready_replicas,
            rs.status.available_replicas, rs.status.observed_generation) == (3, 3, 3, 3, 1)


def test_rolling_update_never_drops_below_replicas_with_max_unavailable_zero(kube: Clients) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    kube.apps_v1.create_namespaced_deployment(NS, deployment("api", strategy=strategy))
    wait_rolled_out(kube, "api")
    [first] = replica_sets(kube, "api")
    seen = {"min_ready": 3, "max_pods": 3}

    def check(current: dict, kind: str, pod: k8s.V1Pod) -> None:
        ready = sum(1 for p in current.values() if pod_is_ready(p) and not p.metadata.deletion_timestamp)
        seen["min_ready"] = min(seen["min_ready"], ready)
        seen["max_pods"] = max(seen["max_pods"], len(current))
        assert ready >= 3, f"only {ready} ready pods after {kind} {pod.metadata.name}"
        assert len(current) <= 4, f"{len(current)} pods exist (maxSurge 1) after {kind} {pod.metadata.name}"

    watcher = PodWatch(kube, "app=api", check)
    set_image(kube, "api", "nginx:1.26")
    d = wait_rolled_out(kube, "api")
    wait_for(lambda: len(watcher.pods) == 3 and all(p.spec.containers[0].image == "nginx:1.26"
                                                    for p in watcher.pods.values()), message="the watch to catch up")
    watcher.stop()
    assert watcher.failures == []
    assert seen["max_pods"] == 4  # it did surge
    assert sum(1 for kind, _ in watcher.events if kind == "DELETED") == 3

    old, new = replica_sets(kube, "api")
    assert old.metadata.name == first.metadata.name and old.spec.replicas == 0
    assert new.spec.replicas == 3 and new.spec.template.spec.containers[0].image == "nginx:1.26"
    assert new.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert condition(d, "Progressing").message == f'ReplicaSet "{new.metadata.name}" has successfully progressed.'
    scaling = events(kube, "api", "ScalingReplicaSet")
    assert f"Scaled up replica set {new.metadata.name} from 0 to 1" in scaling
    assert f"Scaled down replica set {old.metadata.name} from 3 to 2" in scaling
    assert f"Scaled down replica set {old.metadata.name} from 1 to 0" in scaling


def test_rollback_reuses_the_old_replicaset_with_the_next_revision(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("svc", replicas=2))
    wait_rolled_out(kube, "svc")
    set_image(kube, "svc", "nginx:1.26")
    wait_rolled_out(kube, "svc")
    set_image(kube, "svc", "nginx:1.25")  # back to the first template
    d = wait_rolled_out(kube, "svc")
    sets = replica_sets(kube, "svc")
    assert len(sets) == 2  # no third ReplicaSet: revision 1's was reused
    second, first = sets
    assert first.spec.template.spec.containers[0].image == "nginx:1.25" and first.spec.replicas == 2
    assert first.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert first.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert second.metadata.annotations["deployment.kubernetes.io/revision"] == "2" and second.spec.replicas == 0
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3"


def test_recreate_strategy_stops_old_pods_before_starting_new_ones(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("batch", replicas=2, strategy={"type": "Recreate"}))
    wait_rolled_out(kube, "batch")

    def check(current: dict, kind: str, pod: k8s.V1Pod) -> None:
        hashes = {p.metadata.labels["pod-template-hash"] for p in current.values()}
        assert len(hashes) <= 1, f"old and new pods side by side after {kind} {pod.metadata.name}: {hashes}"

    watcher = PodWatch(kube, "app=batch", check)
    set_image(kube, "batch", "nginx:1.26")
    wait_rolled_out(kube, "batch")
    wait_for(lambda: sum(1 for kind, _ in watcher.events if kind == "ADDED") == 2, message="the new pods")
    watcher.stop()
    assert watcher.failures == []


def test_scale_subresource_scales_the_deployment_and_its_replicaset(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("scaled", replicas=2))
    wait_rolled_out(kube, "scaled")
    scale = kube.apps_v1.patch_namespaced_deployment_scale("scaled", NS, {"spec": {"replicas": 5}})
    assert scale.spec.replicas == 5
    d = wait_rolled_out(kube, "scaled")
    assert d.status.available_replicas == 5 and len(pods(kube, "app=scaled")) == 5
    [rs] = replica_sets(kube, "scaled")
    assert rs.spec.replicas == 5 and rs.metadata.annotations["deployment.kubernetes.io/desired-replicas"] == "5"
    scale = kube.apps_v1.read_namespaced_deployment_scale("scaled", NS)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (5, 5, "app=scaled")
    kube.apps_v1.patch_namespaced_deployment_scale("scaled", NS, {"spec": {"replicas": 1}})
    wait_rolled_out(kube, "scaled")
    wait_for(lambda: len(pods(kube, "app=scaled")) == 1, message="scale down to one pod")
    assert f"Scaled down replica set {rs.metadata.name} from 5 to 1" in events(kube, "scaled", "ScalingReplicaSet")


def test_scaling_mid_rollout_is_proportional(kube: Clients) -> None:
    """A scale-up during a stuck rollout spreads over both ReplicaSets by their share (kube's proportional
    scaling), instead of all going to the new one."""
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 0}}
    kube.apps_v1.create_namespaced_deployment(NS, deployment("prop", replicas=10, strategy=strategy))
    wait_rolled_out(kube, "prop")
    set_image(kube, "prop", "registry.example/does-not-exist:1")  # the new pods never become ready
    wait_for(lambda: [rs.spec.replicas for rs in replica_sets(kube, "prop")] == [10, 3],
             message="the rollout to stall at 10 old + 3 new")
    kube.apps_v1.patch_namespaced_deployment_scale("prop", NS, {"spec": {"replicas": 20}})
    # max 13 -> max 23 (20 + 3): old 10 * 23/13 = 17.7 -> 18, new 3 * 23/13 = 5.3 -> 5
    wait_for(lambda: [rs.spec.replicas for rs in replica_sets(kube, "prop")] == [18, 5],
             message="proportional scaling to 18 old + 5 new")


def test_progress_deadline_exceeded_for_an_image_that_never_pulls(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment(
        "broken", replicas=1, image="registry.example/does-not-exist:1", progressDeadlineSeconds=30))
    d = wait_for(lambda: (d := read_deploy(kube, "broken")) and condition(d, "Progressing") and
                 condition(d, "Progressing").reason == "ProgressDeadlineExceeded" and d,
                 message="ProgressDeadlineExceeded")
    [rs] = replica_sets(kube, "broken")
    progressing = condition(d, "Progressing")
    assert progressing.status == "False"
    assert progressing.message == f'ReplicaSet "{rs.metadata.name}" has timed out progressing.'
    available = condition(d, "Available")
    assert (available.status, available.reason) == ("False", "MinimumReplicasUnavailable")
    assert (d.status.unavailable_replicas, d.status.available_replicas) == (1, None)
    [p] = pods(kube, "app=broken")
    assert not pod_is_ready(p)


def test_paused_deployment_scales_but_does_not_roll_out(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("held", replicas=2))
    wait_rolled_out(kube, "held")
    kube.apps_v1.patch_namespaced_deployment("held", NS, {"spec": {"paused": True}})
    set_image(kube, "held", "nginx:1.26")
    d = wait_for(lambda: (d := read_deploy(kube, "held")) and condition(d, "Progressing").reason ==
                 "DeploymentPaused" and d.status.observed_generation == d.metadata.generation and d,
                 message="the paused condition")
    assert condition(d, "Progressing").status == "Unknown"
    assert condition(d, "Progressing").message == "Deployment is paused"
    assert len(replica_sets(kube, "held")) == 1
    kube.apps_v1.patch_namespaced_deployment_scale("held", NS, {"spec": {"replicas": 3}})
    wait_for(lambda: replica_sets(kube, "held")[0].spec.replicas == 3, message="a paused deployment to scale")
    kube.apps_v1.patch_namespaced_deployment("held", NS, {"spec": {"paused": False}})
    d = wait_rolled_out(kube, "held")
    assert [rs.spec.replicas for rs in replica_sets(kube, "held")] == [0, 3]


def test_revision_history_limit_deletes_old_empty_replicasets(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("hist", replicas=1, revisionHistoryLimit=1))
    for tag in ("1.25", "1.26", "1.27", "1.28"):
        set_image(kube, "hist", f"nginx:{tag}")
        wait_rolled_out(kube, "hist")
    sets = wait_for(lambda: len(s := replica_sets(kube, "hist")) == 2 and s, message="old ReplicaSets to go")
    revisions = [rs.metadata.annotations["deployment.kubernetes.io/revision"] for rs in sets]
    assert revisions == ["3", "4"]


def test_foreground_deletion_removes_replicasets_and_pods_first(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("gone", replicas=2))
    wait_rolled_out(kube, "gone")
    kube.apps_v1.delete_namespaced_deployment("gone", NS, body=k8s.V1DeleteOptions(propagation_policy="Foreground"))

    def deployment_gone() -> bool:
        try:
            read_deploy(kube, "gone")
        except k8s.ApiException as exc:
            return exc.status == 404
        return False

    wait_for(deployment_gone, message="the deployment to be deleted")
    assert not replica_sets(kube, "gone") and not pods(kube, "app=gone")


def test_orphaned_replicaset_is_adopted_by_a_recreated_deployment(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("keep", replicas=2))
    wait_rolled_out(kube, "keep")
    [rs] = replica_sets(kube, "keep")
    before = sorted(p.metadata.name for p in pods(kube, "app=keep"))
    kube.apps_v1.delete_namespaced_deployment("keep", NS, body=k8s.V1DeleteOptions(propagation_policy="Orphan"))
    wait_for(lambda: not kube.apps_v1.read_namespaced_replica_set(rs.metadata.name, NS).metadata.owner_references,
             message="the ReplicaSet orphaned")
    d = kube.apps_v1.create_namespaced_deployment(NS, deployment("keep", replicas=2))
    wait_for(lambda: [r.uid for r in kube.apps_v1.read_namespaced_replica_set(
        rs.metadata.name, NS).metadata.owner_references or []] == [d.metadata.uid], message="adoption")
    wait_rolled_out(kube, "keep")
    assert [r.metadata.name for r in replica_sets(kube, "keep")] == [rs.metadata.name]
    assert sorted(p.metadata.name for p in pods(kube, "app=keep")) == before  # the pods never restarted


def test_kubectl_rollout_status_and_wait_available(kube: Clients, kubectl: Kubectl) -> None:
    kube.apps_v1.create_namespaced_deployment(NS, deployment("cli", replicas=2))
    out = kubectl("rollout", "status", "deployment/cli", "--timeout=30s").stdout
    assert 'deployment "cli" successfully rolled out' in out
    kubectl("wait", "--for=condition=Available", "deployment/cli", "--timeout=30s")
    kubectl("set", "image", "deployment/cli", "main=nginx:1.26")
    assert "successfully rolled out" in kubectl("rollout", "status", "deployment/cli", "--timeout=30s").stdout
    history = kubectl("rollout", "history", "deployment/cli").stdout
    assert "1 " in history and "2 " in history
    kubectl("rollout", "undo", "deployment/cli")  # kubectl copies revision 1's template back from its RS
    assert "successfully rolled out" in kubectl("rollout", "status", "deployment/cli", "--timeout=30s").stdout
    d = read_deploy(kube, "cli")
    assert d.spec.template.spec.containers[0].image == "nginx:1.25"
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert len(replica_sets(kube, "cli")) == 2


# -- ReplicaSets -------------------------------------------------------------------------------------------------------
def test_replicaset_replaces_deleted_pods_and_releases_relabelled_ones(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_replica_set(NS, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "bare"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "bare"}}, "template": template("bare")}})
    ready = wait_for(lambda: len(p := [x for x in pods(kube, "app=bare") if pod_is_ready(x)]) == 2 and p,
                     message="two ready pods")
    victim = ready[0].metadata.name
    kube.core_v1.delete_namespaced_pod(victim, NS)
    wait_for(lambda: len(p := pods(kube, "app=bare")) == 2 and victim not in {x.metadata.name for x in p},
             message="a replacement pod")
    assert f"Deleted pod: {victim}" not in events(kube, "bare")  # the user deleted it, not the controller
    relabelled = pods(kube, "app=bare")[0].metadata.name
    kube.core_v1.patch_namespaced_pod(relabelled, NS, {"metadata": {"labels": {"app": "elsewhere"}}})
    wait_for(lambda: len(pods(kube, "app=bare")) == 2 and not kube.core_v1.read_namespaced_pod(
        relabelled, NS).metadata.owner_references, message="the relabelled pod released and replaced")
    # the released pod is adopted back when its labels match again, and a surplus pod goes (which one
    # depends on readiness times, as in kube): a pod the controller deleted must have been adopted first
    kube.core_v1.patch_namespaced_pod(relabelled, NS, {"metadata": {"labels": {"app": "bare"}}})

    def adopted() -> bool:
        current = pods(kube, "app=bare")
        owned = all(p.metadata.owner_references for p in current)
        kept = relabelled in {p.metadata.name for p in current}
        return len(current) == 2 and owned and (kept or f"Deleted pod: {relabelled}" in events(kube, "bare"))

    wait_for(adopted, message="adoption and scale-down to two")
    rs = wait_for(lambda: (rs := kube.apps_v1.read_namespaced_replica_set("bare", NS)) and
                  rs.status.ready_replicas == 2 and rs, message="RS status")
    assert (rs.status.replicas, rs.status.available_replicas) == (2, 2)
    assert any(m.startswith("Deleted pod: ") for m in events(kube, "bare", "SuccessfulDelete"))


def test_replicaset_min_ready_seconds_delays_availability(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_replica_set(NS, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "slow"},
        "spec": {"replicas": 1, "minReadySeconds": 100, "selector": {"matchLabels": {"app": "slow"}},
                 "template": template("slow")}})
    rs = wait_for(lambda: (rs := kube.apps_v1.read_namespaced_replica_set("slow", NS)) and
                  rs.status.ready_replicas == 1 and rs, message="a ready pod")
    assert not rs.status.available_replicas  # ready, but not yet for 100 simulated seconds (2 s at speed 50)
    wait_for(lambda: kube.apps_v1.read_namespaced_replica_set("slow", NS).status.available_replicas == 1,
             message="availability after minReadySeconds")


# -- StatefulSets ------------------------------------------------------------------------------------------------------
def statefulset(name: str, replicas: int = 3, **spec: Any) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                     "template": template(name), **spec}}


def test_statefulset_creates_pods_in_order_with_claims(kube: Clients) -> None:
    def check(current: dict, kind: str, pod: k8s.V1Pod) -> None:
        ordinal = int(pod.metadata.name.rsplit("-", 1)[1])
        if kind == "ADDED" and ordinal > 0:
            previous = current.get(f"db-{ordinal - 1}")
            assert previous is not None and pod_is_ready(previous), \
                f"{pod.metadata.name} created before db-{ordinal - 1} was ready"

    watcher = PodWatch(kube, "app=db", check)
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}
    kube.apps_v1.create_namespaced_stateful_set(NS, statefulset("db", volumeClaimTemplates=[claim]))
    sts = wait_for(lambda: (s := kube.apps_v1.read_namespaced_stateful_set("db", NS)) and
                   s.status.ready_replicas == 3 and s, message="three ready db pods")
    added = wait_for(lambda: len(a := [name for kind, name in watcher.events if kind == "ADDED"]) == 3 and a,
                     message="the watch to see three pods")
    watcher.stop()
    assert watcher.failures == []
    assert added == ["db-0", "db-1", "db-2"]
    assert sts.status.current_revision == sts.status.update_revision
    assert sts.status.update_revision.startswith("db-")
    assert (sts.status.replicas, sts.status.current_replicas, sts.status.updated_replicas,
            sts.status.available_replicas, sts.status.observed_generation) == (3, 3, 3, 3, 1)
    for ordinal in range(3):
        p = kube.core_v1.read_namespaced_pod(f"db-{ordinal}", NS)
        assert p.metadata.labels["statefulset.kubernetes.io/pod-name"] == f"db-{ordinal}"
        assert p.metadata.labels["controller-revision-hash"] == sts.status.update_revision
        assert (p.spec.hostname, p.spec.subdomain) == (f"db-{ordinal}", "db")
        [volume] = p.spec.volumes
        assert volume.persistent_volume_claim.claim_name == f"data-db-{ordinal}"
        pvc = kube.core_v1.read_namespaced_persistent_volume_claim(f"data-db-{ordinal}", NS)
        assert pvc.metadata.labels == {"app": "db"}
    assert "create Pod db-0 in StatefulSet db successful" in events(kube, "db", "SuccessfulCreate")


def test_statefulset_scales_down_from_the_highest_ordinal_and_rolls_updates(kube: Clients) -> None:
    kube.apps_v1.create_namespaced_stateful_set(NS, statefulset("queue"))
    wait_for(lambda: kube.apps_v1.read_namespaced_stateful_set("queue", NS).status.ready_replicas == 3,
             message="three ready pods")
    watcher = PodWatch(kube, "app=queue", lambda current, kind, pod: None)
    kube.apps_v1.patch_namespaced_stateful_set_scale("queue", NS, {"spec": {"replicas": 1}})
    wait_for(lambda: [p.metadata.name for p in pods(kube, "app=queue")] == ["queue-0"], message="scale to 1")

    def deleted() -> list[str]:
        return [name for kind, name in watcher.events if kind == "DELETED"]

    assert wait_for(lambda: len(deleted()) == 2 and deleted(), message="the watch to see both deletions") == [
        "queue-2", "queue-1"]
    kube.apps_v1.patch_namespaced_stateful_set_scale("queue", NS, {"spec": {"replicas": 3}})
    wait_for(lambda: kube.apps_v1.read_namespaced_stateful_set("queue", NS).status.ready_replicas == 3,
             message="scale back to 3")
    before = kube.apps_v1.read_namespaced_stateful_set("queue", NS).status.update_revision
    watcher.events.clear()
    kube.apps_v1.patch_namespaced_stateful_set("queue", NS, {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "nginx:1.26"}]}}}})

    def updated() -> k8s.V1StatefulSet | None:
        s = kube.apps_v1.read_namespaced_stateful_set("queue", NS)
        done = (s.status.observed_generation == s.metadata.generation and s.status.updated_replicas == 3
                and s.status.ready_replicas == 3 and s.status.current_revision == s.status.update_revision)
        return s if done else None

    sts = wait_for(updated, message="the rolling update")
    assert wait_for(lambda: len(deleted()) == 3 and deleted(), message="the watch to see three deletions") == [
        "queue-2", "queue-1", "queue-0"]
    watcher.stop()
    assert sts.status.update_revision != before
    assert all(p.metadata.labels["controller-revision-hash"] == sts.status.update_revision
               and p.spec.containers[0].image == "nginx:1.26" for p in pods(kube, "app=queue"))


def test_statefulset_claim_retention_policy(kube: Clients) -> None:
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}
    policy = {"whenDeleted": "Delete", "whenScaled": "Delete"}
    kube.apps_v1.create_namespaced_stateful_set(NS, statefulset(
        "cache", replicas=2, volumeClaimTemplates=[claim], persistentVolumeClaimRetentionPolicy=policy))
    wait_for(lambda: kube.apps_v1.read_namespaced_stateful_set("cache", NS).status.ready_replicas == 2,
             message="two ready pods")

    def claims() -> list[str]:
        return sorted(c.metadata.name for c in kube.core_v1.list_namespaced_persistent_volume_claim(NS).items
                      if c.metadata.name.startswith("data-cache-"))

    assert claims() == ["data-cache-0", "data-cache-1"]
    kube.apps_v1.patch_namespaced_stateful_set_scale("cache", NS, {"spec": {"replicas": 1}})
    wait_for(lambda: claims() == ["data-cache-0"], message="the scaled-away pod's claim to go (whenScaled)")
    kube.apps_v1.delete_namespaced_stateful_set("cache", NS)
    wait_for(lambda: claims() == [], message="the remaining claim to go with the set (whenDeleted)")


def test_statefulset_parallel_creates_all_pods_at_once(kube: Clients) -> None:
    watcher = PodWatch(kube, "app=par", lambda current, kind, pod: None)
    kube.apps_v1.create_namespaced_stateful_set(NS, statefulset("par", podManagementPolicy="Parallel"))
    wait_for(lambda: kube.apps_v1.read_namespaced_stateful_set("par", NS).status.ready_replicas == 3,
             message="three ready pods")
    wait_for(lambda: len(watcher.events) >= 3, message="the watch to see the pods")
    watcher.stop()
    # all three exist before the kubelet reported anything about any of them
    assert [kind for kind, _ in watcher.events[:3]] == ["ADDED"] * 3


def test_kubectl_rollout_status_for_statefulset_and_daemonset(kube: Clients, kubectl: Kubectl) -> None:
    kube.apps_v1.create_namespaced_stateful_set(NS, statefulset("kv", replicas=2))
    assert "complete" in kubectl("rollout", "status", "statefulset/kv", "--timeout=30s").stdout
    kube.apps_v1.create_namespaced_daemon_set(NS, daemonset("logs"))
    assert "successfully rolled out" in kubectl("rollout", "status", "daemonset/logs", "--timeout=30s").stdout


# -- DaemonSets --------------------------------------------------------------------------------------------------------
def daemonset(name: str, **pod_spec: Any) -> dict:
    tmpl = template(name)
    tmpl["spec"].update(pod_spec)
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": tmpl}}


def ds_status(kube: Clients, name: str) -> k8s.V1DaemonSetStatus:
    return kube.apps_v1.read_namespaced_daemon_set(name, NS).status


def test_daemonset_runs_one_pod_per_node(kube: Clients, sim: ClusterThread) -> None:
    kube.apps_v1.create_namespaced_daemon_set(NS, daemonset("agent"))
    status = wait_for(lambda: (s := ds_status(kube, "agent")) and s.number_ready == 3 and s,
                      message="a ready daemon on each node")
    assert (status.desired_number_scheduled, status.current_number_scheduled, status.number_available,
            status.updated_number_scheduled, status.number_misscheduled) == (3, 3, 3, 3, 0)
    nodes = sorted(n.metadata.name for n in kube.core_v1.list_node().items)
    agent_pods = pods(kube, "app=agent")
    assert sorted(p.spec.node_name for p in agent_pods) == nodes
    for p in agent_pods:
        assert p.metadata.owner_references[0].kind == "DaemonSet"
        assert any(t.key == "node.kubernetes.io/unschedulable" for t in p.spec.tolerations)

    # a node added to the cluster gets its daemon
    kube.core_v1.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "extra", "labels": {"kubernetes.io/hostname": "extra"}}, "status": {
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}, "capacity": {"cpu": "4", "memory": "8Gi",
                                                                                 "pods": "110"}}})
    wait_for(lambda: ds_status(kube, "agent").number_ready == 4, message="a daemon on the new node")
    assert "extra" in {p.spec.node_name for p in pods(kube, "app=agent")}

    # an updated template replaces every daemon
    kube.apps_v1.patch_namespaced_daemon_set("agent", NS, {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "nginx:1.26"}]}}}})
    wait_for(lambda: (s := ds_status(kube, "agent")) and s.updated_number_scheduled == 4 and
             s.number_available == 4 and all(p.spec.containers[0].image == "nginx:1.26"
                                             for p in pods(kube, "app=agent")) and len(pods(kube, "app=agent")) == 4,
             message="every daemon updated")


def test_daemonset_surge_update_keeps_a_daemon_available_on_every_node(kube: Clients) -> None:
    body = daemonset("proxy")
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    kube.apps_v1.create_namespaced_daemon_set(NS, body)
    wait_for(lambda: ds_status(kube, "proxy").number_available == 3, message="three available daemons")
    nodes = sorted(n.metadata.name for n in kube.core_v1.list_node().items)

    def check(current: dict, kind: str, pod: k8s.V1Pod) -> None:
        covered = {p.spec.node_name for p in current.values() if pod_is_ready(p)}
        assert covered == set(nodes), f"no ready daemon on {set(nodes) - covered} after {kind} {pod.metadata.name}"
        assert len(current) <= 4, f"{len(current)} daemons (maxSurge 1) after {kind} {pod.metadata.name}"

    watcher = PodWatch(kube, "app=proxy", check)
    kube.apps_v1.patch_namespaced_daemon_set("proxy", NS, {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "nginx:1.26"}]}}}})
    wait_for(lambda: (s := ds_status(kube, "proxy")) and s.updated_number_scheduled == 3 and
             s.number_available == 3 and len(watcher.pods) == 3 and
             all(p.spec.containers[0].image == "nginx:1.26" for p in watcher.pods.values()),
             message="every daemon replaced")
    watcher.stop()
    assert watcher.failures == []


def test_daemonset_node_selector_and_taints(kube: Clients) -> None:
    nodes = sorted(n.metadata.name for n in kube.core_v1.list_node().items)
    kube.core_v1.patch_node(nodes[0], {"metadata": {"labels": {"gpu": "true"}}})
    kube.apps_v1.create_namespaced_daemon_set(NS, daemonset("gpu-plugin", nodeSelector={"gpu": "true"}))
    status = wait_for(lambda: (s := ds_status(kube, "gpu-plugin")) and s.number_ready == 1 and s,
                      message="a daemon on the labelled node")
    assert status.desired_number_scheduled == 1
    assert [p.spec.node_name for p in pods(kube, "app=gpu-plugin")] == [nodes[0]]
    # an untolerated NoSchedule taint keeps new daemons off but leaves the running one (misscheduled)
    kube.core_v1.patch_node(nodes[0], {"spec": {"taints": [{"key": "maintenance", "effect": "NoSchedule"}]}})
    status = wait_for(lambda: (s := ds_status(kube, "gpu-plugin")) and s.number_misscheduled == 1 and s,
                      message="the daemon counted as misscheduled")
    assert not status.desired_number_scheduled and len(pods(kube, "app=gpu-plugin")) == 1
    # a NoExecute taint the pod does not tolerate evicts it
    kube.core_v1.patch_node(nodes[0], {"spec": {"taints": [{"key": "maintenance", "effect": "NoExecute"}]}})
    wait_for(lambda: not pods(kube, "app=gpu-plugin") and ds_status(kube, "gpu-plugin").desired_number_scheduled
             in (0, None), message="the daemon evicted by NoExecute")


# -- HorizontalPodAutoscalers ------------------------------------------------------------------------------------------
def hpa(name: str, target: str, desired: int | None, min_replicas: int = 1, max_replicas: int = 6,
        behavior: dict | None = None) -> dict:
    annotations = {"kubesim.fleetline.io/desired-replicas": str(desired)} if desired is not None else {}
    spec: dict = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                  "minReplicas": min_replicas, "maxReplicas": max_replicas}
    if behavior is not None:
        spec["behavior"] = behavior
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "annotations": annotations}, "spec": spec}


def annotate(autoscaling: k8s.AutoscalingV2Api, name: str, desired: int) -> None:
    autoscaling.patch_namespaced_horizontal_pod_autoscaler(name, NS, {"metadata": {"annotations": {
        "kubesim.fleetline.io/desired-replicas": str(desired)}}})


def test_hpa_annotation_scales_the_deployment_within_bounds(kube: Clients) -> None:
    autoscaling = k8s.AutoscalingV2Api(kube.api_client)
    kube.apps_v1.create_namespaced_deployment(NS, deployment("infer", replicas=2))
    wait_rolled_out(kube, "infer")
    no_wait = {"scaleDown": {"stabilizationWindowSeconds": 0}}
    autoscaling.create_namespaced_horizontal_pod_autoscaler(NS, hpa("infer", "infer", 5, behavior=no_wait))
    d = wait_for(lambda: (d := wait_rolled_out(kube, "infer")) and d.spec.replicas == 5 and d,
                 message="the HPA to scale to 5")
    assert d.status.available_replicas == 5
    # as in a real cluster, the HPA's writes to /scale are kube-controller-manager's
    owners = [m.manager for m in d.metadata.managed_fields if "f:replicas" in (m.fields_v1 or {}).get("f:spec", {})]
    assert owners == ["kube-controller-manager"]
    h = wait_for(lambda: (h := autoscaling.read_namespaced_horizontal_pod_autoscaler("infer", NS)) and
                 h.status.current_replicas == 5 and h, message="HPA status")
    assert h.status.desired_replicas == 5 and h.status.last_scale_time is not None
    assert condition(h, "ScalingActive").status == "True"
    assert condition(h, "ScalingLimited").reason == "DesiredWithinRange"
    assert any(m.startswith("New size: 5; reason: ") for m in events(kube, "infer", "SuccessfulRescale"))

    annotate(autoscaling, "infer", 50)  # clamped to maxReplicas
    wait_for(lambda: read_deploy(kube, "infer").spec.replicas == 6, message="clamp to maxReplicas 6")
    h = wait_for(lambda: (h := autoscaling.read_namespaced_horizontal_pod_autoscaler("infer", NS)) and
                 condition(h, "ScalingLimited").status == "True" and h, message="ScalingLimited")
    assert condition(h, "ScalingLimited").reason == "TooManyReplicas"

    annotate(autoscaling, "infer", 0)  # clamped to minReplicas
    wait_for(lambda: read_deploy(kube, "infer").spec.replicas == 1, message="clamp to minReplicas 1")
    wait_rolled_out(kube, "infer")


def test_hpa_scale_down_is_stabilized_by_default(kube: Clients) -> None:
    autoscaling = k8s.AutoscalingV2Api(kube.api_client)
    kube.apps_v1.create_namespaced_deployment(NS, deployment("steady", replicas=4))
    wait_rolled_out(kube, "steady")
    autoscaling.create_namespaced_horizontal_pod_autoscaler(NS, hpa("steady", "steady", 4))
    wait_for(lambda: autoscaling.read_namespaced_horizontal_pod_autoscaler("steady", NS).status,
             message="HPA status")
    annotate(autoscaling, "steady", 2)
    h = wait_for(lambda: (h := autoscaling.read_namespaced_horizontal_pod_autoscaler("steady", NS)) and
                 condition(h, "AbleToScale") and condition(h, "AbleToScale").reason == "ScaleDownStabilized" and h,
                 message="the scale-down to be held by the 300 s window")
    assert h.status.desired_replicas == 4
    assert read_deploy(kube, "steady").spec.replicas == 4
