"""Store benchmarks: audit appends per second with the hash chain, `audit verify` of 1,000,000 entries, and a
region's compliance report over 100,000 events (issue 7).

Run with `.venv/bin/python bench/store.py [--quick]`. Prints the figures and appends them, with the date and the
commit, to bench/RESULTS.md (not with --quick or --no-record).

Everything runs on this machine's local disk, in a temporary data directory, with the real code paths:
1. appends through `AsyncStore` (one writer thread, batched transactions) on a fresh database with the default
   `synchronous=FULL` (every commit fsynced): a burst of `--appends` entries queued with `append_nowait` and
   awaited together; `--producers` coroutines each awaiting its own appends one after the other (the hub's
   sessions and API handlers), in total `--appends`; one producer awaiting each append (its own transaction and
   fsync: the latency bound, p50/p99 per append); and the concurrent producers again with `synchronous=NORMAL`
   (durable across a hub crash, not a power loss). Target: >= 5,000 appends/s. Entries are a realistic mix
   (sync results, drift with two field diffs, desired states of three applications, connects), 300-500 bytes
   of data each, redacted and hashed as in production;
2. `fleetline audit verify` of `--verify-entries` (1,000,000) entries, as a user runs it: a separate process
   (`python -c` registering `add_audit_parser`, as fleetline/cli.py does), read-only, wall time from start to
   exit, and its peak RSS (constant memory: the same figure for the smaller report database is printed
   beside it). The database is built beforehand by `SqliteStore.append_audit` in batches of 5,000
   (`synchronous=NORMAL`; its rate and the file size are printed too). Target: <= 30 s;
3. the compliance report of one region with `--region-events` (100,000) entries among three regions (300,000
   entries in the chain; 10 clusters per region, every change pushed, synced, some failing, drifting and
   healing, production changes approved, commits recorded per environment): `report()` in process (which
   verifies the whole chain in the same snapshot), then rendering JSON, CSV and HTML, and `fleetline audit
   report -o html --output FILE` as a process from start to exit.
Not measured: PostgreSQL (not implemented), concurrent readers while appending, the API's report endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.record import append, commit, ok  # noqa: E402
from hub.store import kinds  # noqa: E402
from hub.store.records import AuditDraft, ClusterRecord  # noqa: E402
from hub.store.report import report  # noqa: E402
from hub.store.report_csv import render_csv  # noqa: E402
from hub.store.report_html import render_html  # noqa: E402
from hub.store.runner import AsyncStore  # noqa: E402
from hub.store.sqlite import SqliteStore  # noqa: E402

# `fleetline audit ...` as fleetline/cli.py registers it; at the end it prints its own peak RSS (VmHWM, which
# exec resets, unlike the rusage of a forked child, which starts from this process's peak)
RUN_AUDIT = (
    "import argparse, sys\n"
    "from hub.store.cli import add_audit_parser\n"
    "parser = argparse.ArgumentParser(prog='fleetline')\n"
    "add_audit_parser(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "code = args.run(args)\n"
    "hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM')]\n"
    "sys.stderr.write('\\nBENCH ' + ''.join(hwm))\n"
    "sys.exit(code)\n"
)
REGIONS = ("eu", "us-east", "us-west")
START = datetime(2026, 3, 1, tzinfo=UTC)


# -- realistic entries ----------------------------------------------------------------------------------------
def mixed_draft(i: int, rng: random.Random) -> AuditDraft:
    """One of the kinds a hub writes most, with data shaped as in production."""
    region = REGIONS[i % 3]
    cluster = f"{region}-{i % 10}"
    revision = f"{rng.getrandbits(160):040x}"
    choice = i % 4
    if choice == 0:
        return AuditDraft(kinds.SYNC_RESULT, region=region, environment="prod", cluster=cluster,
                          application="inference-server", revision=revision, data={
                              "phase": "Succeeded", "message": "successfully synced 6 resources", "trigger":
                              "automated", "duration_ms": rng.randint(200, 4000), "generation": i, "warnings": [],
                              "resources": 6, "failed_resources": [], "started_at": "2026-03-01T09:00:00.000000Z",
                              "finished_at": "2026-03-01T09:00:01.000000Z"})
    if choice == 1:
        return AuditDraft(kinds.DRIFT_DETECTED, region=region, environment="prod", cluster=cluster,
                          application="inference-server", actor="kubectl-edit", revision=revision, data={
                              "object": "Deployment inference/inference-server", "missing": False,
                              "managers": ["kubectl-edit"], "self_heal": True, "resource":
                              "inference-server:apps/Deployment:inference/inference-server", "fields": [
                                  {"path": "/spec/replicas", "desired": 2, "live": rng.randint(3, 9),
                                   "manager": "kubectl-edit"},
                                  {"path": '/spec/template/spec/containers[name="main"]/image',
                                   "desired": "registry.example.com/ml/inference:1.4.2",
                                   "live": "registry.example.com/ml/inference:1.4.3-debug",
                                   "manager": "kubectl-edit"}]})
    if choice == 2:
        return AuditDraft(kinds.DESIRED_STATE_PUSHED, region=region, environment="prod", cluster=cluster,
                          revision=revision, data={
                              "generation": i, "content_hash": f"sha256:{rng.getrandbits(256):064x}",
                              "applications": [{"name": name, "revision": revision,
                                                "content_hash": f"sha256:{rng.getrandbits(256):064x}"}
                                               for name in ("inference-server", "model-registry", "training")]})
    return AuditDraft(kinds.AGENT_CONNECTED, region=region, cluster=cluster, data={
        "peer": f"ipv4:10.0.{i % 250}.{i % 200}:{40000 + i % 20000}", "agent_version": "0.1.0",
        "protocol": "1.1"})


def data_bytes(drafts: list[AuditDraft]) -> float:
    return statistics.mean(len(json.dumps(d.data, separators=(",", ":"))) for d in drafts)


# -- 1. appends -----------------------------------------------------------------------------------------------
async def appends(directory: Path, count: int, producers: int, synchronous: str, rng: random.Random) -> dict:
    runner = await AsyncStore.open(directory, synchronous=synchronous)
    drafts = [mixed_draft(i, rng) for i in range(count)]
    figures: dict = {"data_bytes": data_bytes(drafts)}
    batches: list[int] = []
    original = runner.store.append_audit

    def counted(batch: list[AuditDraft]) -> list:
        batches.append(len(batch))
        return original(batch)

    runner.store.append_audit = counted  # type: ignore[method-assign]
    if synchronous == "FULL":
        started = time.perf_counter()
        await asyncio.gather(*(runner.append_nowait(d) for d in drafts))
        figures["burst_s"] = time.perf_counter() - started
        figures["burst_batches"] = len(batches)
        batches.clear()

    queue = list(drafts)

    async def producer() -> None:
        while queue:
            await runner.append(queue.pop())

    started = time.perf_counter()
    await asyncio.gather(*(producer() for _ in range(producers)))
    figures["producers_s"] = time.perf_counter() - started
    figures["producers_batches"] = len(batches)
    figures["producers_mean_batch"] = statistics.mean(batches) if batches else 0
    if synchronous == "FULL":
        latencies = []
        for draft in drafts[:min(500, count)]:
            started = time.perf_counter()
            await runner.append(draft)
            latencies.append(time.perf_counter() - started)
        figures["single_rate"] = len(latencies) / sum(latencies)
        figures["single_p50_ms"] = statistics.median(latencies) * 1000
        figures["single_p99_ms"] = sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000
    entries = await runner.read(lambda s: sum(1 for _ in s.audit_entries()))
    figures["entries"] = entries
    await runner.close()
    return figures


# -- 2. verify ------------------------------------------------------------------------------------------------
def build_chain(directory: Path, count: int, rng: random.Random) -> dict:
    store = SqliteStore.open(directory, synchronous="NORMAL")
    step = 5000
    started = time.perf_counter()
    for start in range(0, count, step):
        store.append_audit([mixed_draft(i, rng) for i in range(start, min(count, start + step))])
    elapsed = time.perf_counter() - started
    store.close()
    checkpoint(directory)
    size = sum(p.stat().st_size for p in directory.glob("fleetline.db*"))
    return {"build_s": elapsed, "build_rate": count / elapsed, "mib": size / 2**20}


def checkpoint(directory: Path) -> None:
    with sqlite3.connect(directory / "fleetline.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run_cli_measured(*argv: str) -> dict:
    """Run `fleetline audit ...` as a process: wall time from start to exit, exit code, stderr's end, and its peak
    RSS (VmHWM, MiB)."""
    started = time.perf_counter()
    process = subprocess.run([sys.executable, "-c", RUN_AUDIT, "audit", *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - started
    hwm = [line.split()[-2] for line in process.stderr.splitlines() if line.startswith("BENCH VmHWM")]
    return {"s": elapsed, "code": process.returncode, "err": process.stderr[-400:],
            "rss_mib": int(hwm[0]) / 1024 if hwm else float("nan")}


# -- 3. report ------------------------------------------------------------------------------------------------
def build_regions(directory: Path, per_region: int, rng: random.Random) -> dict:
    """Three regions of `per_region` entries each, interleaved over three months, plus the commits (no region)."""
    store = SqliteStore.open(directory, synchronous="NORMAL")
    for region in REGIONS:
        for n in range(10):
            store.upsert_cluster(ClusterRecord(f"{region}-{n}", region, "prod" if n < 5 else "staging"))
    counts = dict.fromkeys(REGIONS, 0)
    span = timedelta(days=90).total_seconds()
    batch: list[AuditDraft] = []
    written = 0
    cycle = 0
    while min(counts.values()) < per_region:
        cycle += 1
        commit = f"{rng.getrandbits(160):040x}"
        moment = START + timedelta(seconds=span * min(counts.values()) / per_region)
        for env in ("prod", "staging"):
            batch.append(kinds.revision_seen(env, commit, author=f"dev{cycle % 17} <dev@example.com>",
                                             committer="ci <ci@example.com>", signature_state="trusted",
                                             subject=f"change {cycle}", at=moment))
        for region in REGIONS:
            if counts[region] >= per_region:
                continue
            batch.append(kinds.approval("prod", "inference-server", commit, f"approver{cycle % 5}", required=1,
                                        approvals=1, region=region, at=moment))
            counts[region] += 1
            for n in range(10):
                cluster = f"{region}-{n}"
                env = "prod" if n < 5 else "staging"
                at = moment + timedelta(seconds=n)
                batch.append(kinds.desired_state_pushed(cluster, region=region, environment=env, revision=commit,
                                                        generation=cycle, content_hash="sha256:" + "1" * 64,
                                                        applications=[{"name": "inference-server",
                                                                       "revision": commit}], at=at))
                phase = "Failed" if rng.random() < 0.05 else "Succeeded"
                batch.append(AuditDraft(kinds.SYNC_RESULT, region=region, environment=env, cluster=cluster,
                                        application="inference-server", revision=commit,
                                        at=at + timedelta(seconds=2), data={"phase": phase, "message": "synced",
                                                                            "generation": cycle}))
                counts[region] += 2
                if rng.random() < 0.2:
                    batch.append(AuditDraft(
                        kinds.DRIFT_DETECTED, region=region, environment=env, cluster=cluster,
                        application="inference-server", actor="kubectl-edit", at=at + timedelta(seconds=30), data={
                            "object": "Deployment inference/inference-server", "managers": ["kubectl-edit"],
                            "fields": [{"path": "/spec/replicas", "desired": 2, "live": 5,
                                        "manager": "kubectl-edit"}]}))
                    batch.append(AuditDraft(kinds.DRIFT_HEALED, region=region, environment=env, cluster=cluster,
                                            application="inference-server", actor="fleetline",
                                            at=at + timedelta(seconds=31), data={
                                                "object": "Deployment inference/inference-server",
                                                "healed_after_ms": rng.randint(50, 2000), "self_heal": True}))
                    counts[region] += 2
        if len(batch) >= 5000:
            store.append_audit(batch)
            written += len(batch)
            batch = []
    store.append_audit(batch)
    written += len(batch)
    store.close()
    checkpoint(directory)
    return {"entries": written, "counts": counts}


def report_figures(directory: Path) -> dict:
    store = SqliteStore.open(directory, readonly=True)
    started = time.perf_counter()
    result = report(store, "eu", START, START + timedelta(days=92))
    figures = {"report_s": time.perf_counter() - started, "region_entries": result.entries,
               "ok": result.verification.ok, "chain": result.verification.entries,
               "changes": len(result.changes), "drift": len(result.drift), "failures": len(result.sync_failures)}
    for name, render in (("json", lambda r: json.dumps(r.to_dict())), ("csv", render_csv), ("html", render_html)):
        started = time.perf_counter()
        text = render(result)
        figures[f"{name}_s"] = time.perf_counter() - started
        figures[f"{name}_mib"] = len(text.encode()) / 2**20
    store.close()
    return figures


# -- the record -----------------------------------------------------------------------------------------------


def format_report(f: dict, args: argparse.Namespace) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    a, n = f["appends"], f["appends_normal"]
    burst_rate = args.appends / a["burst_s"]
    producers_rate = args.appends / a["producers_s"]
    normal_rate = args.appends / n["producers_s"]
    v, b = f["verify"], f["chain"]
    r, rc, cli = f["report"], f["regions"], f["report_cli"]
    lines = [
        f"## store: {now}, commit {commit()}",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"load average {f['load_before']} before, {' '.join(f'{x:.2f}' for x in os.getloadavg())} after. One "
        "process; the database in a temporary directory on the local disk (WAL).",
        "", "| measure | figure | target |", "|---|---|---|",
        f"| audit appends, burst: {args.appends:,} `append_nowait` awaited together, synchronous=FULL "
        f"({a['burst_batches']} transactions; data {a['data_bytes']:.0f} bytes per entry) | {burst_rate:,.0f} /s | "
        f">= 5,000 /s ({ok(burst_rate >= 5000)}) |",
        f"| audit appends, {args.producers} producers each awaiting its appends, {args.appends:,} in all, "
        f"synchronous=FULL ({a['producers_batches']:,} transactions, mean batch {a['producers_mean_batch']:.1f}) | "
        f"{producers_rate:,.0f} /s | >= 5,000 /s ({ok(producers_rate >= 5000)}) |",
        f"| ... the same, synchronous=NORMAL ({n['producers_batches']:,} transactions, mean batch "
        f"{n['producers_mean_batch']:.1f}) | {normal_rate:,.0f} /s | - |",
        f"| audit appends, one producer awaiting each (its own transaction and fsync), 500 | {a['single_rate']:,.0f} "
        f"/s (p50 {a['single_p50_ms']:.2f} ms, p99 {a['single_p99_ms']:.2f} ms per append) | - |",
        f"| building the verify database: `SqliteStore.append_audit`, batches of 5,000, synchronous=NORMAL "
        f"({args.verify_entries:,} entries, {b['mib']:,.0f} MiB) | {b['build_rate']:,.0f} /s ({b['build_s']:.1f} s) "
        "| - |",
        f"| `fleetline audit verify`, {args.verify_entries:,} entries, as a process (exit {v['code']}; peak RSS "
        f"{v['rss_mib']:.0f} MiB, {f['verify_small']['rss_mib']:.0f} MiB for {rc['entries']:,} entries) | "
        f"{v['s']:.1f} s | <= 30 s ({ok(v['s'] <= 30 and v['code'] == 0)}) |",
        f"| report of region eu, {r['region_entries']:,} entries (chain {r['chain']:,} entries, all verified; "
        f"{r['changes']:,} changes, {r['drift']:,} drift incidents, {r['failures']:,} sync failures): `report()` "
        f"| {r['report_s']:.1f} s | - |",
        f"| ... rendered: JSON {r['json_s']:.2f} s ({r['json_mib']:.0f} MiB), CSV {r['csv_s']:.2f} s "
        f"({r['csv_mib']:.0f} MiB), HTML {r['html_s']:.2f} s ({r['html_mib']:.0f} MiB) | - | - |",
        f"| `fleetline audit report --region eu -o html --output FILE` as a process (exit {cli['code']}; peak RSS "
        f"{cli['rss_mib']:.0f} MiB) | {cli['s']:.1f} s | - |",
    ]
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> dict:
    rng = random.Random(7)
    figures: dict = {"load_before": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="fleetline-bench-store-") as tmp:
        base = Path(tmp)
        print(f"appends: {args.appends:,} ...", flush=True)
        figures["appends"] = await appends(base / "appends-full", args.appends, args.producers, "FULL", rng)
        figures["appends_normal"] = await appends(base / "appends-normal", args.appends, args.producers, "NORMAL",
                                                  rng)
        print(f"report database: 3 x {args.region_events:,} entries ...", flush=True)
        regions = base / "regions"
        figures["regions"] = build_regions(regions, args.region_events, rng)
        figures["report"] = report_figures(regions)
        figures["report_cli"] = run_cli_measured("report", "--data-dir", str(regions), "--region", "eu", "--since",
                                                 "2026-03-01", "-o", "html", "--output", str(base / "eu.html"))
        figures["verify_small"] = run_cli_measured("verify", "--data-dir", str(regions))
        print(f"verify database: {args.verify_entries:,} entries ...", flush=True)
        chain = base / "chain"
        figures["chain"] = build_chain(chain, args.verify_entries, rng)
        figures["verify"] = run_cli_measured("verify", "--data-dir", str(chain))
        if figures["verify"]["code"] != 0:
            print("verify failed:", figures["verify"]["err"], file=sys.stderr)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=20000, help="entries per append phase (default 20,000)")
    parser.add_argument("--producers", type=int, default=100, help="concurrent producers (default 100)")
    parser.add_argument("--verify-entries", type=int, default=1_000_000, help="entries to verify (default 1,000,000)")
    parser.add_argument("--region-events", type=int, default=100_000,
                        help="entries of the reported region (and of each other region; default 100,000)")
    parser.add_argument("--quick", action="store_true", help="small sizes, not recorded (< 30 s)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.appends, args.verify_entries, args.region_events, args.no_record = 2000, 20000, 5000, True
    figures = asyncio.run(run(args))
    text = format_report(figures, args)
    print(text)
    if not args.no_record:
        append(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
