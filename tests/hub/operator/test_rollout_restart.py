"""A hub restarted in the middle of a rollout carries on from the store: a soaking step keeps soaking (the next
step is not released early) and then completes; a halted rollout stays halted, its canary on the previous
revision, and is not audited as halted twice. The real operator stack: hub, agents on kubesim, Git."""

from __future__ import annotations

import json
import sqlite3

from tests.hub.pipeline.conftest import deployment_yaml, kustomization

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {{name: ml}}
spec:
  environments:
    prod: {{ref: main, sync: automated}}
  clusters:
  - {{name: canary-1, region: us-west, environment: prod}}
  - {{name: main-1, region: eu, environment: prod}}
  applications:
  - name: inference
    source: {{path: apps/inference}}
    destination: {{namespace: ml}}
    syncPolicy:
      automated: {{prune: true, selfHeal: true}}
      syncOptions: [CreateNamespace=true]
    rollout:
      onFailure: rollback
      steps:
      - {{name: canary, clusters: [canary-1], minHealthyTime: {soak}, progressDeadline: 60s}}
      - {{name: rest, regions: [eu]}}
"""
CLUSTERS = ["canary-1", "main-1"]


def files(tag: str, soak: str) -> dict[str, str]:
    return {"fleet.yaml": FLEET.format(soak=soak), "apps/inference/deployment.yaml": deployment_yaml(),
            "apps/inference/kustomization.yaml": kustomization(tag)}


def rollout(stack) -> dict | None:  # noqa: ANN001 - the operator stack
    """The rollout of inference once the pipeline has decided on it (None before)."""
    if stack.pipeline is None:
        return None
    found = [r for r in stack.pipeline.describe()["rollouts"] if r["application"] == "inference"]
    return found[0] if found and found[0]["phase"] else None


def saved_row(stack) -> dict:  # noqa: ANN001
    with sqlite3.connect(stack.root / "hub" / "fleetline.db") as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM rollouts WHERE environment = 'prod' AND application = 'inference'").fetchone()
    return dict(row) if row is not None else {}


def held_revision(stack, cluster: str) -> str:  # noqa: ANN001
    """The revision of inference in the desired state the hub holds for `cluster`."""
    state = stack.hub.hub.desired_state(cluster)
    return next((a.revision for a in state.applications if a.name == "inference"), "") if state else ""


async def test_a_soaking_rollout_continues_after_a_hub_restart(operator_stack) -> None:
    stack = operator_stack(CLUSTERS)
    first = stack.commit(files("v1", "12s"), "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: all(stack.runs(c, "inference", first) for c in CLUSTERS), timeout=60,
                           message="v1 everywhere")
    second = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2")}, "model v2")
    await stack.eventually(lambda: (r := rollout(stack)) and r["revision"] == second and r["phase"] == "Soaking",
                           timeout=30, message="the canary soaking at v2")
    await stack.eventually(lambda: saved_row(stack).get("phase") == "Soaking", timeout=10, message="saved")
    row = saved_row(stack)
    assert (row["revision"], row["previous_revision"], row["step"]) == (second, first, 0)
    assert json.loads(row["done"]) == ["canary-1"] and row["started_at"]

    await stack.restart_hub(interval=0.3)
    after = await stack.eventually(lambda: rollout(stack), timeout=20, message="the rollout after the restart")
    assert (after["revision"], after["phase"], after["step"]) == (second, "Soaking", 0), after
    assert after["released"] == ["canary-1"], "the next step must not be released before the canary soaked"
    assert held_revision(stack, "main-1") == first

    done = await stack.eventually(lambda: (r := rollout(stack)) and r["phase"] == "Succeeded" and r, timeout=40,
                                  message="the rollout completed after the restart")
    assert sorted(done["released"]) == sorted(CLUSTERS)
    await stack.eventually(lambda: all(stack.runs(c, "inference", second) for c in CLUSTERS), timeout=30,
                           message="v2 everywhere")
    await stack.eventually(lambda: saved_row(stack).get("phase") == "Succeeded", timeout=10, message="saved")


async def test_a_halted_rollout_stays_halted_after_a_hub_restart(operator_stack) -> None:
    stack = operator_stack(CLUSTERS)
    first = stack.commit(files("v1", "1s"), "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: all(stack.runs(c, "inference", first) for c in CLUSTERS), timeout=60,
                           message="v1 everywhere")
    crash = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2-crash")}, "model v2 (crashes)")
    halted = await stack.eventually(lambda: (r := rollout(stack)) and r["phase"] == "Halted" and r, timeout=60,
                                    message="the rollout halted")
    assert halted["rolled_back"] == ["canary-1"] and "canary-1" in halted["halted_reason"]
    await stack.eventually(lambda: stack.runs("canary-1", "inference", first), timeout=60,
                           message="the canary back on v1")
    await stack.eventually(lambda: saved_row(stack).get("phase") == "Halted", timeout=10, message="saved")
    assert saved_row(stack)["halted_reason"] == halted["halted_reason"]

    await stack.restart_hub(interval=0.3)
    after = await stack.eventually(lambda: rollout(stack), timeout=20, message="the rollout after the restart")
    assert (after["revision"], after["phase"]) == (crash, "Halted"), after
    assert after["halted_reason"] == halted["halted_reason"] and after["rolled_back"] == ["canary-1"]
    await stack.eventually(lambda: stack.runs("canary-1", "inference", first), timeout=30,
                           message="the canary reporting again after the restart")
    assert held_revision(stack, "canary-1") == first and held_revision(stack, "main-1") == first
    assert await stack.image("canary-1") == "model-server:v1"

    await stack.operator.store.flush()
    with sqlite3.connect(stack.root / "hub" / "fleetline.db") as db:
        halts = db.execute("SELECT COUNT(*) FROM audit_log WHERE kind = 'rollout_halted'").fetchone()[0]
    assert halts == 1, "the restored rollout is not audited as halted a second time"


async def test_a_restarted_hub_does_not_request_an_approved_sync_again(operator_stack) -> None:
    """Behind a manual gate the hub sends one SyncRequest per approved revision and cluster; a restarted hub
    remembers it (each request again would be a full sync, hooks included, of what the cluster already runs)."""
    from tests.hub.pipeline.test_gates import repo_files

    stack = operator_stack(["euw1"])
    first = stack.commit(repo_files("v1"), "v1")
    await stack.start(interval=0.5)
    await stack.eventually(lambda: stack.pipeline.describe()["pending_approvals"], message="v1 pending")
    await stack.pipeline.approve("prod", "inference", first, "alice")
    await stack.pipeline.approve("prod", "inference", first, "bob")
    await stack.eventually(lambda: stack.runs("euw1", "inference", first), timeout=30, message="v1 synced")
    assert ("euw1", "inference", first) in stack.pipeline.requested

    await stack.restart_hub(interval=0.5)
    assert ("euw1", "inference", first) in stack.pipeline.requested, "read back at start"
    sent: list[tuple] = []
    request_sync = stack.hub.hub.request_sync

    async def spy(*args, **kwargs):
        sent.append(args)
        return await request_sync(*args, **kwargs)

    stack.hub.hub.request_sync = spy
    await stack.eventually(lambda: stack.runs("euw1", "inference", first), timeout=30, message="agent back")
    await stack.pipeline.apply()
    assert sent == [], "an approved revision the cluster holds is not requested again after a restart"
