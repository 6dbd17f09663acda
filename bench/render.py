"""Rendering benchmark: a generated fleet of 1,000 clusters x 10 applications, in-process vs `kubectl kustomize`.

Run with `make bench` (or `.venv/bin/python bench/render.py [--clusters N] [--apps M] [--sample K]`). Prints the
figures and appends them, with the date and the commit, to bench/RESULTS.md. Measured in one run (issue 3):
(a) full render of every (cluster, application) pair in-process, from a Git commit, through the hub's
    FleetRenderer (build memo, desired-state stamping, policies, hashes), in a fresh child process;
(b) `kubectl kustomize` spawned once per pair, as Argo CD's repo-server does: a random sample of pairs timed
    one after another and scaled to all pairs;
(c) incremental re-render after a commit that changes one region overlay of one application;
(d) peak memory (max RSS) of the child process that did (a);
and one overlay rendered cold (a fresh renderer with an empty memo, in-process; and `fleetline render DIR`
as a whole new process) against one `kubectl kustomize` call.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fleetgen import region_kustomization, write_fleet  # noqa: E402
from bench.record import append  # noqa: E402

CHANGED_APP, CHANGED_REGION = "app-03", "eu"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.email=bench@fleetline.io", "-c",
                           "user.name=bench", *args], check=True, capture_output=True, text=True).stdout.strip()


def make_repository(root: Path, clusters: int, apps: int) -> tuple[list[tuple[str, str, str]], str, str]:
    """The generated fleet committed, then a second commit changing one region overlay of one app."""
    pairs = write_fleet(root, clusters, apps)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "generated fleet")
    first = git(root, "rev-parse", "HEAD")
    overlay = root / "apps" / CHANGED_APP / "regions" / CHANGED_REGION / "kustomization.yaml"
    overlay.write_text(region_kustomization(CHANGED_APP, CHANGED_REGION, "1.5.0"))
    git(root, "commit", "-qam", f"{CHANGED_APP}: {CHANGED_REGION} to 1.5.0")
    second = git(root, "rev-parse", "HEAD")
    return pairs, first, second


def child_full_and_incremental(repo: str, first: str, second: str) -> dict:
    """(a), (c) and (d), run in a fresh process so that its peak RSS is the render's."""
    from hub.plan.fleetrender import FleetRenderer

    renderer = FleetRenderer(repo)
    start = time.perf_counter()
    state = renderer.render(first)
    full = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    failed = [str(p) for p, s in state.states.items() if not s.ok]
    start = time.perf_counter()
    _, rerendered = renderer.advance(second)
    incremental = time.perf_counter() - start
    objects = sum(len(s.objects) for s in state.states.values())
    return {"pairs": len(state.states), "objects": objects, "full_s": full, "peak_rss": peak, "failed": failed,
            "incremental_s": incremental, "rerendered": len(rerendered),
            "memo_hits": renderer.renderer.memo.hits, "memo_misses": renderer.renderer.memo.misses}


def child_cold_overlay(repo: str, directory: str) -> dict:
    """One overlay rendered with an empty memo in a process that has imported the renderer."""
    from hub.render.build import Builder
    from hub.render.emit import to_yaml
    from hub.render.files import DirectoryFiles

    start = time.perf_counter()
    resources = Builder(DirectoryFiles(repo)).build(directory)
    to_yaml(res.obj for res in resources)
    return {"cold_overlay_s": time.perf_counter() - start, "objects": len(resources)}


def run_child(function: str, *args: str) -> dict:
    code = f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.render import {function}; " \
           f"print(json.dumps({function}(*sys.argv[1:])))"
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_kubectl(repo: Path, directories: list[str]) -> list[float]:
    times = []
    for directory in directories:
        start = time.perf_counter()
        subprocess.run(["kubectl", "kustomize", str(repo / directory)], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--apps", type=int, default=10)
    parser.add_argument("--sample", type=int, default=100, help="pairs timed with kubectl kustomize")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if shutil.which("kubectl") is None:
        print("kubectl is not on PATH: the comparison with kubectl kustomize cannot run", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="fleetline-render-bench-") as tmp:
        repo = Path(tmp) / "fleet"
        start = time.perf_counter()
        pairs, first, second = make_repository(repo, args.clusters, args.apps)
        print(f"generated {len(pairs)} pairs in {time.perf_counter() - start:.1f} s", flush=True)

        full = run_child("child_full_and_incremental", str(repo), first, second)
        print(f"(a) full render: {full['full_s']:.1f} s for {full['pairs']} pairs ({full['objects']} objects)",
              flush=True)

        git(repo, "checkout", "-q", first)
        sample = random.Random(3).sample(pairs, min(args.sample, len(pairs)))
        kubectl_times = time_kubectl(repo, [f"apps/{app}/clusters/{cluster}" for cluster, _, app in sample])
        per_pair = statistics.mean(kubectl_times)
        kubectl_total = per_pair * len(pairs)
        print(f"(b) kubectl kustomize: {per_pair * 1000:.0f} ms per pair -> {kubectl_total:.0f} s for all", flush=True)

        cluster, _, app = sample[0]
        overlay = f"apps/{app}/clusters/{cluster}"
        cold = [run_child("child_cold_overlay", str(repo), overlay)["cold_overlay_s"] for _ in range(5)]
        process = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "fleetline.cli", "render", str(repo / overlay)], check=True,
                           capture_output=True, cwd=ROOT)
            process.append(time.perf_counter() - start)
        one_kubectl = statistics.median(time_kubectl(repo, [overlay] * 5))

    figures = {
        "pairs": full["pairs"], "objects": full["objects"], "full_s": full["full_s"],
        "per_pair_ms": full["full_s"] / full["pairs"] * 1000, "kubectl_per_pair_ms": per_pair * 1000,
        "kubectl_total_s": kubectl_total, "speedup": kubectl_total / full["full_s"],
        "incremental_s": full["incremental_s"], "rerendered": full["rerendered"],
        "peak_rss_mib": full["peak_rss"] / 2**20, "cold_overlay_ms": statistics.median(cold) * 1000,
        "cold_process_ms": statistics.median(process) * 1000, "one_kubectl_ms": one_kubectl * 1000,
        "memo_hits": full["memo_hits"], "memo_misses": full["memo_misses"], "failed": len(full["failed"]),
        "sample": len(sample),
    }
    report = format_report(figures, args)
    print(report)
    if full["failed"]:
        print(f"{len(full['failed'])} pairs failed to render, e.g. {full['failed'][:3]}", file=sys.stderr)
        return 1
    if not args.no_record:
        append(report)
    return 0


def format_report(f: dict, args: argparse.Namespace) -> str:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""## render: {now}, commit {commit}
Machine: 2 cores, Python {sys.version.split()[0]}; kubectl kustomize v5.5.0. Fleet: {args.clusters} clusters in 3 \
regions x {args.apps} applications = {f['pairs']:,} pairs, {f['objects']:,} objects (base + region + cluster \
overlays, ~20 objects per application).

| measure | figure | target |
|---|---|---|
| (a) full render of all pairs in-process (from a Git commit, desired state stamped, policies, hashes) | \
{f['full_s']:.1f} s ({f['per_pair_ms']:.2f} ms per pair) | >= 10x faster than (b) |
| (b) `kubectl kustomize` per pair ({f['sample']} sampled pairs, sequential, scaled) | \
{f['kubectl_per_pair_ms']:.0f} ms per pair -> {f['kubectl_total_s']:,.0f} s | - |
| speed-up (b) / (a) | {f['speedup']:.1f}x | >= 10x |
| (c) incremental re-render after a commit to one region overlay ({CHANGED_APP}, {CHANGED_REGION}) | \
{f['incremental_s'] * 1000:.0f} ms, {f['rerendered']} pairs re-rendered | < 1 s |
| (d) peak memory (max RSS) of the process doing (a) | {f['peak_rss_mib']:.0f} MiB | - |
| one overlay cold, in-process, empty memo | {f['cold_overlay_ms']:.1f} ms | within 2x of one kubectl call |
| one overlay cold, `fleetline render DIR` as a new process | {f['cold_process_ms']:.0f} ms | - |
| one `kubectl kustomize` call on the same overlay | {f['one_kubectl_ms']:.0f} ms | - |

Memo during (a): {f['memo_hits']:,} hits, {f['memo_misses']:,} misses (each base and region overlay built once \
per distinct input, each cluster overlay once).
"""


if __name__ == "__main__":
    sys.exit(main())
