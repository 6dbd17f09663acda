"""Fixtures for tests against a live kubesim over HTTP.

`sim` starts a fresh simulated cluster in a background thread with its own event loop, so tests can use
the synchronous official client and real `kubectl` exactly as users do. `sim.call(fn)` runs `fn(api)` on the
cluster's loop (the store is not thread-safe); `wait_for` polls a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as kube_config

from kubesim.api import ClusterAPI
from kubesim.cluster import ClusterOptions, SimCluster


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05,
             message: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy; fail the test with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the condition may raise while the cluster converges (404s)
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


class ClusterThread:
    """A SimCluster running on its own event loop in a daemon thread."""

    def __init__(self, name: str, options: ClusterOptions) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=f"kubesim-{name}", daemon=True)
        self.thread.start()
        self.cluster: SimCluster = self.run(self._start(name, options))

    @staticmethod
    async def _start(name: str, options: ClusterOptions) -> SimCluster:
        return await SimCluster(name, options).start()

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[ClusterAPI], Any]) -> Any:
        async def invoke() -> Any:
            return fn(self.cluster.api)
        return self.run(invoke())

    def stop(self) -> None:
        self.run(self.cluster.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    # conveniences
    @property
    def url(self) -> str:
        return self.cluster.url

    @property
    def token(self) -> str:
        return self.cluster.token

    @property
    def kubeconfig_path(self) -> Path:
        assert self.cluster.kubeconfig_path is not None
        return self.cluster.kubeconfig_path

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts the cluster's generated CA (for raw HTTP clients in tests)."""
        assert self.cluster.ca_pem is not None, "the cluster runs without TLS"
        return ssl.create_default_context(cadata=self.cluster.ca_pem.decode())

    def configuration(self) -> k8s.Configuration:
        """A client configuration loaded from the generated kubeconfig, as a user's program would load it."""
        config = k8s.Configuration()
        kube_config.load_kube_config(config_file=str(self.kubeconfig_path), client_configuration=config)
        return config


@dataclass
class Clients:
    api_client: k8s.ApiClient
    core_v1: k8s.CoreV1Api
    apps_v1: k8s.AppsV1Api
    batch_v1: k8s.BatchV1Api
    custom: k8s.CustomObjectsApi
    apiext: k8s.ApiextensionsV1Api


def make_clients(cluster: ClusterThread) -> Clients:
    api_client = k8s.ApiClient(cluster.configuration())
    return Clients(api_client, k8s.CoreV1Api(api_client), k8s.AppsV1Api(api_client), k8s.BatchV1Api(api_client),
                   k8s.CustomObjectsApi(api_client), k8s.ApiextensionsV1Api(api_client))


@pytest.fixture
def sim_options() -> ClusterOptions:
    """Override in a test module to change the cluster (speed, nodes, GPUs)."""
    return ClusterOptions(speed=20.0, nodes=3)


@pytest.fixture
def sim(tmp_path: Path, sim_options: ClusterOptions) -> Iterator[ClusterThread]:
    options = ClusterOptions(**{**sim_options.__dict__, "kubeconfig_dir": tmp_path / "kubeconfigs"})
    cluster = ClusterThread("sim", options)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def kube(sim: ClusterThread) -> Iterator[Clients]:
    clients = make_clients(sim)
    try:
        yield clients
    finally:
        clients.api_client.close()


KUBECTL = shutil.which("kubectl")


@dataclass
class Kubectl:
    """Runs the real kubectl against `sim` with its kubeconfig and a private discovery cache."""

    kubeconfig: Path
    cache_dir: Path

    def __call__(self, *args: str, input: str | None = None, check: bool = True,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        proc = subprocess.run([KUBECTL or "kubectl", f"--cache-dir={self.cache_dir}", *args], input=input,
                              capture_output=True, text=True, env=env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
                                 f"stderr:\n{proc.stderr}")
        return proc

    def popen(self, *args: str) -> subprocess.Popen:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        return subprocess.Popen([KUBECTL or "kubectl", f"--cache-dir={self.cache_dir}", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture
def kubectl(sim: ClusterThread, tmp_path: Path) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH: the kubectl acceptance tests need the real binary")
    return Kubectl(sim.kubeconfig_path, tmp_path / "kubectl-cache")
