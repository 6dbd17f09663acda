"""ignoreDifferences: selecting objects, every ignore form, bad rules, and RespectIgnoreDifferences' payload."""

from __future__ import annotations

import copy

import pytest

from agent.diff import IgnoreRule, diff_object, without_ignored
from fleetline.wire import fleet_pb2
from tests.agent.diff.objects import (
    T1,
    containers,
    desired_deployment,
    hpa_scaled,
    in_sync_live,
    live_deployment,
    sidecar,
)


def rule(**fields: object) -> IgnoreRule:
    return IgnoreRule(**{"group": "apps", "kind": "Deployment", **fields})


def test_from_proto_and_fleet_yaml_spelling() -> None:
    msg = fleet_pb2.IgnoreDifference(group="apps", kind="Deployment", name="inference", namespace="ml",
                                     json_pointers=["/spec/replicas"],
                                     jq_path_expressions=[".spec.template.spec.containers[]?.image"],
                                     managed_fields_managers=["kube-controller-manager"])
    from_wire = IgnoreRule.from_proto(msg)
    entry = {"group": "apps", "kind": "Deployment", "name": "inference", "namespace": "ml",
             "jsonPointers": ["/spec/replicas"], "jqPathExpressions": [".spec.template.spec.containers[]?.image"],
             "managedFieldsManagers": ["kube-controller-manager"]}
    assert from_wire == IgnoreRule.from_dict(entry)
    assert from_wire.to_dict() == entry
    assert IgnoreRule.from_dict({"kind": "ConfigMap", "jsonPointers": ["/data"]}).to_dict() == {
        "group": "", "kind": "ConfigMap", "jsonPointers": ["/data"]}


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "", "json_pointers": ("/spec",)}, "ignoreDifferences entry for apps/?: kind is required"),
    ({"json_pointers": ()}, "ignoreDifferences entry for apps/Deployment: ignores nothing"),
    ({"json_pointers": ("spec/replicas",)}, "jsonPointers: 'spec/replicas' is not a JSON pointer: it must start"),
    ({"json_pointers": ("/a~2b",)}, "'~' must be escaped as ~0"),
    ({"json_pointers": ("",)}, "would ignore the whole object"),
    ({"name": "inference", "namespace": "ml", "jq_path_expressions": (".spec | length",)},
     "ignoreDifferences entry for apps/Deployment ml/inference: jqPathExpression '.spec | length': expected a path"),
])
def test_bad_rules_are_refused_naming_the_rule(fields: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        rule(**fields)
    assert message in str(error.value)


def test_unknown_or_mistyped_fleet_yaml_fields() -> None:
    with pytest.raises(ValueError, match="unknown field.*jsonPointer; expected group"):
        IgnoreRule.from_dict({"kind": "Deployment", "jsonPointer": ["/spec/replicas"]})
    with pytest.raises(ValueError, match="jsonPointers must be a list of strings"):
        IgnoreRule.from_dict({"kind": "Deployment", "jsonPointers": "/spec/replicas"})


def test_matching_objects() -> None:
    obj = desired_deployment()
    assert rule(json_pointers=("/spec",)).matches(obj)
    assert rule(name="inference", namespace="ml", json_pointers=("/spec",)).matches(obj)
    assert not rule(name="other", json_pointers=("/spec",)).matches(obj)
    assert not rule(namespace="prod", json_pointers=("/spec",)).matches(obj)
    assert not rule(kind="StatefulSet", json_pointers=("/spec",)).matches(obj)
    assert not IgnoreRule(kind="Deployment", json_pointers=("/spec",)).matches(obj)  # core group is ""
    assert IgnoreRule(group="*", kind="*", json_pointers=("/spec",)).matches(obj)
    assert IgnoreRule(group="*", kind="Deploy*", json_pointers=("/spec",)).matches(obj)
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert IgnoreRule(kind="ConfigMap", json_pointers=("/data",)).matches(config_map)


def test_json_pointers() -> None:
    live = hpa_scaled(in_sync_live())
    assert [f.path for f in diff_object(desired_deployment(), live).fields] == ["/spec/replicas"]
    result = diff_object(desired_deployment(), live, rules=[rule(json_pointers=("/spec/replicas",))])
    assert result.in_sync and result.ignored == ["/spec/replicas"]
    # an ancestor ignores everything under it
    assert diff_object(desired_deployment(), live, rules=[rule(json_pointers=("/spec",))]).in_sync
    # a rule for another object or another field changes nothing
    other = [rule(name="other", json_pointers=("/spec/replicas",)), rule(json_pointers=("/spec/replica",))]
    assert not diff_object(desired_deployment(), live, rules=other).in_sync


def test_json_pointers_with_list_indexes_match_either_side() -> None:
    live = live_deployment()
    containers(live).insert(0, sidecar())  # our container is at index 1 live, 0 in Git
    by_live_index = rule(json_pointers=("/spec/template/spec/containers/1/image",))
    by_desired_index = rule(json_pointers=("/spec/template/spec/containers/0/image",))
    for ignore in (by_live_index, by_desired_index):
        assert diff_object(desired_deployment(), live, rules=[ignore]).in_sync


def test_escaped_pointer_for_an_annotation() -> None:
    live = in_sync_live()
    live["metadata"]["annotations"]["fleetline.io/tracking-id"] = "someone-else"
    ignore = rule(json_pointers=("/metadata/annotations/fleetline.io~1tracking-id",))
    assert diff_object(desired_deployment(), live, rules=[ignore]).in_sync


def test_jq_path_expressions() -> None:
    live = live_deployment()
    live["spec"]["replicas"] = 1
    image = '.spec.template.spec.containers[] | select(.name == "server") | .image'
    result = diff_object(desired_deployment(), live, rules=[rule(jq_path_expressions=(image,))])
    assert [f.path for f in result.fields] == ["/spec/replicas"]
    assert result.ignored == ['/spec/template/spec/containers[name="server"]/image']
    everything = rule(jq_path_expressions=(".spec.replicas", ".spec.template.spec.containers[]?.image"))
    assert diff_object(desired_deployment(), live, rules=[everything]).in_sync
    wrong_name = rule(jq_path_expressions=('.spec.template.spec.containers[] | select(.name == "x") | .image',))
    assert not diff_object(desired_deployment(), live, rules=[wrong_name]).in_sync


def test_jq_selects_a_whole_keyed_item() -> None:
    desired = desired_deployment()
    containers(desired).append({"name": "istio-proxy", "image": "istio/proxyv2:1.20"})
    live = in_sync_live()  # the declared istio-proxy container is not running: a difference, unless ignored
    ignore = rule(jq_path_expressions=('.spec.template.spec.containers[] | select(.name == "istio-proxy")',))
    assert not diff_object(desired, live).in_sync
    result = diff_object(desired, live, rules=[ignore])
    assert result.in_sync and result.ignored == ['/spec/template/spec/containers[name="istio-proxy"]']


def test_managed_fields_managers() -> None:
    live = hpa_scaled(live_deployment())
    result = diff_object(desired_deployment(), live, rules=[rule(managed_fields_managers=("kube-controller-manager",))])
    assert [(f.path, f.manager) for f in result.fields] == [
        ('/spec/template/spec/containers[name="server"]/image', "kubectl-set")]
    assert result.ignored == ["/spec/replicas"]
    both = rule(managed_fields_managers=("kube-controller-manager", "kubectl-set"))
    assert diff_object(desired_deployment(), live, rules=[both]).in_sync
    # a field we own is never ignored by a manager rule naming someone else
    live["metadata"]["labels"]["app"] = "changed-by-apply"
    assert [f.path for f in diff_object(desired_deployment(), live, rules=[both]).fields] == ["/metadata/labels/app"]


def webhook_configuration(ca_bundle: str | None, timeout: int = 10) -> dict:
    client = {"service": {"name": "injector", "namespace": "mesh"}}
    if ca_bundle is not None:
        client["caBundle"] = ca_bundle
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "mesh-injector"},
            "webhooks": [{"name": "inject.mesh.io", "clientConfig": client, "timeoutSeconds": timeout,
                          "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}


CA_RULE = IgnoreRule(group="admissionregistration.k8s.io", kind="MutatingWebhookConfiguration",
                     jq_path_expressions=(".webhooks[]?.clientConfig.caBundle",))


def test_a_rule_inside_an_atomic_list() -> None:
    desired = webhook_configuration(ca_bundle=None)
    live = webhook_configuration(ca_bundle="Q0EgYnVuZGxl")  # injected by cert-manager
    assert [f.path for f in diff_object(desired, live).fields] == []  # not declared: nothing to compare
    desired = webhook_configuration(ca_bundle="")
    assert [f.path for f in diff_object(desired, live).fields] == ["/webhooks"]  # declared, atomic list
    result = diff_object(desired, live, rules=[CA_RULE])
    assert result.in_sync and result.ignored == ["/webhooks"]
    live["webhooks"][0]["timeoutSeconds"] = 30  # any other change in the list is still drift
    assert [f.path for f in diff_object(desired, live, rules=[CA_RULE]).fields] == ["/webhooks"]


def test_without_ignored_strips_a_field_another_manager_owns() -> None:
    desired = desired_deployment()
    before = copy.deepcopy(desired)
    live = hpa_scaled(in_sync_live())
    payload = without_ignored(desired, live, [rule(json_pointers=("/spec/replicas",))])
    assert "replicas" not in payload["spec"]
    assert payload["spec"]["template"] == desired["spec"]["template"]
    assert desired == before
    # the same through the manager form
    payload = without_ignored(desired, live, [rule(managed_fields_managers=("kube-controller-manager",))])
    assert "replicas" not in payload["spec"]


def test_without_ignored_adopts_the_live_value_of_a_field_only_we_own() -> None:
    live = in_sync_live()
    live["spec"]["replicas"] = 4  # changed, but still owned by fleetline alone: dropping it would delete it
    payload = without_ignored(desired_deployment(), live, [rule(json_pointers=("/spec/replicas",))])
    assert payload["spec"]["replicas"] == 4
    # another manager co-owning it: stripped
    live["metadata"]["managedFields"].append({"manager": "scaler", "operation": "Apply", "time": T1,
                                              "fieldsV1": {"f:spec": {"f:replicas": {}}}})
    payload = without_ignored(desired_deployment(), live, [rule(json_pointers=("/spec/replicas",))])
    assert "replicas" not in payload["spec"]


def test_without_ignored_keyed_items_and_creates() -> None:
    desired = desired_deployment()
    image = '.spec.template.spec.containers[] | select(.name == "server") | .image'
    live = live_deployment()  # kubectl-set owns the image
    payload = without_ignored(desired, live, [rule(jq_path_expressions=(image,))])
    assert "image" not in containers(payload)[0]
    assert containers(payload)[0]["args"] == containers(desired)[0]["args"]
    # a create applies the desired object as it is
    assert without_ignored(desired, None, [rule(jq_path_expressions=(image,))]) is desired
    # no rule for this object: the desired object itself
    assert without_ignored(desired, live, [rule(name="other", json_pointers=("/spec",))]) is desired


def test_without_ignored_removes_several_items_of_one_list() -> None:
    desired = desired_deployment()
    containers(desired).extend([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}])
    live = in_sync_live()  # a and b are not live: removed, and the remaining indexes stay right
    ignore = rule(jq_path_expressions=('.spec.template.spec.containers[] | select(.name != "server")',))
    payload = without_ignored(desired, live, [ignore])
    assert [c["name"] for c in containers(payload)] == ["server"]


def test_without_ignored_patches_live_values_into_an_atomic_value() -> None:
    desired = webhook_configuration(ca_bundle="", timeout=15)
    live = webhook_configuration(ca_bundle="Q0EgYnVuZGxl")
    payload = without_ignored(desired, live, [CA_RULE])
    assert payload["webhooks"][0]["clientConfig"]["caBundle"] == "Q0EgYnVuZGxl"
    assert payload["webhooks"][0]["timeoutSeconds"] == 15  # our change is still applied
    live_without = webhook_configuration(ca_bundle=None)
    assert "caBundle" not in without_ignored(desired, live_without, [CA_RULE])["webhooks"][0]["clientConfig"]
