"""Issue 7 acceptance, end to end: a scripted scenario in two regions (commits, a drift healed, a failed sync,
prod approvals, a rollback) recorded in the hash-chained audit log; the eu report lists only eu; verify holds
until a row of the SQLite file is altered; scoped tokens: an eu operator cannot approve or sync us-east, a
viewer cannot sync, a bad token gets 401, each refusal audited."""

from __future__ import annotations

import json
import sqlite3

from agent.cluster import ObjectRef
from tests.hub.pipeline.conftest import deployment_yaml, kustomization

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    prod: {ref: main, production: true, sync: manual, approvals: {required: 1}}
  clusters:
  - {name: euw1, region: eu, environment: prod}
  - {name: use1, region: us-east, environment: prod}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
"""
AUTHOR = "Ops <ops@example.com>"


async def test_a_two_region_scenario_is_audited_per_region_and_tampering_is_found(operator_stack) -> None:
    stack = operator_stack(["euw1", "use1"])
    first = stack.commit({"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1")}, "v1")
    await stack.start(interval=0.3)
    eu_operator = stack.token("eu-operator", "operator", regions=("eu",))
    us_operator = stack.token("us-operator", "operator", regions=("us-east",))
    viewer = stack.token("viewer", "viewer")
    approve = {"environment": "prod", "application": "inference", "revision": first}

    # scopes: refused with 401/403 and a reason
    status, body = await stack.api("POST", "/api/v1/approvals", eu_operator, {**approve, "region": "us-east"})
    assert status == 403 and body["reason"], body
    status, body = await stack.api("POST", "/api/v1/clusters/use1/applications/inference/sync", eu_operator, {})
    assert status == 403, body
    status, body = await stack.api("POST", "/api/v1/clusters/euw1/applications/inference/sync", viewer, {})
    assert status == 403, body
    status, body = await stack.api("GET", "/api/v1/fleet", "not-a-token")
    assert status == 401, body

    # prod approvals, each region by its own operator
    await stack.eventually(lambda: len(stack.source.describe()["pending_approvals"]) == 2, message="pending")
    status, body = await stack.api("POST", "/api/v1/approvals", eu_operator, {**approve, "region": "eu"})
    assert status == 200 and body["satisfied"], body
    await stack.eventually(lambda: stack.runs("euw1", "inference", first), timeout=30, message="eu synced")
    assert not stack.runs("use1", "inference", first), "the eu approval does not count for us-east"
    status, body = await stack.api("POST", "/api/v1/approvals", us_operator, {**approve, "region": "us-east"})
    assert status == 200, body
    await stack.eventually(lambda: stack.runs("use1", "inference", first), timeout=30, message="us-east synced")

    # a drift on the eu cluster, healed
    await stack.accesses["euw1"].patch(ObjectRef("apps/v1", "Deployment", "ml", "inference"), {"spec": {"template": {
        "spec": {"containers": [{"name": "server", "image": "model-server:hotfix"}]}}}},
        content_type="application/strategic-merge-patch+json", field_manager="kubectl-set")
    await stack.eventually(lambda: _image_back(stack), timeout=20, message="drift healed")

    # a failed sync in eu, then a rollback of that change
    crash = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2-crash")}, "v2 crashes")
    await stack.eventually(lambda: _pending(stack, crash), timeout=20, message="v2 pending")
    status, _ = await stack.api("POST", "/api/v1/approvals", eu_operator,
                                {**approve, "revision": crash, "region": "eu"})
    assert status == 200
    await stack.eventually(lambda: _last_sync_failed(stack, "euw1"), timeout=60, message="the eu sync failed")
    with stack.repo.config_writer() as config:  # the test's "remote" has a work tree: let pushes update it
        config.set_value("receive", "denyCurrentBranch", "updateInstead")
    admin = stack.token("admin", "admin")
    status, body = await stack.api("POST", "/api/v1/rollback", admin,
                                   {"application": "inference", "environment": "prod", "reason": "v2 crash-loops"})
    assert status == 200 and body["reverted"] == crash, body

    # the audit log: the eu report has eu only; the chain holds, until a row is altered
    await stack.operator.store.flush()
    status, report = await stack.api("GET", "/api/v1/audit/report?region=eu&since=2020-01-01&format=json",
                                     stack.token("auditor", "viewer"))
    assert status == 200, report
    text = json.dumps(report)
    assert "euw1" in text and "use1" not in text and "us-east" not in text
    assert report["verification"]["ok"] is True
    done = await stack.cli("audit", "verify", "--data-dir", str(stack.root / "hub"))
    assert done.returncode == 0, done.stdout + done.stderr
    audit_log = await stack.cli("audit", "log", "--data-dir", str(stack.root / "hub"), "--kind", "api_refused",
                                "-o", "json")
    refusals = json.loads(audit_log.stdout)
    assert len(refusals) >= 4, "every 401/403 is in the audit log"
    await stack.operator.stop()
    stack.operator = None
    with sqlite3.connect(stack.root / "hub" / "fleetline.db") as db:
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")  # what someone with the file can do
        seq = db.execute("SELECT seq FROM audit_log WHERE kind = 'approval' ORDER BY seq LIMIT 1").fetchone()[0]
        db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = ?", (seq,))
    broken = await stack.cli("audit", "verify", "--data-dir", str(stack.root / "hub"))
    assert broken.returncode == 1 and str(seq) in broken.stdout + broken.stderr, broken.stdout + broken.stderr


async def _image_back(stack) -> bool:
    return await stack.image("euw1") == "model-server:v1"


def _pending(stack, revision: str) -> bool:
    return any(p["revision"] == revision for p in stack.source.describe()["pending_approvals"])


def _last_sync_failed(stack, cluster: str) -> bool:
    status = stack.app_status(cluster, "inference")
    return status is not None and "last sync failed" in status.message

