"""Server-side apply and managedFields tracking (kubesim.managed_fields, kubesim.fieldset)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetline.schema import schema_for
from kubesim.errors import apply_conflicts
from kubesim.managed_fields import (
    ApplyConflict,
    FieldPathError,
    FieldSet,
    decode_fields_v1,
    encode_fields_v1,
    fields_of,
    path_string,
    server_side_apply,
    track_update,
)

DEPLOYMENT = schema_for("apps", "Deployment")
IMAGE = '.spec.template.spec.containers[name="nginx"].image'


def deployment(image: str = "nginx:1.27", **container: object) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}],
                                         **container}]},
            },
        },
    }


def apply(live: dict | None, applied: dict, manager: str = "kubectl", force: bool = False,
          now: str = "2026-11-27T19:04:30Z", subresource: str | None = None) -> dict:
    return server_side_apply(live, applied, manager=manager, api_version="apps/v1", force=force,
                             node=DEPLOYMENT, subresource=subresource, now=now)


def update(old: dict | None, new: dict, manager: str, now: str = "2026-11-27T19:05:00Z",
           subresource: str | None = None) -> dict:
    """A non-apply write: the stored object is `new` with the tracked managedFields."""
    out = copy.deepcopy(new)
    out.setdefault("metadata", {})["managedFields"] = track_update(
        old, new, manager=manager, api_version="apps/v1", node=DEPLOYMENT, subresource=subresource, now=now)
    return out


def entry(obj: dict, manager: str, operation: str = "Apply") -> dict | None:
    found = [e for e in obj["metadata"].get("managedFields", [])
             if e["manager"] == manager and e["operation"] == operation]
    assert len(found) <= 1
    return found[0] if found else None


def owned(obj: dict, manager: str, operation: str = "Apply") -> set[str]:
    e = entry(obj, manager, operation)
    return set(decode_fields_v1(e["fieldsV1"]).strings()) if e else set()


def container(obj: dict, name: str = "nginx") -> dict:
    return next(c for c in obj["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def set_image(obj: dict, image: str) -> dict:
    new = copy.deepcopy(obj)
    container(new)["image"] = image
    return new


# -- FieldsV1 -------------------------------------------------------------------------------------------

REFERENCE_ENTRY = json.loads("""
{"manager":"kubectl","operation":"Apply","apiVersion":"apps/v1","time":"2026-11-27T19:04:30Z","fieldsType":"FieldsV1",
 "fieldsV1":{"f:metadata":{"f:labels":{"f:app":{}}},
             "f:spec":{"f:replicas":{},"f:selector":{},
                       "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},
                                     "f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{},
                                        "f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}}
""")


def test_fields_v1_of_a_deployment_matches_the_reference_example() -> None:
    assert encode_fields_v1(fields_of(deployment(), DEPLOYMENT)) == REFERENCE_ENTRY["fieldsV1"]
    created = apply(None, deployment())
    assert created["metadata"]["managedFields"] == [REFERENCE_ENTRY]
    # byte-for-byte the same JSON text, including key order
    assert json.dumps(created["metadata"]["managedFields"][0]) == json.dumps(REFERENCE_ENTRY)


def test_fields_v1_round_trips_and_marks_owned_nodes_with_dot() -> None:
    fs = fields_of(deployment(), DEPLOYMENT)
    assert decode_fields_v1(encode_fields_v1(fs)) == fs
    decoded = decode_fields_v1({"f:metadata": {"f:annotations": {".": {}, "f:a": {}}}})
    annotations = ("f:metadata", "f:annotations")
    assert decoded == FieldSet(frozenset({annotations, annotations + ("f:a",)}))
    # key JSON from a client is normalised to the compact form
    loose = decode_fields_v1({"f:spec": {"k:{\"name\": \"x\"}": {}}})
    assert ("f:spec", 'k:{"name":"x"}') in loose
    with pytest.raises(ValueError):
        decode_fields_v1({"x:nope": {}})


def test_never_tracked_metadata_is_left_out() -> None:
    obj = deployment()
    obj["metadata"].update(uid="u", resourceVersion="5", generation=2,
                           creationTimestamp="2026-01-01T00:00:00Z")
    paths = fields_of(obj, DEPLOYMENT).strings()
    assert ".metadata.labels.app" in paths
    assert not [p for p in paths if p.startswith((".metadata.name", ".metadata.namespace", ".metadata.uid",
                                                  ".metadata.resourceVersion", ".metadata.generation",
                                                  ".metadata.creationTimestamp", ".apiVersion", ".kind"))]


def test_path_rendering_like_kube_apiserver() -> None:
    assert path_string(("f:spec", "f:replicas")) == ".spec.replicas"
    pod = ("f:spec", "f:template", "f:spec")
    assert path_string(pod + ("f:containers", 'k:{"name":"nginx"}', "f:image")) == IMAGE
    assert path_string(("f:metadata", "f:labels", "f:app")) == ".metadata.labels.app"
    assert path_string(("f:ports", 'k:{"containerPort":80,"protocol":"TCP"}')) == \
        '.ports[containerPort=80,protocol="TCP"]'
    assert path_string(("f:metadata", "f:finalizers", 'v:"example.com/hold"')) == \
        '.metadata.finalizers[="example.com/hold"]'


# -- Update tracking ------------------------------------------------------------------------------------


def test_create_records_an_update_entry_for_every_created_field() -> None:
    obj = deployment()
    obj["metadata"]["uid"] = "1234"
    created = update(None, obj, "kubectl-create", now="T0")
    [e] = created["metadata"]["managedFields"]
    assert {k: e[k] for k in ("manager", "operation", "apiVersion", "time", "fieldsType")} == \
        {"manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1", "time": "T0",
         "fieldsType": "FieldsV1"}
    assert "subresource" not in e
    fv1 = e["fieldsV1"]
    assert fv1["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}  # a created map is owned, with "."
    assert "." not in fv1["f:spec"]  # structs are not
    item = fv1["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert item["."] == {} and item["f:image"] == {}
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in item["f:ports"]


def test_update_moves_changed_fields_to_the_updating_manager() -> None:
    created = update(None, deployment(), "kubectl-create", now="T0")
    changed = update(created, set_image(created, "nginx:1.28"), "kubectl-set", now="T1")
    assert owned(changed, "kubectl-set", "Update") == {IMAGE}
    assert IMAGE not in owned(changed, "kubectl-create", "Update")
    assert ".spec.replicas" in owned(changed, "kubectl-create", "Update")
    assert entry(changed, "kubectl-create", "Update")["time"] == "T0"
    assert entry(changed, "kubectl-set", "Update")["time"] == "T1"
    # a write that changes nothing adds nobody
    again = update(changed, changed, "kubectl-edit", now="T2")
    assert again["metadata"]["managedFields"] == changed["metadata"]["managedFields"]


def test_update_drops_removed_fields_and_empty_entries() -> None:
    created = update(None, deployment(), "kubectl-create", now="T0")
    changed = update(created, set_image(created, "nginx:1.28"), "kubectl-set", now="T1")
    without = copy.deepcopy(changed)
    del container(without)["image"]
    after = update(changed, without, "kubectl-edit", now="T2")
    assert entry(after, "kubectl-set", "Update") is None  # its only field is gone
    assert entry(after, "kubectl-edit", "Update") is None  # it only removed things
    assert IMAGE not in owned(after, "kubectl-create", "Update")


def test_status_subresource_update_records_the_subresource() -> None:
    created = update(None, deployment(), "kubectl-create")
    with_status = copy.deepcopy(created)
    with_status["status"] = {"replicas": 3}
    after = update(created, with_status, "kube-controller-manager", subresource="status")
    e = entry(after, "kube-controller-manager", "Update")
    assert e["subresource"] == "status"
    assert e["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_track_update_does_not_mutate_its_inputs() -> None:
    created = update(None, deployment(), "kubectl-create")
    new = set_image(created, "nginx:1.28")
    snapshot = copy.deepcopy((created, new))
    track_update(created, new, manager="m", api_version="apps/v1", node=DEPLOYMENT, subresource=None, now="T")
    assert (created, new) == snapshot


# -- apply: conflicts and force -------------------------------------------------------------------------


def test_apply_conflicts_with_the_manager_that_changed_the_image() -> None:
    live = apply(None, deployment())
    live = update(live, set_image(live, "nginx:1.28"), "kubectl-set")
    with pytest.raises(ApplyConflict) as caught:
        apply(live, deployment("nginx:1.29"))
    assert caught.value.conflicts == [('"kubectl-set" using apps/v1', IMAGE)]
    error = apply_conflicts(caught.value.conflicts)
    assert error.code == 409
    assert error.message == ('Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: '
                             '.spec.template.spec.containers[name="nginx"].image')
    assert str(caught.value) == error.message


def test_applying_the_value_another_manager_set_is_not_a_conflict_and_shares_it() -> None:
    live = apply(None, deployment())
    live = update(live, set_image(live, "nginx:1.28"), "kubectl-set")
    after = apply(live, deployment("nginx:1.28"))
    assert IMAGE in owned(after, "kubectl") and IMAGE in owned(after, "kubectl-set", "Update")


def test_force_wins_and_transfers_ownership() -> None:
    live = apply(None, deployment())
    changed = set_image(live, "nginx:1.28")
    changed["spec"]["replicas"] = 5
    changed["spec"]["paused"] = True
    live = update(live, changed, "kubectl-set", now="T1")
    with pytest.raises(ApplyConflict) as caught:
        apply(live, deployment("nginx:1.29"))
    assert caught.value.conflicts == [('"kubectl-set" using apps/v1', ".spec.replicas"),
                                      ('"kubectl-set" using apps/v1', IMAGE)]
    forced = apply(live, deployment("nginx:1.29"), force=True, now="T2")
    assert container(forced)["image"] == "nginx:1.29" and forced["spec"]["replicas"] == 3
    assert {IMAGE, ".spec.replicas"} <= owned(forced, "kubectl")
    assert owned(forced, "kubectl-set", "Update") == {".spec.paused"}  # kept what nobody contested
    assert forced["spec"]["paused"] is True
    assert entry(forced, "kubectl")["time"] == "T2"


def test_force_drops_an_entry_left_empty() -> None:
    live = apply(None, deployment())
    live = update(live, set_image(live, "nginx:1.28"), "kubectl-set")
    forced = apply(live, deployment("nginx:1.29"), force=True)
    assert entry(forced, "kubectl-set", "Update") is None
    assert [e["manager"] for e in forced["metadata"]["managedFields"]] == ["kubectl"]


def test_conflicts_with_another_applier_and_with_a_subresource_manager() -> None:
    live = apply(None, deployment(), manager="fleetline")
    with pytest.raises(ApplyConflict) as caught:
        apply(live, deployment("nginx:1.29"), manager="kubectl")
    assert caught.value.conflicts == [('"fleetline"', IMAGE)]
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 7
    live = update(live, scaled, "hpa", subresource="scale")
    with pytest.raises(ApplyConflict) as caught:
        apply(live, deployment(), manager="fleetline")
    assert caught.value.conflicts == [('"hpa" with subresource "scale" using apps/v1', ".spec.replicas")]


def test_no_managed_fields_means_no_owner() -> None:
    live = deployment()
    live["spec"]["paused"] = True  # a pre-existing field nobody owns
    after = apply(live, deployment("nginx:1.29"))
    assert container(after)["image"] == "nginx:1.29" and after["spec"]["paused"] is True
    assert [e["manager"] for e in after["metadata"]["managedFields"]] == ["kubectl"]
    empty = copy.deepcopy(live)
    empty["metadata"]["managedFields"] = []
    assert apply(empty, deployment("nginx:1.29")) == after


# -- apply: removal -------------------------------------------------------------------------------------


def test_fields_a_manager_stops_applying_are_removed_container_and_env_var() -> None:
    first = deployment(env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    first["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1"})
    live = apply(None, first)
    second = deployment(env=[{"name": "A", "value": "1"}])
    after = apply(live, second)
    names = [c["name"] for c in after["spec"]["template"]["spec"]["containers"]]
    assert names == ["nginx"]
    assert container(after)["env"] == [{"name": "A", "value": "1"}]
    assert owned(after, "kubectl") == set(fields_of(second, DEPLOYMENT).strings())
    # and stopping the last env var removes the emptied list too
    final = apply(after, deployment())
    assert "env" not in container(final)


def test_stopping_a_label_removes_it_and_the_emptied_map() -> None:
    live = apply(None, deployment())
    bare = deployment()
    del bare["metadata"]["labels"]
    after = apply(live, bare)
    assert "labels" not in after["metadata"] and after["metadata"]["name"] == "nginx"


def test_a_field_shared_by_two_appliers_survives_when_one_stops_applying_it() -> None:
    live = apply(None, deployment(), manager="alpha")
    shared = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "nginx", "labels": {"app": "nginx", "tier": "web"}}}
    live = apply(live, shared, manager="beta")
    assert ".metadata.labels.app" in owned(live, "alpha") and ".metadata.labels.app" in owned(live, "beta")
    bare = deployment()
    del bare["metadata"]["labels"]
    after = apply(live, bare, manager="alpha")
    assert after["metadata"]["labels"] == {"app": "nginx", "tier": "web"}
    assert ".metadata.labels.app" not in owned(after, "alpha")
    # when the last owner stops too, the label goes
    gone = apply(after, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}},
                 manager="beta")
    assert "labels" not in gone["metadata"]
    assert entry(gone, "beta") is None


def test_a_field_another_manager_updated_is_kept_when_the_applier_drops_its_item() -> None:
    first = deployment()
    first["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1"})
    live = apply(None, first)
    changed = copy.deepcopy(live)
    container(changed, "sidecar")["image"] = "envoy:2"
    live = update(live, changed, "kubectl-set")
    after = apply(live, deployment())
    assert container(after, "sidecar") == {"name": "sidecar", "image": "envoy:2"}


# -- apply: list semantics ------------------------------------------------------------------------------


def test_ports_are_keyed_by_container_port_and_protocol_defaulting_to_tcp() -> None:
    live = apply(None, deployment())
    explicit = deployment(ports=[{"containerPort": 80, "protocol": "TCP", "name": "http"},
                                 {"containerPort": 80, "protocol": "UDP"}])
    after = apply(live, explicit)
    assert container(after)["ports"] == [{"containerPort": 80, "protocol": "TCP", "name": "http"},
                                         {"containerPort": 80, "protocol": "UDP"}]
    pod = encode_fields_v1(fields_of(explicit, DEPLOYMENT))["f:spec"]["f:template"]["f:spec"]
    ports = pod["f:containers"]['k:{"name":"nginx"}']["f:ports"]
    assert list(ports) == ['k:{"containerPort":80,"protocol":"TCP"}',
                           'k:{"containerPort":80,"protocol":"UDP"}']
    renamed = copy.deepcopy(after)
    container(renamed)["ports"][0]["name"] = "web"
    live = update(after, renamed, "kubectl-edit")
    with pytest.raises(ApplyConflict) as caught:
        apply(live, explicit)
    assert caught.value.conflicts == [
        ('"kubectl-edit" using apps/v1',
         '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].name')]


def test_sets_are_unioned_and_atomic_values_replaced() -> None:
    live = deployment()
    live["metadata"]["finalizers"] = ["a.example.com/x"]
    live["spec"]["template"]["spec"]["nodeSelector"] = {"gpu": "a100", "zone": "1"}
    applied = deployment()
    applied["metadata"]["finalizers"] = ["b.example.com/y"]
    applied["spec"]["template"]["spec"]["nodeSelector"] = {"gpu": "h100"}
    after = apply(live, applied)
    assert after["metadata"]["finalizers"] == ["a.example.com/x", "b.example.com/y"]
    assert after["spec"]["template"]["spec"]["nodeSelector"] == {"gpu": "h100"}
    paths = owned(after, "kubectl")
    assert '.metadata.finalizers[="b.example.com/y"]' in paths
    assert ".spec.template.spec.nodeSelector" in paths


def test_custom_resources_deduce_maps_granular_and_lists_atomic() -> None:
    node = schema_for("example.com", "Model")
    applied = {"apiVersion": "example.com/v1", "kind": "Model", "metadata": {"name": "m"},
               "spec": {"resources": {"gpu": 1}, "args": ["--a"]}}
    fv1 = encode_fields_v1(fields_of(applied, node))
    assert fv1 == {"f:spec": {"f:args": {}, "f:resources": {".": {}, "f:gpu": {}}}}


def test_an_applied_list_map_item_without_its_key_is_refused() -> None:
    bad = deployment()
    bad["spec"]["template"]["spec"]["containers"].append({"image": "x"})
    with pytest.raises(FieldPathError, match='omits key field "name"'):
        apply(None, bad)


def test_applying_the_same_thing_twice_is_a_no_op() -> None:
    live = apply(None, deployment(env=[{"name": "A", "value": "1"}]), now="T1")
    live = update(live, set_image(live, "nginx:1.28"), "kubectl-set", now="T2")
    applied = deployment("nginx:1.28", env=[{"name": "A", "value": "1"}])
    once = apply(live, applied, now="T3")
    twice = apply(once, applied, now="T4")
    assert twice == once


def test_apply_does_not_mutate_its_inputs() -> None:
    live = apply(None, deployment())
    applied = deployment("nginx:1.29", env=[{"name": "A", "value": None}])
    snapshot = copy.deepcopy((live, applied))
    apply(live, applied, force=True)
    assert (live, applied) == snapshot


# -- property: two appliers with disjoint fields --------------------------------------------------------

_names = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), unique=True, max_size=10)
_values = st.from_regex(r"[a-z0-9]{0,5}", fullmatch=True)


@st.composite
def _two_disjoint_configs(draw: st.DrawFn) -> tuple[dict, dict, dict]:
    """(alpha's config, beta's config, alpha's config with some of its own fields dropped)."""
    def split(names: list[str]) -> tuple[dict, dict, dict]:
        owners = draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
        mine = {n: draw(_values) for n, a in zip(names, owners, strict=True) if a}
        theirs = {n: draw(_values) for n, a in zip(names, owners, strict=True) if not a}
        kept = {n: v for n, v in mine.items() if draw(st.booleans())}
        return mine, theirs, kept

    labels, annotations, env = (split(draw(_names)) for _ in range(3))

    def config(i: int, with_image: bool) -> dict:
        c: dict = {"name": "app"}
        if with_image:
            c["image"] = "app:1"
        if env[i]:
            c["env"] = [{"name": n.upper(), "value": v} for n, v in env[i].items()]
        return {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "labels": dict(labels[i]),
                             "annotations": {f"example.com/{k}": v for k, v in annotations[i].items()}},
                "spec": {"template": {"spec": {"containers": [c]}}}}

    return config(0, True), config(1, False), config(2, True)


def _present(obj: dict, cfg: dict) -> bool:
    """Every label, annotation and env var of `cfg` is in `obj` with the same value."""
    meta = obj["metadata"]
    env = {e["name"]: e.get("value") for e in container(obj, "app").get("env", [])}
    want_env = {e["name"]: e["value"] for e in container(cfg, "app").get("env", [])}
    return (cfg["metadata"]["labels"].items() <= meta.get("labels", {}).items()
            and cfg["metadata"]["annotations"].items() <= meta.get("annotations", {}).items()
            and want_env.items() <= env.items())


@settings(max_examples=150, deadline=None)
@given(_two_disjoint_configs())
def test_two_appliers_with_disjoint_fields_keep_their_own(configs: tuple[dict, dict, dict]) -> None:
    alpha, beta, alpha_reduced = configs
    obj = apply(None, alpha, manager="alpha", now="T1")
    obj = apply(obj, beta, manager="beta", now="T2")
    obj = apply(obj, alpha, manager="alpha", now="T3")
    obj = apply(obj, beta, manager="beta", now="T4")
    assert _present(obj, alpha) and _present(obj, beta)
    assert owned(obj, "alpha") == set(fields_of(alpha, DEPLOYMENT).strings())
    assert owned(obj, "beta") == set(fields_of(beta, DEPLOYMENT).strings())

    obj = apply(obj, alpha_reduced, manager="alpha", now="T5")
    assert _present(obj, beta) and _present(obj, alpha_reduced)
    assert owned(obj, "beta") == set(fields_of(beta, DEPLOYMENT).strings())
    dropped_labels = alpha["metadata"]["labels"].keys() - alpha_reduced["metadata"]["labels"].keys()
    assert not dropped_labels & obj["metadata"].get("labels", {}).keys()
    dropped_env = ({e["name"] for e in container(alpha, "app").get("env", [])}
                   - {e["name"] for e in container(alpha_reduced, "app").get("env", [])})
    assert not dropped_env & {e["name"] for e in container(obj, "app").get("env", [])}
    # beta re-applying after that changes nothing
    assert apply(obj, beta, manager="beta", now="T6") == obj
