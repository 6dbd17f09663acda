"""Health as users see it (GPU capacity, crash loops), hooks that run again, and the manual-sync gate."""

from __future__ import annotations

import asyncio
import json

import pytest

from agent.reconcile import Settings
from fleetline.wire import fleet_pb2
from kubesim.api import WriteOptions
from kubesim.cluster import node_manifest
from tests.agent.reconcile.conftest import CLUSTER, bundle, configmap, deployment, job


@pytest.fixture
def settings() -> Settings:
    return Settings(wave_timeout=30.0, gpu_grace_seconds=3.0)


def status(fleet, app: str):
    return fleet.app_status(app)


async def wait_health(fleet, app: str, health: str, contains: str = "", timeout: float = 30.0):
    def check():
        s = status(fleet, app)
        return s is not None and s.health == health and contains in s.message and s
    try:
        return await fleet.eventually(check, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{app} never {health} with {contains!r}: {status(fleet, app)}") from None


async def test_a_gpu_deployment_larger_than_the_cluster_waits_then_degrades_then_heals_with_a_node(fleet) -> None:
    # two nodes with one GPU each; three replicas asking one GPU each
    await fleet.push(bundle("inference", [deployment("gpu-model", replicas=3, gpus=1)]))
    waiting = await wait_health(fleet, "inference", "Progressing", "waiting for GPU capacity")
    assert "Insufficient nvidia.com/gpu" in waiting.message
    degraded = await wait_health(fleet, "inference", "Degraded", "GPU capacity")
    assert "grace" in degraded.message
    # the HEALTH_CHANGED events travel apart from the status report: wait for them, in this order

    def health_events() -> list[str]:
        return [json.loads(e.details_json)["health"] for e in fleet.of(fleet_pb2.HEALTH_CHANGED, "inference")]

    await fleet.eventually(lambda: len(health_events()) >= 2, message="two HEALTH_CHANGED events")
    assert health_events()[:2] == ["Progressing", "Degraded"]
    fleet.sim.call(lambda api: api.create(api.type("", "Node"), "", node_manifest(
        "gpu-node-3", "8", "32Gi", 1, index=3, now=api.clock.timestamp()), WriteOptions("cluster-autoscaler")))
    await wait_health(fleet, "inference", "Healthy", timeout=60)


async def test_a_crash_looping_image_is_degraded_and_the_previous_state_brings_it_back(fleet) -> None:
    good = bundle("inference", [deployment("server", image="model:v1")])
    await fleet.push(good, revision="rev1")
    await wait_health(fleet, "inference", "Healthy")
    await fleet.push(bundle("inference", [deployment("server", image="model:v2-crash")]), revision="rev2")
    crashed = await wait_health(fleet, "inference", "Degraded", "CrashLoopBackOff")
    assert "restarts" in crashed.message
    await fleet.push(good, revision="rev3")  # the previous desired state, pushed again
    healthy = await wait_health(fleet, "inference", "Healthy", timeout=60)
    assert healthy.revision == "rev3"


async def test_a_job_hook_runs_again_on_the_next_sync(fleet) -> None:
    app = [configmap("settings", {"v": "1"}), job("migrate", hook="PostSync")]
    await fleet.push(bundle("db", app), revision="rev1")
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "db", timeout=30)
    first = (await fleet.get("batch/v1", "Job", "migrate"))["metadata"]["uid"]
    mark = len(fleet.events)
    await fleet.push(bundle("db", [configmap("settings", {"v": "2"}), job("migrate", hook="PostSync")]),
                     revision="rev2")
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "db", timeout=30, after=mark)
    second = await fleet.get("batch/v1", "Job", "migrate")
    assert second["metadata"]["uid"] != first, "BeforeHookCreation: deleted and created again"
    assert any(c["type"] == "Complete" for c in second["status"]["conditions"])
    hooks = [json.loads(e.details_json)["hook"] for e in fleet.of(fleet_pb2.HOOK_RESULT, "db")]
    assert [h["hook_phase"] for h in hooks] == ["Succeeded", "Succeeded"]


async def test_replace_recreates_a_job_whose_template_changed(fleet) -> None:
    replace = {"fleetline.io/sync-options": "Replace=true"}
    await fleet.push(bundle("batch", [job("train", annotations=replace, command="exit 0")]), revision="rev1")
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "batch", timeout=30)
    first = (await fleet.get("batch/v1", "Job", "train"))["metadata"]["uid"]
    mark = len(fleet.events)
    await fleet.push(bundle("batch", [job("train", annotations=replace, command="echo v2")]), revision="rev2")
    done = await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "batch", timeout=30, after=mark)
    [train] = [r for r in json.loads(done.details_json)["result"]["resources"] if r["name"] == "train"]
    assert "re-created" in train["message"]
    second = await fleet.get("batch/v1", "Job", "train")
    assert second["metadata"]["uid"] != first
    assert second["spec"]["template"]["spec"]["containers"][0]["command"][-1] == "echo v2"


async def test_a_manual_sync_application_waits_for_a_sync_request(fleet) -> None:
    await fleet.push(bundle("gated", [configmap("model", {"version": "v2"})], manual=True), revision="rev7")
    waiting = await fleet.eventually(lambda: (s := status(fleet, "gated")) is not None
                                     and s.sync_status == "OutOfSync" and s, message="OutOfSync while gated")
    assert "waiting for a sync request" in waiting.message
    assert await fleet.get("v1", "ConfigMap", "model") is None, "nothing applied before the request"
    assert not fleet.of(fleet_pb2.SYNC_STARTED, "gated")
    request_id = await fleet.hub.hub.request_sync(CLUSTER, "gated", "rev7", "alice@example.com")
    done = await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "gated", timeout=30)
    details = json.loads(done.details_json)
    assert (details["request_id"], details["approved_by"], details["trigger"]) == (
        request_id, "alice@example.com", "request")
    assert (await fleet.get("v1", "ConfigMap", "model"))["data"] == {"version": "v2"}
    await fleet.eventually(lambda: (s := status(fleet, "gated")) is not None and s.sync_status == "Synced",
                           message="Synced after the request")


async def test_a_sync_request_for_another_revision_is_refused(fleet) -> None:
    fleet.agent.sync_request_grace = 1.0  # how long a request waits for the revision it names (30 s by default)
    await fleet.push(bundle("gated", [configmap("model")], manual=True), revision="rev7")
    await fleet.eventually(lambda: status(fleet, "gated") is not None, message="status")
    await fleet.hub.hub.request_sync(CLUSTER, "gated", "rev6", "bob")
    failed = await fleet.wait_type(fleet_pb2.SYNC_FAILED, "gated", timeout=30)
    assert "rev6" in failed.message and "rev7" in failed.message
    assert await fleet.get("v1", "ConfigMap", "model") is None


async def test_a_hook_deleted_by_its_policy_is_not_drift_and_not_re_created(fleet) -> None:
    smoke = job("smoke-test", hook="PostSync", annotations={"fleetline.io/hook-delete-policy": "HookSucceeded"})
    await fleet.push(bundle("web", [configmap("settings"), smoke]))
    done = await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "web", timeout=30)
    assert json.loads(done.details_json)["result"]["phase"] == "Succeeded"
    await fleet.eventually(lambda: _gone(fleet, "smoke-test"), message="the hook deleted after it succeeded")
    # a drift elsewhere is healed; the deleted hook is neither drift nor re-created
    mark = len(fleet.events)
    await fleet.access.patch(_ref("ConfigMap", "settings"), {"data": {"k": "x"}},
                             content_type="application/merge-patch+json", field_manager="kubectl-patch")
    await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "web", timeout=10, after=mark)
    assert [json.loads(e.details_json)["object"] for e in fleet.of(fleet_pb2.DRIFT_DETECTED, "web")] == [
        "ConfigMap ml/settings"]
    assert await fleet.get("batch/v1", "Job", "smoke-test") is None


async def _gone(fleet, name: str) -> bool:
    return await fleet.get("batch/v1", "Job", name) is None


def _ref(kind: str, name: str, api_version: str = "v1", ns: str = "ml"):
    from agent.cluster import ObjectRef
    return ObjectRef(api_version, kind, ns, name)


async def test_behind_a_manual_gate_self_heal_keeps_enforcing_the_revision_synced_last(fleet, kubectl) -> None:
    await fleet.push(bundle("gated", [configmap("model", {"version": "v1"})], manual=True), revision="rev1")
    await fleet.eventually(lambda: status(fleet, "gated") is not None, message="status")
    await fleet.hub.hub.request_sync(CLUSTER, "gated", "rev1", "alice")
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "gated", timeout=30)
    # a newer revision waits for approval: OutOfSync, nothing applied
    await fleet.push(bundle("gated", [configmap("model", {"version": "v2"})], manual=True), revision="rev2")
    await fleet.eventually(lambda: (s := status(fleet, "gated")) is not None and s.revision == "rev2"
                           and s.sync_status == "OutOfSync", message="rev2 waiting")
    # someone edits the live object: healed back to what was approved (rev1), not to rev2
    mark = len(fleet.events)
    await asyncio.to_thread(kubectl, "-n", "ml", "patch", "configmap/model", "--type=merge", "-p",
                            '{"data": {"version": "hand-edited"}}')
    drift = await fleet.wait_type(fleet_pb2.DRIFT_DETECTED, "gated", timeout=10, after=mark)
    assert json.loads(drift.details_json)["fields"][0]["desired"] == "v1"
    await fleet.wait_type(fleet_pb2.DRIFT_HEALED, "gated", timeout=10, after=mark)
    assert (await fleet.get("v1", "ConfigMap", "model"))["data"] == {"version": "v1"}
    # the approval of rev2 moves it on
    await fleet.hub.hub.request_sync(CLUSTER, "gated", "rev2", "bob")
    await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, "gated", timeout=30, after=mark)
    assert (await fleet.get("v1", "ConfigMap", "model"))["data"] == {"version": "v2"}
