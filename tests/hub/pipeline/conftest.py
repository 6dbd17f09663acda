"""End-to-end fixtures for the pipeline: a real Git repository in tmp_path, the hub (session layer, pipeline,
source watcher and webhook, in process, real gRPC on loopback), and one kubesim cluster with the real agent per
cluster of the fleet."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import git
import pytest
from aiohttp import ClientSession, web

from agent.cluster import ClusterAccess, ObjectRef
from agent.reconcile import Settings
from agent.runtime import Agent
from fleetline.wire import fleet_pb2
from hub.pipeline import Pipeline
from hub.pipeline.runner import SourcePipeline
from hub.sessions.server import start_hub
from kubesim.cluster import ClusterOptions
from tests.kubesim.conftest import ClusterThread

SECRET = b"webhook-secret"


def deployment_yaml(image: str = "model-server", replicas: int = 1) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: inference}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: inference}}}}
  template:
    metadata: {{labels: {{app: inference}}}}
    spec:
      containers:
      - {{name: server, image: {image}}}
"""


def kustomization(tag: str) -> str:
    return f"""\
resources: [deployment.yaml]
images:
- {{name: model-server, newTag: {tag}}}
"""


class Stack:
    """The hub and one agent + kubesim cluster per cluster; see the module docstring."""

    def __init__(self, root: Path, clusters: list[str]) -> None:
        self.root = root
        self.repo_dir = root / "repo"
        self.repo_dir.mkdir()
        self.repo = git.Repo.init(self.repo_dir, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Dev").set_value("user", "email", "dev@example.com")
        self.cluster_names = clusters
        self.sims: dict[str, ClusterThread] = {}
        self.agents: dict[str, Agent] = {}
        self.accesses: dict[str, ClusterAccess] = {}
        self._agent_tasks: list[asyncio.Task[None]] = []
        self.hub: Any = None
        self.pipeline: Pipeline | None = None
        self.source: SourcePipeline | None = None
        self._runner: web.AppRunner | None = None
        self.webhook_url = ""

    def commit(self, files: dict[str, str | None], message: str) -> str:
        for path, text in files.items():
            target = self.repo_dir / path
            if text is None:
                target.unlink()
                self.repo.index.remove([path])
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.repo.index.add([path])
        return self.repo.index.commit(message).hexsha

    async def start(self, *, interval: float = 60.0, settings: Settings | None = None) -> None:
        for name in self.cluster_names:
            self.sims[name] = ClusterThread(name, ClusterOptions(
                speed=20.0, nodes=1, kubeconfig_dir=self.root / "kubeconfigs"))
        self.hub = await start_hub("127.0.0.1:0", self.root / "hub", insecure=True, heartbeat_interval=1.0,
                                   fsync=False)
        self.pipeline = Pipeline(self.hub.hub, self.root / "hub" / "source" / "mirror.git", self.root / "hub",
                                 fsync=False, tick=0.2)
        self.source = SourcePipeline(self.pipeline, self.root / "hub", str(self.repo_dir), interval=interval,
                                     webhook_secret=SECRET)
        app = web.Application()
        app.add_routes(self.source.routes())
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.webhook_url = f"http://127.0.0.1:{port}/api/v1/webhooks/git"
        await self.pipeline.start()
        await self.source.start()
        for name in self.cluster_names:
            access = ClusterAccess.from_kubeconfig(self.sims[name].kubeconfig_path)
            agent = Agent(access, f"127.0.0.1:{self.hub.port}", name, "", self.root / "agents" / name,
                          insecure=True, settings=settings or Settings(wave_timeout=30.0),
                          status_interval=0.05, unsettled_refresh=0.5)
            self.agents[name] = agent
            self._agent_tasks.append(asyncio.create_task(agent.run()))
            checker = ClusterAccess.from_kubeconfig(self.sims[name].kubeconfig_path)
            await checker.start()
            self.accesses[name] = checker

    async def webhook(self, body: dict, secret: bytes = SECRET) -> int:
        raw = json.dumps(body).encode()
        signature = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
        async with ClientSession() as client, client.post(self.webhook_url, data=raw, headers={
                "X-Hub-Signature-256": signature, "X-GitHub-Event": "push",
                "Content-Type": "application/json"}) as response:
            return response.status

    def app_status(self, cluster: str, app: str) -> fleet_pb2.ApplicationStatus | None:
        report = self.hub.hub.status(cluster)
        return next((a for a in report.applications if a.name == app), None) if report else None

    def runs(self, cluster: str, app: str, revision: str) -> bool:
        status = self.app_status(cluster, app)
        return status is not None and (status.revision, status.sync_status, status.health) == (
            revision, "Synced", "Healthy")

    async def image(self, cluster: str, name: str = "inference", ns: str = "ml") -> str | None:
        live = await self.accesses[cluster].get(ObjectRef("apps/v1", "Deployment", ns, name))
        return live["spec"]["template"]["spec"]["containers"][0]["image"] if live else None

    async def eventually(self, predicate: Callable[[], Any], timeout: float = 30.0, message: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {message}; pipeline: "
                                     f"{json.dumps(self.source.describe() if self.source else {}, default=str)}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for agent in self.agents.values():
            agent.stop()
        for task in self._agent_tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
        for access in self.accesses.values():
            await access.close()
        if self.source is not None:
            await self.source.stop()
        if self.pipeline is not None:
            await self.pipeline.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.hub is not None:
            await self.hub.stop(0.2)
        for sim in self.sims.values():
            sim.stop()


@pytest.fixture
async def stack_factory(tmp_path: Path) -> AsyncIterator[Callable[[list[str]], Stack]]:
    made: list[Stack] = []

    def make(clusters: list[str]) -> Stack:
        stack = Stack(tmp_path, clusters)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        await stack.stop()
