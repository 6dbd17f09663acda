"""Suggested ignoreDifferences entries: the narrowest form, and applied they make that difference go away."""

from __future__ import annotations

import pytest

from agent.diff import FieldDiff, IgnoreRule, diff_object, suggest_ignore, without_ignored
from tests.agent.diff.objects import (
    containers,
    desired_deployment,
    hpa_scaled,
    in_sync_live,
    live_deployment,
    sidecar,
)


def round_trip(desired: dict, live: dict, field: FieldDiff) -> dict:
    """Suggest a rule for `field`, check that it reads back and that only `field` is then ignored."""
    before = diff_object(desired, live)
    entry = suggest_ignore(live, field, field.manager)
    after = diff_object(desired, live, rules=[IgnoreRule.from_dict(entry)])
    assert after.ignored == [field.path]
    assert [f.path for f in after.fields] == [f.path for f in before.fields if f.path != field.path]
    return entry


def test_a_plain_field_gets_a_json_pointer() -> None:
    desired, live = desired_deployment(), hpa_scaled(in_sync_live())
    [field] = diff_object(desired, live).fields
    assert field.manager == "kube-controller-manager"
    entry = round_trip(desired, live, field)
    assert entry == {"group": "apps", "kind": "Deployment", "name": "inference", "namespace": "ml",
                     "jsonPointers": ["/spec/replicas"]}
    # under RespectIgnoreDifferences the HPA keeps replicas
    assert "replicas" not in without_ignored(desired, live, [IgnoreRule.from_dict(entry)])["spec"]


def test_a_field_of_a_container_gets_a_jq_select_by_name() -> None:
    desired, live = desired_deployment(), live_deployment()
    containers(live).insert(0, sidecar())  # indexes differ between Git and the cluster
    [field] = diff_object(desired, live).fields
    entry = round_trip(desired, live, field)
    assert entry["jqPathExpressions"] == ['.spec.template.spec.containers[] | select(.name == "server") | .image']
    assert "jsonPointers" not in entry and "managedFieldsManagers" not in entry


def test_a_port_is_selected_by_the_key_fields_git_spells_out() -> None:
    desired, live = desired_deployment(), in_sync_live()
    containers(live)[0]["ports"][0]["name"] = "metrics"
    [field] = diff_object(desired, live).fields
    entry = round_trip(desired, live, field)
    assert entry["jqPathExpressions"] == [
        '.spec.template.spec.containers[] | select(.name == "server") | .ports[] | select(.containerPort == 8080)'
        ' | .name']
    # the protocol is defaulted live, not written in Git: selecting on it would miss the desired item. Here the
    # rule finds it, and as only we own the name, RespectIgnoreDifferences adopts the live value
    payload = without_ignored(desired, live, [IgnoreRule.from_dict(entry)])
    assert containers(payload)[0]["ports"] == [{"containerPort": 8080, "name": "metrics"}]


def test_a_missing_keyed_item() -> None:
    desired, live = desired_deployment(), in_sync_live()
    containers(desired).append({"name": "istio-proxy", "image": "istio/proxyv2:1.20"})
    [field] = diff_object(desired, live).fields
    entry = round_trip(desired, live, field)
    assert entry["jqPathExpressions"] == ['.spec.template.spec.containers[] | select(.name == "istio-proxy")']


def test_keys_that_are_not_identifiers_are_quoted() -> None:
    desired, live = desired_deployment(), in_sync_live()
    containers(live)[0]["resources"]["limits"]["nvidia.com/gpu"] = 2
    containers(live)[0]["env"][1]["value"] = "16"
    live["metadata"]["annotations"]["fleetline.io/tracking-id"] = "x"
    fields = diff_object(desired, live).fields
    entries = [round_trip(desired, live, field) for field in fields]
    assert [e.get("jsonPointers") or e.get("jqPathExpressions") for e in entries] == [
        ["/metadata/annotations/fleetline.io~1tracking-id"],
        ['.spec.template.spec.containers[] | select(.name == "server") | .env[] | select(.name == "THREADS")'
         ' | .value'],
        ['.spec.template.spec.containers[] | select(.name == "server") | .resources.limits."nvidia.com/gpu"'],
    ]


def test_a_set_value_gets_a_jq_select_on_the_value() -> None:
    desired, live = desired_deployment(), in_sync_live()
    desired["metadata"]["finalizers"] = ["example.com/cleanup"]
    [field] = diff_object(desired, live).fields
    entry = round_trip(desired, live, field)
    assert entry["jqPathExpressions"] == ['.metadata.finalizers[] | select(. == "example.com/cleanup")']


def test_cluster_scoped_objects_have_no_namespace() -> None:
    desired = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml", "labels": {"team": "ml"}}}
    live = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml", "labels": {"team": "x"}}}
    [field] = diff_object(desired, live).fields
    assert round_trip(desired, live, field) == {"group": "", "kind": "Namespace", "name": "ml",
                                                "jsonPointers": ["/metadata/labels/team"]}


def test_a_missing_object_cannot_be_ignored_field_wise() -> None:
    [field] = diff_object(desired_deployment(), None).fields
    with pytest.raises(ValueError, match="Deployment inference is missing from the cluster"):
        suggest_ignore(desired_deployment(), field)


def test_a_diff_from_a_report_falls_back_to_its_pointer_then_its_manager() -> None:
    obj = desired_deployment()
    reported = FieldDiff("/spec/replicas", "/spec/replicas", 3, 7, "kube-controller-manager")
    assert suggest_ignore(obj, reported, reported.manager)["jsonPointers"] == ["/spec/replicas"]
    appended = FieldDiff('/spec/template/spec/containers[name="x"]', "/spec/template/spec/containers/-", {}, None,
                         "webhook")
    assert suggest_ignore(obj, appended, "webhook")["managedFieldsManagers"] == ["webhook"]
    with pytest.raises(ValueError, match="no structured path and no field manager"):
        suggest_ignore(obj, appended, None)
