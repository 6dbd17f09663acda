"""Drift made with real kubectl, as a user would: detected at once with a field-level diff naming the field
manager, healed with selfHeal, reported and left alone without it; a deleted object is re-created."""

from __future__ import annotations

import asyncio
import json
import time

from fleetline.wire import fleet_pb2
from tests.agent.reconcile.conftest import bundle, configmap, deployment, service


def details(event: fleet_pb2.Event) -> dict:
    return json.loads(event.details_json)


async def synced(fleet, app: str) -> None:
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, app, timeout=60)
    await fleet.eventually(lambda: (s := fleet.app_status(app)) is not None and s.sync_status == "Synced"
                           and s.health == "Healthy", message=f"{app} Synced and Healthy")


def image_of(obj: dict) -> str:
    return obj["spec"]["template"]["spec"]["containers"][0]["image"]


async def test_kubectl_set_image_is_detected_within_a_second_and_healed(fleet, kubectl) -> None:
    await fleet.push(bundle("web", [deployment("inference", image="nginx:1.25")]))
    await synced(fleet, "web")
    mark = len(fleet.events)
    await asyncio.to_thread(kubectl, "-n", "ml", "set", "image", "deployment/inference", "main=nginx:1.99")
    changed_at = time.monotonic()
    drift = await fleet.wait_type(fleet_pb2.DRIFT_DETECTED, "web", timeout=10, after=mark)
    detected_in = fleet.arrived[fleet.events.index(drift)] - changed_at
    assert detected_in < 1.0, f"drift reached the hub {detected_in:.3f}s after kubectl returned"
    [field] = details(drift)["fields"]
    assert field["path"] == '/spec/template/spec/containers[name="main"]/image'
    assert (field["desired"], field["live"], field["manager"]) == ("nginx:1.25", "nginx:1.99", "kubectl-set")
    assert "kubectl-set" in drift.message and drift.resource.startswith("web:apps/Deployment:ml/inference")
    healed = await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "web", timeout=10, after=mark)
    assert details(healed)["self_heal"] is True
    live = await fleet.get("apps/v1", "Deployment", "inference")
    assert image_of(live) == "nginx:1.25"
    metric = fleet.agent.registry.get_sample_value
    assert metric("fleetline_agent_syncs_total", {"result": "Succeeded", "trigger": "automated"}) == 1
    assert metric("fleetline_agent_sync_duration_seconds_count") == 1
    assert metric("fleetline_agent_drift_events_total", {"action": "detected"}) == 1
    assert metric("fleetline_agent_drift_events_total", {"action": "healed"}) == 1
    assert metric("fleetline_agent_self_heals_total") == 1
    assert metric("fleetline_agent_apply_duration_seconds_count") == 1
    assert metric("fleetline_agent_managed_objects") == 1
    assert metric("fleetline_agent_sync_loops_total") == 0


async def test_without_self_heal_drift_is_reported_and_left_alone(fleet, kubectl) -> None:
    await fleet.push(bundle("web", [deployment("inference", image="nginx:1.25"), configmap("settings")],
                            self_heal=False))
    await synced(fleet, "web")
    mark = len(fleet.events)
    await asyncio.to_thread(kubectl, "-n", "ml", "set", "image", "deployment/inference", "main=nginx:1.99")
    drift = await fleet.wait_type(fleet_pb2.DRIFT_DETECTED, "web", timeout=10, after=mark)
    assert details(drift)["self_heal"] is False and details(drift)["fields"][0]["manager"] == "kubectl-set"
    status = await fleet.eventually(lambda: (s := fleet.app_status("web")) is not None
                                    and s.sync_status == "OutOfSync" and s, message="OutOfSync reported")
    assert status.drift.drifted_resources == 1
    assert any("containers" in line for line in status.drift.fields)
    # a second drift, detected after the first: a heal of the first (which starts at once) would be done by now
    second = len(fleet.events)
    await asyncio.to_thread(kubectl, "-n", "ml", "patch", "configmap/settings", "--type=merge", "-p",
                            '{"data": {"k": "changed"}}')
    await fleet.wait_type(fleet_pb2.DRIFT_DETECTED, "web", timeout=10, after=second)
    assert image_of(await fleet.get("apps/v1", "Deployment", "inference")) == "nginx:1.99"
    assert not fleet.of(fleet_pb2.DRIFT_HEALED, "web")
    assert fleet.agent.registry.get_sample_value("fleetline_agent_self_heals_total") == 0


async def test_a_deleted_managed_service_is_recreated(fleet, kubectl) -> None:
    await fleet.push(bundle("web", [deployment("inference"), service("inference")]))
    await synced(fleet, "web")
    old_uid = (await fleet.get("v1", "Service", "inference"))["metadata"]["uid"]
    mark = len(fleet.events)
    await asyncio.to_thread(kubectl, "-n", "ml", "delete", "service", "inference", "--wait=false")
    drift = await fleet.wait_type(fleet_pb2.DRIFT_DETECTED, "web", timeout=10, after=mark)
    assert details(drift)["missing"] is True
    await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "web", timeout=10, after=mark)
    recreated = await fleet.get("v1", "Service", "inference")
    assert recreated is not None and recreated["metadata"]["uid"] != old_uid


async def test_a_change_git_does_not_declare_is_not_drift(fleet, kubectl) -> None:
    await fleet.push(bundle("settings", [configmap("model-config", {"version": "v1"})]))
    await synced(fleet, "settings")
    mark = len(fleet.events)
    await asyncio.to_thread(kubectl, "-n", "ml", "label", "configmap/model-config", "team=ml")
    await asyncio.to_thread(kubectl, "-n", "ml", "patch", "configmap/model-config", "--type=merge", "-p",
                            '{"data": {"version": "v2"}}')
    drift = await fleet.wait_type(fleet_pb2.DRIFT_DETECTED, "settings", timeout=10, after=mark)
    assert [f["path"] for f in details(drift)["fields"]] == ["/data/version"], "the label is not drift"
    assert details(drift)["fields"][0]["manager"] == "kubectl-patch"


async def test_the_periodic_resync_finds_drift_a_watch_missed(fleet, kubectl) -> None:
    await fleet.push(bundle("settings", [configmap("model-config", {"version": "v1"})]))
    await synced(fleet, "settings")
    app = fleet.agent.reconciler.apps["settings"]
    await app.inventory.close()  # the watches are gone (as if they had silently stalled)
    mark = len(fleet.events)
    await asyncio.to_thread(kubectl, "-n", "ml", "patch", "configmap/model-config", "--type=merge", "-p",
                            '{"data": {"version": "v2"}}')
    await fleet.eventually(lambda: asyncio.to_thread(
        lambda: kubectl("-n", "ml", "get", "configmap/model-config", "-o", "jsonpath={.data.version}").stdout
        == "v2"), message="the change is in the cluster")
    assert not fleet.of(fleet_pb2.DRIFT_DETECTED, "settings"), "no watch, no drift seen"
    await fleet.agent.reconciler.resync()
    drift = await fleet.wait_type(fleet_pb2.DRIFT_DETECTED, "settings", timeout=10, after=mark)
    assert [f["path"] for f in details(drift)["fields"]] == ["/data/version"]
    await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "settings", timeout=10, after=mark)
    assert (await fleet.get("v1", "ConfigMap", "model-config"))["data"] == {"version": "v1"}
