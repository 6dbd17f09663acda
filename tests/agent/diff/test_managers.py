"""Field managers from managedFields (FieldsV1): who last wrote a live field."""

from __future__ import annotations

import copy

from agent.diff import diff_object, manager_of
from tests.agent.diff.objects import T0, T1, desired_deployment, in_sync_live, live_deployment

SERVER = ("spec", "template", "spec", "containers", 0)


def test_an_update_after_our_apply_owns_the_field() -> None:
    live = live_deployment()
    assert manager_of(live, (*SERVER, "image")) == "kubectl-set"
    assert manager_of(live, ("spec", "replicas")) == "fleetline"
    assert manager_of(live, ("status", "replicas")) == "kube-controller-manager"
    assert manager_of(in_sync_live(), (*SERVER, "image")) == "fleetline"


def test_keyed_items_match_with_key_defaults_and_any_key_order() -> None:
    live = live_deployment()
    # the FieldsV1 key has the defaulted protocol; the pointer names the port by its live index
    assert manager_of(live, (*SERVER, "ports", 0, "containerPort")) == "fleetline"
    assert manager_of(live, (*SERVER, "env", 1, "value")) == "fleetline"
    assert manager_of(live, (*SERVER, "ports", 0)) == "fleetline"  # the item itself (".")
    # kube-apiserver may write a key's fields in another order
    entry = live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    ports = entry['k:{"name":"server"}']["f:ports"]
    ports['k:{"protocol":"TCP","containerPort":8080}'] = ports.pop('k:{"containerPort":8080,"protocol":"TCP"}')
    assert manager_of(live, (*SERVER, "ports", 0, "name")) == "fleetline"


def test_a_field_inside_an_atomic_value_belongs_to_the_owner_of_the_whole() -> None:
    live = live_deployment()
    assert manager_of(live, ("spec", "selector", "matchLabels", "app")) == "fleetline"
    assert manager_of(live, ("spec", "template", "spec", "tolerations", 0, "key")) == "fleetline"
    assert manager_of(live, (*SERVER, "args", 1)) == "fleetline"


def test_unowned_absent_or_unreadable() -> None:
    live = live_deployment()
    assert manager_of(live, ("spec", "revisionHistoryLimit")) is None  # defaulted: nobody's
    assert manager_of(live, ("spec", "nothing")) is None
    assert manager_of(live, (*SERVER, "ports", "-")) is None
    assert manager_of(live, ("spec", "template", "spec", "containers", 7, "image")) is None
    assert manager_of(live, ("spec", "template", "spec")) is None  # a node nobody owns as such
    del live["metadata"]["managedFields"]
    assert manager_of(live, ("spec", "replicas")) is None
    live["metadata"]["managedFields"] = [{"manager": "broken", "fieldsV1": {"f:spec": "nope"}}, "junk",
                                         {"manager": "x", "fieldsV1": {"bogus": {}}},
                                         {"manager": "fleetline", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    assert manager_of(live, ("spec", "replicas")) == "fleetline"


def test_several_owners_prefer_the_latest_then_an_update() -> None:
    live = live_deployment()
    replicas_only = {"f:spec": {"f:replicas": {}}}
    hpa = {"manager": "horizontal-pod-autoscaler", "operation": "Update", "time": T0, "subresource": "scale",
           "fieldsType": "FieldsV1", "fieldsV1": replicas_only}
    live["metadata"]["managedFields"].append(hpa)
    # fleetline applied at T0 too: a tie in time; the imperative write wins
    assert manager_of(live, ("spec", "replicas")) == "horizontal-pod-autoscaler"
    later_apply = copy.deepcopy(hpa) | {"manager": "helm", "operation": "Apply", "time": T1}
    live["metadata"]["managedFields"].append(later_apply)
    assert manager_of(live, ("spec", "replicas")) == "helm"


def test_set_values_are_owned_by_value() -> None:
    live = in_sync_live()
    live["metadata"]["finalizers"] = ["a.example.com/x", "b.example.com/y"]
    live["metadata"]["managedFields"].append({
        "manager": "b-controller", "operation": "Update", "time": T1, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:finalizers": {".": {}, 'v:"b.example.com/y"': {}}}}})
    assert manager_of(live, ("metadata", "finalizers", 1)) == "b-controller"
    assert manager_of(live, ("metadata", "finalizers", 0)) is None


def test_the_diff_names_the_manager_of_each_live_value() -> None:
    live = live_deployment()
    live["spec"]["replicas"] = 1
    result = diff_object(desired_deployment(), live)
    assert [(f.path, f.manager) for f in result.fields] == [
        ("/spec/replicas", "fleetline"),
        ('/spec/template/spec/containers[name="server"]/image', "kubectl-set"),
    ]
    containers = live["spec"]["template"]["spec"]["containers"]
    containers[0]["name"] = "renamed"  # our container is gone from live: nobody owns a missing item
    assert [(f.path, f.manager) for f in diff_object(desired_deployment(), live).fields][-1] == (
        '/spec/template/spec/containers[name="server"]', None)
