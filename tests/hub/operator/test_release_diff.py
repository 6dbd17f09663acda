"""The diff of a waiting release through the real hub (`GET .../diff`'s `pending`, linked from `GET
/api/v1/approvals`): a prod release waiting for approval shows each field it changes with the value the cluster
runs and the new one, objects added and removed, Secret values redacted; releases held by a rollout step and by
a sync window show theirs too; once approved and synced, nothing is pending."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import ClientSession

from tests.hub.pipeline.conftest import deployment_yaml

PROD_FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    prod: {ref: main, production: true, sync: manual, approvals: {required: 1}}
  clusters:
  - {name: euw1, region: eu, environment: prod}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
    policies: {allowPlainSecrets: true}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: registry-creds}
stringData: {token: %s}
"""
CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: %s}
data: {model: %s}
"""
FIRST_SECRET, SECOND_SECRET = "s3cr3t-first-value", "s3cr3t-second-value"


def kustomization(tag: str, resources: list[str]) -> str:
    return f"""\
resources: [{", ".join(resources)}]
images:
- {{name: model-server, newTag: {tag}}}
"""


def by_path(pending: dict) -> dict[tuple[str, str], dict]:
    return {(field["object"], field["path"]): field for field in pending["fields"]}


async def diff(stack, token: str, cluster: str, application: str = "inference") -> dict:
    status, body = await stack.api("GET", f"/api/v1/clusters/{cluster}/applications/{application}/diff", token)
    assert status == 200, body
    return body


async def test_a_release_waiting_for_approval_shows_each_field_it_changes(operator_stack) -> None:
    stack = operator_stack(["euw1"])
    first = stack.commit({
        "fleet.yaml": PROD_FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
        "apps/inference/secret.yaml": SECRET % FIRST_SECRET, "apps/inference/old.yaml": CONFIG % ("old", "m1"),
        "apps/inference/kustomization.yaml": kustomization("v1", ["deployment.yaml", "secret.yaml", "old.yaml"]),
    }, "v1")
    await stack.start(interval=0.3)
    viewer = stack.token("viewer", "viewer", regions=("eu",))
    await stack.eventually(lambda: stack.source.describe()["pending_approvals"], timeout=30, message="v1 pending")
    status, body = await stack.api("POST", "/api/v1/approvals", stack.token("ops", "operator"),
                                   {"environment": "prod", "application": "inference", "revision": first})
    assert status == 200 and body["satisfied"], body
    await stack.eventually(lambda: stack.runs("euw1", "inference", first), timeout=60, message="v1 synced")
    assert (await diff(stack, viewer, "euw1"))["pending"] is None, "nothing waits once v1 runs"

    second = stack.commit({
        "apps/inference/deployment.yaml": deployment_yaml(replicas=2),
        "apps/inference/secret.yaml": SECRET % SECOND_SECRET, "apps/inference/old.yaml": None,
        "apps/inference/new.yaml": CONFIG % ("new", "m2"),
        "apps/inference/kustomization.yaml": kustomization("v2", ["deployment.yaml", "secret.yaml", "new.yaml"]),
    }, "v2: model-server v2, two replicas, new config")

    async def waiting() -> dict | None:
        status, body = await stack.api("GET", "/api/v1/approvals", viewer)
        assert status == 200, body
        return next((p for p in body["pending"] if p["revision"] == second), None)

    item = await stack.eventually(waiting, timeout=30, message="v2 pending approval")
    assert item["cluster"] == "euw1" and item["from_revision"] == first, item
    assert item["diff"] == "/api/v1/clusters/euw1/applications/inference/diff", item
    body = await diff(stack, viewer, "euw1")
    pending = body["pending"]
    assert pending is not None, body
    assert (pending["revision"], pending["from_revision"], pending["waiting_on"]) == (second, first, "approval")
    fields = by_path(pending)
    deployment = next(obj for obj, _ in fields if obj.startswith("Deployment ") and obj.endswith("inference"))
    image = fields[(deployment, '/spec/template/spec/containers[name="server"]/image')]
    assert (image["from"], image["to"]) == ("model-server:v1", "model-server:v2"), image
    replicas = fields[(deployment, "/spec/replicas")]
    assert (replicas["from"], replicas["to"]) == (1, 2), replicas
    added = next(f for (obj, path), f in fields.items() if obj.startswith("ConfigMap ") and obj.endswith("new"))
    assert added["path"] == "" and added["from"] is None and added["to"]["data"] == {"model": "m2"}, added
    removed = next(f for (obj, path), f in fields.items() if obj.startswith("ConfigMap ") and obj.endswith("old"))
    assert removed["path"] == "" and removed["to"] is None and removed["from"]["data"] == {"model": "m1"}, removed
    secret = [f for (obj, _), f in fields.items() if obj.startswith("Secret ")]
    assert secret and all(f["from"] == "<redacted>" and f["to"] == "<redacted>" for f in secret), secret
    text = json.dumps(body)
    assert "s3cr3t" not in text and "czNjcjN0" not in text, "no Secret value, plain or base64, leaves the hub"
    # the approvals listing links the same diff
    async with ClientSession() as client, client.get(stack.api_url + item["diff"],
                                                     headers={"Authorization": f"Bearer {viewer}"}) as response:
        assert (await response.json())["pending"] == pending

    status, body = await stack.api("POST", "/api/v1/approvals", stack.token("eu-ops", "operator", regions=("eu",)),
                                   {"environment": "prod", "application": "inference", "revision": second,
                                    "region": "eu"})
    assert status == 200 and body["satisfied"], body
    await stack.eventually(lambda: stack.runs("euw1", "inference", second), timeout=60, message="v2 synced")
    assert (await diff(stack, viewer, "euw1"))["pending"] is None


STAGED_FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    staging: {ref: main}
    batch:
      ref: main
%s
  clusters:
  - {name: stg-1, region: eu, environment: staging}
  - {name: stg-2, region: eu, environment: staging}
  - {name: bat-1, region: us-east, environment: batch}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
%s
"""
SOAK = """\
    rollout:
      steps:
      - {name: canary, clusters: [stg-1], minHealthyTime: 10m}
      - {name: rest, clusters: [stg-2]}
"""


def freeze() -> str:
    """A deny window that started at the top of the current hour (Berlin time) and lasts two hours."""
    hour = datetime.now(ZoneInfo("Europe/Berlin")).hour
    return f"""\
      syncWindows:
      - {{kind: deny, schedule: "0 {hour} * * *", duration: 2h, timeZone: Europe/Berlin, description: release freeze}}
"""


async def test_releases_held_by_a_rollout_step_or_a_sync_window_show_their_diff(operator_stack) -> None:
    stack = operator_stack(["stg-1", "stg-2", "bat-1"])
    first = stack.commit({"fleet.yaml": STAGED_FLEET % ("", ""), "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1", ["deployment.yaml"])}, "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: all(stack.runs(c, "inference", first) for c in ("stg-1", "stg-2", "bat-1")),
                           timeout=60, message="v1 everywhere")
    # v2: staging now rolls out canary first with a long soak; batch is frozen by a deny window
    second = stack.commit({"fleet.yaml": STAGED_FLEET % (freeze(), SOAK),
                           "apps/inference/kustomization.yaml": kustomization("v2", ["deployment.yaml"])}, "v2")
    viewer = stack.token("viewer", "viewer")
    await stack.eventually(lambda: stack.runs("stg-1", "inference", second), timeout=60, message="canary on v2")

    async def pending(cluster: str) -> dict | None:
        return (await diff(stack, viewer, cluster))["pending"]

    rollout = await stack.eventually(lambda: pending("stg-2"), timeout=30, message="stg-2 waiting")
    window = await stack.eventually(lambda: pending("bat-1"), timeout=30, message="bat-1 held")
    assert await pending("stg-1") is None, "the canary runs v2 already"
    for waiting, on in ((rollout, "rollout"), (window, "sync window")):
        assert (waiting["revision"], waiting["from_revision"], waiting["waiting_on"]) == (second, first, on), waiting
        [image] = [f for f in waiting["fields"] if f["path"].endswith("/image")]
        assert (image["from"], image["to"]) == ("model-server:v1", "model-server:v2"), image
    assert "release freeze" in window["reason"], window
    assert stack.runs("stg-2", "inference", first) and stack.runs("bat-1", "inference", first)
