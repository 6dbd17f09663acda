"""Field specs: path syntax, GVK matching, traversal, creation and errors (kustomize's fieldspec filter)."""

from __future__ import annotations

import pytest

from hub.render import fieldspec_tables as tables
from hub.render.errors import RenderError
from hub.render.fieldspecs import (
    FieldSpec,
    FieldSpecError,
    apply_fieldspecs,
    parse_fieldspecs,
    split_path,
    update_field,
)
from hub.render.resource import Resource


def add_label(value):
    if value is not None and not isinstance(value, dict):
        raise FieldSpecError(f"expected a mapping, found {value!r}")
    result = dict(value or {})
    result["team"] = "ml"
    return result


def test_split_path_plain_leading_slash_and_escaped_slash():
    assert split_path("spec/template/metadata/labels") == ["spec", "template", "metadata", "labels"]
    assert split_path("/spec/replicas") == ["spec", "replicas"]
    assert split_path("metadata/annotations/example.com\\/owner") == ["metadata", "annotations",
                                                                      "example.com/owner"]
    assert split_path("spec/containers[]/image") == ["spec", "containers[]", "image"]


def test_applies_to_matches_group_version_kind_with_empty_meaning_any():
    deployment = Resource({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}, "r.yaml")
    service = Resource({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}, "r.yaml")
    assert FieldSpec("metadata/labels").applies_to(deployment)
    assert FieldSpec("x", kind="Deployment").applies_to(deployment)
    assert not FieldSpec("x", kind="Deployment").applies_to(service)
    assert FieldSpec("x", group="apps", kind="Deployment").applies_to(deployment)
    assert not FieldSpec("x", group="batch", kind="Deployment").applies_to(deployment)
    assert FieldSpec("x", version="v1", kind="Service").applies_to(service)
    assert not FieldSpec("x", group="apps").applies_to(service)  # core group is ""
    assert not FieldSpec("x", version="v2").applies_to(deployment)
    assert FieldSpec("x", kind="Service").applies_to(service.obj)  # a plain dict works too


def test_update_field_sets_existing_value_and_stores_result():
    obj = {"spec": {"replicas": 1}}
    update_field(obj, "spec/replicas", lambda v: v + 1)
    assert obj == {"spec": {"replicas": 2}}


def test_missing_field_is_left_alone_without_create():
    obj = {"spec": {}}
    update_field(obj, "spec/template/metadata/labels", add_label)
    assert obj == {"spec": {}}


def test_create_builds_the_missing_maps_and_calls_fn_with_none():
    obj = {"kind": "Deployment"}
    seen = []

    def fn(value):
        seen.append(value)
        return add_label(value)

    update_field(obj, "spec/template/metadata/labels", fn, create=True)
    assert seen == [None]
    assert obj == {"kind": "Deployment", "spec": {"template": {"metadata": {"labels": {"team": "ml"}}}}}


def test_null_counts_as_missing_with_create_and_is_left_alone_without():
    obj = {"metadata": {"labels": None}, "spec": {"selector": {"matchLabels": None}}}
    update_field(obj, "metadata/labels", add_label, create=True)
    update_field(obj, "spec/selector/matchLabels", add_label)
    assert obj == {"metadata": {"labels": {"team": "ml"}}, "spec": {"selector": {"matchLabels": None}}}
    obj = {"spec": None}
    update_field(obj, "spec/template/metadata/labels", add_label, create=True)
    assert obj == {"spec": {"template": {"metadata": {"labels": {"team": "ml"}}}}}


def test_lists_are_traversed_element_wise_with_or_without_the_marker():
    obj = {"spec": {"containers": [{"image": "a"}, {"name": "no-image"}, {"image": "b"}],
                    "ingress": [{"from": [{"podSelector": {"matchLabels": {}}}, {"ipBlock": {}}]}]}}
    update_field(obj, "spec/containers[]/image", lambda v: v + ":1")
    update_field(obj, "spec/ingress/from/podSelector/matchLabels", add_label)
    assert obj["spec"]["containers"] == [{"image": "a:1"}, {"name": "no-image"}, {"image": "b:1"}]
    assert obj["spec"]["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"team": "ml"}}}, {"ipBlock": {}}]}]


def test_list_marked_elements_are_never_created_and_a_null_list_becomes_empty():
    obj = {"spec": {"initContainers": None}}
    update_field(obj, "spec/containers[]/image", lambda v: "x", create=True)
    update_field(obj, "spec/initContainers[]/image", lambda v: "x", create=True)
    assert obj == {"spec": {"initContainers": []}}


def test_scalar_on_the_way_is_an_error_naming_where():
    with pytest.raises(FieldSpecError, match="expected a mapping or a list at 'spec/selector', found the "
                                             "string 'foo'"):
        update_field({"spec": {"selector": "foo"}}, "spec/selector/matchLabels", add_label, create=True)
    with pytest.raises(FieldSpecError, match="at 'spec/template/metadata'"):
        update_field({"spec": {"template": {"metadata": [1, 2]}}}, "spec/template/metadata/labels", add_label,
                     create=True)


def test_empty_field_name_is_an_error():
    with pytest.raises(FieldSpecError, match="empty field name"):
        update_field({"spec": {}}, "spec//x", lambda v: v, create=True)


def test_apply_fieldspecs_only_matching_specs_and_wraps_errors():
    resource = Resource({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                         "spec": {"selector": "oops"}}, "base/svc.yaml")
    apply_fieldspecs(resource, [FieldSpec("metadata/labels", create=True),
                                FieldSpec("spec/template/metadata/labels", kind="Deployment", create=True)],
                     add_label)
    assert resource.obj["metadata"]["labels"] == {"team": "ml"}
    assert "template" not in resource.obj["spec"]
    with pytest.raises(RenderError) as caught:
        apply_fieldspecs(resource, tables.COMMON_LABELS, add_label, "app/kustomization.yaml", "commonLabels")
    message = str(caught.value)
    assert message.startswith("app/kustomization.yaml: commonLabels: cannot set 'spec/selector' of Service/web")
    assert "base/svc.yaml" in message


def test_parse_fieldspecs_reads_and_validates():
    raw = [{"path": "spec/x/labels", "kind": "Thing", "create": True},
           {"path": "spec/y", "group": "example.com", "version": "v1"}]
    specs = parse_fieldspecs(raw, "k.yaml", "labels[0].fields")
    assert specs == [FieldSpec("spec/x/labels", kind="Thing", create=True),
                     FieldSpec("spec/y", group="example.com", version="v1")]
    cases = [
        ({"path": "a"}, "labels[0].fields: expected a list"),
        ([{"kind": "X"}], "labels[0].fields[0].path: a field spec needs a path"),
        ([{"path": "a", "create": "yes"}], "labels[0].fields[0].create: expected true or false, found the string"),
        ([{"path": "a", "kinds": "X"}], "labels[0].fields[0].kinds: unknown field 'kinds'"),
        ([{"path": 3}], "labels[0].fields[0].path: expected a string, found the number 3"),
        (["a"], "labels[0].fields[0]: expected a field spec mapping"),
    ]
    for raw, message in cases:
        with pytest.raises(RenderError) as caught:
            parse_fieldspecs(raw, "k.yaml", "labels[0].fields")
        assert str(caught.value).startswith("k.yaml: " + message), str(caught.value)


def test_tables_hold_kustomizes_entries():
    assert len(tables.COMMON_LABELS) == 32 and len(tables.METADATA_LABELS) == 10
    assert FieldSpec("spec/selector", version="v1", kind="Service", create=True) in tables.COMMON_LABELS
    assert FieldSpec("spec/volumeClaimTemplates[]/metadata/labels", group="apps", kind="StatefulSet",
                     create=True) in tables.TEMPLATE_LABELS
    assert FieldSpec("spec/jobTemplate/spec/template/metadata/annotations", group="batch", kind="CronJob",
                     create=True) in tables.COMMON_ANNOTATIONS
    assert {spec.kind for spec in tables.REPLICAS} == {"Deployment", "ReplicationController", "ReplicaSet",
                                                       "StatefulSet"}
    assert all(spec.path.endswith("/image") for spec in tables.IMAGES)
