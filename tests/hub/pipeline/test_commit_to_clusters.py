"""A commit reaches every targeted cluster: through the webhook at once, or through polling alone; a bad
commit is marked bad with its file and line while the last good revision keeps being served."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import ClientSession

from agent.cluster import ClusterAccess, ObjectRef
from agent.runtime import Agent
from hub.api.tokens import ApiTokenStore
from kubesim.cluster import ClusterOptions
from tests.hub.pipeline.conftest import SECRET, deployment_yaml, kustomization
from tests.kubesim.conftest import ClusterThread

ROOT = Path(__file__).resolve().parents[3]

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    staging: {ref: main}
    prod: {ref: main, sync: automated}
  clusters:
  - {name: stg-1, region: us-west, environment: staging}
  - {name: usw2, region: us-west, environment: prod}
  - {name: euw1, region: eu, environment: prod}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
"""
CLUSTERS = ["stg-1", "usw2", "euw1"]


def repo_files(tag: str) -> dict[str, str]:
    return {"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
            "apps/inference/kustomization.yaml": kustomization(tag)}


async def test_a_commit_reaches_every_cluster_through_the_webhook(stack_factory) -> None:
    stack = stack_factory(CLUSTERS)
    first = stack.commit(repo_files("v1"), "v1")
    await stack.start(interval=3600)  # polling effectively off: only the start and the webhook fetch
    await stack.eventually(lambda: all(stack.runs(c, "inference", first) for c in CLUSTERS), message="v1 everywhere")
    second = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2")}, "model v2")
    assert await stack.webhook({"ref": "refs/heads/main", "after": second}) == 202
    await stack.eventually(lambda: all(stack.runs(c, "inference", second) for c in CLUSTERS), timeout=20,
                           message="v2 everywhere")
    for cluster in CLUSTERS:
        assert await stack.image(cluster) == "model-server:v2"


async def test_a_webhook_with_a_bad_signature_gets_401(stack_factory) -> None:
    stack = stack_factory(["stg-1"])
    stack.commit(repo_files("v1"), "v1")
    await stack.start(interval=3600)
    assert await stack.webhook({"ref": "refs/heads/main", "after": "0" * 40}, secret=b"wrong") == 401


async def test_polling_alone_brings_a_commit(stack_factory) -> None:
    stack = stack_factory(["stg-1"])
    first = stack.commit(repo_files("v1"), "v1")
    await stack.start(interval=0.5)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first), message="v1")
    second = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2")}, "model v2")
    await stack.eventually(lambda: stack.runs("stg-1", "inference", second), timeout=20, message="v2 by polling")


async def test_a_malformed_commit_is_marked_bad_and_the_last_good_revision_stays(stack_factory) -> None:
    stack = stack_factory(["stg-1"])
    good = stack.commit(repo_files("v1"), "v1")
    await stack.start(interval=0.5)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", good), message="v1")
    broken = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x\n"
    bad = stack.commit({"apps/inference/deployment.yaml": broken}, "broken yaml")
    describe = stack.source.describe
    await stack.eventually(lambda: describe()["environments"]["staging"]["bad"], message="marked bad")
    [entry] = describe()["environments"]["staging"]["bad"]
    assert entry["revision"] == bad and entry["application"] == "inference"
    assert "apps/inference/deployment.yaml" in entry["errors"][0] and "line" in entry["errors"][0]
    assert stack.runs("stg-1", "inference", good), "the last good revision is still served"
    assert await stack.image("stg-1") == "model-server:v1", "nothing pruned or replaced"
    fixed = stack.commit({"apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v3")}, "fix")
    await stack.eventually(lambda: stack.runs("stg-1", "inference", fixed), timeout=20, message="recovered")
    assert not describe()["environments"]["staging"]["bad"]


async def test_a_real_hub_process_takes_a_commit_from_its_webhook_to_an_agent(tmp_path, stack_factory) -> None:
    """`fleetline hub --repo ...` as a process; one agent (in this process) on a kubesim cluster."""
    stack = stack_factory(["stg-1"])  # used for the repository, the cluster and the agent only
    first = stack.commit(repo_files("v1"), "v1")
    (tmp_path / "secret").write_bytes(SECRET)
    token = ApiTokenStore.in_data_dir(tmp_path / "hub-process").create("ci", "viewer")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fleetline.cli", "hub", "--listen", "127.0.0.1:0", "--insecure", "--data-dir",
        str(tmp_path / "hub-process"), "--repo", str(stack.repo_dir), "--poll-interval", "3600",
        "--webhook-secret-file", str(tmp_path / "secret"), "--http-listen", "127.0.0.1:0",
        "--heartbeat-interval", "1", cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        grpc_line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        http_line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        hub_address = grpc_line.rsplit(" ", 1)[1].strip()
        pipeline_url = http_line.rsplit(" ", 1)[1].strip()
        stack.webhook_url = pipeline_url.replace("/api/v1/pipeline", "/api/v1/webhooks/git")
        sim = ClusterThread("stg-1", ClusterOptions(speed=20.0, nodes=1, kubeconfig_dir=tmp_path / "kc"))
        stack.sims["stg-1"] = sim
        access = ClusterAccess.from_kubeconfig(sim.kubeconfig_path)
        stack.accesses["stg-1"] = access
        await access.start()
        agent = Agent(ClusterAccess.from_kubeconfig(sim.kubeconfig_path), hub_address, "stg-1", "", tmp_path / "a",
                      insecure=True, status_interval=0.05)
        stack.agents["stg-1"] = agent
        stack._agent_tasks.append(asyncio.create_task(agent.run()))
        await stack.eventually(lambda: image_is(access, "model-server:v1"), timeout=30, message="v1 applied")
        second = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2")}, "model v2")
        assert await stack.webhook({"ref": "refs/heads/main", "after": second}) == 202
        await stack.eventually(lambda: image_is(access, "model-server:v2"), timeout=30, message="v2 applied")
        async with ClientSession() as client, client.get(
                pipeline_url, headers={"Authorization": f"Bearer {token}"}) as response:
            state = await response.json()
        assert state["environments"]["staging"]["revision"] == second
        assert state["source"]["revisions"]["staging"] == second and first != second
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)


async def image_is(access, image: str) -> bool:
    live = await access.get(ObjectRef("apps/v1", "Deployment", "ml", "inference"))
    return live is not None and live["spec"]["template"]["spec"]["containers"][0]["image"] == image


async def test_an_application_removed_from_the_fleet_leaves_the_desired_state(stack_factory) -> None:
    stack = stack_factory(["stg-1"])
    extra = FLEET + """\
  - name: settings
    source: {path: apps/settings}
    destination: {namespace: ml}
    syncPolicy: {automated: {}}
"""
    first = stack.commit({**repo_files("v1"), "fleet.yaml": extra,
                          "apps/settings/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"}, "two")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: stack.runs("stg-1", "settings", first), message="settings synced")
    second = stack.commit({"fleet.yaml": FLEET}, "remove settings")
    await stack.eventually(lambda: [a.name for a in stack.hub.hub.desired_state("stg-1").applications]
                           == ["inference"], message="settings left the desired state")
    await stack.eventually(lambda: (r := stack.hub.hub.status("stg-1")) is not None
                           and [a.name for a in r.applications] == ["inference"], message="no longer reported")
    assert stack.runs("stg-1", "inference", first), "inference did not change: it keeps its revision"
    assert second != first
