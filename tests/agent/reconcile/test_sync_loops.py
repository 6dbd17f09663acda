"""Sync loops: an HPA that owns spec.replicas fights a Git that declares them. With ignoreDifferences and
RespectIgnoreDifferences there is no fight; without them the loop is detected within its window, the agent stops
reverting the field and reports the exact ignoreDifferences entry. A sidecar injector adds a container Git does
not declare: that is not drift, so there is nothing to fight over."""

from __future__ import annotations

import json

import pytest

from agent.reconcile import Settings
from fleetline.wire import fleet_pb2
from tests.agent.reconcile.conftest import bundle, configmap, deployment, namespace

HPA_MANAGER = "kube-controller-manager"  # the HPA controller writes /scale as kube-controller-manager


@pytest.fixture
def settings() -> Settings:
    # Argo CD's backoff shape, compressed so that four reverts take about a second (the defaults: 2 s base).
    return Settings(wave_timeout=30.0, loop_threshold=3, loop_window=600.0, heal_backoff_base=0.1,
                    heal_backoff_factor=2.0, heal_backoff_cap=1.0)


def hpa(target: str, desired: int) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": target, "namespace": "ml",
                         "annotations": {"kubesim.fleetline.io/desired-replicas": str(desired)}},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                     "minReplicas": 1, "maxReplicas": 10}}


def replicas_pointer() -> fleet_pb2.IgnoreDifference:
    return fleet_pb2.IgnoreDifference(group="apps", kind="Deployment", json_pointers=["/spec/replicas"])


async def replicas(fleet, name: str = "inference") -> int:
    return (await fleet.get("apps/v1", "Deployment", name))["spec"]["replicas"]


async def test_with_ignore_differences_and_respect_the_hpa_owns_replicas_without_a_fight(fleet) -> None:
    app = bundle("inference", [deployment("inference", replicas=2), hpa("inference", 4), configmap("settings")],
                 ignore=(replicas_pointer(),), options=("CreateNamespace=true", "RespectIgnoreDifferences=true"))
    await fleet.push(app)
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "inference", timeout=30)
    await fleet.eventually(lambda: replicas(fleet), message="deployment exists")
    await fleet.eventually(lambda: _equals(replicas(fleet), 4), message="the HPA scaled to 4")
    # a later drift elsewhere is healed: the agent is live, and still left the HPA's replicas alone
    mark = len(fleet.events)
    await fleet.access.patch(_ref("ConfigMap", "settings"), {"data": {"k": "x"}},
                             content_type="application/merge-patch+json", field_manager="kubectl-patch")
    await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "inference", timeout=10, after=mark)
    assert await replicas(fleet) == 4
    assert not [e for e in fleet.of(fleet_pb2.DRIFT_DETECTED, "inference") if "Deployment" in e.message]
    assert not fleet.of(fleet_pb2.SYNC_LOOP)
    # the status report after the heal (one sent just before it may still say OutOfSync)
    await fleet.eventually(lambda: (s := fleet.app_status("inference")) is not None and s.sync_status == "Synced",
                           message="Synced after the heal")


async def test_without_them_the_sync_loop_is_detected_and_the_fix_suggested(fleet) -> None:
    await fleet.push(bundle("inference", [deployment("inference", replicas=2), hpa("inference", 4)]))
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "inference", timeout=30)
    loop = await fleet.wait_type(fleet_pb2.SYNC_LOOP, "inference", timeout=60)
    details = json.loads(loop.details_json)
    assert (details["object"], details["field"], details["manager"]) == (
        "Deployment ml/inference", "/spec/replicas", HPA_MANAGER)
    assert details["reverts"] == 4
    assert details["suggestion"] == {"group": "apps", "kind": "Deployment", "name": "inference", "namespace": "ml",
                                     "jsonPointers": ["/spec/replicas"]}
    assert "ignoreDifferences" in loop.message and HPA_MANAGER in loop.message
    # the agent stopped fighting: the HPA's value stays, and the condition is in the application's status
    await fleet.eventually(lambda: _equals(replicas(fleet), 4), message="replicas left to the HPA")
    status = await fleet.eventually(lambda: (s := fleet.app_status("inference")) is not None
                                    and "SyncLoop" in s.message and s, message="SyncLoop condition")
    assert "/spec/replicas" in status.message
    heals = fleet.agent.registry.get_sample_value("fleetline_agent_self_heals_total")
    assert fleet.agent.registry.get_sample_value("fleetline_agent_sync_loops_total") == 1
    # a later drift elsewhere is still healed, and the given-up field is not reverted again
    mark = len(fleet.events)
    await fleet.access.patch(_ref("Deployment", "inference", "apps/v1"),
                             {"metadata": {"labels": {"x": "y"}}, "spec": {"template": {"spec": {"containers": [
                                 {"name": "main", "image": "nginx:9"}]}}}},
                             content_type="application/strategic-merge-patch+json", field_manager="kubectl-set")
    await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "inference", timeout=10, after=mark)
    assert await replicas(fleet) == 4
    assert fleet.agent.registry.get_sample_value("fleetline_agent_self_heals_total") == heals + 1


async def test_an_injected_sidecar_is_not_drift_so_there_is_no_fight(fleet) -> None:
    app = bundle("mesh", [namespace("mesh", {"sidecar-injection": "enabled"}),
                          deployment("inference", ns="mesh")], namespace="mesh")
    await fleet.push(app)
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "mesh", timeout=30)
    live = await fleet.get("apps/v1", "Deployment", "inference", ns="mesh")
    containers = [c["name"] for c in live["spec"]["template"]["spec"]["containers"]]
    assert containers == ["main", "mesh-proxy"], "kubesim injected its sidecar"
    # a drift elsewhere in the application is healed; the sidecar never counted as drift
    mark = len(fleet.events)
    await fleet.access.patch(_ref("Deployment", "inference", "apps/v1", ns="mesh"), {"spec": {"replicas": 3}},
                             content_type="application/merge-patch+json", field_manager="kubectl-scale")
    await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "mesh", timeout=10, after=mark)
    drifts = fleet.of(fleet_pb2.DRIFT_DETECTED, "mesh")
    assert [json.loads(d.details_json)["fields"][0]["path"] for d in drifts] == ["/spec/replicas"]
    assert fleet.agent.registry.get_sample_value("fleetline_agent_self_heals_total") == 1
    assert not fleet.of(fleet_pb2.SYNC_LOOP)
    live = await fleet.get("apps/v1", "Deployment", "inference", ns="mesh")
    assert [c["name"] for c in live["spec"]["template"]["spec"]["containers"]] == ["main", "mesh-proxy"]


async def _equals(value, expected) -> bool:
    return (await value) == expected


def _ref(kind: str, name: str, api_version: str = "v1", ns: str = "ml"):
    from agent.cluster import ObjectRef
    return ObjectRef(api_version, kind, ns, name)


