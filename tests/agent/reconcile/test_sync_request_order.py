"""A sync request sent right behind the desired state it names (what the hub does when a release reaches a
cluster whose revision is already approved) syncs: the agent hands it to the reconciler only after that state."""

from __future__ import annotations

from fleetline.wire import fleet_pb2
from tests.agent.reconcile.conftest import CLUSTER, bundle, configmap


async def test_a_sync_request_right_behind_its_desired_state_is_not_refused(fleet) -> None:
    for revision in ("rev1", "rev2"):
        await fleet.push(bundle("gated", [configmap("model", {"version": revision})], manual=True), revision=revision)
        await fleet.hub.hub.request_sync(CLUSTER, "gated", revision, "alice")  # no wait in between
        done = await fleet.wait_event(lambda e, r=revision: e.type == fleet_pb2.SYNC_SUCCEEDED
                                      and e.application == "gated" and r in e.details_json, timeout=30)
        assert done is not None
        assert not fleet.of(fleet_pb2.SYNC_FAILED, "gated"), [e.message for e in fleet.of(fleet_pb2.SYNC_FAILED)]
        assert (await fleet.get("v1", "ConfigMap", "model"))["data"] == {"version": revision}
