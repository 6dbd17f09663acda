"""End-to-end fixtures for the reconciler: a real hub (in process, real gRPC on loopback), the real agent
(`agent.runtime.Agent`: session + cluster access + reconciler) and a kubesim cluster over HTTP; manual changes
are made with real kubectl (the `kubectl` fixture of tests/kubesim/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.cluster import ClusterAccess, ObjectRef
from agent.reconcile import Settings
from agent.runtime import Agent
from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION, tracking_id
from fleetline.wire import fleet_pb2
from hub.sessions.server import start_hub
from kubesim.cluster import ClusterOptions
from tests.kubesim.conftest import kubectl, sim, sim_options  # noqa: F401  (fixtures)

CLUSTER = "eu-west-1"


def stamped(app: str, obj: dict) -> dict:
    """The object as the hub sends it: tracking annotation and app label."""
    obj = json.loads(json.dumps(obj))
    meta = obj.setdefault("metadata", {})
    meta.setdefault("annotations", {})[TRACKING_ANNOTATION] = tracking_id(app, obj)
    meta.setdefault("labels", {})[APP_LABEL] = app
    return obj


def bundle(app: str, objects: list[dict], *, namespace: str = "ml", automated: bool = True, self_heal: bool = True,
           prune: bool = True, allow_empty: bool = False, options: tuple[str, ...] = ("CreateNamespace=true",),
           manual: bool = False,
           ignore: tuple[fleet_pb2.IgnoreDifference, ...] = (), retry_limit: int = 0) -> fleet_pb2.ApplicationBundle:
    policy = fleet_pb2.SyncPolicy(sync_options=list(options))
    if automated:
        policy.automated.CopyFrom(fleet_pb2.Automated(prune=prune, self_heal=self_heal, allow_empty=allow_empty))
    if retry_limit:
        policy.retry.CopyFrom(fleet_pb2.Retry(limit=retry_limit, backoff=fleet_pb2.Backoff(
            duration="1s", factor=2, max_duration="5s")))
    manifests = [json.dumps(stamped(app, o), sort_keys=True) for o in objects]
    return fleet_pb2.ApplicationBundle(name=app, namespace=namespace, manifests_json=manifests, sync_policy=policy,
                                       ignore_differences=list(ignore), manual=manual,
                                       content_hash=str(hash(tuple(manifests))))


def namespace(name: str, labels: dict | None = None) -> dict:
    meta: dict = {"name": name, **({"labels": labels} if labels else {})}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def configmap(name: str, data: dict | None = None, *, ns: str = "ml", annotations: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": ns}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def deployment(name: str, image: str = "nginx:1.25", replicas: int = 1, *, ns: str = "ml",
               annotations: dict | None = None, gpus: int = 0) -> dict:
    container: dict = {"name": "main", "image": image}
    if gpus:
        container["resources"] = {"limits": {"nvidia.com/gpu": gpus}}
    meta: dict = {"name": name, "namespace": ns}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}


def service(name: str, *, ns: str = "ml") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}


def job(name: str, *, ns: str = "ml", hook: str | None = None, annotations: dict | None = None,
        command: str = "exit 0") -> dict:
    meta: dict = {"name": name, "namespace": ns, "annotations": dict(annotations or {})}
    if hook:
        meta["annotations"]["fleetline.io/hook"] = hook
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", command]}]}}}}


class Fleet:
    """One hub, one agent, one kubesim cluster; records every event the hub's consumers see."""

    def __init__(self, hub: Any, agent: Agent, access: ClusterAccess, cluster: Any) -> None:
        self.hub, self.agent, self.access, self.sim = hub, agent, access, cluster
        self.events: list[fleet_pb2.Event] = []
        self.arrived: list[float] = []  # time.monotonic() when each event reached the hub's consumer
        self._changed = asyncio.Condition()
        self._sub = hub.hub.subscribe_events()
        self._reader = asyncio.create_task(self._read())
        self.generation = 0

    async def _read(self) -> None:
        async for _cluster, event in self._sub:
            self.events.append(event)
            self.arrived.append(time.monotonic())
            async with self._changed:
                self._changed.notify_all()

    async def push(self, *bundles: fleet_pb2.ApplicationBundle, revision: str = "rev1") -> fleet_pb2.DesiredState:
        state = fleet_pb2.DesiredState(revision=revision, applications=list(bundles))
        for b in state.applications:
            b.revision = b.revision or revision
        return await self.hub.hub.push(CLUSTER, state)

    def of(self, event_type: int, app: str | None = None) -> list[fleet_pb2.Event]:
        return [e for e in self.events if e.type == event_type and (app is None or e.application == app)]

    async def wait_event(self, predicate: Callable[[fleet_pb2.Event], bool], timeout: float = 20.0,
                         after: int = 0) -> fleet_pb2.Event:
        """The first event (from index `after`) that satisfies `predicate`."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for event in self.events[after:]:
                    if predicate(event):
                        return event
                await self._changed.wait()

    async def wait_type(self, event_type: int, app: str, timeout: float = 20.0, after: int = 0) -> fleet_pb2.Event:
        try:
            return await self.wait_event(lambda e: e.type == event_type and e.application == app, timeout, after)
        except TimeoutError:
            seen = [(fleet_pb2.EventType.Name(e.type), e.message) for e in self.events]
            raise AssertionError(f"no {fleet_pb2.EventType.Name(event_type)} for {app}; events: {seen}") from None

    async def get(self, api_version: str, kind: str, name: str, ns: str = "ml") -> dict | None:
        return await self.access.get(ObjectRef(api_version, kind, ns, name))

    async def eventually(self, predicate: Callable[[], Any], timeout: float = 20.0, message: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {message}")
            await asyncio.sleep(0.05)

    def app_status(self, app: str) -> fleet_pb2.ApplicationStatus | None:
        report = self.hub.hub.status(CLUSTER)
        if report is None:
            return None
        return next((a for a in report.applications if a.name == app), None)

    async def close(self) -> None:
        self._sub.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@pytest.fixture
def sim_options() -> ClusterOptions:  # noqa: F811
    return ClusterOptions(speed=20.0, nodes=2, gpus_per_node=1)


@pytest.fixture
def settings() -> Settings:
    return Settings(wave_timeout=30.0, gpu_grace_seconds=600.0, loop_threshold=3, loop_window=600.0)


@pytest.fixture
async def fleet(tmp_path: Path, sim, settings: Settings) -> AsyncIterator[Fleet]:  # noqa: F811
    hub = await start_hub("127.0.0.1:0", tmp_path / "hub", insecure=True, heartbeat_interval=1.0, fsync=False)
    agent_access = ClusterAccess.from_kubeconfig(sim.kubeconfig_path)
    agent = Agent(agent_access, f"127.0.0.1:{hub.port}", CLUSTER, "eu", tmp_path / "agent", insecure=True,
                  settings=settings, status_interval=0.05, unsettled_refresh=0.5)
    test_access = ClusterAccess.from_kubeconfig(sim.kubeconfig_path)
    await test_access.start()
    running = asyncio.create_task(agent.run())
    fleet = Fleet(hub, agent, test_access, sim)
    try:
        yield fleet
    finally:
        agent.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, 10)
        await fleet.close()
        await test_access.close()
        await hub.stop(0.2)
