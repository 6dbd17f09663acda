"""The agent's HTTP port: /healthz (liveness) and /readyz (readiness), on a real `fleetline agent` process against
kubesim over HTTP, and the readiness rules on their own (a cluster whose API server goes away)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import aiohttp
import yaml

from agent.cluster import ClusterAccess, ClusterError
from agent.endpoints import Readiness
from kubesim.cluster import ClusterOptions
from tests.agent.test_cli import ROOT, RUN_AGENT
from tests.kubesim.conftest import ClusterThread


async def start_agent(tmp_path: Path, kubeconfig: Path, hub_port: int) -> tuple[asyncio.subprocess.Process, int]:
    """`fleetline agent --metrics-port 0` as a process; returns it and the port it says it listens on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN_AGENT, "agent", "--hub", f"127.0.0.1:{hub_port}", "--cluster", "eu-1",
        "--cache-dir", str(tmp_path / "cache"), "--insecure", "--kubeconfig", str(kubeconfig), "--metrics-port", "0",
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    seen: list[str] = []
    async with asyncio.timeout(20):
        while True:
            line = (await process.stderr.readline()).decode()
            assert line, "the agent exited before listening:\n" + "".join(seen)
            seen.append(line)
            if match := re.search(r"event=http_listening port=(\d+)", line):
                return process, int(match.group(1))


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def get(port: int, path: str) -> tuple[int, dict | str]:
    async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}{path}") as response:
        body = await response.json() if response.content_type == "application/json" else await response.text()
        return response.status, body


async def poll(port: int, path: str, status: int, timeout: float = 20.0) -> dict:
    """GET `path` until it answers `status`; the last body."""
    last: tuple[int, object] | None = None
    async with asyncio.timeout(timeout):
        while True:
            last = await get(port, path)
            if last[0] == status:
                return last[1]  # type: ignore[return-value]
            await asyncio.sleep(0.1)  # polling interval of the wait, not a wait for the condition itself


def unused_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_agent_is_live_and_ready_with_its_cluster_while_the_hub_is_down(tmp_path: Path, sim) -> None:
    process, port = await start_agent(tmp_path, sim.kubeconfig_path, unused_port())  # nothing listens there
    try:
        assert await poll(port, "/healthz", 200) == {"status": "ok"}
        body = await poll(port, "/readyz", 200)
        assert body["status"] == "ok" and body["reason"] == "connected to the cluster's API"
        assert body["hub"] in ("connecting", "disconnected"), "the hub is down, and readiness does not depend on it"
        status, metrics = await get(port, "/metrics")
        assert status == 200 and "fleetline_agent_connected 0.0" in metrics
    finally:
        await stop(process)


async def test_agent_is_live_but_not_ready_while_its_cluster_is_unreachable(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "nowhere.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{unused_port()}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    process, port = await start_agent(tmp_path, kubeconfig, unused_port())
    try:
        assert await poll(port, "/healthz", 200) == {"status": "ok"}
        status, body = await get(port, "/readyz")
        assert status == 503 and body["status"] == "unready"
        assert "connecting to the cluster's API" in body["reason"]
    finally:
        await stop(process)


async def test_readiness_follows_the_api_server(tmp_path: Path) -> None:
    sim = ClusterThread("gone", ClusterOptions(speed=20.0, nodes=1, kubeconfig_dir=tmp_path))
    access = ClusterAccess.from_kubeconfig(sim.kubeconfig_path)
    stopped = False
    try:
        await access.start()
        readiness = Readiness(lambda: True, access.ping, lambda: "connected", api_check_interval=0, api_timeout=1)
        assert (await readiness.check()).ready
        sim.stop()
        stopped = True
        verdict = await readiness.check()
        assert not verdict.ready and "the cluster's API does not answer" in verdict.reason
    finally:
        await access.close()
        if not stopped:
            sim.stop()


async def test_probes_within_the_interval_share_one_api_request() -> None:
    calls: list[float] = []
    now = [100.0]

    async def ping(timeout: float) -> dict:
        calls.append(timeout)
        await asyncio.sleep(0)
        if len(calls) > 1:
            raise ClusterError(0, "ConnectionError", "refused")
        return {}

    readiness = Readiness(lambda: True, ping, lambda: "connected", api_check_interval=5, clock=lambda: now[0])
    verdicts = await asyncio.gather(*(readiness.check() for _ in range(5)))
    assert all(v.ready for v in verdicts) and len(calls) == 1
    now[0] += 5
    verdict = await readiness.check()
    assert not verdict.ready and "refused" in verdict.reason and len(calls) == 2


async def test_not_ready_before_connecting_without_asking_the_api() -> None:
    async def ping(_timeout: float) -> dict:
        raise AssertionError("the API is not asked before the agent has connected")

    verdict = await Readiness(lambda: False, ping, lambda: "connected").check()
    assert not verdict.ready and "connecting" in verdict.reason
