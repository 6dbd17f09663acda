"""RFC 7386 JSON merge patch: the RFC's appendix A, Kubernetes-shaped cases and create_merge_patch."""

import copy

import pytest

from fleetline.patch import PatchError, apply_merge_patch, create_merge_patch, json_equal

# RFC 7386 appendix A, verbatim: (original, patch, result)
RFC7386_APPENDIX_A = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC7386_APPENDIX_A)
def test_rfc7386_appendix_a(original, patch, expected):
    assert apply_merge_patch(original, patch) == expected


@pytest.mark.parametrize(("original", "patch", "expected"), RFC7386_APPENDIX_A)
def test_inputs_are_never_mutated(original, patch, expected):
    before_original, before_patch = copy.deepcopy(original), copy.deepcopy(patch)
    apply_merge_patch(original, patch)
    assert original == before_original
    assert patch == before_patch


def test_result_shares_no_structure_with_the_patch():
    patch = {"metadata": {"labels": {"app": "web"}}, "spec": {"ports": [{"port": 80}]}}
    result = apply_merge_patch({}, patch)
    result["metadata"]["labels"]["app"] = "changed"
    result["spec"]["ports"][0]["port"] = 1
    assert patch == {"metadata": {"labels": {"app": "web"}}, "spec": {"ports": [{"port": 80}]}}


def test_kubectl_label_and_scale_patches():
    deployment = {
        "metadata": {"name": "inference", "labels": {"app": "inference", "tier": "gpu"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "server", "image": "a:1"}]}}},
    }
    # kubectl label deploy inference tier- team=ml ; kubectl scale --replicas=5
    patched = apply_merge_patch(deployment, {"metadata": {"labels": {"tier": None, "team": "ml"}}})
    patched = apply_merge_patch(patched, {"spec": {"replicas": 5}})
    assert patched["metadata"]["labels"] == {"app": "inference", "team": "ml"}
    assert patched["spec"]["replicas"] == 5
    assert patched["spec"]["template"] == deployment["spec"]["template"]


def test_lists_are_replaced_whole():
    pod = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}
    patched = apply_merge_patch(pod, {"spec": {"containers": [{"name": "a", "image": "z"}]}})
    assert patched == {"spec": {"containers": [{"name": "a", "image": "z"}]}}


def test_create_merge_patch_removes_changes_and_adds():
    original = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"args": ["--x"], "replicas": 1}}
    modified = {"metadata": {"labels": {"a": "1", "c": "3"}}, "spec": {"args": ["--x", "--y"], "replicas": 1}}
    patch = create_merge_patch(original, modified)
    assert patch == {"metadata": {"labels": {"b": None, "c": "3"}}, "spec": {"args": ["--x", "--y"]}}
    assert apply_merge_patch(original, patch) == modified


def test_create_merge_patch_of_equal_objects_is_empty():
    obj = {"a": {"b": [1, {"c": True}]}}
    assert create_merge_patch(obj, copy.deepcopy(obj)) == {}


def test_create_merge_patch_tells_true_from_one():
    patch = create_merge_patch({"enabled": 1, "n": 1}, {"enabled": True, "n": 1.0})
    assert patch == {"enabled": True}


def test_create_merge_patch_towards_a_non_object_is_refused():
    with pytest.raises(PatchError, match="towards an object"):
        create_merge_patch({"a": 1}, [1, 2])


@pytest.mark.parametrize(("a", "b", "equal"), [
    (1, 1.0, True),
    (True, 1, False),
    (False, 0, False),
    ({"a": [1, "x"]}, {"a": [1, "x"]}, True),
    ({"a": 1}, {"a": 1, "b": None}, False),
    ([1, 2], [2, 1], False),
    ("1", 1, False),
    (None, None, True),
])
def test_json_equal(a, b, equal):
    assert json_equal(a, b) is equal
