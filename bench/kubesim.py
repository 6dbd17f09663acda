"""kubesim benchmarks: write throughput, watch latency, memory per object, idle clusters per process.

Run with `make bench` (or `.venv/bin/python bench/kubesim.py [--quick]`). Prints the figures and appends them,
with the date and the commit, to bench/RESULTS.md. Targets (issue 2): >= 1,000 writes/s per process through
the official client over loopback; watch delivery p99 < 20 ms with 100 watchers; >= 500 idle clusters in 2 GiB.

The API server runs in its own process (`fleetline sim`) so that client and server do not share a GIL; the
client load comes from several processes using the official `kubernetes` client, as the agent will.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import multiprocessing
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.record import append  # noqa: E402
from kubesim.api import ClusterAPI, WriteOptions  # noqa: E402
from kubesim.cluster import ClusterOptions, SimFleet  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- a kubesim server in its own process ---------------------------------------------------------------------
class ServerProcess:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fleetline.cli", "sim", "--clusters", "bench", "--nodes", "3",
             "--kubeconfig-dir", str(workdir)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.proc.stdout.readline()
        if "ready at" not in line:
            raise RuntimeError(f"kubesim did not start: {line!r}")
        self.kubeconfig = workdir / "bench.kubeconfig"
        config = yaml.safe_load(self.kubeconfig.read_text())
        self.url = config["clusters"][0]["cluster"]["server"]
        self.token = config["users"][0]["user"]["token"]
        ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        self.ssl = ssl.create_default_context(cadata=ca)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# -- writes through the official client ----------------------------------------------------------------------
def _client_worker(kubeconfig: str, worker: int, count: int, results: multiprocessing.Queue) -> None:
    try:
        _run_client_worker(kubeconfig, worker, count, results)
    except Exception as exc:  # report instead of leaving the parent waiting on the queue
        results.put({"error": repr(exc)[:500]})


def _run_client_worker(kubeconfig: str, worker: int, count: int, results: multiprocessing.Queue) -> None:
    from kubernetes import client as k8s
    from kubernetes import config as kube_config

    config = k8s.Configuration()
    kube_config.load_kube_config(config_file=kubeconfig, client_configuration=config)
    api = k8s.ApiClient(config)
    core = k8s.CoreV1Api(api)
    names = [f"w{worker}-{i}" for i in range(count)]
    timings = {}

    start = time.perf_counter()
    for name in names:
        core.create_namespaced_config_map("default", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name),
                                                                     data={"model": "v1"}))
    timings["create"] = time.perf_counter() - start
    start = time.perf_counter()
    for name in names:
        core.read_namespaced_config_map(name, "default")
    timings["get"] = time.perf_counter() - start
    start = time.perf_counter()
    for name in names:
        core.patch_namespaced_config_map(name, "default", {"data": {"model": "v2"}})
    timings["patch"] = time.perf_counter() - start
    start = time.perf_counter()
    for name in names:
        core.patch_namespaced_config_map(
            name, "default", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                              "data": {"model": "v3"}},
            field_manager="fleetline", force=True, _content_type="application/apply-patch+yaml")
    timings["server-side apply"] = time.perf_counter() - start
    results.put(timings)
    api.close()


def bench_writes(quick: bool) -> dict:
    per_worker = 300 if quick else 1500
    workers = 2
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp))
        try:
            queue: multiprocessing.Queue = multiprocessing.Queue()
            procs = [multiprocessing.Process(target=_client_worker, args=(str(server.kubeconfig), w, per_worker,
                                                                          queue)) for w in range(workers)]
            for p in procs:
                p.start()
            timings = [queue.get(timeout=600) for _ in procs]
            errors = [t["error"] for t in timings if "error" in t]
            if errors:
                raise RuntimeError(f"a client worker failed: {errors[0]}")
            for p in procs:
                p.join()
        finally:
            server.stop()
    total = per_worker * workers
    # the workers ran each phase concurrently; a phase's rate is the objects of all workers over the slowest one
    return {op: round(total / max(t[op] for t in timings)) for op in timings[0]}


# -- watch latency -------------------------------------------------------------------------------------------
async def _watch_latency(url: str, token: str, context: ssl.SSLContext, watchers: int, writes: int) -> list[float]:
    """Each of `watchers` watch streams must see each of `writes` creations; latency = seen - sent."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"{url}/api/v1/namespaces/default/configmaps"
    sent: dict[str, float] = {}
    latencies: list[float] = []
    connected = asyncio.Semaphore(0)

    async def watcher(session: aiohttp.ClientSession) -> None:
        seen = 0
        async with session.get(path, params={"watch": "true", "timeoutSeconds": "120"}, headers=headers) as resp:
            connected.release()
            async for line in resp.content:
                event = json.loads(line)
                name = event["object"]["metadata"]["name"]
                if name in sent:
                    latencies.append(time.perf_counter() - sent[name])
                    seen += 1
                    if seen == writes:
                        return

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=context)) as session:
        tasks = [asyncio.create_task(watcher(session)) for _ in range(watchers)]
        for _ in range(watchers):
            await asyncio.wait_for(connected.acquire(), 30)
        for i in range(writes):
            name = f"lat-{i}"
            body = json.dumps({"metadata": {"name": name}, "data": {"i": str(i)}})
            sent[name] = time.perf_counter()
            async with session.post(path, data=body, headers={**headers, "Content-Type": "application/json"}) as r:
                assert r.status == 201, await r.text()
            await asyncio.sleep(0.02)  # pace the writes: latency, not throughput, is measured here
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return latencies


def bench_watch(quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp))
        try:
            latencies = asyncio.run(_watch_latency(server.url, server.token, server.ssl, 100, 20 if quick else 100))
        finally:
            server.stop()
    latencies.sort()
    return {"watchers": 100, "events": len(latencies),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)}


# -- memory per 10,000 objects -------------------------------------------------------------------------------
def deployment(name: str) -> dict:
    labels = {"app": name, "team": "ml-platform"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels, "annotations": {"fleetline.io/tracking-id":
                                                                         f"inference:apps/Deployment:default/{name}"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "server", "image": "registry.example.com/inference:v1.4.2",
                          "ports": [{"containerPort": 8080}], "env": [{"name": "MODEL", "value": "llama"}],
                          "resources": {"limits": {"nvidia.com/gpu": "1", "memory": "16Gi"}}}]}}}}


def bench_memory(quick: bool) -> dict:
    count = 10_000
    gc.collect()
    tracemalloc.start()
    api = ClusterAPI("mem")
    base, _ = tracemalloc.get_traced_memory()
    cms, deps = api.type("", "ConfigMap"), api.type("apps", "Deployment")
    opts = WriteOptions("bench")
    for i in range(count // 2):
        api.create(cms, "default", {"metadata": {"name": f"cm-{i}", "labels": {"app": "x"}},
                                    "data": {"model": "v1", "config.yaml": "threshold: 0.5\n" * 4}}, opts)
        api.create(deps, "default", deployment(f"d-{i}"), opts)
    gc.collect()
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"objects": count, "mib_per_10k_objects": round((used - base) / 2**20, 1),
            "note": "half ConfigMaps, half Deployments with managedFields; includes the watch history"}


# -- idle clusters per process -------------------------------------------------------------------------------
async def _idle_clusters(count: int) -> dict:
    gc.collect()
    before = rss_bytes()
    options = ClusterOptions(nodes=3)
    async with SimFleet([f"c{i}" for i in range(count)], options) as fleet:
        gc.collect()
        after = rss_bytes()
        context = ssl.create_default_context(cadata=fleet.clusters[0].ca_pem.decode())
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            for cluster in fleet.clusters[:: max(1, count // 50)]:
                async with session.get(cluster.url + "/version") as resp:
                    assert resp.status == 200
        per_cluster = (after - before) / count
    return {"clusters_started": count, "rss_mib": round(after / 2**20), "kib_per_cluster": round(per_cluster / 1024),
            "clusters_in_2_gib": int((2 * 2**30 - before) / per_cluster)}


def bench_idle(quick: bool) -> dict:
    return asyncio.run(_idle_clusters(100 if quick else 500))


# -- reporting -----------------------------------------------------------------------------------------------
def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "kubesim", "fleetline"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test of the benchmark itself)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    results = {
        "writes_per_second": bench_writes(args.quick),
        "watch_latency": bench_watch(args.quick),
        "memory": bench_memory(args.quick),
        "idle_clusters": bench_idle(args.quick),
    }
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## kubesim: {stamp}, commit {commit()}{' (quick)' if args.quick else ''}",
             f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}.", ""]
    w = results["writes_per_second"]
    lines.append("| measure | figure | target |")
    lines.append("|---|---|---|")
    for op, rate in w.items():
        lines.append(f"| {op} through the official client (2 client processes) | {rate:,} /s | >= 1,000 writes/s |")
    lat = results["watch_latency"]
    lines.append(f"| watch delivery, {lat['watchers']} watchers, {lat['events']} deliveries | p50 {lat['p50_ms']} ms,"
                 f" p99 {lat['p99_ms']} ms | p99 < 20 ms |")
    mem = results["memory"]
    lines.append(f"| memory per {mem['objects']:,} stored objects ({mem['note']}) | {mem['mib_per_10k_objects']} MiB"
                 " | - |")
    idle = results["idle_clusters"]
    lines.append(f"| idle clusters: {idle['clusters_started']} started, {idle['kib_per_cluster']} KiB each, "
                 f"RSS {idle['rss_mib']} MiB | {idle['clusters_in_2_gib']:,} fit in 2 GiB | >= 500 |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        append(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
