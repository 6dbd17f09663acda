"""Helpers of the wire integration tests: a hub with per-cluster tokens, real agent sessions run as tasks,
and small desired states and events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from agent.session.client import AgentSession, SessionRefused, SessionState, TlsCredentials
from fleetline.wire import fleet_pb2
from hub.sessions.server import HubHandle

TIMEOUT = 5.0
HEARTBEAT = 1.0
A, B = "cluster-a", "cluster-b"
T = TypeVar("T")


@dataclass
class Fleet:
    """A running hub and the tokens of two clusters."""

    hub: HubHandle
    tokens: dict[str, str]
    root: Path

    def sample(self, name: str, **labels: str) -> float:
        value = self.hub.hub.metrics.registry.get_sample_value(name, labels or None)
        return 0.0 if value is None else value


@dataclass
class RunningAgent:
    """An AgentSession whose run() is a task; states handed to its callback land in `received`."""

    session: AgentSession
    task: asyncio.Task[None]
    received: asyncio.Queue[fleet_pb2.DesiredState] = field(default_factory=asyncio.Queue)

    async def next_state(self) -> fleet_pb2.DesiredState:
        return await asyncio.wait_for(self.received.get(), TIMEOUT)

    def sample(self, name: str, **labels: str) -> float:
        value = self.session.metrics.registry.get_sample_value(name, labels or None)
        return 0.0 if value is None else value

    async def stop(self) -> str | None:
        """Stop the session; a complaint when run() did not return (wait_for then cancels it), else None."""
        self.session.stop()
        try:
            await asyncio.wait_for(self.task, TIMEOUT)
        except SessionRefused:
            pass
        except TimeoutError:
            return f"the agent of {self.session.cluster} did not stop within {TIMEOUT}s"
        return None


def start_agent(fleet: Fleet, agents: list[RunningAgent], cluster: str, credential: str | TlsCredentials,
                cache: str, *, address: str | None = None, **options: Any) -> RunningAgent:
    """Start an AgentSession (fast reconnects) for `cluster` with its cache in fleet.root/cache; `address`
    overrides the hub's (e.g. a proxy in front of it); `options` go to AgentSession."""
    received: asyncio.Queue[fleet_pb2.DesiredState] = asyncio.Queue()

    async def on_desired_state(state: fleet_pb2.DesiredState) -> None:
        received.put_nowait(state)

    insecure = not isinstance(credential, TlsCredentials)
    options = {"reconnect_base": 0.05, "reconnect_cap": 0.2, **options}
    session = AgentSession(address or fleet.hub.address, cluster, "eu", fleet.root / cache, credential,
                           insecure=insecure, on_desired_state=on_desired_state, **options)
    agent = RunningAgent(session, asyncio.create_task(session.run()), received)
    agents.append(agent)
    return agent


async def connected(fleet: Fleet, agent: RunningAgent) -> None:
    await agent.session.wait_for_state(SessionState.CONNECTED, TIMEOUT)
    await fleet.hub.hub.wait_for(lambda: any(i.cluster == agent.session.cluster for i in fleet.hub.hub.registry()),
                                 TIMEOUT)


def desired(cluster: str, revision: str, manifests: int = 2, manifest_bytes: int = 200) -> fleet_pb2.DesiredState:
    objects = [json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": f"{cluster}-{revision}-{i}", "namespace": "ml"},
                           "data": {"owner": cluster, "pad": "x" * manifest_bytes}})
               for i in range(manifests)]
    app = fleet_pb2.ApplicationBundle(name="inference", namespace="ml", revision=revision, manifests_json=objects,
                                      sync_policy=fleet_pb2.SyncPolicy(automated=fleet_pb2.Automated(prune=True)))
    return fleet_pb2.DesiredState(revision=revision, applications=[app])


def event(kind: int, message: str) -> fleet_pb2.Event:
    return fleet_pb2.Event(type=kind, application="inference", message=message)


async def collect(subscription: AsyncIterator[T], count: int, timeout: float = TIMEOUT) -> list[T]:
    """The next `count` items of a hub subscription, or TimeoutError."""
    items: list[T] = []
    async with asyncio.timeout(timeout):
        async for item in subscription:
            items.append(item)
            if len(items) >= count:
                break
    return items
