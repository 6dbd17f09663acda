"""Fixtures for the cluster-access tests: kubesim (from tests/kubesim/conftest.py), a started `ClusterAccess`
on its kubeconfig, the fault-injecting proxy, and small async helpers to wait for conditions and events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from agent.cluster import ClusterAccess, Watch, WatchEvent
from tests.agent.cluster.proxy import Proxy
from tests.kubesim.conftest import ClusterThread, kube, sim, sim_options  # noqa: F401  (fixtures)


async def eventually(predicate: Callable[[], Awaitable[Any] | Any], timeout: float = 5.0, interval: float = 0.02,
                     message: str = "condition") -> Any:
    """Poll `predicate` (sync or async) on the event loop until it returns something truthy, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)


async def next_event(watch: Watch, timeout: float = 1.0) -> WatchEvent:
    return await asyncio.wait_for(anext(watch), timeout)


async def collect(watch: Watch, until: Callable[[list[WatchEvent]], bool], timeout: float = 5.0
                  ) -> list[WatchEvent]:
    """Events until `until(events)` holds."""
    events: list[WatchEvent] = []
    deadline = time.monotonic() + timeout
    while not until(events):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out; events so far: {summary(events)}")
        try:
            events.append(await asyncio.wait_for(anext(watch), remaining))
        except TimeoutError:
            raise AssertionError(f"timed out; events so far: {summary(events)}") from None
    return events


def summary(events: list[WatchEvent]) -> list[tuple[str, str]]:
    return [(e.type, e.object["metadata"]["name"]) for e in events]


def configmap(name: str, data: dict | None = None, labels: dict | None = None, namespace: str | None = None
              ) -> dict:
    meta: dict = {"name": name}
    if labels:
        meta["labels"] = labels
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {}}


@pytest.fixture
async def access(sim: ClusterThread) -> AsyncIterator[ClusterAccess]:  # noqa: F811
    cluster = ClusterAccess.from_kubeconfig(sim.kubeconfig_path)
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.close()


@pytest.fixture
def proxy(sim: ClusterThread) -> Iterator[Proxy]:  # noqa: F811
    p = Proxy(sim.url, sim.ssl_context())
    try:
        yield p
    finally:
        p.close()


def proxied_configuration(proxy: Proxy, sim: ClusterThread) -> k8s.Configuration:  # noqa: F811
    config = k8s.Configuration()
    config.host = proxy.url
    config.api_key["BearerToken"] = sim.token
    config.api_key_prefix["BearerToken"] = "Bearer"
    return config
