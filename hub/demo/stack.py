"""The running demo: kubesim clusters, the hub and one agent per cluster, each a process of the real `fleetline`
command, wired with the certificates, kubeconfigs and secrets of the work directory.

`DemoStack.start()` prepares the work directory (`workdir`), starts `fleetline sim` for every cluster of the
fleet, `fleetline hub --repo DIR/repo` (mutual TLS for agents, the push webhook, the HTTP API on a free port) and
`fleetline agent` per cluster, creates the admin token and writes `DIR/demo.json`. `wait_converged()` follows
the fleet until every application is Synced and Healthy, approving production's first revision as the admin
when asked to. `stop()` ends the processes in order.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hub.api.tokens import ApiTokenStore
from hub.client.connection import HubTarget
from hub.client.http import HubClient
from hub.demo.processes import ProcessGroup
from hub.demo.progress import FleetView, expected_pairs, summary
from hub.demo.workdir import Workdir, head, make_certificates, make_repo
from hub.fleet.load import load_fleet
from hub.fleet.model import Fleet
from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles

ADMIN = "admin"
START_TIMEOUT = 60.0  # seconds for the clusters and the hub to be listening


class DemoError(RuntimeError):
    """The demo cannot go on; the message says what failed and where to look."""


@dataclass
class DemoOptions:
    workdir: Path
    example: Path
    speed: float = 20.0  # kubesim's simulated time: pods get Ready and rollouts finish this many times faster
    nodes: int = 3
    gpus_per_node: int = 4
    poll_interval: float = 60.0  # the hub's fallback to the post-commit webhook
    log_level: str = "INFO"


@dataclass
class DemoStack:
    """See the module docstring. `say` prints a progress line."""

    options: DemoOptions
    say: Callable[[str], None]
    workdir: Workdir = field(init=False)
    processes: ProcessGroup = field(init=False)
    fleet: Fleet | None = None
    hub_api: str = ""
    hub_grpc: str = ""
    token: str = ""
    started: float = field(default_factory=time.monotonic)
    approved: list[tuple[str, str, str]] = field(default_factory=list)  # (environment, application, revision)

    def __post_init__(self) -> None:
        self.workdir = Workdir(self.options.workdir)
        self.processes = ProcessGroup(self.workdir.logs)

    # ---- starting ---------------------------------------------------------------------------------------------

    def elapsed(self) -> str:
        return f"[{time.monotonic() - self.started:5.1f}s]"

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "fleetline.cli", *args]

    async def start(self) -> None:
        workdir = self.workdir
        workdir.reset_runtime()
        made = await asyncio.to_thread(make_repo, workdir, self.options.example)
        self.say(f"{self.elapsed()} {'made' if made else 'reusing'} the fleet repository {workdir.repo} "
                 f"(at {head(workdir)[:7]})")
        try:
            self.fleet = load_fleet(DirectoryFiles(str(workdir.repo)))
        except RenderError as exc:
            raise DemoError(f"{workdir.repo}: the fleet does not load: {exc}") from exc
        clusters = [cluster.name for cluster in self.fleet.clusters]
        await asyncio.to_thread(make_certificates, workdir, clusters)
        self.token = ApiTokenStore.in_data_dir(workdir.hub_data).create(ADMIN, "admin")
        self.say(f"{self.elapsed()} certificates in {workdir.certs}: the fleet CA, the hub, "
                 f"{len(clusters)} clusters (mutual TLS)")
        sim, hub = await asyncio.gather(self._start_clusters(clusters), self._start_hub())
        for cluster in clusters:
            (workdir.kubeconfigs / f"{cluster}.kubeconfig").replace(workdir.kubeconfig(cluster))
        self.say(f"{self.elapsed()} kubesim clusters {', '.join(clusters)} are up (speed x{self.options.speed:g}); "
                 f"kubeconfigs in {workdir.kubeconfigs}")
        self.say(f"{self.elapsed()} the hub follows {workdir.repo}: API {self.hub_api}, agents dial {self.hub_grpc}")
        for cluster in self.fleet.clusters:
            await self.processes.start(f"agent-{cluster.name}", tier=2, argv=self._command(
                "agent", "--hub", self.hub_grpc, "--cluster", cluster.name, "--region", cluster.region,
                "--cache-dir", str(workdir.agents / cluster.name),
                "--tls-cert", str(workdir.certs / f"{cluster.name}.crt"),
                "--tls-key", str(workdir.certs / f"{cluster.name}.key"), "--ca", str(workdir.certs / "ca.crt"),
                "--kubeconfig", str(workdir.kubeconfig(cluster.name)), "--log-level", self.options.log_level))
        self.say(f"{self.elapsed()} one agent per cluster started, each with its own client certificate")
        workdir.write_demo_json(self.describe(sim))

    async def _start_clusters(self, clusters: list[str]) -> dict[str, str]:
        child = await self.processes.start("kubesim", tier=0, argv=self._command(
            "sim", "--clusters", ",".join(clusters), "--port", "0", "--speed", f"{self.options.speed:g}",
            "--nodes", str(self.options.nodes), "--gpus-per-node", str(self.options.gpus_per_node),
            "--kubeconfig-dir", str(self.workdir.kubeconfigs)))
        pattern = r"^cluster (\S+) ready at (\S+) "
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            urls = {m.group(1): m.group(2) for m in await child.wait_for(pattern, deadline - time.monotonic())}
            if set(clusters) <= set(urls):
                return urls
            await asyncio.sleep(0.1)  # the next cluster's line is on its way

    async def _start_hub(self) -> None:
        workdir = self.workdir
        child = await self.processes.start("hub", tier=1, argv=self._command(
            "hub", "--data-dir", str(workdir.hub_data), "--listen", "127.0.0.1:0",
            "--tls-cert", str(workdir.certs / "hub.crt"), "--tls-key", str(workdir.certs / "hub.key"),
            "--client-ca", str(workdir.certs / "ca.crt"), "--repo", str(workdir.repo.resolve()),
            "--webhook-secret-file", str(workdir.webhook_secret), "--http-listen", "127.0.0.1:0",
            "--poll-interval", f"{self.options.poll_interval:g}", "--log-level", self.options.log_level))
        grpc = await child.wait_for(r"^fleetline hub listening on (\S+)$", START_TIMEOUT)
        http = await child.wait_for(r"^fleetline hub pipeline on (http://[^/]+)/", START_TIMEOUT)
        self.hub_grpc, self.hub_api = grpc[0].group(1), http[0].group(1)

    def describe(self, urls: dict[str, str]) -> dict:
        """The contents of demo.json (docs/demo.md)."""
        assert self.fleet is not None
        root = self.workdir.root.resolve()
        return {
            "hub_api": self.hub_api, "dashboard": self.hub_api + "/", "hub_grpc": self.hub_grpc,
            "admin_token": self.token, "admin_token_name": ADMIN,
            "repo": str(root / "repo"), "webhook": self.hub_api + "/api/v1/webhooks/git",
            "certs": str(root / "certs"), "logs": str(root / "logs"),
            "clusters": [{"name": c.name, "region": c.region, "environment": c.environment,
                          "kubeconfig": str(self.workdir.kubeconfig(c.name).resolve()), "api_server": urls[c.name]}
                         for c in self.fleet.clusters],
            "pids": {child.name: child.pid for child in self.processes.children},
            "started_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }

    # ---- using it ---------------------------------------------------------------------------------------------

    def client(self) -> HubClient:
        return HubClient(HubTarget(self.hub_api, self.token))

    async def view(self, client: HubClient) -> FleetView:
        return FleetView.from_api(await client.fleet())

    def check_processes(self) -> None:
        """DemoError naming the process (and its log) that exited by itself."""
        for child in self.processes.exited():
            raise DemoError(f"{child.name} exited with status {child.process.returncode}; see {child.log_path}")

    async def approve_pending(self, client: HubClient, revision: str | None = None) -> list[tuple[str, str, str]]:
        """Approve, as the admin, every pending release (at `revision`) not approved yet, once its cluster's agent
        is connected and reports the application at that revision (so the sync request the approval causes
        reaches an agent that knows the revision: one sent earlier is refused as an unknown application)."""
        view = await self.view(client)
        done = []
        for entry in (await client.approvals()).get("pending", []):
            key = (entry["environment"], entry["application"], entry["revision"])
            state = view.apps.get((entry["cluster"], entry["application"]))
            if (revision and key[2] != revision) or key in self.approved or entry["cluster"] not in view.connected \
                    or state is None or state.revision != key[2]:
                continue
            await client.approve(*key)
            self.approved.append(key)
            done.append(key)
        return done

    async def wait_converged(self, client: HubClient, revisions: dict[tuple[str, str], str] | None = None, *,
                             timeout: float, approve_first: bool = False,
                             pairs: list[tuple[str, str]] | None = None) -> FleetView:
        """Until every pair (default: the whole fleet) is Synced and Healthy (at its revision in `revisions`),
        printing a progress line whenever the picture changes. With `approve_first`, releases waiting for an
        approval are approved as the admin (and said so)."""
        assert self.fleet is not None
        pairs = pairs if pairs is not None else expected_pairs(self.fleet)
        revisions = revisions or {}
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            self.check_processes()
            view = await self.view(client)
            line = summary(view, pairs, revisions)
            if line != last:
                self.say(f"{self.elapsed()} {line}")
                last = line
            if all(view.ready(pair, revisions.get(pair)) for pair in pairs):
                return view
            if approve_first:
                for environment, application, revision in await self.approve_pending(client):
                    self.say(f"{self.elapsed()} approved {application} at {revision[:7]} for {environment} as "
                             f"'{ADMIN}' (the demo approves the first revision for you; later ones wait for you)")
            if time.monotonic() > deadline:
                raise DemoError(f"the fleet was not Synced and Healthy within {timeout:g} s: {line}; logs in "
                                f"{self.workdir.logs}")
            await asyncio.sleep(0.3)

    async def stop(self) -> None:
        await self.processes.stop()
