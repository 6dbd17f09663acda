"""ClusterAccess against a live kubesim over HTTPS: discovery (built-ins, a CRD created after start), server-side
apply with field ownership, create, replace, patch, delete, get, list, and errors that name the object."""

from __future__ import annotations

import pytest

from agent.cluster import ClusterAccess, ClusterError, InvalidObject, ObjectRef, ResourceKind, UnknownKind
from tests.agent.cluster.conftest import configmap, eventually
from tests.kubesim.conftest import Clients, ClusterThread

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]}}


def managers(obj: dict) -> dict[str, dict]:
    return {m["manager"]: m for m in obj["metadata"].get("managedFields", [])}


def cm_ref(name: str, namespace: str = "default") -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", namespace, name)


# -- discovery ---------------------------------------------------------------------------------------------------------
async def test_discovery_of_built_in_kinds(access: ClusterAccess) -> None:
    assert await access.kind("apps/v1", "Deployment") == ResourceKind("apps", "v1", "Deployment", "deployments",
                                                                      True)
    assert await access.kind("v1", "Namespace") == ResourceKind("", "v1", "Namespace", "namespaces", False)
    assert (await access.kind("autoscaling/v2", "HorizontalPodAutoscaler")).plural == "horizontalpodautoscalers"
    assert not (await access.kind("rbac.authorization.k8s.io/v1", "ClusterRole")).namespaced
    with pytest.raises(UnknownKind, match="served as apps/v1"):
        await access.kind("apps/v1beta1", "Deployment")


async def test_crd_created_after_start_becomes_usable_without_restart(sim: ClusterThread) -> None:
    # a miss never refreshes here (interval of an hour): only the CRD watch can make the new kind known
    async with ClusterAccess.from_kubeconfig(sim.kubeconfig_path, miss_refresh_interval=3600) as access:
        with pytest.raises(UnknownKind) as caught:
            await access.kind("example.com/v1", "Widget")
        assert 'no kind "Widget" in "example.com/v1"' in str(caught.value)
        assert "CustomResourceDefinition installed" in str(caught.value)
        await access.apply(WIDGET_CRD)

        async def known() -> ResourceKind | None:
            try:
                return await access.kind("example.com/v1", "Widget")
            except UnknownKind:
                return None

        widget = await eventually(known, timeout=5, message="the Widget kind to be discovered")
        assert widget == ResourceKind("example.com", "v1", "Widget", "widgets", True)
        created = await access.apply({"apiVersion": "example.com/v1", "kind": "Widget",
                                      "metadata": {"name": "w1"}, "spec": {"size": 3}})
        assert created["metadata"]["namespace"] == "default"
        assert (await access.get(ObjectRef("example.com/v1", "Widget", "default", "w1")))["spec"] == {"size": 3}


async def test_a_miss_refreshes_discovery_once(sim: ClusterThread, kube: Clients) -> None:
    access = ClusterAccess.from_kubeconfig(sim.kubeconfig_path, miss_refresh_interval=0)
    try:  # not started: no CRD watch, so only the refresh on a miss can find the new kind
        await access.kind("v1", "ConfigMap")
        kube.apiext.create_custom_resource_definition(WIDGET_CRD)
        refreshes = access.kinds.refreshes
        assert (await access.kind("example.com/v1", "Widget")).plural == "widgets"
        assert access.kinds.refreshes == refreshes + 1
    finally:
        await access.close()


async def test_unknown_kind_on_an_object_names_it(access: ClusterAccess) -> None:
    with pytest.raises(UnknownKind, match=r'^Gadget ml/g: 404 UnknownKind: the cluster serves no kind "Gadget"'):
        await access.apply({"apiVersion": "example.com/v1", "kind": "Gadget",
                            "metadata": {"name": "g", "namespace": "ml"}})


# -- server-side apply -------------------------------------------------------------------------------------------------
async def test_apply_creates_then_updates_as_fleetline(access: ClusterAccess) -> None:
    created = await access.apply(configmap("settings", {"a": "1"}))
    assert created["metadata"]["namespace"] == "default"  # no namespace: "default", as kubectl does
    entry = managers(created)["fleetline"]
    assert entry["operation"] == "Apply" and "f:a" in entry["fieldsV1"]["f:data"]
    updated = await access.apply(configmap("settings", {"a": "2", "b": "3"}))
    assert updated["data"] == {"a": "2", "b": "3"}
    assert updated["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    assert set(managers(updated)) == {"fleetline"}


async def test_apply_force_takes_a_field_from_another_manager(access: ClusterAccess, kube: Clients) -> None:
    await access.apply(configmap("settings", {"a": "1"}))
    kube.core_v1.patch_namespaced_config_map("settings", "default", {"data": {"a": "hand-edited"}},
                                             field_manager="kubectl-edit")
    with pytest.raises(ClusterError) as caught:
        await access.apply(configmap("settings", {"a": "1"}), force=False)
    assert caught.value.status == 409 and caught.value.reason == "Conflict"
    assert str(caught.value).startswith("ConfigMap default/settings: 409 Conflict:")
    assert "kubectl-edit" in str(caught.value)
    healed = await access.apply(configmap("settings", {"a": "1"}))  # force is the default
    assert healed["data"] == {"a": "1"}
    owners = managers(healed)
    assert "f:a" in owners["fleetline"]["fieldsV1"]["f:data"]
    assert "kubectl-edit" not in owners or "f:a" not in owners["kubectl-edit"]["fieldsV1"].get("f:data", {})


async def test_apply_dry_run_changes_nothing(access: ClusterAccess) -> None:
    await access.apply(configmap("settings", {"a": "1"}))
    preview = await access.apply(configmap("settings", {"a": "2"}), dry_run=True)
    assert preview["data"] == {"a": "2"}
    assert (await access.get(cm_ref("settings")))["data"] == {"a": "1"}


async def test_namespaces_cluster_scope_and_validation_errors_name_the_object(access: ClusterAccess) -> None:
    await access.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}})
    cm = await access.apply(configmap("settings", {"a": "1"}, namespace="ml"))
    assert cm["metadata"]["namespace"] == "ml"
    with pytest.raises(InvalidObject, match=r"^ClusterRole ml/admin-ish: ClusterRole is cluster-scoped, so it cannot "
                                            r"be in namespace 'ml': remove metadata.namespace"):
        await access.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                            "metadata": {"name": "admin-ish", "namespace": "ml"}, "rules": []})
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "inference", "namespace": "ml"},
           "spec": {"selector": {"matchLabels": {"app": "inference"}},
                    "template": {"metadata": {"labels": {"app": "other"}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    with pytest.raises(ClusterError) as caught:
        await access.apply(bad)
    assert str(caught.value).startswith("Deployment ml/inference: 422 Invalid: spec.template.metadata.labels")
    with pytest.raises(ClusterError, match=r"^ConfigMap nowhere/x: 404 NotFound"):
        await access.create(configmap("x", namespace="nowhere"))


# -- create, replace, patch, delete, get, list -------------------------------------------------------------------------
async def test_create_and_generate_name(access: ClusterAccess) -> None:
    created = await access.create(configmap("once", {"a": "1"}))
    assert managers(created)["fleetline"]["operation"] == "Update"
    with pytest.raises(ClusterError, match=r"^ConfigMap default/once: 409 AlreadyExists"):
        await access.create(configmap("once"))
    generated = await access.create({"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"generateName": "hook-"}, "data": {}})
    assert generated["metadata"]["name"].startswith("hook-") and len(generated["metadata"]["name"]) > 5


async def test_replace_takes_the_live_resource_version(access: ClusterAccess) -> None:
    first = await access.apply(configmap("settings", {"a": "1", "b": "2"}))
    replaced = await access.replace(configmap("settings", {"c": "3"}))
    assert replaced["data"] == {"c": "3"}  # the whole object: a and b are gone
    stale = configmap("settings", {"d": "4"})
    stale["metadata"]["resourceVersion"] = first["metadata"]["resourceVersion"]
    with pytest.raises(ClusterError) as caught:
        await access.replace(stale)
    assert caught.value.status == 409
    with pytest.raises(ClusterError, match=r"^ConfigMap default/missing: 404 NotFound: cannot replace"):
        await access.replace(configmap("missing"))


async def test_patch_types(access: ClusterAccess) -> None:
    await access.apply(configmap("settings", {"a": "1"}))
    merged = await access.patch(cm_ref("settings"), {"data": {"b": "2"}},
                                content_type="application/merge-patch+json")
    assert merged["data"] == {"a": "1", "b": "2"}
    patched = await access.patch(cm_ref("settings"), [{"op": "remove", "path": "/data/a"},
                                                      {"op": "add", "path": "/data/c", "value": "3"}],
                                 content_type="application/json-patch+json", field_manager="fleetline-heal")
    assert patched["data"] == {"b": "2", "c": "3"}
    assert "f:c" in managers(patched)["fleetline-heal"]["fieldsV1"]["f:data"]
    with pytest.raises(ValueError, match="list of operations"):
        await access.patch(cm_ref("settings"), {"data": {}}, content_type="application/json-patch+json")
    with pytest.raises(ValueError, match="unsupported patch type"):
        await access.patch(cm_ref("settings"), {"data": {}}, content_type="application/json")


async def test_delete_and_get(access: ClusterAccess) -> None:
    assert await access.get(cm_ref("settings")) is None
    await access.apply(configmap("settings", {"a": "1"}))
    live = await access.get(cm_ref("settings"))
    assert live is not None and live["kind"] == "ConfigMap" and live["data"] == {"a": "1"}
    assert await access.delete(cm_ref("settings")) is True
    assert await access.get(cm_ref("settings")) is None
    assert await access.delete(cm_ref("settings")) is False
    with pytest.raises(ValueError, match="propagation must be one of"):
        await access.delete(cm_ref("settings"), propagation="Eventually")


async def test_delete_propagation_orphans_dependents(access: ClusterAccess, sim: ClusterThread) -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    await access.apply(deployment)

    async def replica_sets() -> list[dict]:
        return (await access.list("apps/v1", "ReplicaSet", namespace="default", label_selector="app=web"))[0]

    await eventually(replica_sets, message="the Deployment's ReplicaSet")
    assert await access.delete(ObjectRef("apps/v1", "Deployment", "default", "web"), propagation="Orphan")

    async def gone() -> bool:  # the orphan finalizer is removed by the garbage collector, a moment later
        return await access.get(ObjectRef("apps/v1", "Deployment", "default", "web")) is None

    await eventually(gone, message="the Deployment deleted")
    assert len(await replica_sets()) == 1  # orphaned, not collected


async def test_list_with_a_label_selector(access: ClusterAccess) -> None:
    await access.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}})
    for name, ns in (("a", "default"), ("b", "ml"), ("c", "ml")):
        await access.apply(configmap(name, {"x": "1"}, labels={"fleetline.io/app": "demo"}, namespace=ns))
    await access.apply(configmap("unlabelled", namespace="ml"))
    items, resource_version = await access.list("v1", "ConfigMap", label_selector="fleetline.io/app=demo")
    assert sorted((o["metadata"]["namespace"], o["metadata"]["name"]) for o in items) == [
        ("default", "a"), ("ml", "b"), ("ml", "c")]
    assert all(o["apiVersion"] == "v1" and o["kind"] == "ConfigMap" for o in items)
    assert int(resource_version) > 0
    in_ml, _ = await access.list("v1", "ConfigMap", namespace="ml", label_selector="fleetline.io/app=demo")
    assert [o["metadata"]["name"] for o in in_ml] == ["b", "c"]
    with pytest.raises(InvalidObject, match="cluster-scoped: list or watch it without a namespace"):
        await access.list("v1", "Namespace", namespace="ml")


async def test_closed_access_refuses_requests(sim: ClusterThread) -> None:
    access = ClusterAccess.from_kubeconfig(sim.kubeconfig_path)
    await access.start()
    await access.close()
    with pytest.raises(ClusterError, match="closed"):
        await access.get(cm_ref("settings"))
