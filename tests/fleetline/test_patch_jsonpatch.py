"""RFC 6902 JSON patch: the RFC's appendix A, pointers, kubectl's shapes and error reporting."""

import copy

import pytest

from fleetline.patch import PatchError, PatchTestFailed, apply_json_patch, parse_pointer

# RFC 6902 appendix A (A.13, a JSON document with a duplicated "op" member, cannot be expressed as a
# decoded Python dict and is a concern of the JSON decoder, not of the patch engine).
RFC6902_OK = {
    "A.1 add object member": (
        {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    "A.2 add array element": (
        {"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]}),
    "A.3 remove object member": (
        {"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    "A.4 remove array element": (
        {"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    "A.5 replace a value": (
        {"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"}),
    "A.6 move a value": (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    "A.7 move an array element": (
        {"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]}),
    "A.8 test a value: success": (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
        {"baz": "qux", "foo": ["a", 2, "c"]}),
    "A.10 add a nested member object": (
        {"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}}),
    "A.11 ignore unrecognized elements": (
        {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"}),
    "A.14 ~ escape ordering": (
        {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    "A.16 add an array value": (
        {"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]}),
}


@pytest.mark.parametrize("case", sorted(RFC6902_OK))
def test_rfc6902_appendix_a(case):
    doc, ops, expected = RFC6902_OK[case]
    before = copy.deepcopy(doc)
    assert apply_json_patch(doc, ops) == expected
    assert doc == before


def test_rfc6902_a9_failed_test_raises_test_failed():
    with pytest.raises(PatchTestFailed, match=r"operation 0 \(test '/baz'\)"):
        apply_json_patch({"baz": "qux", "foo": ["a", 2, "c"]},
                         [{"op": "test", "path": "/baz", "value": "bar"}])


def test_rfc6902_a12_add_to_a_nonexistent_target():
    with pytest.raises(PatchError, match="'/baz' does not exist") as info:
        apply_json_patch({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}])
    assert not isinstance(info.value, PatchTestFailed)


def test_rfc6902_a15_comparing_strings_and_numbers():
    with pytest.raises(PatchTestFailed):
        apply_json_patch({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}])


def test_test_distinguishes_booleans_from_numbers_but_not_int_from_float():
    doc = {"spec": {"paused": True, "replicas": 3}}
    assert apply_json_patch(doc, [{"op": "test", "path": "/spec/replicas", "value": 3.0}]) == doc
    with pytest.raises(PatchTestFailed):
        apply_json_patch(doc, [{"op": "test", "path": "/spec/paused", "value": 1}])


def test_test_of_a_missing_path_is_a_test_failure():
    with pytest.raises(PatchTestFailed):
        apply_json_patch({"a": 1}, [{"op": "test", "path": "/b", "value": 1}])


def test_kubectl_csa_to_ssa_migration_patch():
    live = {"metadata": {"name": "web", "resourceVersion": "41", "managedFields": [{"manager": "old"}]}}
    ops = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "41"},
        {"op": "replace", "path": "/metadata/managedFields",
         "value": [{"manager": "kubectl", "operation": "Apply"}]},
    ]
    patched = apply_json_patch(live, ops)
    assert patched["metadata"]["managedFields"] == [{"manager": "kubectl", "operation": "Apply"}]
    assert live["metadata"]["managedFields"] == [{"manager": "old"}]


def test_escaped_annotation_key():
    obj = {"metadata": {"annotations": {"fleetline.io/tracking-id": "app:apps/Deployment:ml/web",
                                        "a~b": "1"}}}
    patched = apply_json_patch(obj, [
        {"op": "remove", "path": "/metadata/annotations/fleetline.io~1tracking-id"},
        {"op": "replace", "path": "/metadata/annotations/a~0b", "value": "2"},
    ])
    assert patched == {"metadata": {"annotations": {"a~b": "2"}}}


def test_copy_and_whole_document_replace():
    doc = {"spec": {"template": {"metadata": {"labels": {"app": "web"}}}}}
    copied = apply_json_patch(doc, [{"op": "copy", "from": "/spec/template/metadata/labels",
                                     "path": "/metadata", "value": None}])
    assert copied["metadata"] == {"app": "web"}
    copied["metadata"]["app"] = "changed"
    assert copied["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    assert apply_json_patch(doc, [{"op": "replace", "path": "", "value": [1]}]) == [1]
    assert apply_json_patch(doc, [{"op": "add", "path": "", "value": {"x": 1}}]) == {"x": 1}


def test_values_are_copied_out_of_the_operations():
    ops = [{"op": "add", "path": "/a", "value": {}}, {"op": "add", "path": "/a/b", "value": 1}]
    assert apply_json_patch({}, ops) == {"a": {"b": 1}}
    assert ops[0]["value"] == {}


def test_numeric_tokens_are_member_names_in_objects():
    assert apply_json_patch({"0": "a"}, [{"op": "replace", "path": "/0", "value": "b"}]) == {"0": "b"}


def test_all_or_nothing():
    doc = {"metadata": {"labels": {"a": "1"}}}
    with pytest.raises(PatchError, match="operation 1"):
        apply_json_patch(doc, [
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "remove", "path": "/metadata/labels/missing"},
        ])
    assert doc == {"metadata": {"labels": {"a": "1"}}}


@pytest.mark.parametrize(("doc", "ops", "message"), [
    ({}, {"op": "add"}, "must be a list"),
    ({}, ["add"], "operation 0: must be an object"),
    ({}, [{"path": "/a"}], "'op' is missing"),
    ({}, [{"op": "frobnicate", "path": "/a"}], "'op' is 'frobnicate'"),
    ({}, [{"op": "add", "value": 1}], r"operation 0 \(add\): missing 'path'"),
    ({}, [{"op": "add", "path": "/a"}], "missing 'value'"),
    ({}, [{"op": "move", "path": "/a"}], "missing 'from'"),
    ({}, [{"op": "add", "path": "a", "value": 1}], "must be empty or start with '/'"),
    ({}, [{"op": "add", "path": "/a~2", "value": 1}], "invalid escape"),
    ({"l": [1]}, [{"op": "add", "path": "/l/2", "value": 1}], "index 2 is out of range"),
    ({"l": [1]}, [{"op": "replace", "path": "/l/1", "value": 1}], "index 1 is out of range"),
    ({"l": [1]}, [{"op": "add", "path": "/l/01", "value": 1}], "'01' is not a list index"),
    ({"l": [1]}, [{"op": "remove", "path": "/l/-"}], "names no existing element"),
    ({"l": [1]}, [{"op": "remove", "path": "/l/x"}], "'x' is not a list index"),
    ({"a": 1}, [{"op": "add", "path": "/a/b", "value": 1}], "cannot add to a int"),
    ({"a": 1}, [{"op": "replace", "path": "/b", "value": 1}], "'/b' does not exist"),
    ({"a": 1}, [{"op": "remove", "path": ""}], "cannot remove the whole document"),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}], "into one of its own children"),
    ({"a": 1}, [{"op": "copy", "from": "/x", "path": "/b"}], r"copy '/b' from '/x'\): '/x' does not exist"),
])
def test_errors_name_the_operation_and_the_reason(doc, ops, message):
    with pytest.raises(PatchError, match=message):
        apply_json_patch(doc, ops)


def test_move_onto_itself_is_a_no_op():
    assert apply_json_patch({"a": 1}, [{"op": "move", "from": "/a", "path": "/a"}]) == {"a": 1}


def test_parse_pointer():
    assert parse_pointer("") == ()
    assert parse_pointer("/") == ("",)
    assert parse_pointer("/a~1b/~0c/~01") == ("a/b", "~c", "~1")
