"""Strategic merge patch: every directive on Kubernetes-shaped objects, as kubectl sends them."""

import copy
import json

import pytest

from fleetline.patch import PatchError, apply_strategic_merge_patch, create_two_way_strategic_merge_patch
from fleetline.schema import schema_for

DEPLOYMENT = schema_for("apps", "Deployment")
POD = schema_for("", "Pod")
NODE = schema_for("", "Node")
CUSTOM = schema_for("ml.example.com", "InferenceService")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def deployment() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "inference", "namespace": "ml", "labels": {"app": "inference", "tier": "gpu"},
                     "finalizers": ["fleetline.io/prune-guard", "example.com/hold"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "inference"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "inference"}},
                "spec": {
                    "containers": [
                        {"name": "server", "image": "vllm:0.6",
                         "args": ["--model", "llama"],
                         "env": [{"name": "MODEL", "value": "llama"}, {"name": "DEBUG", "value": "1"}],
                         "ports": [{"containerPort": 8000, "name": "http"}, {"containerPort": 9090}],
                         "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]},
                        {"name": "sidecar", "image": "envoy:1.30"},
                    ],
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
                    "nodeSelector": {"gpu": "a100", "zone": "a"},
                    "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}],
                },
            },
        },
    }


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def containers(obj: dict) -> dict:
    return {c["name"]: c for c in pod_spec(obj)["containers"]}


def directive_keys(value) -> list[str]:
    found = []
    if isinstance(value, dict):
        found += [k for k in value if k in ("$patch", "$retainKeys")
                  or k.startswith(("$setElementOrder/", "$deleteFromPrimitiveList/"))]
        for v in value.values():
            found += directive_keys(v)
    elif isinstance(value, list):
        for v in value:
            found += directive_keys(v)
    return found


def apply(original: dict, patch: dict, node=DEPLOYMENT) -> dict:
    before_original, before_patch = copy.deepcopy(original), copy.deepcopy(patch)
    result = apply_strategic_merge_patch(original, patch, node)
    assert original == before_original, "the original was mutated"
    assert patch == before_patch, "the patch was mutated"
    assert directive_keys(result) == [], "a directive leaked into the result"
    return result


# ------------------------------------------------------------------------------------ what kubectl sends


def test_kubectl_set_image_patch():
    single = deployment()
    pod_spec(single)["containers"] = [
        {"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "nginx"}],
                                            "containers": [{"image": "nginx:1.27", "name": "nginx"}]}}}}
    result = apply(single, patch)
    assert pod_spec(result)["containers"] == [
        {"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]
    expected = copy.deepcopy(single)
    pod_spec(expected)["containers"][0]["image"] = "nginx:1.27"
    assert result == expected


def test_kubectl_three_way_apply_removes_a_container_and_an_env_var():
    live = deployment()
    new_manifest = json.dumps({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
        {"name": "server", "image": "vllm:0.6", "env": [{"name": "MODEL", "value": "llama"}]}]}}}})
    patch = {
        "metadata": {"annotations": {LAST_APPLIED: new_manifest}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "server"}],
            "containers": [
                {"$setElementOrder/env": [{"name": "MODEL"}], "env": [{"$patch": "delete", "name": "DEBUG"}],
                 "name": "server"},
                {"$patch": "delete", "name": "sidecar"},
            ],
        }}},
    }
    result = apply(live, patch)
    assert list(containers(result)) == ["server"]
    assert containers(result)["server"]["env"] == [{"name": "MODEL", "value": "llama"}]
    assert containers(result)["server"]["ports"] == containers(live)["server"]["ports"]
    assert result["metadata"]["annotations"] == {LAST_APPLIED: new_manifest}
    assert result["metadata"]["labels"] == live["metadata"]["labels"]


def test_kubectl_rollout_restart_adds_a_template_annotation():
    patch = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-03-01T10:00:00Z"}}}}}
    result = apply(deployment(), patch)
    assert result["spec"]["template"]["metadata"] == {
        "labels": {"app": "inference"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-03-01T10:00:00Z"}}


# ------------------------------------------------------------------------------------------------ maps


def test_maps_merge_recursively_and_null_deletes_a_key():
    result = apply(deployment(), {"metadata": {"labels": {"tier": None, "team": "ml"}},
                                  "spec": {"strategy": {"rollingUpdate": {"maxSurge": 2}}}})
    assert result["metadata"]["labels"] == {"app": "inference", "team": "ml"}
    assert result["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 2, "maxUnavailable": 0}


def test_null_for_a_missing_key_is_a_no_op():
    assert apply(deployment(), {"metadata": {"annotations": None}}) == deployment()


def test_map_patch_replace_replaces_the_map_wholesale():
    result = apply(deployment(), {"spec": {"template": {"spec": {
        "nodeSelector": {"$patch": "replace", "gpu": "h100"}}}}})
    assert pod_spec(result)["nodeSelector"] == {"gpu": "h100"}


def test_map_patch_replace_at_the_root_and_its_nested_directives_are_applied():
    result = apply(deployment(), {"$patch": "replace", "kind": "Deployment",
                                  "metadata": {"name": "x", "labels": {"gone": None},
                                               "$setElementOrder/finalizers": ["b", "a"],
                                               "finalizers": ["a", "b"]}})
    assert result == {"kind": "Deployment", "metadata": {"name": "x", "labels": {}, "finalizers": ["b", "a"]}}


def test_map_patch_delete_removes_the_map():
    result = apply(deployment(), {"spec": {"strategy": {"$patch": "delete"}}})
    assert "strategy" not in result["spec"]
    assert apply(deployment(), {"spec": {"nothere": {"$patch": "delete"}}}) == deployment()
    assert apply(deployment(), {"$patch": "delete"}) == {}


def test_node_selector_merges_under_smp_even_though_ssa_owns_it_atomically():
    result = apply(deployment(), {"spec": {"template": {"spec": {"nodeSelector": {"zone": "b"}}}}})
    assert pod_spec(result)["nodeSelector"] == {"gpu": "a100", "zone": "b"}


def test_dollar_keys_that_are_not_directives_are_ordinary_fields():
    crd_like = {"spec": {"schema": {"$ref": "#/a", "type": "object"}}}
    result = apply(crd_like, {"spec": {"schema": {"$ref": "#/b"}}}, CUSTOM)
    assert result == {"spec": {"schema": {"$ref": "#/b", "type": "object"}}}


# -------------------------------------------------------------------------------------- keyed lists


def test_keyed_list_merges_matching_items_and_appends_new_ones():
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "server", "env": [{"name": "DEBUG", "value": "0"}, {"name": "HF_HOME", "value": "/cache"}],
         "ports": [{"containerPort": 9090, "name": "metrics"}]},
        {"name": "exporter", "image": "dcgm:3"},
    ]}}}}
    result = apply(deployment(), patch)
    server = containers(result)["server"]
    assert list(containers(result)) == ["server", "sidecar", "exporter"]
    assert server["env"] == [{"name": "MODEL", "value": "llama"}, {"name": "DEBUG", "value": "0"},
                             {"name": "HF_HOME", "value": "/cache"}]
    assert server["ports"] == [{"containerPort": 8000, "name": "http"},
                               {"containerPort": 9090, "name": "metrics"}]
    assert server["image"] == "vllm:0.6"
    assert containers(result)["sidecar"] == containers(deployment())["sidecar"]
    assert containers(result)["exporter"] == {"name": "exporter", "image": "dcgm:3"}


def test_null_inside_a_keyed_item_deletes_that_field():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "server", "args": None}]}}}}
    assert "args" not in containers(apply(deployment(), patch))["server"]


def test_list_patch_delete_removes_the_item_by_key():
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "server", "volumeMounts": [{"mountPath": "/cache", "$patch": "delete"}]},
        {"name": "nosuch", "$patch": "delete"},
    ]}}}}
    assert containers(apply(deployment(), patch))["server"]["volumeMounts"] == []


def test_list_patch_replace_replaces_the_whole_list():
    patch = {"spec": {"template": {"spec": {"containers": [
        {"$patch": "replace"},
        {"name": "only", "image": "busybox", "env": [{"name": "X", "value": None}]}]}}}}
    result = apply(deployment(), patch)
    assert pod_spec(result)["containers"] == [{"name": "only", "image": "busybox", "env": [{"name": "X"}]}]


def test_owner_references_merge_by_uid():
    obj = {"metadata": {"ownerReferences": [{"uid": "u1", "kind": "ReplicaSet", "name": "rs1"}]}}
    result = apply(obj, {"metadata": {"ownerReferences": [{"uid": "u1", "controller": True},
                                                           {"uid": "u2", "kind": "Job", "name": "j"}]}}, POD)
    assert result["metadata"]["ownerReferences"] == [
        {"uid": "u1", "kind": "ReplicaSet", "name": "rs1", "controller": True},
        {"uid": "u2", "kind": "Job", "name": "j"}]


def test_status_conditions_merge_by_type():
    ready = {"type": "Ready", "status": "True", "reason": "KubeletReady"}
    disk = {"type": "DiskPressure", "status": "False"}
    node = {"status": {"conditions": [{"type": "Ready", "status": "False"}, disk]}}
    result = apply(node, {"status": {"conditions": [ready]}}, NODE)
    assert result["status"]["conditions"] == [ready, disk]


# ---------------------------------------------------------------------------------- $setElementOrder


def test_set_element_order_orders_named_items_and_keeps_the_others_after():
    obj = deployment()
    pod_spec(obj)["containers"].append({"name": "exporter", "image": "dcgm:3"})
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "exporter"}, {"name": "new"}, {"name": "server"}],
        "containers": [{"name": "new", "image": "n:1"}]}}}}
    result = apply(obj, patch)
    assert list(containers(result)) == ["exporter", "new", "server", "sidecar"]


def test_set_element_order_alone_reorders_the_original_list():
    order = [{"name": "sidecar"}, {"name": "server"}]
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": order}}}}
    assert list(containers(apply(deployment(), patch))) == ["sidecar", "server"]
    # nothing to order: the list is not created
    assert apply(deployment(), {"spec": {"$setElementOrder/missing": [{"name": "x"}]}}) == deployment()


def test_set_element_order_for_a_primitive_merge_list():
    patch = {"metadata": {"$setElementOrder/finalizers": ["example.com/new", "example.com/hold",
                                                         "fleetline.io/prune-guard"],
                          "finalizers": ["example.com/new"]}}
    result = apply(deployment(), patch)
    assert result["metadata"]["finalizers"] == [
        "example.com/new", "example.com/hold", "fleetline.io/prune-guard"]


# ----------------------------------------------------------------------------- lists of scalars


def test_finalizers_take_the_union_in_original_order_then_new_values():
    patch = {"metadata": {"finalizers": ["example.com/hold", "example.com/new"]}}
    result = apply(deployment(), patch)
    assert result["metadata"]["finalizers"] == [
        "fleetline.io/prune-guard", "example.com/hold", "example.com/new"]


def test_delete_from_primitive_list():
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["fleetline.io/prune-guard", "not-there"]}}
    assert apply(deployment(), patch)["metadata"]["finalizers"] == ["example.com/hold"]
    both = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/hold"], "finalizers": ["b"]}}
    assert apply(deployment(), both)["metadata"]["finalizers"] == ["fleetline.io/prune-guard", "b"]


def test_lists_without_a_merge_key_are_replaced_whole():
    patch = {"spec": {"template": {"spec": {
        "tolerations": [{"key": "spot", "operator": "Exists"}],
        "containers": [{"name": "server", "args": ["--model", "mistral"]}]}}}}
    result = apply(deployment(), patch)
    assert pod_spec(result)["tolerations"] == [{"key": "spot", "operator": "Exists"}]
    assert containers(result)["server"]["args"] == ["--model", "mistral"]


def test_custom_resources_replace_their_lists():
    obj = {"metadata": {"finalizers": ["a"]}, "spec": {"models": [{"name": "a", "gpus": 1}]}}
    result = apply(obj, {"metadata": {"finalizers": ["b"]}, "spec": {"models": [{"name": "b"}]}}, CUSTOM)
    assert result == {"metadata": {"finalizers": ["a", "b"]}, "spec": {"models": [{"name": "b"}]}}


def test_null_for_a_list_deletes_it():
    patch = {"metadata": {"finalizers": None},
             "spec": {"template": {"spec": {"containers": [{"name": "server", "env": None}],
                                            "tolerations": None}}}}
    result = apply(deployment(), patch)
    assert "finalizers" not in result["metadata"]
    assert "tolerations" not in pod_spec(result)
    assert "env" not in containers(result)["server"]


# --------------------------------------------------------------------------------------- $retainKeys


def test_retain_keys_on_deployment_strategy():
    # kubectl apply switching RollingUpdate -> Recreate
    result = apply(deployment(), {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_on_a_volume_switches_its_source():
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/volumes": [{"name": "cache"}],
        "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "model-config"},
                     "name": "cache"}]}}}}
    result = apply(deployment(), patch)
    assert pod_spec(result)["volumes"] == [{"name": "cache", "configMap": {"name": "model-config"}}]


def test_retain_keys_in_a_map_without_the_strategy_is_honoured_too():
    result = apply(deployment(), {"metadata": {"labels": {"$retainKeys": ["app", "new"], "new": "1"}}})
    assert result["metadata"]["labels"] == {"app": "inference", "new": "1"}


# ------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("patch", "message"), [
    ({"spec": {"strategy": {"$patch": "merge"}}}, r"spec\.strategy: unknown \$patch value 'merge' in a map"),
    ({"spec": {"template": {"spec": {"containers": [{"name": "server", "$patch": "nope"}]}}}},
     r"containers\[0\]: unknown \$patch value 'nope' in a list item"),
    ({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
     r"spec\.template\.spec\.containers\[0\]: item has no merge key 'name'"),
    ({"spec": {"template": {"spec": {"containers": [{"$patch": "delete", "image": "x"}]}}}},
     r"delete item has no merge key 'name'"),
    ({"spec": {"template": {"spec": {"tolerations": [{"key": "a", "$patch": "delete"}]}}}},
     r"tolerations\[0\]: \$patch: delete needs a list merged by key"),
    ({"spec": {"template": {"spec": {"containers": ["server"]}}}},
     r"containers\[0\]: items of this list are objects"),
    ({"spec": {"template": {"spec": {"containers": [{"$patch": "replace", "name": "x"}]}}}}, "stands alone"),
    ({"spec": {"template": {"spec": {"$setElementOrder/containers": {"name": "x"}}}}}, "must be a list"),
    ({"spec": {"template": {"spec": {"$setElementOrder/containers": ["server"]}}}},
     r"item 0 must be an object with the merge key 'name'"),
    ({"spec": {"template": {"spec": {"$deleteFromPrimitiveList/containers": ["server"]}}}},
     r"applies to lists of scalars"),
    ({"spec": {"strategy": {"$retainKeys": "type"}}}, r"spec\.strategy: \$retainKeys must be a list"),
    ({"metadata": {"$setElementOrder/finalizers": ["a"], "finalizers": {"a": 1}}}, "not a list"),
    ({"metadata": {"finalizers": [{"name": "a"}]}}, r"metadata\.finalizers\[0\]: this list holds scalars"),
    ({"$setElementOrder/": []}, "names no field"),
])
def test_malformed_patches_raise_patch_error(patch, message):
    with pytest.raises(PatchError, match=message):
        apply_strategic_merge_patch(deployment(), patch, DEPLOYMENT)


def test_non_object_patch_or_original_is_refused():
    with pytest.raises(PatchError, match="must be an object"):
        apply_strategic_merge_patch(deployment(), [{"op": "add"}], DEPLOYMENT)
    with pytest.raises(PatchError, match="applies to an object"):
        apply_strategic_merge_patch([], {}, DEPLOYMENT)


# ------------------------------------------------------------------------------------ two-way create


def test_two_way_patch_for_removed_container_and_env_var():
    original = deployment()
    modified = deployment()
    pod_spec(modified)["containers"] = [
        {"name": "server", "image": "vllm:0.7", "args": ["--model", "llama"],
         "env": [{"name": "MODEL", "value": "llama"}],
         "ports": [{"containerPort": 8000, "name": "http"}, {"containerPort": 9090}],
         "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}]
    patch = create_two_way_strategic_merge_patch(original, modified, DEPLOYMENT)
    assert patch == {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "server"}],
        "containers": [
            {"name": "server", "image": "vllm:0.7",
             "$setElementOrder/env": [{"name": "MODEL"}], "env": [{"name": "DEBUG", "$patch": "delete"}]},
            {"name": "sidecar", "$patch": "delete"},
        ]}}}}
    assert apply(original, patch) == modified


def test_two_way_patch_sends_unkeyed_lists_whole_and_removed_keys_as_null():
    original = deployment()
    modified = deployment()
    pod_spec(modified)["tolerations"].append({"key": "spot", "operator": "Exists"})
    del modified["metadata"]["labels"]["tier"]
    modified["metadata"]["finalizers"] = ["example.com/hold", "example.com/new"]
    modified["spec"]["strategy"] = {"type": "Recreate"}
    patch = create_two_way_strategic_merge_patch(original, modified, DEPLOYMENT)
    assert patch == {
        "metadata": {"labels": {"tier": None},
                     "$setElementOrder/finalizers": ["example.com/hold", "example.com/new"],
                     "finalizers": ["example.com/new"],
                     "$deleteFromPrimitiveList/finalizers": ["fleetline.io/prune-guard"]},
        "spec": {"strategy": {"type": "Recreate", "rollingUpdate": None, "$retainKeys": ["type"]},
                 "template": {"spec": {"tolerations": pod_spec(modified)["tolerations"]}}},
    }
    assert apply(original, patch) == modified


def test_two_way_patch_of_equal_objects_is_empty():
    assert create_two_way_strategic_merge_patch(deployment(), deployment(), DEPLOYMENT) == {}


def test_two_way_patch_replaces_keyed_lists_it_cannot_merge():
    original = deployment()
    modified = deployment()
    pod_spec(modified)["containers"] = [{"name": "a", "image": "1"}, {"name": "a", "image": "2"}]
    patch = create_two_way_strategic_merge_patch(original, modified, DEPLOYMENT)
    assert pod_spec(patch)["containers"][0] == {"$patch": "replace"}
    assert apply(original, patch) == modified


def test_two_way_patch_only_reorders():
    modified = deployment()
    pod_spec(modified)["containers"].reverse()
    patch = create_two_way_strategic_merge_patch(deployment(), modified, DEPLOYMENT)
    assert patch == {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "server"}]}}}}
    assert apply(deployment(), patch) == modified
