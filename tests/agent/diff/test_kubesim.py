"""The diff against real objects: kubesim over HTTP, server-side apply by `fleetline`, changes by real kubectl.

These prove the live shapes the unit tests assume (defaults, status, managedFields after `kubectl set image`,
an injected sidecar, Secret data) and that RespectIgnoreDifferences' payload, applied with server-side apply,
really leaves an ignored field to its other owner.
"""

from __future__ import annotations

import base64
import copy

import pytest
from kubernetes.dynamic import DynamicClient

from agent.diff import IgnoreRule, diff_object, suggest_ignore, without_ignored
from kubesim.cluster import ClusterOptions
from tests.agent.diff.objects import containers, desired_deployment
from tests.kubesim import conftest as kubesim_fixtures
from tests.kubesim.conftest import wait_for

sim = kubesim_fixtures.sim
kube = kubesim_fixtures.kube
kubectl = kubesim_fixtures.kubectl

pytestmark = pytest.mark.kubectl


@pytest.fixture
def sim_options() -> ClusterOptions:
    return ClusterOptions(speed=20.0, nodes=1)


@pytest.fixture
def dynamic(kube: kubesim_fixtures.Clients) -> DynamicClient:
    return DynamicClient(kube.api_client)


def apply(dynamic: DynamicClient, obj: dict) -> None:
    resource = dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    resource.server_side_apply(body=obj, field_manager="fleetline", force_conflicts=True)


def get(dynamic: DynamicClient, obj: dict) -> dict:
    resource = dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    metadata = obj["metadata"]
    return resource.get(name=metadata["name"], namespace=metadata.get("namespace")).to_dict()


def namespace(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def test_kubectl_set_image_is_drift_owned_by_kubectl_set(dynamic: DynamicClient, kubectl) -> None:
    desired = desired_deployment()
    containers(desired)[0]["resources"]["limits"].pop("nvidia.com/gpu")  # the node has no GPU
    apply(dynamic, namespace("ml"))
    apply(dynamic, desired)
    live = wait_for(lambda: (obj := get(dynamic, desired)).get("status", {}).get("observedGeneration") and obj,
                    message="the Deployment's first status")
    assert "managedFields" in live["metadata"] and "imagePullPolicy" in containers(live)[0]
    assert diff_object(desired, live).in_sync

    kubectl("-n", "ml", "set", "image", "deployment/inference", "server=registry.example.com/inference:1.5.0")
    live = get(dynamic, desired)
    [field] = diff_object(desired, live).fields
    assert (field.path, field.desired, field.live, field.manager) == (
        '/spec/template/spec/containers[name="server"]/image', "registry.example.com/inference:1.4.2",
        "registry.example.com/inference:1.5.0", "kubectl-set")

    # the suggested rule, applied with RespectIgnoreDifferences, leaves kubectl's image alone
    rule = IgnoreRule.from_dict(suggest_ignore(live, field, field.manager))
    assert diff_object(desired, live, rules=[rule]).in_sync
    apply(dynamic, without_ignored(desired, live, [rule]))
    live = get(dynamic, desired)
    assert containers(live)[0]["image"] == "registry.example.com/inference:1.5.0"
    assert diff_object(desired, live, rules=[rule]).in_sync

    # without the rule, applying Git heals it and we own the image again
    apply(dynamic, desired)
    live = get(dynamic, desired)
    assert diff_object(desired, live).in_sync
    image_owners = [m["manager"] for m in live["metadata"]["managedFields"]
                    if "f:image" in str(m.get("fieldsV1", {}))]
    assert image_owners == ["fleetline"]


def test_injected_sidecar_scaled_replicas_and_secret_data(dynamic: DynamicClient, kubectl) -> None:
    apply(dynamic, namespace("mesh", **{"sidecar-injection": "enabled"}))
    desired = desired_deployment()
    desired["metadata"]["namespace"] = "mesh"
    containers(desired)[0]["resources"]["limits"].pop("nvidia.com/gpu")
    apply(dynamic, desired)
    live = wait_for(lambda: len(containers(obj := get(dynamic, desired))) == 2 and obj,
                    message="the injected mesh-proxy container")
    assert {c["name"] for c in containers(live)} == {"server", "mesh-proxy"}
    assert diff_object(desired, live).in_sync  # the sidecar is not a declared field

    kubectl("-n", "mesh", "scale", "deployment/inference", "--replicas=5")
    live = get(dynamic, desired)
    [field] = diff_object(desired, live).fields
    assert (field.path, field.live) == ("/spec/replicas", 5)
    assert field.manager == "kubectl"  # kubectl scale writes through the scale subresource
    by_manager = IgnoreRule(group="apps", kind="Deployment", managed_fields_managers=(field.manager,))
    assert diff_object(desired, live, rules=[by_manager]).in_sync
    apply(dynamic, without_ignored(desired, live, [by_manager]))
    assert get(dynamic, desired)["spec"]["replicas"] == 5

    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "registry", "namespace": "mesh"},
              "type": "Opaque", "stringData": {"password": "hunter2"}}
    apply(dynamic, secret)
    live = get(dynamic, secret)
    assert "stringData" not in live and live["data"]["password"] == base64.b64encode(b"hunter2").decode()
    assert diff_object(secret, live).in_sync
    kubectl("-n", "mesh", "patch", "secret", "registry", "-p", '{"stringData": {"password": "rotated"}}')
    changed = diff_object(copy.deepcopy(secret), get(dynamic, secret))
    [field] = changed.fields
    assert field.path == "/data/password" and field.manager == "kubectl-patch"
    assert "hunter2" not in repr(changed) and "rotated" not in repr(changed)
