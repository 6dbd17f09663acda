"""A region-scoped reader sees the commits its clusters run: `GET /api/v1/audit` for a region (the default of a
token scoped to one region) carries the `revision_seen` records (subject, author) of the revisions pushed to the
region's clusters, although those records are kept per environment, not per region; a revision that ran only in
another region stays out."""

from __future__ import annotations

from tests.hub.pipeline.conftest import deployment_yaml, kustomization

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    staging: {ref: main}
    batch: {ref: main}
  clusters:
  - {name: stg-1, region: eu, environment: staging}
  - {name: bat-1, region: us-east, environment: batch}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    targets: {environments: [staging]}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
  - name: trainer
    source: {path: apps/trainer}
    destination: {namespace: ml}
    targets: {environments: [batch]}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
"""


async def test_a_region_scoped_viewer_sees_the_subjects_of_the_revisions_its_clusters_run(operator_stack) -> None:
    stack = operator_stack(["stg-1", "bat-1"])
    files = {"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
             "apps/inference/kustomization.yaml": kustomization("v1"),
             "apps/trainer/deployment.yaml": deployment_yaml(), "apps/trainer/kustomization.yaml": kustomization("t1")}
    first = stack.commit(files, "inference: model-server v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first) and stack.runs("bat-1", "trainer", first),
                           timeout=60, message="v1 synced")
    # a commit that changes only what us-east runs
    trainer = stack.commit({"apps/trainer/kustomization.yaml": kustomization("t2")}, "trainer: t2")
    await stack.eventually(lambda: stack.runs("bat-1", "trainer", trainer), timeout=60, message="t2 synced")
    eu = stack.token("eu-viewer", "viewer", regions=("eu",))

    async def commits(path: str) -> dict[str, dict]:
        status, body = await stack.api("GET", path, eu)
        assert status == 200, body
        return {e["revision"]: e for e in body["entries"] if e["kind"] == "revision_seen"}

    seen = await stack.eventually(lambda: commits("/api/v1/audit?kind=revision_seen"), timeout=10,
                                  message="the eu viewer's commit records")
    assert set(seen) == {first}, f"only what eu's clusters ran: {sorted(seen)}"
    entry = seen[first]
    assert entry["data"]["subject"] == "inference: model-server v1" and "Dev" in entry["data"]["author"], entry
    assert set(await commits("/api/v1/audit?limit=500")) == {first}, "also among the region's other entries"
    assert set(await commits("/api/v1/audit?region=eu&limit=500")) == {first}
    assert not await commits("/api/v1/audit?cluster=stg-1&limit=500"), "a cluster's entries stay the cluster's"
    admin = stack.token("admin", "admin")
    status, body = await stack.api("GET", "/api/v1/audit?region=us-east&kind=revision_seen", admin)
    assert status == 200 and {e["revision"] for e in body["entries"]} == {first, trainer}, body
