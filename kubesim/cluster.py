"""Running simulated clusters: `SimCluster` (one cluster on one port) and `SimFleet` (many, one process).

Both are async context managers, for tests and benchmarks:

    async with SimCluster("us-east-1", kubeconfig_dir=tmp) as cluster:
        cluster.url, cluster.token, cluster.kubeconfig_path

A cluster is a `ClusterAPI`, its HTTP server, its controllers and its Nodes; it writes a kubeconfig with a
bearer token (and the CA when TLS is on).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from kubesim.api import ClusterAPI, WriteOptions
from kubesim.clock import Clock
from kubesim.controllers import default_controllers
from kubesim.controllers.base import ControllerManager
from kubesim.controllers.lifecycle import healthy_node_status
from kubesim.kubeconfig import write_kubeconfig
from kubesim.server import ApiServer
from kubesim.tls import make_ca, make_serving_cert, server_ssl_context


@dataclass
class ClusterOptions:
    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port
    kubeconfig_dir: Path | None = None
    speed: float = 1.0
    nodes: int = 3
    gpus_per_node: int = 0
    cpu_per_node: str = "16"
    memory_per_node: str = "64Gi"
    tls: bool = True  # kubectl sends bearer tokens only over HTTPS (client-go), so TLS is the default
    token: str | None = None  # None generates one
    controllers: bool = True
    sidecar_injection: bool = True
    bookmark_interval: float = 10.0


def node_manifest(name: str, cpu: str, memory: str, gpus: int, region: str = "", index: int = 0,
                  now: str = "") -> dict:
    capacity = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "100Gi"}
    if gpus:
        capacity["nvidia.com/gpu"] = str(gpus)
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "node.kubernetes.io/instance-type": "sim.gpu" if gpus else "sim.standard"}
    if region:
        labels["topology.kubernetes.io/region"] = region
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {}, "status": {"capacity": dict(capacity), "allocatable": dict(capacity)}}
    node["status"] = healthy_node_status(node, now, f"172.18.0.{index + 2}")
    return node


@dataclass(frozen=True)
class TlsMaterial:
    """A CA and a serving certificate for the loopback names; one set can serve every cluster of a process."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def generate(cls, hosts: list[str]) -> TlsMaterial:
        ca_cert, ca_key = make_ca("kubesim-ca")
        cert, key = make_serving_cert(ca_cert, ca_key, sorted(set(hosts) | {"localhost", "127.0.0.1"}))
        return cls(ca_cert, cert, key)


@dataclass
class SimCluster:
    name: str
    options: ClusterOptions = field(default_factory=ClusterOptions)
    tls_material: TlsMaterial | None = None
    api: ClusterAPI = field(init=False)
    url: str = field(init=False, default="")
    token: str = field(init=False, default="")
    ca_pem: bytes | None = field(init=False, default=None)
    kubeconfig_path: Path | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.api = ClusterAPI(self.name, clock=Clock(self.options.speed))
        self.token = self.options.token or secrets.token_urlsafe(24)
        self._runner: web.AppRunner | None = None
        self._manager: ControllerManager | None = None
        opts = WriteOptions("kubesim")
        for index in range(self.options.nodes):
            node = node_manifest(f"{self.name}-node-{index + 1}", self.options.cpu_per_node,
                                 self.options.memory_per_node, self.options.gpus_per_node, index=index,
                                 now=self.api.clock.timestamp())
            self.api.create(self.api.type("", "Node"), "", node, opts)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1]) if self.url else 0

    async def start(self) -> SimCluster:
        opts = self.options
        ssl_context = None
        if opts.tls:
            material = self.tls_material or TlsMaterial.generate([opts.host])
            ssl_context = server_ssl_context(material.cert_pem, material.key_pem)
            self.ca_pem = material.ca_pem
            self.api.root_ca_pem = material.ca_pem.decode()
        server = ApiServer(self.api, self.token, bookmark_interval=opts.bookmark_interval)
        self._runner = web.AppRunner(server.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, opts.host, opts.port, ssl_context=ssl_context, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server else []  # aiohttp exposes no public accessor for the port
        port = sockets[0].getsockname()[1] if sockets else opts.port
        scheme = "https" if opts.tls else "http"
        self.url = f"{scheme}://{opts.host}:{port}"
        server.server_address = f"{opts.host}:{port}"
        if opts.controllers:
            self._manager = ControllerManager(self.api, default_controllers(self.api, opts.sidecar_injection))
            self._manager.start()
            self._publish_apiserver_service(port)
        if opts.kubeconfig_dir is not None:
            opts.kubeconfig_dir.mkdir(parents=True, exist_ok=True)
            self.kubeconfig_path = opts.kubeconfig_dir / f"{self.name}.kubeconfig"
            write_kubeconfig(self.kubeconfig_path, self.name, self.url, self.token, self.ca_pem)
        return self

    def _publish_apiserver_service(self, port: int) -> None:
        """The `kubernetes` Service in `default` with its Endpoints, as kube-apiserver publishes itself."""
        opts = WriteOptions("kube-apiserver")
        self.api.create(self.api.type("", "Service"), "default", {
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]}}, opts)
        self.api.create(self.api.type("", "Endpoints"), "default", {
            "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": self.options.host}],
                         "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}, opts)

    async def stop(self) -> None:
        if self._manager is not None:
            await self._manager.stop()
            self._manager = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimCluster:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@dataclass
class SimFleet:
    """Many simulated clusters in one process, on consecutive ports from `options.port` (0: free ports)."""

    names: list[str]
    options: ClusterOptions = field(default_factory=ClusterOptions)
    clusters: list[SimCluster] = field(init=False, default_factory=list)

    async def start(self) -> SimFleet:
        material = TlsMaterial.generate([self.options.host]) if self.options.tls else None
        for index, name in enumerate(self.names):
            port = self.options.port + index if self.options.port else 0
            cluster_options = ClusterOptions(**{**self.options.__dict__, "port": port})
            self.clusters.append(await SimCluster(name, cluster_options, material).start())
        return self

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.clusters))
        self.clusters.clear()

    async def __aenter__(self) -> SimFleet:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __getitem__(self, name: str) -> SimCluster:
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(name)
