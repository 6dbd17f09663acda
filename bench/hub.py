"""Hub pipeline benchmark: commit-to-converged latency at 3, 100 and 1,000 clusters, with the webhook and with
polling alone, and the hub's resident memory at each size (issue 6, "Performance").

Run with `.venv/bin/python bench/hub.py [--sizes 3,100,1000] [--quick]`. Prints the figures and appends them,
with the date and the commit, to bench/RESULTS.md (not with --quick or --no-record).

Measured: from the moment `git commit` returns in the fleet repository (a local path the hub mirrors) to the
moment the hub has received, from EVERY targeted cluster, a status report saying the application is at the new
revision, Synced and Healthy. Each commit changes one value of the one application, which targets every
cluster with the default rollout (all at once): the image tag (kustomize `images`) of a one-replica Deployment
(`--apps deployment`), or a ConfigMap value (`--apps configmap`: no pods, the cheapest thing to converge). The
Deployment is measured up to `--max-deployment-clusters` (100): at 1,000 clusters the simulated rollouts and
their agents saturate the 2 cores and the figure measures kubesim more than the hub. Two modes per size and
application, each with a hub process of its own (the same data directory and port: the second is a restart):
- webhook: polling effectively off (`--poll-interval 3600`); right after the commit this process POSTs a
  GitHub push payload, signed with X-Hub-Signature-256, to the hub's webhook (what a post-commit hook would do);
- polling: no webhook; the hub fetches every `--poll-interval` seconds (5 by default), so the latency includes
  up to one interval. Before each commit this process waits a random part of the interval, so commits fall at
  random phases of the poll timer.
Per commit the figure is the time until the LAST cluster converged; p50/p99 are over the commits of a mode
(with 3 to 10 commits, p99 is the slowest commit). Also given: the per-cluster latencies of all commits pooled
(p50/p99); the stages of the median commit (commit -> the pipeline got the revision: webhook or poll, and the
fetch -> the first push() began: render and plan -> every push() returned: each persisted and sent -> the last
cluster converged: the agents' syncs and status reports); the CPU seconds the hub and the workers used per
commit; the hub's VmRSS after the webhook commits and its peak VmHWM.

Processes (all times are `time.time()` on this one machine, so they compare across processes):
- the hub: a child process composed as `fleetline hub --repo` composes it (`start_hub` on loopback, insecure,
  its default heartbeat and fsync, then `hub.operator.server.start_operator`: the SQLite store, `Pipeline` with
  its default tick, `SourcePipeline` with the webhook secret, the recorder and the REST API with the webhook;
  INFO logs to a file), plus a `subscribe_status()` consumer that stamps each cluster's first
  Synced+Healthy report of each revision, and wrappers around `Pipeline.on_revision` and `SessionHub.push` that
  stamp when the pipeline got a revision and when pushes began and returned (instrumentation only: the calls
  go through unchanged);
- `--procs` worker processes (4 by default), each with its share of the clusters: a `SimFleet` of kubesim
  clusters (plain HTTP, one node each, `--speed` 20) and one real `Agent` per cluster (the `fleetline agent`
  defaults, except `ClusterAccess(threads=--agent-threads)`, 2 instead of 8), all in one asyncio loop, with
  glibc malloc arenas limited to 2 as `fleetline agent` does;
- this process: the Git repository (the `git` binary), the webhook POSTs, and the driver.
Warm-up (not counted): every agent connects and converges on the first commit (its time is printed) before the
first measured commit; after a hub restart, every cluster reports again before the next mode starts.

Not measured: TLS or token authentication between agents and hub; a remote Git host (the repository is a local
path, fetched by `git fetch`); several applications or a rollout strategy with steps (the default: every
cluster at once); agents and clusters on machines of their own (here they share the 2 cores with the hub).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import hashlib
import hmac
import io
import json
import logging
import multiprocessing
import os
import platform
import pstats
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import cpu_of, percentile  # noqa: E402
from bench.record import append, commit, ok  # noqa: E402

APP = "inference"
NAMESPACE = "ml"
SECRET = b"bench-webhook-secret"
REGIONS = ("us-east", "us-west", "eu")
TARGETS = {3: 1.0, 100: 3.0, 1000: 15.0}  # clusters -> p99 target in seconds (issue 6)


# -- small helpers --------------------------------------------------------------------------------------------
def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def memory_of(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MiB."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            name, _, rest = line.partition(":")
            if name in values:
                values[name] = int(rest.split()[0]) / 1024
    return values


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cluster_names(count: int) -> list[str]:
    return [f"{REGIONS[i % 3]}-{i:04d}" for i in range(count)]


# -- the fleet repository (this process) ----------------------------------------------------------------------
def fleet_yaml(clusters: list[str]) -> str:
    lines = ["apiVersion: fleetline.io/v1alpha1", "kind: Fleet", "metadata: {name: bench}", "spec:",
             "  environments:", "    prod: {ref: main, sync: automated}", "  clusters:"]
    lines += [f"  - {{name: {name}, region: {name.rsplit('-', 1)[0]}, environment: prod}}" for name in clusters]
    lines += ["  applications:", f"  - name: {APP}", f"    source: {{path: apps/{APP}}}",
              f"    destination: {{namespace: {NAMESPACE}}}", "    syncPolicy:",
              "      automated: {prune: true, selfHeal: true}", "      syncOptions: [CreateNamespace=true]"]
    return "\n".join(lines) + "\n"


def app_files(kind: str, version: int) -> dict[str, str]:
    """The application's files at `version`: the one value a commit changes is the image tag or MODEL_VERSION."""
    if kind == "deployment":
        deployment = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {APP}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {APP}}}}}
  template:
    metadata: {{labels: {{app: {APP}}}}}
    spec:
      containers:
      - {{name: server, image: model-server}}
"""
        kustomization = f"resources: [deployment.yaml]\nimages:\n- {{name: model-server, newTag: v{version}}}\n"
        return {f"apps/{APP}/deployment.yaml": deployment, f"apps/{APP}/kustomization.yaml": kustomization}
    configmap = f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: {APP}-config}}
data:
  MODEL_NAME: resnet
  MODEL_VERSION: v{version}
"""
    return {f"apps/{APP}/configmap.yaml": configmap, f"apps/{APP}/kustomization.yaml": "resources: [configmap.yaml]\n"}


class Repo:
    """The fleet repository, changed with the `git` binary as a user would."""

    def __init__(self, path: Path, clusters: list[str], kind: str) -> None:
        self.path, self.kind, self.version = path, kind, 1
        path.mkdir(parents=True)
        self._git("init", "-q", "-b", "main")
        self._write({"fleet.yaml": fleet_yaml(clusters), **app_files(kind, self.version)})
        self.head = self._commit("fleet and application v1")

    def _git(self, *args: str) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
               "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
        done = subprocess.run(["git", *args], cwd=self.path, env=env, check=False, capture_output=True, text=True)
        if done.returncode != 0:  # say why: a bare CalledProcessError hides git's message
            raise RuntimeError(f"git {' '.join(args)} in {self.path} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout.strip()

    def _write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            (self.path / name).write_text(text)

    def _commit(self, message: str) -> str:
        self._git("add", "-A")
        self._git("commit", "-q", "-m", message)
        return self._git("rev-parse", "HEAD")

    def change(self) -> tuple[str, float]:
        """Commit the next version; (its sha, the time.time() at which `git commit` returned)."""
        self.version += 1
        self._write(app_files(self.kind, self.version))
        self._git("add", "-A")
        self._git("commit", "-q", "-m", f"{APP} v{self.version}")
        committed = time.time()
        self.head = self._git("rev-parse", "HEAD")
        return self.head, committed


def post_webhook(url: str, sha: str) -> int:
    """A GitHub push payload for refs/heads/main, signed with X-Hub-Signature-256."""
    body = json.dumps({"ref": "refs/heads/main", "after": sha}).encode()
    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "X-Hub-Signature-256": signature, "X-GitHub-Event": "push", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


# -- the hub process ------------------------------------------------------------------------------------------
@dataclass
class Stamps:
    """What the hub process saw, per revision: each cluster's first Synced+Healthy report of it, when the pipeline
    got it, when its pushes returned."""

    converged: dict[str, dict[str, float]] = field(default_factory=dict)  # revision -> cluster -> time
    got: dict[str, float] = field(default_factory=dict)  # revision -> Pipeline.on_revision called
    handled: dict[str, float] = field(default_factory=dict)  # revision -> Pipeline.on_revision returned
    first_push: dict[str, float] = field(default_factory=dict)  # revision -> the first push() called
    pushes: dict[str, list[float]] = field(default_factory=dict)  # revision -> push() return times
    waiter: tuple[str, int, asyncio.Event] | None = None

    async def follow(self, subscription: object) -> None:
        async for cluster, report in subscription:  # type: ignore[attr-defined]
            now = time.time()
            for app in report.applications:
                if app.name == APP and app.sync_status == "Synced" and app.health == "Healthy":
                    self.converged.setdefault(app.revision, {}).setdefault(cluster, now)
            if self.waiter is not None:
                revision, count, event = self.waiter
                if len(self.converged.get(revision, {})) >= count:
                    event.set()


def instrument(stamps: Stamps, pipeline: object, hub: object) -> None:
    """Wrap Pipeline.on_revision and SessionHub.push (on these instances) to stamp times; behaviour unchanged."""
    on_revision, push = pipeline.on_revision, hub.push  # type: ignore[attr-defined]

    async def stamped_on_revision(environment: str, revision: str) -> None:
        stamps.got.setdefault(revision, time.time())
        await on_revision(environment, revision)
        stamps.handled.setdefault(revision, time.time())

    async def stamped_push(cluster: str, state: object) -> object:
        stamps.first_push.setdefault(state.revision, time.time())  # type: ignore[attr-defined]
        stored = await push(cluster, state)
        stamps.pushes.setdefault(state.revision, []).append(time.time())  # type: ignore[attr-defined]
        return stored

    pipeline.on_revision = stamped_on_revision  # type: ignore[attr-defined]
    hub.push = stamped_push  # type: ignore[attr-defined]


async def _hub_commands(conn: object, repo: str, data_dir: str, listen: str, poll: float) -> None:
    from hub.operator.server import start_operator
    from hub.sessions.server import start_hub

    # as `fleetline hub --insecure --repo ...` composes it: the session server (fsync, default heartbeat), then the
    # operator side (store, pipeline and Git source, recorder, REST API with the webhook)
    handle = await start_hub(listen, data_dir, insecure=True)
    stamps = Stamps()
    follower = asyncio.create_task(stamps.follow(handle.hub.subscribe_status()))
    operator = await start_operator(handle, data_dir, repo, http_host="127.0.0.1", http_port=0,
                                    poll_interval=poll, webhook_secret=SECRET)
    instrument(stamps, operator.pipeline, handle.hub)  # before the first measured commit; the warm-up needs none
    conn.send((handle.port, operator.port))
    while True:
        command, *args = await asyncio.to_thread(conn.recv)  # type: ignore[attr-defined]
        if command == "wait":  # (revision, clusters, timeout) -> what was seen of that revision
            revision, count, timeout = args
            event = asyncio.Event()
            stamps.waiter = (revision, count, event)
            if len(stamps.converged.get(revision, {})) < count:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout)
            stamps.waiter = None
            conn.send({"converged": dict(stamps.converged.get(revision, {})), "got": stamps.got.get(revision),
                       "handled": stamps.handled.get(revision), "first_push": stamps.first_push.get(revision),
                       "pushes": list(stamps.pushes.get(revision, []))})
        elif command == "reporting":  # (revision, clusters, timeout): every cluster's latest report is there
            revision, clusters, timeout = args
            deadline = time.time() + timeout
            while True:
                missing = [c for c in clusters if not _runs(handle.hub.status(c), revision)]
                if not missing or time.time() > deadline:
                    break
                await asyncio.sleep(0.25)
            conn.send(missing)
        elif command == "describe":
            conn.send(json.loads(json.dumps(operator.source.describe(), default=str)))
        elif command == "stop":
            await operator.stop()
            follower.cancel()
            await handle.stop(1.0)
            conn.send(None)
            return


def _runs(report: object, revision: str) -> bool:
    if report is None:
        return False
    return any(a.name == APP and (a.revision, a.sync_status, a.health) == (revision, "Synced", "Healthy")
               for a in report.applications)  # type: ignore[attr-defined]


def hub_main(conn: object, repo: str, data_dir: str, listen: str, poll: float, profile: str | None) -> None:
    raise_fd_limit()
    logging.basicConfig(filename=str(Path(data_dir).parent / "hub.log"), level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if profile:
        cProfile.runctx("asyncio.run(_hub_commands(conn, repo, data_dir, listen, poll))", globals(), locals(),
                        profile)
    else:
        asyncio.run(_hub_commands(conn, repo, data_dir, listen, poll))


# -- the worker processes: kubesim clusters and their agents --------------------------------------------------
async def _worker_commands(conn: object, names: list[str], hub: str, workdir: str, speed: float,
                           threads: int) -> None:
    from agent.cluster import ClusterAccess
    from agent.runtime import Agent
    from kubesim.cluster import ClusterOptions, SimFleet

    work = Path(workdir)
    fleet = await SimFleet(names, ClusterOptions(tls=False, speed=speed, nodes=1,
                                                 kubeconfig_dir=work / "kubeconfigs")).start()
    agents, tasks = [], []
    for cluster in fleet.clusters:
        access = ClusterAccess.from_kubeconfig(cluster.kubeconfig_path, threads=threads)
        agent = Agent(access, hub, cluster.name, cluster.name.rsplit("-", 1)[0], work / "agents" / cluster.name,
                      insecure=True)
        agents.append(agent)
        tasks.append(asyncio.create_task(agent.run()))
    conn.send(len(agents))
    while True:
        command, *_ = await asyncio.to_thread(conn.recv)  # type: ignore[attr-defined]
        if command == "failed":  # agents whose run() ended (it should not while the bench runs)
            conn.send([f"{a.session.cluster}: {t.exception()!r}" for a, t in zip(agents, tasks, strict=True)
                       if t.done() and not t.cancelled() and t.exception() is not None])
        elif command == "stop":
            for agent in agents:
                agent.stop()
            await asyncio.wait(tasks, timeout=30)
            await fleet.stop()
            conn.send(None)
            return


def worker_main(conn: object, names: list[str], hub: str, workdir: str, speed: float, threads: int) -> None:
    from agent.cli import limit_malloc_arenas

    limit_malloc_arenas()
    raise_fd_limit()
    logging.basicConfig(filename=str(Path(workdir) / "worker.log"), level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_worker_commands(conn, names, hub, workdir, speed, threads))


# -- the driver -----------------------------------------------------------------------------------------------
class Peer:
    """A child process and the parent's end of its command pipe."""

    def __init__(self, ctx: multiprocessing.context.BaseContext, target: object, *args: object) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()

    @property
    def pid(self) -> int:
        return self.process.pid  # type: ignore[return-value]

    def call(self, *command: object, timeout: float = 600.0) -> object:
        self.conn.send(command)
        return self.recv(timeout)

    def recv(self, timeout: float = 600.0) -> object:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"no answer from process {self.process.pid} in {timeout:g}s")
        return self.conn.recv()

    def stop(self) -> None:
        try:
            self.call("stop", timeout=60)
        except (TimeoutError, OSError, EOFError):
            self.process.kill()
        self.process.join(10)


@dataclass
class Commit:
    """One measured commit: per-cluster latencies from the commit, and the stages of the pipeline."""

    sha: str
    latencies: list[float]  # seconds from the commit to each cluster's Synced+Healthy report
    missing: int  # clusters that did not converge within the timeout
    got: float  # commit -> Pipeline.on_revision called (webhook or poll, fetch)
    rendered: float  # commit -> the first push() called (render and plan done)
    pushed: float  # commit -> the last push() returned
    last: float  # commit -> the last cluster converged (inf when some are missing)
    cpu_hub: float  # CPU seconds the hub process used from the commit to the last cluster's report
    cpu_workers: float  # the same for the worker processes (kubesim clusters and agents)


def measure(hub: Peer, workers: list[Peer], repo: Repo, n: int, mode: str, webhook_url: str, poll: float,
            rng: random.Random, timeout: float) -> Commit:
    if mode == "polling":
        time.sleep(rng.uniform(0, poll))  # a random phase of the poll timer
    else:
        time.sleep(0.5)  # let the previous commit's last status reports and acknowledgements settle
    cpu_hub, cpu_workers = cpu_of(hub.pid), sum(cpu_of(w.pid) for w in workers)
    sha, committed = repo.change()
    if mode == "webhook":
        status = post_webhook(webhook_url, sha)
        if status != 202:
            raise RuntimeError(f"the webhook answered {status}, expected 202")
    seen = hub.call("wait", sha, n, timeout, timeout=timeout + 60)
    cpu_hub, cpu_workers = cpu_of(hub.pid) - cpu_hub, sum(cpu_of(w.pid) for w in workers) - cpu_workers
    latencies = sorted(t - committed for t in seen["converged"].values())
    missing = n - len(latencies)
    pushes = seen["pushes"]
    return Commit(sha, latencies, missing,
                  got=(seen["got"] - committed) if seen["got"] else float("nan"),
                  rendered=(seen["first_push"] - committed) if seen["first_push"] else float("nan"),
                  pushed=(max(pushes) - committed) if pushes else float("nan"),
                  last=latencies[-1] if latencies and not missing else float("inf"),
                  cpu_hub=cpu_hub, cpu_workers=cpu_workers)


def start_hub_process(ctx: multiprocessing.context.BaseContext, work: Path, repo: Repo, port: int, poll: float,
                      profile: str | None) -> tuple[Peer, str]:
    hub = Peer(ctx, hub_main, str(repo.path), str(work / "hub"), f"127.0.0.1:{port}", poll, profile)
    grpc_port, http_port = hub.recv(120)
    assert grpc_port == port, f"the hub listens on {grpc_port}, not {port}"
    return hub, f"http://127.0.0.1:{http_port}/api/v1/webhooks/git"


def run_size(n: int, commits: int, app: str, args: argparse.Namespace) -> dict:
    """One size with one application: warm-up, then the webhook mode and the polling mode (a hub each)."""
    ctx = multiprocessing.get_context("spawn")
    names = cluster_names(n)
    procs = min(args.procs, n)
    rng = random.Random(n)
    timeout = max(60.0, n * 0.2)
    figures: dict = {"clusters": n, "app": app, "commits": commits, "procs": procs, "modes": {}}
    work = Path(tempfile.mkdtemp(prefix=f"bench-hub-{n}-{app}-"))
    repo = Repo(work / "repo", names, app)
    port = free_port()
    workers: list[Peer] = []
    hub: Peer | None = None
    tag = f"[{n} {app}]"
    try:
        for index, mode in enumerate(("webhook", "polling")):
            poll = 3600.0 if mode == "webhook" else args.poll_interval
            profile = f"{args.profile}.{n}.{app}.{mode}" if args.profile else None
            started = time.time()
            hub, webhook_url = start_hub_process(ctx, work, repo, port, poll, profile)
            figures.setdefault("rss_start_mib", memory_of(hub.pid)["VmRSS"])
            if index == 0:
                for i in range(procs):
                    (work / f"worker-{i}").mkdir()
                    workers.append(Peer(ctx, worker_main, names[i::procs], f"127.0.0.1:{port}",
                                        str(work / f"worker-{i}"), args.speed, args.agent_threads))
                started_workers = sum(w.recv(600) for w in workers)  # type: ignore[misc]
                print(f"{tag} {started_workers} clusters and agents up after {time.time() - started:.1f}s",
                      flush=True)
                seen = hub.call("wait", repo.head, n, 600.0, timeout=700)
                figures["first_s"] = max(seen["converged"].values(), default=float("nan")) - started
                figures["workers_mib"] = sum(memory_of(w.pid)["VmRSS"] for w in workers)
                print(f"{tag} first revision on {len(seen['converged'])}/{n} clusters {figures['first_s']:.1f}s "
                      f"after the start (warm-up); workers' memory {figures['workers_mib']:.0f} MiB", flush=True)
            missing = hub.call("reporting", repo.head, names, 600.0, timeout=700)
            if missing:
                raise RuntimeError(f"{len(missing)} clusters do not run {repo.head[:12]}: {missing[:5]}; "
                                   f"see {work}")
            print(f"{tag} {mode}: hub up, every cluster reporting, after {time.time() - started:.1f}s", flush=True)
            load = load_average()
            results = []
            for _ in range(commits):
                result = measure(hub, workers, repo, n, mode, webhook_url, args.poll_interval, rng, timeout)
                results.append(result)
                print(f"{tag} {mode} {result.sha[:8]}: all converged {result.last:.3f}s (pipeline got it "
                      f"{result.got:.3f}s, first push {result.rendered:.3f}s, pushes returned {result.pushed:.3f}s; "
                      f"per cluster p50 {percentile(result.latencies, 0.5):.3f}s; {result.missing} missing; CPU s "
                      f"hub {result.cpu_hub:.1f}, workers {result.cpu_workers:.1f})", flush=True)
            figures["modes"][mode] = {"poll": poll, "commits": results, "memory": memory_of(hub.pid),
                                      "load": load}
            failed = [f for w in workers for f in w.call("failed")]  # type: ignore[union-attr]
            if failed:
                print(f"{tag} agents that stopped: {failed[:5]}", flush=True)
            hub.stop()
            hub = None
            if profile:
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
                pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
                print(out.getvalue())
    finally:
        if hub is not None:
            hub.stop()
        for worker in workers:
            worker.stop()
        if args.keep:
            print(f"{tag} kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return figures


# -- the report -----------------------------------------------------------------------------------------------
def summary(results: list[Commit]) -> dict:
    lasts = [r.last for r in results]
    pooled = [t for r in results for t in r.latencies]
    ordered = sorted(results, key=lambda r: r.last)
    median = ordered[min(len(ordered) - 1, int(0.5 * len(ordered)))]  # the commit percentile() calls p50
    return {"p50": percentile(lasts, 0.5), "p99": percentile(lasts, 0.99),
            "cluster_p50": percentile(pooled, 0.5), "cluster_p99": percentile(pooled, 0.99),
            "missing": sum(r.missing for r in results), "median": median,
            "cpu_hub": statistics.median(r.cpu_hub for r in results),
            "cpu_workers": statistics.median(r.cpu_workers for r in results)}


APPS = {"deployment": "Deployment (1 replica; the commit changes its image tag)",
        "configmap": "ConfigMap (no pods; the commit changes a value)"}


def format_report(runs: list[dict], args: argparse.Namespace, load_before: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## hub pipeline: {now}, commit {commit()}",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average {load_before} "
             f"before, {load_average()} after (the benchmark's own agent threads count in it). "
             "`.venv/bin/python bench/hub.py` with "
             f"`--sizes {args.sizes} --commits {args.commits} --apps {args.apps} --poll-interval "
             f"{args.poll_interval:g}`: one hub process (as `fleetline hub --repo --insecure` composes it: fsync on, "
             f"pipeline tick 1 s), {args.procs} worker processes holding the kubesim clusters (plain HTTP, 1 node, "
             f"speed {args.speed:g}) and one real Agent per cluster (`fleetline agent` defaults but ClusterAccess "
             f"threads={args.agent_threads}); the fleet repository a local path; one application on every cluster, "
             "default rollout (all at once). Latency: `git commit` returned -> the hub received every cluster's "
             "status report saying Synced+Healthy at the new revision; p50/p99 over the commits (with this few "
             "commits, p99 is the slowest). Webhook: a signed GitHub push POST right after the commit, polling off; "
             f"polling: every {args.poll_interval:g} s, no webhook, commits at random phases of the interval. "
             "Stages of the median commit: the pipeline got the revision / the first push() began (render done) / "
             "every push() returned / the last cluster converged. CPU: seconds per commit (median), hub and "
             f"workers. The Deployment application is measured up to {args.max_deployment_clusters:,} clusters: "
             "beyond, 1,000 simulated Deployment rollouts and their agents saturate the 2 cores the hub shares "
             "with them, which measures kubesim more than the hub.", "",
             "| measure | figure | target |", "|---|---|---|"]
    for r in runs:
        n, app = r["clusters"], r["app"]
        for mode, m in r["modes"].items():
            s = summary(m["commits"])
            target = TARGETS.get(n)
            if mode == "webhook" and target is not None:
                verdict = f"p99 <= {target:g} s ({ok(s['p99'] <= target)})"
            elif target is not None:
                verdict = f"- (p99 <= {target:g} s with the webhook; polling adds up to an interval)"
            else:
                verdict = "-"
            med = s["median"]
            how = "webhook" if mode == "webhook" else f"polling every {m['poll']:g} s"
            lines.append(
                f"| commit to converged, {n:,} clusters, {APPS[app]}, {how} ({len(m['commits'])} commits, "
                f"{s['missing']} cluster reports missing; per cluster p50 {s['cluster_p50']:.2f} s, p99 "
                f"{s['cluster_p99']:.2f} s; median commit stages {med.got:.2f} / {med.rendered:.2f} / "
                f"{med.pushed:.2f} / {med.last:.2f} s; CPU s per commit hub {s['cpu_hub']:.1f}, workers "
                f"{s['cpu_workers']:.1f}; load {m['load']}) | p50 {s['p50']:.2f} s, p99 {s['p99']:.2f} s | "
                f"{verdict} |")
        memory = r["modes"]["webhook"]["memory"]
        peak = max(mode["memory"]["VmHWM"] for mode in r["modes"].values())
        lines.append(f"| hub resident memory, {n:,} clusters, {app} (VmRSS after the webhook commits; peak VmHWM "
                     f"{peak:.0f} MiB; {r['rss_start_mib']:.0f} MiB at start; the workers' {n:,} clusters and "
                     f"agents: {r['workers_mib']:,.0f} MiB) | {memory['VmRSS']:.0f} MiB | - |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,100,1000", help="comma-separated cluster counts (default 3,100,1000)")
    parser.add_argument("--commits", default="10,5,3",
                        help="measured commits per mode for each size, comma-separated (default 10,5,3)")
    parser.add_argument("--apps", default="deployment,configmap",
                        help="what the commits change, each measured in turn: deployment (an image tag) and/or "
                             "configmap (a value; no pods) (default deployment,configmap)")
    parser.add_argument("--max-deployment-clusters", type=int, default=100,
                        help="measure the Deployment application up to this many clusters only (default 100)")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="the polling mode's interval (default 5)")
    parser.add_argument("--procs", type=int, default=4, help="worker processes for clusters and agents (default 4)")
    parser.add_argument("--speed", type=float, default=20.0, help="kubesim speed-up (default 20)")
    parser.add_argument("--agent-threads", type=int, default=2, help="ClusterAccess threads per agent (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="3 clusters, the Deployment, 2 commits per mode, polling every 2 s; not recorded")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the hub processes into FILE.<n>.<app>.<mode>")
    parser.add_argument("--keep", action="store_true", help="keep the work directories (logs, repository)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.commits, args.apps, args.no_record = "3", "2", "deployment", True
        args.poll_interval = min(args.poll_interval, 2.0)
    apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    unknown = sorted(set(apps) - set(APPS))
    if unknown or not apps:
        parser.error(f"--apps: unknown {', '.join(unknown) or 'nothing given'}; choose from {', '.join(APPS)}")
    raise_fd_limit()
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(c) for c in args.commits.split(",")]
    counts += [counts[-1]] * (len(sizes) - len(counts))
    load_before = load_average()
    runs = [run_size(n, c, app, args) for n, c in zip(sizes, counts, strict=False) for app in apps
            if app != "deployment" or n <= args.max_deployment_clusters]
    report = format_report(runs, args, load_before)
    print(report)
    if not args.no_record:
        append(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
