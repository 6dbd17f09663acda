"""API latency: `GET /api/v1/fleet` (the fleet overview) of a running hub with 1,000 clusters (issue 7).

The hub runs in this process: the session server and the operator side (`start_operator`: store, pipeline over
a real Git repository whose fleet.yaml names N clusters with one application each, the REST API on loopback).
No agent connects: each cluster's last status report (one application, 20 resources, Synced and Healthy) is
put into the session layer directly, as an agent's report would leave it, so the benchmark measures the API
(authentication, the facade reading sessions, fleet.yaml and status, JSON encoding, scope filtering), not the
wire. Requests are sequential from one aiohttp client with an admin token (the scope filter still runs), after the
pipeline's first pushes to every cluster are written and 10 warm-up requests.
Prints p50/p99 over the requests and appends them to bench/RESULTS.md (not with --quick or --no-record).
Target: p99 <= 100 ms at 1,000 clusters.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import git  # noqa: E402
from aiohttp import ClientSession  # noqa: E402

from bench.record import append, commit  # noqa: E402
from fleetline.wire import fleet_pb2  # noqa: E402
from hub.api.tokens import ApiTokenStore  # noqa: E402
from hub.operator.server import start_operator  # noqa: E402
from hub.sessions.server import start_hub  # noqa: E402

REGIONS = ("us-east", "us-west", "eu")


def fleet_yaml(clusters: int) -> str:
    lines = ["apiVersion: fleetline.io/v1alpha1", "kind: Fleet", "metadata: {name: bench}", "spec:",
             "  environments:", "    prod: {ref: main, sync: automated}", "  clusters:"]
    lines += [f"  - {{name: c{i:04d}, region: {REGIONS[i % 3]}, environment: prod}}" for i in range(clusters)]
    lines += ["  applications:", "  - name: inference", "    source: {path: app}", "    destination: {namespace: ml}",
              "    syncPolicy: {automated: {prune: true, selfHeal: true}}"]
    return "\n".join(lines) + "\n"


def status_report(revision: str) -> fleet_pb2.StatusReport:
    resources = [fleet_pb2.ResourceStatus(group="apps", version="v1", kind="Deployment", namespace="ml",
                                          name=f"r{i}", sync_status="Synced", health="Healthy") for i in range(20)]
    return fleet_pb2.StatusReport(generation=1, applications=[fleet_pb2.ApplicationStatus(
        name="inference", revision=revision, sync_status="Synced", health="Healthy", resources=resources)])


async def run(clusters: int, requests: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        root = Path(tmp)
        repo = git.Repo.init(root / "repo", initial_branch="main")
        (root / "repo" / "app").mkdir()
        (root / "repo" / "fleet.yaml").write_text(fleet_yaml(clusters))
        (root / "repo" / "app" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n")
        repo.index.add(["fleet.yaml", "app/cm.yaml"])
        sha = repo.index.commit("bench", author=git.Actor("b", "b@example.com")).hexsha
        hub = await start_hub("127.0.0.1:0", root / "hub", insecure=True, fsync=False)
        operator = await start_operator(hub, root / "hub", str(root / "repo"), http_port=0, fsync=False)
        token = ApiTokenStore.in_data_dir(root / "hub").create("bench", "admin")
        try:
            started = time.monotonic()
            while not operator.source.describe()["environments"].get("prod", {}).get("revision"):
                await asyncio.sleep(0.2)  # the pipeline renders the fleet (polled; a bench, not a test)
            rendered = time.monotonic() - started
            while any(hub.hub.desired_state(f"c{i:04d}") is None for i in range(clusters)):
                await asyncio.sleep(0.2)  # the first pushes to every cluster are written
            report = status_report(sha)
            for i in range(clusters):
                hub.hub._cluster(f"c{i:04d}").status = report  # what an agent's report leaves (see docstring)
            url = f"http://127.0.0.1:{operator.port}/api/v1/fleet"
            latencies = []
            async with ClientSession(headers={"Authorization": f"Bearer {token}"}) as client:
                for _ in range(10):  # warm-up, not counted
                    async with client.get(url) as response:
                        await response.read()
                for _ in range(requests):
                    begin = time.perf_counter()
                    async with client.get(url) as response:
                        body = await response.json()
                    latencies.append(time.perf_counter() - begin)
                    assert response.status == 200 and sum(len(r["clusters"]) for r in body["regions"]) == clusters
        finally:
            await operator.stop()
            await hub.stop(0.2)
    latencies.sort()
    return {"clusters": clusters, "requests": requests, "render_s": rendered,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000,
            "max_ms": latencies[-1] * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="100 clusters, 50 requests, not recorded")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.clusters, args.requests, args.no_record = 100, 50, True
    load = os.getloadavg()
    figures = asyncio.run(run(args.clusters, args.requests))
    print(figures)
    ok = "met" if figures["p99_ms"] <= 100 else "**missed**"
    report = (f"\n## api: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}\n"
              f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}. The hub (session server + operator side, REST API on "
              f"loopback) in one process; status reports put into the session layer directly (no agents; see "
              f"bench/api.py); sequential requests with an admin token.\n\n"
              "| measure | figure | target |\n|---|---|---|\n"
              f"| GET /api/v1/fleet, {figures['clusters']:,} clusters x 1 application (20 resources each), "
              f"{figures['requests']} requests (pipeline's first render of the fleet: {figures['render_s']:.1f} s) "
              f"| p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms (max {figures['max_ms']:.1f} ms) "
              f"| p99 <= 100 ms ({ok}) |\n")
    print(report)
    if not args.no_record:
        append(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
