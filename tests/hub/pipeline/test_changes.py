"""Rollback and promotion as Git operations the hub exposes, end to end: the revert commit lands on the tracked
branch and the clusters return to the previous image; a promotion changes the image and the model version in
one commit."""

from __future__ import annotations

from agent.cluster import ObjectRef
from tests.hub.pipeline.conftest import deployment_yaml

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    staging: {ref: main}
  clusters:
  - {name: stg-1, region: us-west, environment: staging}
  - {name: stg-2, region: eu, environment: staging}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
"""
CLUSTERS = ["stg-1", "stg-2"]
AUTHOR = "Ops Bot <ops@example.com>"


def kustomization(tag: str, model: str) -> str:
    return f"""\
resources: [deployment.yaml]
images:
- name: model-server  # the inference server
  newTag: {tag}
configMapGenerator:
- name: model
  literals:
  - MODEL_VERSION={model}
"""


async def model_version(stack, cluster: str) -> str | None:
    items, _ = await stack.accesses[cluster].list("v1", "ConfigMap", namespace="ml")
    models = [i for i in items if i["metadata"]["name"].startswith("model-")]
    return models[0]["data"]["MODEL_VERSION"] if len(models) == 1 else None


def accept_pushes(stack) -> None:
    with stack.repo.config_writer() as config:  # the test's "remote" has a work tree: let pushes update it
        config.set_value("receive", "denyCurrentBranch", "updateInstead")


async def test_rollback_reverts_the_last_change_and_the_clusters_follow(stack_factory, tmp_path) -> None:
    stack = stack_factory(CLUSTERS)
    stack.commit({"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                  "apps/inference/kustomization.yaml": kustomization("v1", "m1")}, "v1")
    await stack.start(interval=0.3)
    bad = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2", "m2")}, "model v2")
    await stack.eventually(lambda: all(stack.runs(c, "inference", bad) for c in CLUSTERS), timeout=60,
                           message="v2 everywhere")
    accept_pushes(stack)
    done = await stack.source.rollback("inference", "staging", "v2 answers wrong", AUTHOR)
    assert done.reverted == bad
    head = stack.repo.commit("main")
    assert head.hexsha == done.commit and "v2 answers wrong" in head.message and bad in head.message
    await stack.eventually(lambda: all(stack.runs(c, "inference", done.commit) for c in CLUSTERS), timeout=60,
                           message="the revert everywhere")
    for cluster in CLUSTERS:
        assert await stack.image(cluster) == "model-server:v1"
        assert await model_version(stack, cluster) == "m1"


async def test_promotion_changes_image_and_model_version_in_one_commit(stack_factory, tmp_path) -> None:
    stack = stack_factory(["stg-1"])
    stack.commit({"fleet.yaml": FLEET.replace("  - {name: stg-2, region: eu, environment: staging}\n", ""),
                  "apps/inference/deployment.yaml": deployment_yaml(),
                  "apps/inference/kustomization.yaml": kustomization("v1", "m1")}, "v1")
    await stack.start(interval=0.3)
    accept_pushes(stack)
    done = await stack.source.promote("staging", "apps/inference", "model-server", "v3", "m3", AUTHOR)
    head = stack.repo.commit("main")
    assert head.hexsha == done.commit and list(head.stats.files) == ["apps/inference/kustomization.yaml"]
    text = (stack.repo_dir / "apps/inference/kustomization.yaml").read_text()
    assert "newTag: v3" in text and "MODEL_VERSION=m3" in text and "# the inference server" in text
    await stack.eventually(lambda: stack.runs("stg-1", "inference", done.commit), timeout=60, message="promoted")
    assert await stack.image("stg-1") == "model-server:v3"
    assert await model_version(stack, "stg-1") == "m3"
    live = await stack.accesses["stg-1"].get(ObjectRef("apps/v1", "Deployment", "ml", "inference"))
    assert live is not None
