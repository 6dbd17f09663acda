"""Property tests of the patch engines: round trips, and keyed merges leaving unnamed items alone."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from fleetline.patch import (
    apply_merge_patch,
    apply_strategic_merge_patch,
    create_merge_patch,
    create_two_way_strategic_merge_patch,
    json_equal,
)
from fleetline.schema import schema_for

DEPLOYMENT = schema_for("apps", "Deployment")
SETTINGS = settings(max_examples=300, deadline=None)

# ------------------------------------------------------------------------------------ JSON values

# no None: a merge patch cannot set a value to null (null means delete)
leaves = (st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
          | st.text(max_size=3))
keys = st.sampled_from(["a", "b", "c", "d"]) | st.text(max_size=2)
json_values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20)
json_objects = st.dictionaries(keys, json_values, max_size=5)


@SETTINGS
@given(json_objects, json_objects)
def test_merge_patch_round_trip(a, b):
    before_a, before_b = copy.deepcopy(a), copy.deepcopy(b)
    patch = create_merge_patch(a, b)
    assert json_equal(apply_merge_patch(a, patch), b)
    assert a == before_a and b == before_b


@SETTINGS
@given(json_objects)
def test_merge_patch_of_an_object_with_itself_is_empty(a):
    assert create_merge_patch(a, copy.deepcopy(a)) == {}


# --------------------------------------------------------------------------- Deployment-shaped objects

NAMES = ["server", "sidecar", "exporter", "init", "proxy"]
ENV_NAMES = ["MODEL", "DEBUG", "HF_HOME", "PORT"]
IMAGES = st.sampled_from(["vllm:0.6", "vllm:0.7", "envoy:1.30", "dcgm:3"])
short_text = st.text(alphabet="abc01", max_size=3)


@st.composite
def env_lists(draw):
    names = draw(st.lists(st.sampled_from(ENV_NAMES), unique=True, max_size=3))
    return [{"name": n, "value": draw(short_text)} for n in names]


@st.composite
def container(draw, name):
    c = {"name": name, "image": draw(IMAGES)}
    if draw(st.booleans()):
        c["env"] = draw(env_lists())
    if draw(st.booleans()):
        ports = draw(st.lists(st.sampled_from([80, 8000, 9090]), unique=True, max_size=2))
        c["ports"] = [{"containerPort": p, "name": f"p{p}"} if draw(st.booleans()) else {"containerPort": p}
                      for p in ports]
    if draw(st.booleans()):
        c["args"] = draw(st.lists(short_text, max_size=3))
    return c


@st.composite
def deployments(draw, allow_duplicates=False):
    names = (st.lists(st.sampled_from(NAMES), max_size=4) if allow_duplicates and draw(st.booleans())
             else st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    spec = {"containers": [draw(container(n)) for n in draw(names)]}
    if draw(st.booleans()):
        spec["tolerations"] = draw(st.lists(st.fixed_dictionaries({"key": short_text}), max_size=2))
    if draw(st.booleans()):
        spec["volumes"] = [
            {"name": n, **draw(st.sampled_from([{"emptyDir": {}}, {"configMap": {"name": "cm"}},
                                                 {"secret": {"secretName": "s"}}]))}
            for n in draw(st.lists(st.sampled_from(["cache", "models", "config"]), unique=True, max_size=2))]
    if draw(st.booleans()):
        spec["nodeSelector"] = draw(st.dictionaries(st.sampled_from(["gpu", "zone"]), short_text))
    metadata = {"name": "inference"}
    if draw(st.booleans()):
        metadata["labels"] = draw(st.dictionaries(st.sampled_from(["app", "tier", "team"]), short_text))
    if draw(st.booleans()):
        finalizers = st.sampled_from(["a.io/x", "b.io/y", "c.io/z"])
        metadata["finalizers"] = draw(st.lists(finalizers, max_size=3, unique=not allow_duplicates))
    strategy = draw(st.sampled_from([
        None, {"type": "Recreate"}, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}]))
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
                  "spec": {"replicas": draw(st.integers(0, 3)), "template": {"spec": spec}}}
    if strategy:
        deployment["spec"]["strategy"] = strategy
    return deployment


def containers_of(obj):
    return obj["spec"]["template"]["spec"]["containers"]


@st.composite
def container_patches(draw, original_names):
    """Patch items for containers: some merge (image/env changes), some delete, some are new."""
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    items = []
    for name in names:
        action = draw(st.sampled_from(["merge", "delete"] if name in original_names else ["merge"]))
        if action == "delete":
            items.append({"name": name, "$patch": "delete"})
            continue
        item = {"name": name}
        if draw(st.booleans()):
            item["image"] = draw(IMAGES)
        env_names = draw(st.lists(st.sampled_from(ENV_NAMES), unique=True, max_size=2))
        env = []
        for env_name in env_names:
            if draw(st.booleans()):
                env.append({"name": env_name, "$patch": "delete"})
            else:
                env.append({"name": env_name, "value": draw(short_text)})
        if env:
            item["env"] = env
        items.append(item)
    return items


@SETTINGS
@given(st.data())
def test_keyed_merge_leaves_items_the_patch_does_not_name_untouched(data):
    original = data.draw(deployments())
    original_by_name = {c["name"]: c for c in containers_of(original)}
    items = data.draw(container_patches(set(original_by_name)))
    patch = {"spec": {"template": {"spec": {"containers": items}}}}

    result = apply_strategic_merge_patch(original, patch, DEPLOYMENT)
    result_by_name = {c["name"]: c for c in containers_of(result)}
    named = {i["name"] for i in items}

    # containers the patch does not name: unchanged, in their relative order
    untouched = [c for c in containers_of(original) if c["name"] not in named]
    assert [c for c in containers_of(result) if c["name"] not in named] == untouched
    for item in items:
        name = item["name"]
        if item.get("$patch") == "delete":
            assert name not in result_by_name
            continue
        merged = result_by_name[name]
        before = original_by_name.get(name, {})
        assert merged.get("image") == item.get("image", before.get("image"))
        # env vars the patch does not name: unchanged, same relative order
        patched_env = {e["name"] for e in item.get("env", [])}
        kept = [e for e in before.get("env", []) if e["name"] not in patched_env]
        assert [e for e in merged.get("env", []) if e["name"] not in patched_env] == kept
        for env in item.get("env", []):
            found = [e for e in merged.get("env", []) if e["name"] == env["name"]]
            assert found == ([] if env.get("$patch") == "delete" else [env])
        # fields the patch item does not mention are the original's
        for field in ("ports", "args"):
            assert merged.get(field) == before.get(field)
    assert result["metadata"] == original["metadata"]


@SETTINGS
@given(deployments(allow_duplicates=True), deployments(allow_duplicates=True))
def test_two_way_strategic_round_trip_on_deployments(original, modified):
    before = copy.deepcopy((original, modified))
    patch = create_two_way_strategic_merge_patch(original, modified, DEPLOYMENT)
    assert json_equal(apply_strategic_merge_patch(original, patch, DEPLOYMENT), modified)
    assert (original, modified) == before


# Arbitrary JSON in Deployment clothing: the schema's field names in unexpected shapes (containers as a
# map, finalizers holding objects, keyed items without their key) must round-trip as well.
schema_keys = st.sampled_from(["metadata", "spec", "template", "containers", "name", "env", "finalizers",
                               "strategy", "volumes", "a"])
schema_values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(schema_keys, inner, max_size=3),
    max_leaves=25)
schema_objects = st.dictionaries(schema_keys, schema_values, max_size=4)


@SETTINGS
@given(schema_objects, schema_objects)
def test_two_way_strategic_round_trip_on_odd_shapes(original, modified):
    patch = create_two_way_strategic_merge_patch(original, modified, DEPLOYMENT)
    assert json_equal(apply_strategic_merge_patch(original, patch, DEPLOYMENT), modified)


@SETTINGS
@given(deployments(allow_duplicates=True))
def test_two_way_patch_of_an_object_with_itself_is_empty(obj):
    assert create_two_way_strategic_merge_patch(obj, copy.deepcopy(obj), DEPLOYMENT) == {}
