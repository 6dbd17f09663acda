"""A rollout over four clusters in three steps with a soak time; a crash-looping image halts at the first step
and, with onFailure: rollback, that step goes back to the previous revision while later steps are untouched."""

from __future__ import annotations

import time

from hub.plan.impact import Pair
from tests.hub.pipeline.conftest import deployment_yaml, kustomization

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    prod: {ref: main, sync: automated}
  clusters:
  - {name: usw2, region: us-west, environment: prod}
  - {name: usw1, region: us-west, environment: prod}
  - {name: use1, region: us-east, environment: prod}
  - {name: euw1, region: eu, environment: prod}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
    rollout:
      onFailure: rollback
      steps:
      - {name: canary, clusters: [usw2], minHealthyTime: 2s, progressDeadline: 60s}
      - {name: us-west, regions: [us-west], minHealthyTime: 2s}
      - {name: rest, regions: [us-east, eu]}
"""
CLUSTERS = ["usw2", "usw1", "use1", "euw1"]


def repo_files(tag: str) -> dict[str, str]:
    return {"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
            "apps/inference/kustomization.yaml": kustomization(tag)}


async def test_a_rollout_proceeds_step_by_step_with_its_soak_time(stack_factory) -> None:
    stack = stack_factory(CLUSTERS)
    first = stack.commit(repo_files("v1"), "v1")
    await stack.start(interval=0.5)
    await stack.eventually(lambda: all(stack.runs(c, "inference", first) for c in CLUSTERS), timeout=60,
                           message="v1 everywhere")
    second = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2")}, "model v2")
    reached: dict[str, float] = {}

    def progress() -> bool:
        for cluster in CLUSTERS:
            if cluster not in reached and stack.runs(cluster, "inference", second):
                reached[cluster] = time.monotonic()
        return len(reached) == len(CLUSTERS)

    await stack.eventually(progress, timeout=90, message="v2 everywhere, step by step")
    assert reached["usw2"] < reached["usw1"] < min(reached["use1"], reached["euw1"])
    assert reached["usw1"] - reached["usw2"] >= 2.0, "the canary soaked before the next step"
    assert min(reached["use1"], reached["euw1"]) - reached["usw1"] >= 2.0
    [rollout] = stack.source.describe()["rollouts"]
    assert rollout["phase"] == "Succeeded" and rollout["steps"] == [["usw2"], ["usw1"], ["use1", "euw1"]]


async def test_a_crash_looping_image_halts_at_the_first_step_and_rolls_it_back(stack_factory) -> None:
    stack = stack_factory(CLUSTERS)
    first = stack.commit(repo_files("v1"), "v1")
    await stack.start(interval=0.5)
    await stack.eventually(lambda: all(stack.runs(c, "inference", first) for c in CLUSTERS), timeout=60,
                           message="v1 everywhere")
    stack.commit({"apps/inference/kustomization.yaml": kustomization("v2-crash")}, "model v2 (crashes)")

    def halted() -> dict | None:
        rollouts = stack.source.describe()["rollouts"]
        return rollouts[0] if rollouts and rollouts[0]["phase"] == "Halted" else None

    rollout = await stack.eventually(halted, timeout=60, message="the rollout halted")
    assert "usw2" in rollout["halted_reason"] and rollout["step"] == 0
    assert rollout["rolled_back"] == ["usw2"]
    # the canary is back on the previous revision; the later steps never left it
    await stack.eventually(lambda: stack.runs("usw2", "inference", first), timeout=60, message="usw2 back on v1")
    assert await stack.image("usw2") == "model-server:v1"
    for cluster in ("usw1", "use1", "euw1"):
        assert stack.runs(cluster, "inference", first)
        assert await stack.image(cluster) == "model-server:v1"

    # a commit that leaves the application's content alone neither resumes the halted rollout nor sends the
    # crashing version to the canary again (every commit renders every application at its new revision)
    canary = Pair("usw2", "inference")
    held = stack.pipeline.pushed[canary].content_hash
    unrelated = stack.commit({"docs/notes.md": "release notes\n"}, "docs only")
    await stack.eventually(lambda: stack.pipeline.environments["prod"].good_revision == unrelated, timeout=30,
                           message="the docs commit rendered")
    await stack.pipeline.apply()
    [after] = stack.source.describe()["rollouts"]
    assert (after["phase"], after["revision"]) == ("Halted", rollout["revision"]), after
    assert stack.pipeline.pushed[canary].content_hash == held, "the canary keeps the previous content"
    assert await stack.image("usw2") == "model-server:v1"
