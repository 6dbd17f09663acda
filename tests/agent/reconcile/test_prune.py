"""Prune: only objects whose tracking id names the application and that left the desired state; never to
nothing without allowEmpty; objects without our tracking id are never touched, even with our label."""

from __future__ import annotations

import json

from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION
from fleetline.wire import fleet_pb2
from tests.agent.reconcile.conftest import bundle, configmap


def names(result: dict, status: str) -> list[str]:
    return sorted(r["name"] for r in result["resources"] if r["status"] == status)


async def sync_result(fleet, app: str, after: int) -> dict:
    event = await fleet.wait_type(fleet_pb2.SYNC_SUCCEEDED, app, timeout=30, after=after)
    return json.loads(event.details_json)["result"]


async def test_removing_a_resource_prunes_it_and_only_it(fleet) -> None:
    await fleet.push(bundle("cfg", [configmap("a"), configmap("b"), configmap("c")]))
    await sync_result(fleet, "cfg", 0)
    # objects carrying our label but not our tracking id: one without any, one naming another application
    await fleet.access.apply({**configmap("intruder"), "metadata": {
        "name": "intruder", "namespace": "ml", "labels": {APP_LABEL: "cfg"}}}, field_manager="someone")
    await fleet.access.apply({**configmap("other-app"), "metadata": {
        "name": "other-app", "namespace": "ml", "labels": {APP_LABEL: "cfg"},
        "annotations": {TRACKING_ANNOTATION: "other:/ConfigMap:ml/other-app"}}}, field_manager="someone")
    mark = len(fleet.events)
    await fleet.push(bundle("cfg", [configmap("a"), configmap("b")]), revision="rev2")
    result = await sync_result(fleet, "cfg", mark)
    assert names(result, "Pruned") == ["c"]
    assert await fleet.get("v1", "ConfigMap", "c") is None
    for name in ("a", "b", "intruder", "other-app"):
        assert await fleet.get("v1", "ConfigMap", name) is not None, f"{name} must not be touched"


async def test_an_empty_desired_state_prunes_nothing_without_allow_empty(fleet) -> None:
    await fleet.push(bundle("cfg", [configmap("a"), configmap("b")]))
    await sync_result(fleet, "cfg", 0)
    mark = len(fleet.events)
    await fleet.push(bundle("cfg", []), revision="rev2")
    result = await sync_result(fleet, "cfg", mark)
    assert names(result, "PruneSkipped") == ["a", "b"] and not names(result, "Pruned")
    assert any("allowEmpty" in r.get("message", "") for r in result["resources"])
    assert await fleet.get("v1", "ConfigMap", "a") is not None
    status = await fleet.eventually(lambda: (s := fleet.app_status("cfg")) is not None
                                    and s.revision == "rev2" and s, message="status of rev2")
    assert status.sync_status == "OutOfSync" and "no longer in Git" in status.message
    mark = len(fleet.events)
    await fleet.push(bundle("cfg", [], allow_empty=True), revision="rev3")
    result = await sync_result(fleet, "cfg", mark)
    assert names(result, "Pruned") == ["a", "b"]
    assert await fleet.get("v1", "ConfigMap", "a") is None


async def test_without_automated_prune_nothing_is_pruned(fleet) -> None:
    await fleet.push(bundle("cfg", [configmap("a"), configmap("b")], prune=False))
    await sync_result(fleet, "cfg", 0)
    mark = len(fleet.events)
    await fleet.push(bundle("cfg", [configmap("a")], prune=False), revision="rev2")
    result = await sync_result(fleet, "cfg", mark)
    assert names(result, "PruneSkipped") == ["b"]
    assert await fleet.get("v1", "ConfigMap", "b") is not None
