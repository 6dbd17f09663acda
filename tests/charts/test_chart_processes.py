"""A chart-installed hub and agent, run as local processes with exactly the flags and files the charts give their
pods (Secrets written where the volumes mount them): the agent connects to the hub over mutual TLS, receives
its desired state from Git and applies it to a kubesim cluster; the hub accepts the chart's first admin token.

Only what a laptop cannot copy from a pod changes: the listen ports (0: free ports), the agent's HTTP port (0),
and the agent reaches its cluster through a kubeconfig instead of the pod's service account.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import aiohttp

from tests.charts.conftest import AGENT, HUB, ROOT, agent_values, hub_values, make_pki, materialize, one, render
from tests.kubesim.conftest import wait_for

ADMIN = "chart-admin-0123456789abcdef"
FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    staging: {ref: main}
  clusters:
  - {name: eu-west-1, region: eu, environment: staging}
  applications:
  - name: settings
    source: {path: apps/settings}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
"""


def fleet_repo(path: Path) -> Path:
    (path / "apps" / "settings").mkdir(parents=True)
    (path / "fleet.yaml").write_text(FLEET)
    (path / "apps" / "settings" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (path / "apps" / "settings" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: model-config}\ndata: {MODEL: llama-3-8b}\n")
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "fleet"]):
        subprocess.run(["git", *command], cwd=path, check=True)
    return path


def replace_flag(argv: list[str], flag: str, value: str) -> list[str]:
    assert any(a.startswith(flag + "=") for a in argv), f"the chart sets {flag}"
    return [f"{flag}={value}" if a.startswith(flag + "=") else a for a in argv]


async def read_until(stream: asyncio.StreamReader, pattern: str, seen: list[str], timeout: float = 30) -> re.Match:
    async with asyncio.timeout(timeout):
        while True:
            line = (await stream.readline()).decode()
            assert line, "the process exited early:\n" + "".join(seen)
            seen.append(line)
            if match := re.search(pattern, line):
                return match


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_chart_installed_agent_connects_to_chart_installed_hub_and_applies_git(sim, kube, tmp_path) -> None:
    pki = make_pki("eu-west-1")
    repo = fleet_repo(tmp_path / "repo")
    hub_objects = render(HUB, hub_values(pki, repo={"url": f"file://{repo}", "pollInterval": 3600},
                                         adminToken={"value": ADMIN}, logFormat="text"))
    hub_pod = materialize(one(hub_objects, "Deployment"), hub_objects, tmp_path / "hub-pod")
    hub_argv = replace_flag(replace_flag(hub_pod.argv, "--listen", "127.0.0.1:0"), "--http-listen", "127.0.0.1:0")
    hub = await asyncio.create_subprocess_exec(*hub_argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                               stderr=asyncio.subprocess.STDOUT)
    agent = None
    hub_log: list[str] = []
    try:
        address = (await read_until(hub.stdout, r"hub listening on (\S+)", hub_log)).group(1)
        api = (await read_until(hub.stdout, r"pipeline on (http://\S+)/api/v1/pipeline", hub_log)).group(1)
        agent_objects = render(AGENT, agent_values(pki, hub={"address": address}, logFormat="text"))
        agent_pod = materialize(one(agent_objects, "Deployment"), agent_objects, tmp_path / "agent-pod")
        agent_argv = [*replace_flag(agent_pod.argv, "--metrics-port", "0"), f"--kubeconfig={sim.kubeconfig_path}"]
        agent = await asyncio.create_subprocess_exec(*agent_argv, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
                                                     stderr=asyncio.subprocess.PIPE)
        agent_log: list[str] = []
        port = int((await read_until(agent.stderr, r"event=http_listening port=(\d+)", agent_log)).group(1))
        await read_until(agent.stderr, r"event=session_up cluster=eu-west-1", agent_log)
        await asyncio.to_thread(wait_for, lambda: kube.core_v1.read_namespaced_config_map("model-config", "ml"),
                                30, 0.1, "the ConfigMap from Git applied by the agent")
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{port}/readyz") as answer:
                body = await answer.json()
            assert answer.status == 200 and body["hub"] == "connected", body
            async with client.get(f"{api}/api/v1/tokens", headers={"Authorization": f"Bearer {ADMIN}"}) as answer:
                assert answer.status == 200, await answer.text()
                assert ("admin", "admin") in {(t["name"], t["role"]) for t in (await answer.json())["tokens"]}
    finally:
        if agent is not None:
            await stop(agent)
        await stop(hub)
    assert ADMIN not in "".join(hub_log), "the admin token is never logged"
