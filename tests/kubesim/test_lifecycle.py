"""Object lifecycle over HTTP with the official client: finalizers, namespace deletion, propagation policies,
paging, field selectors, dry runs and watch bookmarks."""

from __future__ import annotations

import json
import urllib.request

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from kubesim.api import WriteOptions
from kubesim.cluster import ClusterOptions
from tests.kubesim.conftest import Clients, ClusterThread, wait_for


@pytest.fixture
def sim_options() -> ClusterOptions:
    return ClusterOptions(speed=50.0, nodes=2, bookmark_interval=0.2)


def cm(name: str, **meta: object) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": {"k": "v"}}


def test_finalizer_holds_deletion_until_removed(kube: Clients) -> None:
    kube.core_v1.create_namespaced_config_map("default", cm("held", finalizers=["example.com/hold"]))
    kube.core_v1.delete_namespaced_config_map("held", "default")
    live = kube.core_v1.read_namespaced_config_map("held", "default")
    assert live.metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as err:  # no new finalizers while deleting
        kube.core_v1.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": ["a/b"]}})
    assert err.value.status == 403
    kube.core_v1.patch_namespaced_config_map("held", "default", [{"op": "remove", "path": "/metadata/finalizers"}])
    with pytest.raises(ApiException) as err:
        kube.core_v1.read_namespaced_config_map("held", "default")
    assert err.value.status == 404


def test_deleting_a_namespace_removes_its_objects(kube: Clients) -> None:
    kube.core_v1.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="team-a")))
    ns = kube.core_v1.read_namespace("team-a")
    assert ns.metadata.labels == {"kubernetes.io/metadata.name": "team-a"} and ns.status.phase == "Active"
    kube.core_v1.create_namespaced_config_map("team-a", cm("one"))
    kube.core_v1.create_namespaced_secret("team-a", {"metadata": {"name": "s"}, "stringData": {"a": "b"}})
    kube.core_v1.delete_namespace("team-a")

    def gone() -> bool:
        try:
            kube.core_v1.read_namespace("team-a")
        except ApiException as exc:
            return exc.status == 404
        return False

    wait_for(gone, message="namespace team-a to disappear")
    assert kube.core_v1.list_config_map_for_all_namespaces(field_selector="metadata.namespace=team-a").items == []


def test_creating_in_a_terminating_namespace_is_forbidden(kube: Clients) -> None:
    kube.core_v1.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="closing")))
    kube.core_v1.create_namespaced_config_map("closing", cm("pinned", finalizers=["example.com/hold"]))
    kube.core_v1.delete_namespace("closing")
    wait_for(lambda: kube.core_v1.read_namespace("closing").status.phase == "Terminating", message="Terminating")
    with pytest.raises(ApiException) as err:
        kube.core_v1.create_namespaced_config_map("closing", cm("late"))
    assert err.value.status == 403 and "being terminated" in err.value.body


def test_orphan_propagation_keeps_dependents(kube: Clients) -> None:
    owner = kube.core_v1.create_namespaced_config_map("default", cm("owner"))
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    kube.core_v1.create_namespaced_config_map("default", cm("kept", ownerReferences=[ref]))
    kube.core_v1.create_namespaced_config_map("default", cm("collected", ownerReferences=[ref]))
    kube.core_v1.delete_namespaced_config_map("owner", "default", propagation_policy="Orphan")
    wait_for(lambda: not kube.core_v1.read_namespaced_config_map("kept", "default").metadata.owner_references,
             message="ownerReferences stripped")
    assert kube.core_v1.read_namespaced_config_map("collected", "default").metadata.owner_references is None
    second = kube.core_v1.create_namespaced_config_map("default", cm("owner2"))
    ref2 = {**ref, "name": "owner2", "uid": second.metadata.uid}
    kube.core_v1.create_namespaced_config_map("default", cm("child", ownerReferences=[ref2]))
    kube.core_v1.delete_namespaced_config_map("owner2", "default", propagation_policy="Background")

    def child_gone() -> bool:
        return not kube.core_v1.list_namespaced_config_map("default", field_selector="metadata.name=child").items

    wait_for(child_gone, message="the garbage collector to delete the dependent")


def test_limit_and_continue_page_through_a_list(kube: Clients) -> None:
    for i in range(7):
        kube.core_v1.create_namespaced_config_map("default", cm(f"page-{i}", labels={"paged": "yes"}))
    names, token = [], None
    while True:
        page = kube.core_v1.list_namespaced_config_map("default", limit=3, _continue=token,
                                                       label_selector="paged=yes")
        names += [c.metadata.name for c in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(names)
    assert names == sorted(f"page-{i}" for i in range(7))
    with pytest.raises(ApiException) as err:
        kube.core_v1.list_namespaced_config_map("default", limit=3, _continue="not-a-token")
    assert err.value.status == 400


def test_every_namespace_gets_its_service_account_and_root_ca(kube: Clients, sim: ClusterThread) -> None:
    kube.core_v1.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="fresh")))
    wait_for(lambda: kube.core_v1.read_namespaced_service_account("default", "fresh"), message="default SA")
    ca = wait_for(lambda: kube.core_v1.read_namespaced_config_map("kube-root-ca.crt", "fresh"), message="root CA")
    assert ca.data["ca.crt"] == sim.cluster.ca_pem.decode()
    kube.core_v1.delete_namespaced_service_account("default", "fresh")
    wait_for(lambda: kube.core_v1.read_namespaced_service_account("default", "fresh"), message="SA recreated")


def test_field_selectors(kube: Clients) -> None:
    kube.core_v1.create_namespaced_config_map("default", cm("f1"))
    kube.core_v1.create_namespaced_config_map("default", cm("f2"))
    names = [c.metadata.name for c in kube.core_v1.list_namespaced_config_map(
        "default", field_selector="metadata.name!=f1").items]
    assert "f2" in names and "f1" not in names
    with pytest.raises(ApiException) as err:
        kube.core_v1.list_namespaced_config_map("default", field_selector="data.k=v")
    assert err.value.status == 400 and "field label not supported: data.k" in err.value.body


def test_dry_run_persists_nothing(kube: Clients) -> None:
    created = kube.core_v1.create_namespaced_config_map("default", cm("dry"), dry_run="All")
    assert created.metadata.name == "dry"
    with pytest.raises(ApiException) as err:
        kube.core_v1.read_namespaced_config_map("dry", "default")
    assert err.value.status == 404


def test_watch_bookmarks_and_initial_events_end(sim: ClusterThread) -> None:
    url = (f"{sim.url}/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true"
           f"&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=2&labelSelector=w%3D1")
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {sim.token}"})
    present = cm("present", labels={"w": "1"})
    sim.call(lambda api: api.create(api.type("", "ConfigMap"), "default", present, WriteOptions("test")))
    with urllib.request.urlopen(req, timeout=10, context=sim.ssl_context()) as resp:
        events = [json.loads(line) for line in resp]
    types = [e["type"] for e in events]
    assert types[0] == "ADDED" and events[0]["object"]["metadata"]["name"] == "present"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert types.count("BOOKMARK") >= 3, types  # periodic bookmarks every 0.2 s over 2 s


def test_pod_disruption_budget_status_counts_ready_pods(kube: Clients) -> None:
    labels = {"app": "infer"}
    kube.apps_v1.create_namespaced_deployment("default", k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="infer"),
        spec=k8s.V1DeploymentSpec(replicas=3, selector=k8s.V1LabelSelector(match_labels=labels),
                                  template=k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels=labels),
                                                                 spec=k8s.V1PodSpec(containers=[k8s.V1Container(
                                                                     name="server", image="infer:v1")])))))
    policy = k8s.PolicyV1Api(kube.api_client)
    policy.create_namespaced_pod_disruption_budget("default", k8s.V1PodDisruptionBudget(
        metadata=k8s.V1ObjectMeta(name="infer"),
        spec=k8s.V1PodDisruptionBudgetSpec(min_available=2, selector=k8s.V1LabelSelector(match_labels=labels))))

    def settled() -> k8s.V1PodDisruptionBudgetStatus | None:
        status = policy.read_namespaced_pod_disruption_budget("infer", "default").status
        return status if status and status.current_healthy == 3 else None

    status = wait_for(settled, message="3 healthy pods counted")
    assert (status.expected_pods, status.desired_healthy, status.disruptions_allowed) == (3, 2, 1)
    assert [c.type for c in status.conditions if c.status == "True"] == ["DisruptionAllowed"]
    policy.patch_namespaced_pod_disruption_budget("infer", "default", {"spec": {"minAvailable": "100%"}})
    wait_for(lambda: policy.read_namespaced_pod_disruption_budget("infer", "default").status.disruptions_allowed
             == 0 and policy.read_namespaced_pod_disruption_budget("infer", "default").status.desired_healthy == 3,
             message="no disruption allowed at minAvailable 100%")


def test_the_apiserver_publishes_the_kubernetes_service(kube: Clients, sim: ClusterThread) -> None:
    svc = kube.core_v1.read_namespaced_service("kubernetes", "default")
    assert svc.spec.cluster_ip == "10.96.0.1" and svc.spec.ports[0].port == 443
    endpoints = kube.core_v1.read_namespaced_endpoints("kubernetes", "default")
    assert endpoints.subsets[0].ports[0].port == sim.cluster.port
