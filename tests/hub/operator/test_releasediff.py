"""`hub.operator.releasediff.bundle_changes` on rendered bundles: keyed lists item by item (by merge key, server
defaults in the path), sets and atomic lists whole, escaped map keys, objects added and removed, and Secret values
(data, stringData, the last-applied annotation) redacted wherever they sit."""

from __future__ import annotations

import json

from fleetline.wire import fleet_pb2
from hub.operator.releasediff import bundle_changes


def bundle(revision: str, *objects: dict) -> fleet_pb2.ApplicationBundle:
    return fleet_pb2.ApplicationBundle(name="inference", revision=revision, content_hash=f"hash-{revision}",
                                       manifests_json=[json.dumps(obj) for obj in objects])


def deployment(image: str, *, env: list[dict], ports: list[dict], args: list[str], finalizers: list[str],
               annotations: dict) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "inference", "namespace": "ml", "finalizers": finalizers,
                         "annotations": annotations},
            "spec": {"template": {"spec": {"containers": [
                {"name": "server", "image": image, "env": env, "ports": ports, "args": args},
                {"name": "sidecar", "image": "proxy:1"}]}}}}


def secret(token: str) -> dict:
    last_applied = json.dumps({"stringData": {"token": token}})
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "ml",
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
            "stringData": {"token": token}}


def test_fields_of_changed_objects_and_whole_objects_added_or_removed() -> None:
    before = bundle("a", deployment("m:1", env=[{"name": "A", "value": "1"}], ports=[{"containerPort": 80}],
                                    args=["--x"], finalizers=["f/one", "f/two"], annotations={"team/owner": "ml"}),
                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old", "namespace": "ml"}})
    after = bundle("b", deployment("m:2", env=[{"name": "B", "value": "2"}],
                                   ports=[{"containerPort": 80}, {"containerPort": 90}], args=["--x", "--y"],
                                   finalizers=["f/one"], annotations={"team/owner": "research"}),
                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}})
    changes = {(c.object, c.path): (c.before, c.after) for c in bundle_changes(before, after)}
    container = '/spec/template/spec/containers[name="server"]'
    deploy = "Deployment ml/inference"
    assert changes == {
        (deploy, "/metadata/finalizers"): (["f/one", "f/two"], ["f/one"]),
        (deploy, "/metadata/annotations/team~1owner"): ("ml", "research"),
        (deploy, f"{container}/image"): ("m:1", "m:2"),
        (deploy, f'{container}/env[name="B"]'): (None, {"name": "B", "value": "2"}),
        (deploy, f'{container}/env[name="A"]'): ({"name": "A", "value": "1"}, None),
        (deploy, f'{container}/ports[containerPort=90,protocol="TCP"]'): (None, {"containerPort": 90}),
        (deploy, f"{container}/args"): (["--x"], ["--x", "--y"]),
        ("Namespace ml", ""): (None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}),
        ("ConfigMap ml/old", ""): ({"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "old", "namespace": "ml"}}, None),
    }


def test_nothing_changes_between_equal_bundles_and_everything_is_added_from_nothing() -> None:
    objects = (secret("one"), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert bundle_changes(bundle("a", *objects), bundle("b", *objects)) == []
    added = bundle_changes(None, bundle("b", *objects))
    assert [(c.object, c.path, c.before) for c in added] == [("Secret ml/creds", "", None), ("ConfigMap c", "", None)]
    assert "one" not in json.dumps([c.to_dict() for c in added])


def test_secret_values_never_show() -> None:
    changes = bundle_changes(bundle("a", secret("hunter2-old")), bundle("b", secret("hunter2-new")))
    assert {c.path for c in changes} == {"/stringData/token",
                                         "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"}
    assert all((c.before, c.after) == ("<redacted>", "<redacted>") for c in changes), changes
    removed = bundle_changes(bundle("a", secret("hunter2-old")), bundle("b"))
    assert [(c.path, c.after) for c in removed] == [("", None)]
    assert "hunter2" not in json.dumps([c.to_dict() for c in changes + removed])
    # a data map added whole, under a Secret: its values are redacted, its keys kept
    bare = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "ml"}}
    [added] = bundle_changes(bundle("a", bare), bundle("b", {**bare, "data": {"token": "aHVudGVyMg=="}}))
    assert (added.path, added.before, added.after) == ("/data", None, {"token": "<redacted>"})
