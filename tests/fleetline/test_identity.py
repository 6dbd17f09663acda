"""Tracking ids and canonical hashes, as hub and agent both compute them."""

from __future__ import annotations

from fleetline.identity import canonical_json, content_hash, parse_tracking_id, tracking_id


def test_tracking_id_round_trip() -> None:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ml"}}
    crb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "x"}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "ml"}}
    assert tracking_id("inference", deploy) == "inference:apps/Deployment:ml/web"
    assert tracking_id("rbac", crb) == "rbac:rbac.authorization.k8s.io/ClusterRoleBinding:/x"
    assert tracking_id("inference", service) == "inference:/Service:ml/web"
    assert parse_tracking_id("inference:apps/Deployment:ml/web") == ("inference", "apps", "Deployment", "ml", "web")
    assert parse_tracking_id("rbac:rbac.authorization.k8s.io/ClusterRoleBinding:/x") == (
        "rbac", "rbac.authorization.k8s.io", "ClusterRoleBinding", "", "x")
    assert parse_tracking_id("not a tracking id") is None


def test_canonical_hash_ignores_map_order_but_not_list_order() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"b": [2, 1]}) != content_hash({"b": [1, 2]})
    assert content_hash({}).startswith("sha256:") and len(content_hash({})) == 71
