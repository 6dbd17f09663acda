"""The official Python client (the version pinned in pyproject) against a live kubesim over HTTP."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from tests.kubesim.conftest import Clients, ClusterThread, wait_for


def configmap(name: str, data: dict | None = None, labels: dict | None = None) -> k8s.V1ConfigMap:
    return k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, labels=labels), data=data or {"k": "v"})


def deployment(name: str, image: str = "nginx:1.25", replicas: int = 1) -> k8s.V1Deployment:
    labels = {"app": name}
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name=name, labels=labels),
        spec=k8s.V1DeploymentSpec(
            replicas=replicas, selector=k8s.V1LabelSelector(match_labels=labels),
            template=k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels=labels), spec=k8s.V1PodSpec(
                containers=[k8s.V1Container(name="main", image=image)]))))


def test_typed_core_crud(kube: Clients) -> None:
    created = kube.core_v1.create_namespaced_config_map("default", configmap("c1", labels={"tier": "a"}))
    assert created.metadata.uid and created.metadata.resource_version.isdigit()
    assert created.metadata.creation_timestamp is not None
    got = kube.core_v1.read_namespaced_config_map("c1", "default")
    assert got.data == {"k": "v"}
    got.data["k"] = "w"
    replaced = kube.core_v1.replace_namespaced_config_map("c1", "default", got)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    patched = kube.core_v1.patch_namespaced_config_map("c1", "default", {"data": {"extra": "1"}})
    assert patched.data == {"k": "w", "extra": "1"}
    listed = kube.core_v1.list_namespaced_config_map("default", label_selector="tier=a")
    assert [c.metadata.name for c in listed.items] == ["c1"]
    kube.core_v1.delete_namespaced_config_map("c1", "default")
    with pytest.raises(ApiException) as err:
        kube.core_v1.read_namespaced_config_map("c1", "default")
    assert err.value.status == 404 and err.value.reason == "Not Found"
    assert '"reason":"NotFound"' in err.value.body


def test_typed_errors_have_status_and_reason(kube: Clients) -> None:
    kube.core_v1.create_namespaced_config_map("default", configmap("dup"))
    with pytest.raises(ApiException) as err:
        kube.core_v1.create_namespaced_config_map("default", configmap("dup"))
    assert err.value.status == 409 and '"reason":"AlreadyExists"' in err.value.body
    stale = kube.core_v1.read_namespaced_config_map("dup", "default")
    kube.core_v1.patch_namespaced_config_map("dup", "default", {"data": {"k": "changed"}})
    with pytest.raises(ApiException) as err:
        kube.core_v1.replace_namespaced_config_map("dup", "default", stale)
    assert err.value.status == 409 and '"reason":"Conflict"' in err.value.body
    with pytest.raises(ApiException) as err:
        kube.core_v1.create_namespaced_config_map("missing-ns", configmap("x"))
    assert err.value.status == 404 and 'namespaces \\"missing-ns\\" not found' in err.value.body


def test_typed_apps_crud_and_scale(kube: Clients) -> None:
    created = kube.apps_v1.create_namespaced_deployment("default", deployment("web", replicas=2))
    assert created.metadata.generation == 1 and created.spec.replicas == 2
    kube.apps_v1.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})
    scale = kube.apps_v1.read_namespaced_deployment_scale("web", "default")
    assert scale.spec.replicas == 3 and scale.status.selector == "app=web"
    live = kube.apps_v1.read_namespaced_deployment("web", "default")
    assert live.metadata.generation == 2
    wait_for(lambda: (kube.apps_v1.read_namespaced_deployment("web", "default").status.available_replicas or 0)
             == 3, message="3 available replicas")
    kube.apps_v1.delete_namespaced_deployment("web", "default")


def test_watch_resumes_from_a_resource_version(kube: Clients) -> None:
    first = kube.core_v1.create_namespaced_config_map("default", configmap("w1"))
    kube.core_v1.create_namespaced_config_map("default", configmap("w2"))
    kube.core_v1.patch_namespaced_config_map("w1", "default", {"data": {"k": "2"}})
    events = []
    w = watch.Watch()
    for event in w.stream(kube.core_v1.list_namespaced_config_map, "default",
                          resource_version=first.metadata.resource_version, timeout_seconds=2):
        events.append((event["type"], event["object"].metadata.name))
        if len(events) == 2:
            w.stop()
    assert events == [("ADDED", "w2"), ("MODIFIED", "w1")]


def test_watch_sees_live_events(kube: Clients) -> None:
    listed = kube.core_v1.list_namespaced_config_map("default")
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def consume() -> None:
        for event in w.stream(kube.core_v1.list_namespaced_config_map, "default",
                              resource_version=listed.metadata.resource_version, timeout_seconds=10):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                w.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    kube.core_v1.create_namespaced_config_map("default", configmap("live"))
    kube.core_v1.delete_namespaced_config_map("live", "default")
    thread.join(15)
    assert seen == [("ADDED", "live"), ("DELETED", "live")]


def test_expired_resource_version_is_410(sim: ClusterThread, kube: Clients) -> None:
    sim.call(lambda api: setattr(api.store, "_compacted", api.store.revision))  # as if history were compacted
    with pytest.raises(ApiException) as err:
        for _ in watch.Watch().stream(kube.core_v1.list_namespaced_config_map, "default", resource_version="1",
                                      timeout_seconds=2):
            pass
    assert err.value.status == 410


def test_dynamic_client_crud_patch_apply_watch(kube: Clients, tmp_path: Path) -> None:
    dyn = DynamicClient(kube.api_client, cache_file=str(tmp_path / "discovery.json"))
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    cms.create(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d1"}, "data": {"a": "1"}},
               namespace="default")
    assert cms.get(name="d1", namespace="default").data.a == "1"
    cms.patch(name="d1", namespace="default", body={"data": {"b": "2"}},
              content_type="application/merge-patch+json")
    cms.patch(name="d1", namespace="default", body={"data": {"c": "3"}})  # strategic, the default
    applied = cms.server_side_apply(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d1"},
                                          "data": {"d": "4"}}, namespace="default", field_manager="fleetline")
    assert dict(applied.data) == {"a": "1", "b": "2", "c": "3", "d": "4"}
    managers = {e.manager for e in applied.metadata.managedFields}
    assert "fleetline" in managers
    events = []
    for event in cms.watch(namespace="default", name="d1", timeout=1):
        events.append(event["type"])
        break
    assert events == ["ADDED"]
    cms.delete(name="d1", namespace="default")
    with pytest.raises(Exception) as err:
        cms.get(name="d1", namespace="default")
    assert getattr(err.value, "status", None) == 404


def test_dynamic_client_discovers_a_new_crd_kind(kube: Clients, tmp_path: Path) -> None:
    dyn = DynamicClient(kube.api_client, cache_file=str(tmp_path / "discovery.json"))
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crds.create(body={
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "models.ml.example.com"},
        "spec": {"group": "ml.example.com", "scope": "Namespaced",
                 "names": {"plural": "models", "singular": "model", "kind": "Model"},
                 "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]}})
    models = dyn.resources.get(api_version="ml.example.com/v1alpha1", kind="Model")
    models.create(body={"apiVersion": "ml.example.com/v1alpha1", "kind": "Model",
                        "metadata": {"name": "llama"}, "spec": {"version": "3"}}, namespace="default")
    assert models.get(name="llama", namespace="default").spec.version == "3"
    with pytest.raises(Exception) as err:  # strategic merge patch is not for custom resources
        models.patch(name="llama", namespace="default", body={"spec": {"version": "4"}})
    assert getattr(err.value, "status", None) == 415
    models.patch(name="llama", namespace="default", body={"spec": {"version": "4"}},
                 content_type="application/merge-patch+json")
    assert models.get(name="llama", namespace="default").spec.version == "4"
