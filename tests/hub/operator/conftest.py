"""The operator side end to end: the hub (session server + `start_operator`: store, pipeline, recorder, REST API)
in this process, real agents on kubesim clusters in two regions, a real Git repository; the CLI runs as a
subprocess, as a user would type it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import ClientSession

from agent.cluster import ClusterAccess
from agent.reconcile import Settings
from agent.runtime import Agent
from hub.api.tokens import ApiTokenStore
from hub.operator.server import OperatorHub, start_operator
from hub.sessions.server import start_hub
from kubesim.cluster import ClusterOptions
from tests.hub.pipeline.conftest import Stack
from tests.kubesim.conftest import ClusterThread

ROOT = Path(__file__).resolve().parents[3]

# One staging cluster in eu with an automated, self-healing application: the fleet of most operator tests.
STAGING_FLEET = """\
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
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
"""


class OperatorStack(Stack):
    """`Stack` with the whole operator side instead of the bare pipeline."""

    operator: OperatorHub | None = None
    api_url = ""
    config: Path | None = None  # the hub's config file (notifications), when a test sets one

    async def start(self, *, interval: float = 60.0, settings: Settings | None = None) -> None:  # type: ignore[override]
        for name in self.cluster_names:
            self.sims[name] = ClusterThread(name, ClusterOptions(speed=20.0, nodes=1,
                                                                 kubeconfig_dir=self.root / "kubeconfigs"))
        self.hub = await start_hub("127.0.0.1:0", self.root / "hub", insecure=True, heartbeat_interval=1.0,
                                   fsync=False)
        self.operator = await start_operator(self.hub, self.root / "hub", str(self.repo_dir), http_port=0,
                                             poll_interval=interval, webhook_secret=b"webhook-secret", fsync=False,
                                             tick=0.2, config=self.config)
        self.pipeline = self.operator.pipeline
        self.source = self.operator.source
        self.api_url = f"http://127.0.0.1:{self.operator.port}"
        self.webhook_url = f"{self.api_url}/api/v1/webhooks/git"
        for name in self.cluster_names:
            agent = Agent(ClusterAccess.from_kubeconfig(self.sims[name].kubeconfig_path), f"127.0.0.1:{self.hub.port}",
                          name, "", self.root / "agents" / name, insecure=True,
                          settings=settings or Settings(wave_timeout=30.0), status_interval=0.05,
                          unsettled_refresh=0.5)
            self.agents[name] = agent
            self._agent_tasks.append(asyncio.create_task(agent.run()))
            checker = ClusterAccess.from_kubeconfig(self.sims[name].kubeconfig_path)
            await checker.start()
            self.accesses[name] = checker

    async def restart_hub(self, *, interval: float = 60.0) -> None:
        """Stop the whole hub (operator side and session server) and start it again on the same data directory
        and gRPC port, as a restarted hub process would; the agents keep running and dial it again."""
        assert self.operator is not None
        port = self.hub.port
        await self.operator.stop()
        await self.hub.stop(0.2)
        self.hub = await start_hub(f"127.0.0.1:{port}", self.root / "hub", insecure=True, heartbeat_interval=1.0,
                                   fsync=False)
        self.operator = await start_operator(self.hub, self.root / "hub", str(self.repo_dir), http_port=0,
                                             poll_interval=interval, webhook_secret=b"webhook-secret", fsync=False,
                                             tick=0.2, config=self.config)
        self.pipeline = self.operator.pipeline
        self.source = self.operator.source
        self.api_url = f"http://127.0.0.1:{self.operator.port}"
        self.webhook_url = f"{self.api_url}/api/v1/webhooks/git"

    def token(self, name: str, role: str, regions: tuple[str, ...] = (), environments: tuple[str, ...] = ()) -> str:
        return ApiTokenStore.in_data_dir(self.root / "hub").create(name, role, regions=regions,
                                                                   environments=environments)

    async def api(self, method: str, path: str, token: str | None, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with ClientSession() as client, client.request(method, self.api_url + path, json=body,
                                                             headers=headers) as response:
            return response.status, await response.json(content_type=None)

    async def cli(self, *args: str, token: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        """`fleetline ARGS` as a subprocess against this hub (without blocking the hub's event loop)."""
        env = {**os.environ, "FLEETLINE_HUB": self.api_url, "PYTHONPATH": str(ROOT)}
        if token:
            env["FLEETLINE_TOKEN"] = token
        return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "fleetline.cli", *args], cwd=ROOT,
                                       env=env, capture_output=True, text=True, timeout=timeout)

    async def stop(self) -> None:
        if self.operator is not None:
            await self.operator.stop()
            self.operator = None
            self.source = None
            self.pipeline = None
        await super().stop()


@pytest.fixture
async def operator_stack(tmp_path: Path) -> AsyncIterator[Callable[[list[str]], OperatorStack]]:
    made: list[OperatorStack] = []

    def make(clusters: list[str]) -> OperatorStack:
        stack = OperatorStack(tmp_path, clusters)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        await stack.stop()
