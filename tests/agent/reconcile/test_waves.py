"""Ordered waves with health gates, hooks and SyncFail, end to end (hub -> agent -> kubesim)."""

from __future__ import annotations

import json

from fleetline.wire import fleet_pb2
from tests.agent.reconcile.conftest import bundle, configmap, deployment, job

WAVE = "fleetline.io/sync-wave"


def result_of(event: fleet_pb2.Event) -> dict:
    return json.loads(event.details_json)["result"]


async def test_three_waves_apply_in_order_and_wait_for_health(fleet) -> None:
    app = bundle("model", [
        configmap("model-config", {"version": "v1"}, annotations={WAVE: "0"}),
        deployment("inference", replicas=2, annotations={WAVE: "1"}),
        job("smoke-test", hook="PostSync"),
    ])
    await fleet.push(app)
    done = await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "model", timeout=60)
    resources = result_of(done)["resources"]
    assert [(r["kind"], r["name"], r["phase"]) for r in resources if r["action"] != "create-namespace"] == [
        ("ConfigMap", "model-config", "Sync"), ("Deployment", "inference", "Sync"), ("Job", "smoke-test", "PostSync")]
    # the PostSync hook ran only after the Deployment was healthy: it was created after all replicas were ready
    deployment_live = await fleet.get("apps/v1", "Deployment", "inference")
    assert deployment_live["status"].get("availableReplicas") == 2
    hook = await fleet.get("batch/v1", "Job", "smoke-test")
    assert hook is not None and any(c["type"] == "Complete" for c in hook["status"].get("conditions", []))
    started = fleet.of(fleet_pb2.SYNC_STARTED, "model")
    assert len(started) == 1
    [hook_result] = fleet.of(fleet_pb2.HOOK_RESULT, "model")
    assert json.loads(hook_result.details_json)["hook"]["hook_phase"] == "Succeeded"
    applied = await fleet.wait_type(fleet_pb2.DESIRED_STATE_APPLIED, "", timeout=10)
    assert applied.generation == 1 and json.loads(applied.details_json)["applications"] == ["model"]
    # the hub hears the application Synced and Healthy
    await fleet.eventually(lambda: (s := fleet.app_status("model")) is not None
                           and (s.sync_status, s.health) == ("Synced", "Healthy"), message="Synced and Healthy")


async def test_a_failing_wave_stops_the_sync_with_a_message_and_runs_sync_fail(fleet) -> None:
    app = bundle("model", [
        configmap("model-config", annotations={WAVE: "0"}),
        deployment("inference", image="model:v2-crash", annotations={WAVE: "1"}),
        job("smoke-test", hook="PostSync"),
        job("notify-failure", hook="SyncFail"),
    ])
    await fleet.push(app)
    failed = await fleet.wait_type(fleet_pb2.SYNC_FAILED, "model", timeout=60)
    # the wave fails as soon as the pod is seen crashing: its first restart, or CrashLoopBackOff after a few
    assert "Sync wave 1 failed: Deployment ml/inference is Degraded" in failed.message
    assert "CrashLoopBackOff" in failed.message or "restarts: " in failed.message, failed.message
    assert await fleet.get("batch/v1", "Job", "smoke-test") is None, "the PostSync hook never ran"
    assert await fleet.get("batch/v1", "Job", "notify-failure") is not None, "the SyncFail hook ran"
    kinds = [(r["kind"], r["name"], r["status"]) for r in result_of(failed)["resources"]]
    assert ("Deployment", "inference", "SyncFailed") in kinds


def crd() -> dict:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "servicemonitors.monitoring.example.com", "annotations": {WAVE: "0"}},
            "spec": {"group": "monitoring.example.com", "scope": "Namespaced",
                     "names": {"plural": "servicemonitors", "singular": "servicemonitor", "kind": "ServiceMonitor"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


def monitor(interval: str = "30s") -> dict:
    return {"apiVersion": "monitoring.example.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": "inference", "namespace": "ml", "annotations": {WAVE: "1"}},
            "spec": {"endpoints": [{"port": "http", "interval": interval}]}}


async def test_a_crd_and_its_custom_resource_in_one_application_sync_and_are_watched(fleet) -> None:
    await fleet.push(bundle("monitoring", [crd(), monitor()]))
    done = await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "monitoring", timeout=30)
    kinds = [r["kind"] for r in result_of(done)["resources"] if r["action"] == "apply"]
    assert kinds == ["CustomResourceDefinition", "ServiceMonitor"]
    # the custom resource's kind is watched now: a change to it is drift, healed
    mark = len(fleet.events)
    from agent.cluster import ObjectRef
    await fleet.access.patch(ObjectRef("monitoring.example.com/v1", "ServiceMonitor", "ml", "inference"),
                             {"spec": {"endpoints": [{"port": "http", "interval": "5s"}]}},
                             content_type="application/merge-patch+json", field_manager="kubectl-edit")
    drift = await fleet.wait_type(fleet_pb2.DRIFT_DETECTED, "monitoring", timeout=10, after=mark)
    assert "ServiceMonitor ml/inference" in drift.message
    await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "monitoring", timeout=10, after=mark)
