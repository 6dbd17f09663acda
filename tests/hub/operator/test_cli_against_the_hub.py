"""The fleetline commands against a running hub, as a user types them (subprocesses; output and exit codes):
status, diff, sync --wait, history, rollback and promote."""

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
  - {name: stg-1, region: eu, environment: staging}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true}
      syncOptions: [CreateNamespace=true]
"""


def kustomization(tag: str, model: str) -> str:
    return f"""\
resources: [deployment.yaml]
images:
- name: model-server
  newTag: {tag}
configMapGenerator:
- name: model
  literals:
  - MODEL_VERSION={model}
"""


async def test_the_operator_commands_against_a_running_hub(operator_stack) -> None:
    stack = operator_stack(["stg-1"])
    first = stack.commit({"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1", "m1")}, "v1")
    await stack.start(interval=0.3)
    operator = stack.token("ops", "operator")
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first), timeout=30, message="v1 synced")

    status = await stack.cli("status", token=operator)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "stg-1" in status.stdout and "Synced" in status.stdout and "Healthy" in status.stdout

    # a drift (no selfHeal here): diff shows it and exits 1; sync --wait puts it right and exits 0
    await stack.accesses["stg-1"].patch(ObjectRef("apps/v1", "Deployment", "ml", "inference"), {"spec": {"template": {
        "spec": {"containers": [{"name": "server", "image": "model-server:hotfix"}]}}}},
        content_type="application/strategic-merge-patch+json", field_manager="kubectl-set")
    await stack.eventually(lambda: (s := stack.app_status("stg-1", "inference")) is not None
                           and s.sync_status == "OutOfSync", message="OutOfSync")
    diff = await stack.cli("diff", "stg-1", "inference", token=operator)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "image" in diff.stdout and "kubectl-set" in diff.stdout and "model-server:hotfix" in diff.stdout
    synced = await stack.cli("sync", "stg-1", "inference", "--wait", "--timeout", "60", token=operator)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert await stack.image("stg-1") == "model-server:v1"

    history = await stack.cli("history", "stg-1", "inference", token=operator)
    assert history.returncode == 0 and first[:7] in history.stdout, history.stdout + history.stderr

    with stack.repo.config_writer() as config:  # the test's "remote" has a work tree: let pushes update it
        config.set_value("receive", "denyCurrentBranch", "updateInstead")
    promoted = await stack.cli("promote", "inference", "--image", "model-server=v2", "--set", "model_version=m2",
                               "--env", "staging", "--overlay", "apps/inference", token=operator)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    await stack.eventually(lambda: _image_is(stack, "model-server:v2"), timeout=30, message="promoted")
    rolled = await stack.cli("rollback", "--env", "staging", "inference", "--reason", "v2 is slower",
                             token=operator)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    await stack.eventually(lambda: _image_is(stack, "model-server:v1"), timeout=30, message="rolled back")
    viewer = stack.token("viewer", "viewer")
    refused = await stack.cli("sync", "stg-1", "inference", token=viewer)
    assert refused.returncode == 3, refused.stdout + refused.stderr


async def _image_is(stack, image: str) -> bool:
    return await stack.image("stg-1") == image
