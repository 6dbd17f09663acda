"""Agent benchmarks: first sync of 500 objects, drift-to-heal latency, idle CPU and memory with 2,000 objects (issue 5).

Run with `.venv/bin/python bench/agent.py [--quick]`. Prints the figures and appends them, with the date and the
commit, to bench/RESULTS.md (not with --quick or --no-record).

Three processes, as a user runs them: kubesim (`fleetline sim --clusters bench-1 --speed 20`, HTTPS), the real
agent (`fleetline agent --insecure --kubeconfig ... --metrics-port ...`, its default flags otherwise: QPS 50,
burst 100, INFO logs to a file) and this process, which runs the hub (`start_hub(..., insecure=True)`, fsync on,
default heartbeat), pushes desired states with `hub.push()`, reads events with `subscribe_events()` and status
reports with `subscribe_status()`, and changes objects as a user would, over HTTPS with kubesim's token. All
times are `time.time()` on this one machine (the agent stamps events with it too), so they compare across
processes. The objects are a mix, per 10: 3 ConfigMaps, 2 Secrets, 2 Services, 2 Deployments (1 replica, with
requests and limits) and 1 ServiceAccount, in one namespace per application (CreateNamespace=true), one wave,
automated with prune and selfHeal.

Measured:
1. first sync of one application of `--objects` (500) objects: from just before `push()` to the arrival of its
   SYNC_SUCCEEDED event at the hub (target <= 10 s); also to SYNC_STARTED, to the first status report saying
   Synced, and Synced and Healthy; the agent's own sync duration; CPU of the agent and of kubesim meanwhile;
2. drift-to-heal latency over `--changes` (200) manual changes, one at a time, each on a different object (so
   each heal is the object's first: no self-heal backoff), alternating a JSON merge PATCH of a ConfigMap's data
   value (fieldManager kubectl-edit) and a strategic-merge PATCH of a Deployment's image (fieldManager
   kubectl-set). Times from the PATCH response: "detected (agent)" = the DRIFT_DETECTED event's occurred_at_ms,
   "detected (hub)" = its arrival at the hub's event consumer (through the agent's outbox and the hub's
   persistence), "healed" = the moment a watch in this process sees the object back at Git's value (a
   resourceVersion newer than the PATCH's), "heal reported" = the DRIFT_HEALED event's arrival. p50/p99; a
   change not seen within PER_CHANGE_TIMEOUT counts as infinitely late (target: detected (hub) and healed p99
   <= 500 ms);
3. steady state with `--total` (2,000) managed objects (`--total / --objects` applications, the first one from
   step 1 unchanged): once every application reported Synced and Healthy and `--settle` seconds passed, the
   agent's VmRSS (target <= 150 MB) and its CPU (utime + stime from /proc/PID/stat) over `--idle` (30) seconds
   (target <= 2 % of a core); VmHWM as the peak; then `--late-changes` (50) more manual changes on the second
   application, the same way as in 2., to show how drift latency grows with what the agent manages.
Also recorded: kubesim's CPU in every phase (it shares the 2 cores with the agent and this process), the load
average, the drift events the hub received per phase (a change should give exactly one DRIFT_DETECTED and one
DRIFT_HEALED, by self-heal), and the agent's metrics at the end (self-heals, watch restarts, drift events,
managed objects). `--agent-args` passes flags to the agent (e.g. "--qps 500", to see what the client-side rate
limit costs; the report names them) and `--profile-agent FILE` runs it under cProfile and prints the top.

Not measured: TLS between agent and hub, the agent's periodic full resync (every 10 minutes by default, outside
the idle window), several clusters per agent host, a real API server's latency (kubesim answers in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import io
import json
import os
import platform
import pstats
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import cpu_of, percentile  # noqa: E402
from bench.record import append  # noqa: E402
from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION, tracking_id  # noqa: E402
from fleetline.wire import fleet_pb2  # noqa: E402
from hub.sessions.server import start_hub  # noqa: E402

CLUSTER = "bench-1"
PER_CHANGE_TIMEOUT = 15.0  # seconds a manual change may take to be detected, healed and reported
SYNC_TIMEOUT = 300.0
MIX = ("ConfigMap", "ConfigMap", "ConfigMap", "Secret", "Secret", "Service", "Service", "Deployment", "Deployment",
       "ServiceAccount")  # per 10 objects
METRICS = ("fleetline_agent_self_heals_total", "fleetline_agent_watch_restarts", "fleetline_agent_managed_objects",
           "fleetline_agent_drift_events_total", "fleetline_agent_syncs_total")


# -- processes ------------------------------------------------------------------------------------------------
def memory_of(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of the process, in MiB."""
    values = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CpuMeter:
    """CPU used by some processes since the meter was made, as % of one core of the wall time elapsed."""

    def __init__(self, **pids: int) -> None:
        self.pids = pids
        self.start = time.time()
        self.before = {name: cpu_of(pid) for name, pid in pids.items()}

    def read(self) -> dict[str, float]:
        wall = time.time() - self.start
        return {name: 100 * (cpu_of(pid) - self.before[name]) / wall for name, pid in self.pids.items()}


class Sim:
    """kubesim in its own process; `url`, `token` and an SSL context from the kubeconfig it writes."""

    def __init__(self, proc: asyncio.subprocess.Process, kubeconfig: Path) -> None:
        self.proc = proc
        self.kubeconfig = kubeconfig
        config = yaml.safe_load(kubeconfig.read_text())
        self.url = config["clusters"][0]["cluster"]["server"]
        self.token = config["users"][0]["user"]["token"]
        ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        self.ssl = ssl.create_default_context(cadata=ca)

    @classmethod
    async def start(cls, workdir: Path, nodes: int, speed: float) -> Sim:
        log = open(workdir / "kubesim.log", "wb")  # noqa: SIM115 (the child process keeps it)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fleetline.cli", "sim", "--clusters", CLUSTER, "--port", "0", "--nodes", str(nodes),
            "--speed", str(speed), "--kubeconfig-dir", str(workdir), stdout=asyncio.subprocess.PIPE, stderr=log,
            cwd=ROOT)
        log.close()
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        if " ready at " not in line:
            raise RuntimeError(f"kubesim did not start: {line!r}; see {workdir / 'kubesim.log'}")
        return cls(proc, Path(line.rpartition("kubeconfig=")[2].strip()))

    async def stop(self) -> None:
        await _stop(self.proc)


class AgentProcess:
    """`fleetline agent` in its own process, logging to agent.log, metrics on a free port."""

    def __init__(self, proc: asyncio.subprocess.Process, log_path: Path, metrics_port: int) -> None:
        self.proc, self.log_path, self.metrics_port = proc, log_path, metrics_port

    @classmethod
    async def start(cls, workdir: Path, hub_port: int, kubeconfig: Path, extra: list[str], profile: str | None
                    ) -> AgentProcess:
        port = free_port()
        log_path = workdir / "agent.log"
        log = open(log_path, "wb")  # noqa: SIM115 (the child process keeps it)
        python = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else [])]
        proc = await asyncio.create_subprocess_exec(
            *python, "-m", "fleetline.cli", "agent", "--hub", f"127.0.0.1:{hub_port}", "--cluster", CLUSTER,
            "--insecure", "--cache-dir", str(workdir / "agent-cache"), "--kubeconfig", str(kubeconfig),
            "--metrics-port", str(port), *extra, stdout=log, stderr=log, cwd=ROOT)
        log.close()
        return cls(proc, log_path, port)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_has(self, text: str) -> bool:
        return text in self.log_path.read_text(errors="replace")

    async def metrics(self, session: aiohttp.ClientSession) -> dict[str, float]:
        async with session.get(f"http://127.0.0.1:{self.metrics_port}/metrics") as resp:
            text = await resp.text()
        values: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in METRICS:
                    label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    values[f"{sample.name}{{{label}}}" if label else sample.name] = sample.value
        return values

    async def stop(self) -> None:
        await _stop(self.proc)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll `predicate` until it holds; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(interval)


# -- the desired state ----------------------------------------------------------------------------------------
def manifest(kind: str, name: str, ns: str, index: int) -> dict:
    meta = {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": name, "tier": "bench"}}
    if kind == "ConfigMap":
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                "data": {"MODEL": f"model-{index}", "THREADS": "4",
                         "config.yaml": f"model: model-{index}\nbatch: 8\nprecision: fp16\n"}}
    if kind == "Secret":
        return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque",
                "data": {"token": base64.b64encode(f"secret-{index}".encode()).decode()}}
    if kind == "Service":
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta,
                "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    if kind == "ServiceAccount":
        return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    container = {"name": "main", "image": f"registry.example/model-server:{index}.0",
                 "ports": [{"containerPort": 8080}],
                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}


def app_objects(app: str, count: int) -> list[dict]:
    objects = []
    for i in range(count):
        kind = MIX[i % len(MIX)]
        obj = manifest(kind, f"{kind.lower()}-{i}", app, i)
        meta = obj["metadata"]
        meta.setdefault("annotations", {})[TRACKING_ANNOTATION] = tracking_id(app, obj)
        meta["labels"][APP_LABEL] = app
        objects.append(obj)
    return objects


def bundle(app: str, objects: list[dict], revision: str) -> fleet_pb2.ApplicationBundle:
    manifests = [json.dumps(o, sort_keys=True) for o in objects]
    policy = fleet_pb2.SyncPolicy(sync_options=["CreateNamespace=true"],
                                  automated=fleet_pb2.Automated(prune=True, self_heal=True))
    return fleet_pb2.ApplicationBundle(name=app, namespace=app, revision=revision, manifests_json=manifests,
                                       sync_policy=policy,
                                       content_hash=hashlib.sha256("\n".join(manifests).encode()).hexdigest())


# -- what the hub sees ----------------------------------------------------------------------------------------
@dataclass
class Seen:
    """Events and status reports as the hub's consumers receive them, with their arrival times."""

    events: list[tuple[float, fleet_pb2.Event]] = field(default_factory=list)
    by_resource: dict[str, list[tuple[float, fleet_pb2.Event]]] = field(default_factory=dict)
    apps: dict[str, tuple[str, str]] = field(default_factory=dict)  # app -> (sync status, health), latest report
    first: dict[tuple[str, str], float] = field(default_factory=dict)  # (app, "Synced"/"Healthy") -> arrival
    reports: int = 0

    async def read_events(self, subscription: AsyncIterator) -> None:
        async for _cluster, event in subscription:
            now = time.time()
            self.events.append((now, event))
            if event.resource:
                self.by_resource.setdefault(event.resource, []).append((now, event))

    async def read_status(self, subscription: AsyncIterator) -> None:
        async for _cluster, report in subscription:
            now = time.time()
            self.reports += 1
            for app in report.applications:
                self.apps[app.name] = (app.sync_status, app.health)
                if app.sync_status == "Synced":
                    self.first.setdefault((app.name, "Synced"), now)
                    if app.health == "Healthy":
                        self.first.setdefault((app.name, "Healthy"), now)

    def event(self, kind: int, app: str, after: float = 0.0) -> tuple[float, fleet_pb2.Event] | None:
        return next(((t, e) for t, e in self.events if e.type == kind and e.application == app and t >= after), None)

    def of_resource(self, resource: str, kind: int, after: float) -> tuple[float, fleet_pb2.Event] | None:
        return next(((t, e) for t, e in self.by_resource.get(resource, []) if e.type == kind and t >= after), None)


# -- this process as a user of the cluster -------------------------------------------------------------------
def path_of(kind: str, ns: str) -> str:
    plural = {"ConfigMap": "configmaps", "Deployment": "deployments"}[kind]
    return f"/apis/apps/v1/namespaces/{ns}/{plural}" if kind == "Deployment" else f"/api/v1/namespaces/{ns}/{plural}"


def value_of(obj: dict) -> str:
    """The field the drift phase changes: a ConfigMap's MODEL, a Deployment's image."""
    if obj["kind"] == "ConfigMap":
        return (obj.get("data") or {}).get("MODEL", "")
    return obj["spec"]["template"]["spec"]["containers"][0]["image"]


class User:
    """Changes objects as `kubectl edit` / `kubectl set image` would, and watches them (raw HTTPS, kubesim's token)."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.token}"},
                                          connector=aiohttp.TCPConnector(ssl=sim.ssl),
                                          timeout=aiohttp.ClientTimeout(total=None, sock_read=None))
        self.history: dict[tuple[str, str], list[tuple[float, int, str]]] = {}  # (kind, name) -> (t, rv, value)
        self.watches: list[asyncio.Task[None]] = []

    async def watch(self, kind: str, ns: str, selector: str) -> None:
        """Start watching `kind` in `ns` from now on."""
        async with self.http.get(self.sim.url + path_of(kind, ns), params={"labelSelector": selector}) as resp:
            resp.raise_for_status()
            rv = (await resp.json())["metadata"]["resourceVersion"]
        ready = asyncio.Event()
        self.watches.append(asyncio.create_task(self._watch(kind, ns, selector, rv, ready)))
        await ready.wait()

    async def _watch(self, kind: str, ns: str, selector: str, rv: str, ready: asyncio.Event) -> None:
        params = {"watch": "true", "labelSelector": selector, "resourceVersion": rv, "timeoutSeconds": "86400"}
        async with self.http.get(self.sim.url + path_of(kind, ns), params=params) as resp:
            resp.raise_for_status()
            ready.set()
            while line := await resp.content.readline():
                now = time.time()
                event = json.loads(line)
                obj = event["object"]
                if event["type"] in ("ADDED", "MODIFIED"):
                    meta = obj["metadata"]
                    self.history.setdefault((kind, meta["name"]), []).append(
                        (now, int(meta["resourceVersion"]), value_of(obj)))

    async def patch(self, kind: str, ns: str, name: str, body: dict, content_type: str, manager: str
                    ) -> tuple[float, int]:
        """PATCH; returns (time the response arrived, the resourceVersion it made)."""
        async with self.http.patch(f"{self.sim.url}{path_of(kind, ns)}/{name}", params={"fieldManager": manager},
                                   data=json.dumps(body), headers={"Content-Type": content_type}) as resp:
            answer = await resp.json()
            accepted = time.time()
            if resp.status != 200:
                raise RuntimeError(f"PATCH {kind} {ns}/{name} failed: {resp.status} {answer}")
        return accepted, int(answer["metadata"]["resourceVersion"])

    def back_at(self, kind: str, name: str, after_rv: int, value: str) -> float | None:
        """When the watch first saw the object at `value` in a version newer than `after_rv`."""
        return next((t for t, rv, v in self.history.get((kind, name), []) if rv > after_rv and v == value), None)

    async def close(self) -> None:
        for task in self.watches:
            task.cancel()
        await asyncio.gather(*self.watches, return_exceptions=True)
        await self.http.close()


# -- the phases ------------------------------------------------------------------------------------------------
def sync_failure(seen: Seen, app: str, after: float) -> str | None:
    failed = seen.event(fleet_pb2.SYNC_FAILED, app, after)
    return failed[1].message if failed else None


async def wait_synced(seen: Seen, apps: list[str], after: float) -> None:
    """Until each app's SYNC_SUCCEEDED arrived (raising on a SYNC_FAILED)."""
    def done() -> bool:
        for app in apps:
            failure = sync_failure(seen, app, after)
            if failure:
                raise RuntimeError(f"the sync of {app} failed: {failure}")
        return all(seen.event(fleet_pb2.SYNC_SUCCEEDED, app, after) for app in apps)

    await until(done, SYNC_TIMEOUT, f"SYNC_SUCCEEDED of {', '.join(apps)}")


async def first_sync(hub: object, seen: Seen, agent: AgentProcess, sim: Sim, app: str, objects: list[dict]
                     ) -> dict:
    state = fleet_pb2.DesiredState(revision="r1", applications=[bundle(app, objects, "r1")])
    meter = CpuMeter(agent=agent.pid, sim=sim.proc.pid)
    pushed = time.time()
    await hub.push(CLUSTER, state)
    await wait_synced(seen, [app], pushed)
    succeeded_at, succeeded = seen.event(fleet_pb2.SYNC_SUCCEEDED, app, pushed)
    cpu = meter.read()
    started_at, _ = seen.event(fleet_pb2.SYNC_STARTED, app, pushed)
    await until(lambda: (app, "Healthy") in seen.first, SYNC_TIMEOUT, f"a status report of {app} Synced, Healthy")
    result = json.loads(succeeded.details_json)["result"]
    figures = {"objects": len(objects), "sync_s": succeeded_at - pushed, "started_s": started_at - pushed,
               "agent_sync_s": result["duration_ms"] / 1000, "synced_resources": len(result["resources"]),
               "status_synced_s": seen.first[(app, "Synced")] - pushed,
               "status_healthy_s": seen.first[(app, "Healthy")] - pushed,
               "cpu_agent": cpu["agent"], "cpu_sim": cpu["sim"], "rss": memory_of(agent.pid)["VmRSS"]}
    print(f"first sync of {len(objects)} objects: SYNC_SUCCEEDED after {figures['sync_s']:.2f} s (agent's own "
          f"duration {figures['agent_sync_s']:.2f} s), status Synced after {figures['status_synced_s']:.2f} s, "
          f"Synced+Healthy after {figures['status_healthy_s']:.2f} s; CPU agent {cpu['agent']:.0f} %, "
          f"kubesim {cpu['sim']:.0f} %", flush=True)
    return figures


def drift_targets(objects: list[dict], changes: int) -> list[dict]:
    """`changes` different objects, alternating ConfigMaps and Deployments."""
    maps = [o for o in objects if o["kind"] == "ConfigMap"]
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    if changes > 2 * min(len(maps), len(deployments)):
        raise SystemExit(f"--changes {changes}: the application has only {len(maps)} ConfigMaps and "
                         f"{len(deployments)} Deployments to change once each; lower --changes or raise --objects")
    return [(maps if i % 2 == 0 else deployments)[i // 2] for i in range(changes)]


async def drift(seen: Seen, user: User, agent: AgentProcess, sim: Sim, app: str, objects: list[dict],
                changes: int) -> dict:
    await user.watch("ConfigMap", app, f"{APP_LABEL}={app}")
    await user.watch("Deployment", app, f"{APP_LABEL}={app}")
    inf = float("inf")
    lat: dict[str, list[float]] = {"detected_agent": [], "detected_hub": [], "healed": [], "heal_reported": []}
    kinds: list[str] = []
    misses: list[str] = []
    first_event = len(seen.events)
    meter = CpuMeter(agent=agent.pid, sim=sim.proc.pid)
    for i, obj in enumerate(drift_targets(objects, changes)):
        kind, name = obj["kind"], obj["metadata"]["name"]
        resource = obj["metadata"]["annotations"][TRACKING_ANNOTATION]
        git_value = value_of(obj)
        sent = time.time()
        if kind == "ConfigMap":
            accepted, rv = await user.patch(kind, app, name, {"data": {"MODEL": f"edited-{i}"}},
                                            "application/merge-patch+json", "kubectl-edit")
        else:
            accepted, rv = await user.patch(
                kind, app, name, {"spec": {"template": {"spec": {"containers": [
                    {"name": "main", "image": f"registry.example/model-server:hotfix-{i}"}]}}}},
                "application/strategic-merge-patch+json", "kubectl-set")

        def outcome(kind: str = kind, name: str = name, rv: int = rv, value: str = git_value,
                    resource: str = resource, sent: float = sent) -> tuple:
            return (seen.of_resource(resource, fleet_pb2.DRIFT_DETECTED, sent), user.back_at(kind, name, rv, value),
                    seen.of_resource(resource, fleet_pb2.DRIFT_HEALED, sent))

        with contextlib.suppress(TimeoutError):
            await until(lambda: all(outcome()), PER_CHANGE_TIMEOUT, f"the heal of {kind} {name}", interval=0.01)
        detected, healed, reported = outcome()
        kinds.append(kind)
        if not all((detected, healed, reported)):
            misses.append(f"{kind} {name}: detected={bool(detected)} healed={bool(healed)} reported={bool(reported)}")
        lat["detected_agent"].append(detected[1].occurred_at_ms / 1000 - accepted if detected else inf)
        lat["detected_hub"].append(detected[0] - accepted if detected else inf)
        lat["healed"].append(healed - accepted if healed else inf)
        lat["heal_reported"].append(reported[0] - accepted if reported else inf)
    cpu = meter.read()
    events = [e for _, e in seen.events[first_event:]]
    figures: dict = {"changes": changes, "misses": misses, "cpu_agent": cpu["agent"], "cpu_sim": cpu["sim"],
                     "detected_events": sum(e.type == fleet_pb2.DRIFT_DETECTED for e in events),
                     "healed_events": sum(e.type == fleet_pb2.DRIFT_HEALED for e in events),
                     "healed_not_by_us": sum(e.type == fleet_pb2.DRIFT_HEALED and not json.loads(e.details_json).get(
                         "self_heal") for e in events)}
    for name, values in lat.items():
        figures[name] = (percentile(values, 0.5), percentile(values, 0.99), max(values))
        for kind in ("ConfigMap", "Deployment"):
            mine = [v for v, k in zip(values, kinds, strict=True) if k == kind]
            figures[f"{name}_{kind}"] = (percentile(mine, 0.5), percentile(mine, 0.99), max(mine, default=0.0))
    print(f"drift over {changes} changes (p50 / p99 / max ms): " + ", ".join(
        f"{name} {p50 * 1000:.0f} / {p99 * 1000:.0f} / {top * 1000:.0f}"
        for name, (p50, p99, top) in ((n, figures[n]) for n in lat)) + f"; {len(misses)} missed; CPU agent "
        f"{cpu['agent']:.0f} %, kubesim {cpu['sim']:.0f} %", flush=True)
    print(f"  {figures['detected_events']} DRIFT_DETECTED and {figures['healed_events']} DRIFT_HEALED events "
          f"({figures['healed_not_by_us']} of them not by self-heal) for {changes} changes", flush=True)
    for miss in misses[:5]:
        print(f"  missed: {miss}", flush=True)
    return figures


async def steady(hub: object, seen: Seen, agent: AgentProcess, sim: Sim, apps: dict[str, list[dict]],
                 settle: float, idle: float) -> dict:
    state = fleet_pb2.DesiredState(revision="r1", applications=[bundle(a, o, "r1") for a, o in apps.items()])
    new = list(apps)[1:]
    meter = CpuMeter(agent=agent.pid, sim=sim.proc.pid)
    pushed = time.time()
    await hub.push(CLUSTER, state)
    await wait_synced(seen, new, pushed)
    synced_s = max((seen.event(fleet_pb2.SYNC_SUCCEEDED, a, pushed)[0] - pushed for a in new), default=0.0)

    def all_healthy() -> bool:
        return all(seen.apps.get(a) == ("Synced", "Healthy") for a in apps)

    await until(all_healthy, SYNC_TIMEOUT, "every application Synced and Healthy")
    healthy_s = time.time() - pushed
    sync_cpu = meter.read()
    await asyncio.sleep(settle)  # let the cluster and the agent settle before the idle window
    reports_before = seen.reports
    events_before = len(seen.events)
    meter = CpuMeter(agent=agent.pid, sim=sim.proc.pid)
    await asyncio.sleep(idle)  # the idle window being measured
    cpu = meter.read()
    memory = memory_of(agent.pid)
    figures = {"objects": sum(len(o) for o in apps.values()), "apps": len(apps), "new_objects":
               sum(len(apps[a]) for a in new), "sync_s": synced_s, "healthy_s": healthy_s,
               "sync_cpu_agent": sync_cpu["agent"], "sync_cpu_sim": sync_cpu["sim"], "idle": idle, "settle": settle,
               "idle_cpu_agent": cpu["agent"], "idle_cpu_sim": cpu["sim"], "rss": memory["VmRSS"],
               "hwm": memory["VmHWM"], "idle_reports": seen.reports - reports_before,
               "idle_events": len(seen.events) - events_before, "still_healthy": all_healthy()}
    print(f"steady state, {figures['objects']} objects in {len(apps)} applications: the {len(new)} new ones synced "
          f"after {synced_s:.1f} s, all Synced+Healthy after {healthy_s:.1f} s; idle {idle:g} s: agent CPU "
          f"{cpu['agent']:.2f} %, RSS {memory['VmRSS']:.0f} MiB (peak {memory['VmHWM']:.0f} MiB), kubesim CPU "
          f"{cpu['sim']:.1f} %, {figures['idle_reports']} status reports and {figures['idle_events']} events "
          f"meanwhile", flush=True)
    return figures


async def run(args: argparse.Namespace) -> dict:
    figures: dict = {"load_before": load_average()}
    names = [f"bench-{chr(ord('a') + i)}" for i in range(max(1, args.total // args.objects))]
    apps = {name: app_objects(name, args.objects) for name in names}
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        workdir = Path(tmp)
        sim = await Sim.start(workdir, args.nodes, args.speed)
        handle = await start_hub("127.0.0.1:0", workdir / "hub", insecure=True)
        seen = Seen()
        subscriptions = [handle.hub.subscribe_events(), handle.hub.subscribe_status()]
        readers = [asyncio.create_task(seen.read_events(subscriptions[0])),
                   asyncio.create_task(seen.read_status(subscriptions[1]))]
        agent = await AgentProcess.start(workdir, handle.port, sim.kubeconfig, args.agent_args.split(),
                                         args.profile_agent)
        user = User(sim)
        try:
            await until(lambda: any(s.cluster == CLUSTER for s in handle.hub.registry()), 60, "the agent's session")
            await until(lambda: agent.log_has("event=cluster_connected"), 60, "the agent's connection to kubesim")
            figures["agent_start_rss"] = memory_of(agent.pid)["VmRSS"]
            first = names[0]
            figures["first"] = await first_sync(handle.hub, seen, agent, sim, first, apps[first])
            figures["drift"] = await drift(seen, user, agent, sim, first, apps[first], args.changes)
            figures["steady"] = await steady(handle.hub, seen, agent, sim, apps, args.settle, args.idle)
            if len(names) > 1:
                print(f"again with {args.total} managed objects:", flush=True)
                figures["drift_full"] = await drift(seen, user, agent, sim, names[1], apps[names[1]],
                                                    args.late_changes)
            figures["metrics"] = await agent.metrics(user.http)
            figures["agent_exit"] = agent.proc.returncode
        except BaseException:
            print(f"--- last lines of {agent.log_path}:", file=sys.stderr)
            print("\n".join(agent.log_path.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
            raise
        finally:
            await user.close()
            await agent.stop()
            for subscription in subscriptions:
                subscription.close()
            await asyncio.gather(*readers, return_exceptions=True)
            await handle.stop(0.5)
            await sim.stop()
    figures["load_after"] = load_average()
    for name, value in figures["metrics"].items():
        print(f"metric {name} {value:g}", flush=True)
    return figures


# -- the report ------------------------------------------------------------------------------------------------
def commit() -> str:
    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        return head + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def ok(good: bool) -> str:
    return "met" if good else "**missed**"


def ms(seconds: float) -> str:
    return "not seen" if seconds == float("inf") else f"{seconds * 1000:.0f} ms"


def format_report(f: dict, args: argparse.Namespace) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    first, drift_, steady_, metrics = f["first"], f["drift"], f["steady"], f["metrics"]
    lines = [f"## agent: {now}, commit {commit()}",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average "
             f"{f['load_before']} before, {f['load_after']} after. kubesim (`fleetline sim`, {args.nodes} nodes, "
             f"speed {args.speed:g}), the agent (`fleetline agent`, "
             f"{('flags ' + args.agent_args) if args.agent_args else 'default flags'}) and the "
             f"hub (in the bench process, insecure loopback, fsync on) as three processes. Objects per 10: 3 "
             f"ConfigMaps, 2 Secrets, 2 Services, 2 Deployments (1 replica), 1 ServiceAccount; one wave, "
             f"automated, prune, selfHeal, CreateNamespace=true.", "",
             "| measure | figure | target |", "|---|---|---|"]
    lines.append(f"| first sync, {first['objects']} objects: push() to SYNC_SUCCEEDED at the hub (SYNC_STARTED "
                 f"after {first['started_s']:.2f} s; agent's own sync duration {first['agent_sync_s']:.2f} s; CPU "
                 f"agent {first['cpu_agent']:.0f} %, kubesim {first['cpu_sim']:.0f} % of a core) | "
                 f"{first['sync_s']:.2f} s | <= 10 s ({ok(first['sync_s'] <= 10)}) |")
    lines.append(f"| first sync: push() to the first status report saying Synced (Synced and Healthy) | "
                 f"{first['status_synced_s']:.2f} s ({first['status_healthy_s']:.2f} s) | - |")
    n, misses = drift_["changes"], len(drift_["misses"])
    for key, label, target in (
            ("detected_hub", "drift detected: PATCH response to DRIFT_DETECTED at the hub", 0.5),
            ("detected_agent", "drift detected: PATCH response to the agent's DRIFT_DETECTED (occurred_at)", None),
            ("healed", "drift healed: PATCH response to the object back at Git's value (watch)", 0.5),
            ("heal_reported", "heal reported: PATCH response to DRIFT_HEALED at the hub", None)):
        p50, p99, top = drift_[key]
        goal = f"p99 <= 500 ms ({ok(p99 <= target)})" if target else "-"
        by_kind = "; ".join(f"{kind}s p50 {ms(drift_[f'{key}_{kind}'][0])}, p99 {ms(drift_[f'{key}_{kind}'][1])}"
                            for kind in ("ConfigMap", "Deployment"))
        lines.append(f"| {label}, {n} changes ({misses} missed), max {ms(top)} ({by_kind}) | p50 {ms(p50)}, "
                     f"p99 {ms(p99)} | {goal} |")
    lines.append(f"| drift events at the hub during the drift phase, {n} changes: DRIFT_DETECTED / DRIFT_HEALED (of "
                 f"which not by self-heal) | {drift_['detected_events']} / {drift_['healed_events']} "
                 f"({drift_['healed_not_by_us']}) | - (expected {n} / {n} (0)) |")
    lines.append(f"| CPU during the drift phase: agent / kubesim | {drift_['cpu_agent']:.0f} % / "
                 f"{drift_['cpu_sim']:.0f} % of a core | - |")
    lines.append(f"| {steady_['new_objects']} more objects ({steady_['apps'] - 1} applications) to SYNC_SUCCEEDED "
                 f"of all (every application Synced and Healthy; CPU agent {steady_['sync_cpu_agent']:.0f} %, "
                 f"kubesim {steady_['sync_cpu_sim']:.0f} %) | {steady_['sync_s']:.1f} s ({steady_['healthy_s']:.1f} "
                 f"s) | - |")
    lines.append(f"| agent resident memory, {steady_['objects']:,} managed objects, idle (VmRSS; peak VmHWM "
                 f"{steady_['hwm']:.0f} MiB; {f['agent_start_rss']:.0f} MiB at start, {first['rss']:.0f} MiB after "
                 f"the first sync) | {steady_['rss']:.0f} MiB ({steady_['rss'] * 2**20 / 1e6:.0f} MB) | <= 150 MB "
                 f"({ok(steady_['rss'] * 2**20 <= 150e6)}) |")
    lines.append(f"| agent CPU idle, {steady_['objects']:,} objects, over {steady_['idle']:g} s after "
                 f"{steady_['settle']:g} s settling ({steady_['idle_reports']} status reports, "
                 f"{steady_['idle_events']} events meanwhile; kubesim {steady_['idle_cpu_sim']:.1f} %) | "
                 f"{steady_['idle_cpu_agent']:.2f} % of a core | <= 2 % ({ok(steady_['idle_cpu_agent'] <= 2)}) |")
    late = f.get("drift_full")
    if late:
        for key, label in (("detected_hub", "drift detected (at the hub)"), ("healed", "drift healed (watch)")):
            p50, p99, top = late[key]
            lines.append(f"| {label} with {steady_['objects']:,} managed objects, {late['changes']} more changes "
                         f"({len(late['misses'])} missed), max {ms(top)} | p50 {ms(p50)}, p99 {ms(p99)} | p99 <= "
                         f"500 ms ({ok(p99 <= 0.5)}) |")
        lines.append(f"| ... drift events for those: DRIFT_DETECTED / DRIFT_HEALED (not by self-heal); CPU agent / "
                     f"kubesim | {late['detected_events']} / {late['healed_events']} ({late['healed_not_by_us']}); "
                     f"{late['cpu_agent']:.0f} % / {late['cpu_sim']:.0f} % | - |")
    shown = ", ".join(f"`{k}` {v:g}" for k, v in sorted(metrics.items()))
    lines.append(f"| agent metrics at the end | {shown} | - |")
    if drift_["misses"]:
        lines += ["", "Missed changes (first 5): " + "; ".join(drift_["misses"][:5])]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=500, help="objects per application (default 500)")
    parser.add_argument("--total", type=int, default=2000, help="managed objects in the steady state (default 2000)")
    parser.add_argument("--changes", type=int, default=200, help="manual changes in the drift phase (default 200)")
    parser.add_argument("--late-changes", type=int, default=50,
                        help="manual changes again once --total objects are managed (default 50)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle CPU window (default 30)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds between Healthy and the idle window")
    parser.add_argument("--nodes", type=int, default=6, help="kubesim nodes (110 pods each; default 6)")
    parser.add_argument("--speed", type=float, default=20.0, help="kubesim's simulated time factor (default 20)")
    parser.add_argument("--agent-args", default="", help="extra flags for `fleetline agent` (e.g. \"--qps 500\"; "
                        "named in the report)")
    parser.add_argument("--profile-agent", metavar="FILE", help="run the agent under cProfile into FILE, print its top")
    parser.add_argument("--quick", action="store_true", help="small sizes, not recorded (< 60 s)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.objects, args.total, args.changes, args.late_changes = 100, 200, 20, 10
        args.idle, args.settle, args.no_record = 5.0, 2.0, True
    if args.objects < 10 or args.total < args.objects or min(args.changes, args.late_changes) < 2:
        parser.error("--objects must be at least 10, --total at least --objects, --changes and --late-changes at "
                     "least 2")
    figures = asyncio.run(run(args))
    if args.profile_agent:
        out = io.StringIO()
        pstats.Stats(args.profile_agent, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    report = format_report(figures, args)
    print(report)
    if not args.no_record:
        append(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
