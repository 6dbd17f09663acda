"""A newcomer's first minutes: `make demo` from a fresh clone until the fleet is Synced and Healthy (issue 9).

Copies this checkout's files (`git ls-files -co --exclude-standard`: tracked and new files, so uncommitted work
is measured too; no `.venv`, no `.demo`) into a temporary directory and runs `make demo` there as a newcomer
would: the virtual environment is created and every package is downloaded from PyPI (pip with an empty cache and
no local wheel stores: PIP_CONFIG_FILE=/dev/null, PIP_FIND_LINKS unset; `--warm` keeps this machine's pip
configuration and cache instead). It timestamps make's output as it comes:

- install: from `make demo` until make starts `fleetline demo` (venv created, Fleetline and its dependencies in);
- start: until the demo has started the clusters, the hub and the agents ("one agent per cluster started");
- converge: until it prints "everything is Synced and Healthy" (the demo approves production's first revision).

Then it presses Ctrl-C (SIGINT to make's process group, as a terminal does), waits for everything to stop, prints
the figures and appends them to bench/RESULTS.md (not with --no-record). Target: under 2 minutes in all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.record import append, commit, ok  # noqa: E402

TARGET_S = 120.0
MAKE_DEMO_STARTS = "fleetline demo --workdir .demo"  # the line make echoes when the install is done
STARTED = "one agent per cluster started"
CONVERGED = "everything is Synced and Healthy"


@dataclass
class Timeline:
    """When each milestone line appeared (seconds after `make demo` started), and every line seen."""

    install: float | None = None
    started: float | None = None
    converged: float | None = None
    stopped: float | None = None
    exit_code: int | None = None
    lines: list[tuple[float, str]] = field(default_factory=list)

    def see(self, at: float, line: str) -> None:
        self.lines.append((at, line))
        if self.install is None and MAKE_DEMO_STARTS in line:
            self.install = at
        elif self.started is None and STARTED in line:
            self.started = at
        elif self.converged is None and CONVERGED in line:
            self.converged = at


def copy_checkout(target: Path) -> int:
    """Copy the checkout's tracked and untracked-but-not-ignored files to `target`; the number of files."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    count = 0
    for name in filter(None, listed):
        source = ROOT / name
        if not source.is_file() or name.startswith((".venv/", ".demo/")):
            continue  # deleted in the work tree, or state
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        count += 1
    return count


def newcomer_env(scratch: Path, warm: bool) -> dict[str, str]:
    """The environment `make demo` runs in: no active venv; pip from PyPI only with an empty cache (unless warm)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MAKELEVEL")}
    venv_bin = str(Path(sys.prefix) / "bin")
    if sys.prefix != sys.base_prefix:  # `make bench` runs this with .venv's python: keep its bin off PATH
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    if not warm:
        env.pop("PIP_FIND_LINKS", None)
        env.pop("PIP_EXTRA_INDEX_URL", None)
        env["PIP_CONFIG_FILE"] = os.devnull
        env["PIP_CACHE_DIR"] = str(scratch / "pip-cache")
    return env


def _pump(stream, lines: queue.Queue, started: float) -> None:
    for line in stream:
        lines.put((time.monotonic() - started, line.rstrip("\n")))
    lines.put(None)


def run_make_demo(checkout: Path, env: dict[str, str], timeout: float, echo: bool) -> Timeline:
    """`make demo` in `checkout` until converged (or failed, or `timeout`), then Ctrl-C and wait for the exit."""
    timeline = Timeline()
    started = time.monotonic()
    make = subprocess.Popen(["make", "demo"], cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(make.stdout, lines, started), daemon=True).start()
    try:
        while timeline.converged is None and time.monotonic() - started < timeout:
            try:
                item = lines.get(timeout=1.0)
            except queue.Empty:
                continue
            if item is None:
                break  # make exited before the fleet converged
            timeline.see(*item)
            if echo:
                print(f"[{item[0]:6.1f}s] {item[1]}", flush=True)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
            try:
                make.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(make.pid, signal.SIGKILL)
                make.wait()
        timeline.stopped = time.monotonic() - started
        timeline.exit_code = make.returncode
        with contextlib.suppress(queue.Empty):  # the demo's last words ("stopped"), once make has exited
            while (item := lines.get(timeout=10)) is not None:
                timeline.see(*item)
                if echo:
                    print(f"[{item[0]:6.1f}s] {item[1]}", flush=True)
    return timeline


def dirty() -> bool:
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                            text=True, check=False).stdout
    return bool(status.strip())


def report(timeline: Timeline, *, warm: bool, files: int, venv_mb: float, load_before: tuple,
           load_after: tuple) -> str:
    total = timeline.converged
    install = timeline.install
    start = timeline.started - install if timeline.started is not None and install is not None else None
    converge = total - timeline.started if total is not None and timeline.started is not None else None

    def s(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    pip = ("this machine's pip configuration and cache (--warm)" if warm else
           "pip with an empty cache and no local wheel stores: every package downloaded from PyPI")
    verdict = ok(total is not None and total < TARGET_S)
    code = timeline.exit_code
    exit_text = f"make ended by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit {code}"
    said_stopped = any(line.strip() == "stopped" for _, line in timeline.lines)
    revision = commit() + (" + uncommitted changes" if dirty() else "")
    return (f"\n## demo: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {revision}\n"
            f"Machine: {os.cpu_count()} cores (shared), Python {platform.python_version()}, load average "
            f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} before, "
            f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after. `make demo` in a copy of the "
            f"checkout ({files} files, no .venv), {pip}. See bench/demo.py.\n\n"
            "| measure | figure | target |\n|---|---|---|\n"
            f"| `make demo` -> \"{CONVERGED}\" | {s(total)} (install {s(install)}, start {s(start)}, converge "
            f"{s(converge)}) | < {TARGET_S:.0f} s ({verdict}) |\n"
            f"| Ctrl-C -> make exited | {s(timeline.stopped - total if total is not None else None)} ({exit_text}; "
            f"the demo {'said' if said_stopped else '**did not say**'} \"stopped\"); installed .venv {venv_mb:.0f} MB "
            "| |\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", action="store_true", help="keep this machine's pip configuration and cache")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    parser.add_argument("--quiet", action="store_true", help="do not echo make's output")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    try:
        checkout = scratch / "fleetline"
        files = copy_checkout(checkout)
        load_before = os.getloadavg()
        timeline = run_make_demo(checkout, newcomer_env(scratch, args.warm), args.timeout, not args.quiet)
        load_after = os.getloadavg()
        venv_mb = sum(f.stat().st_size for f in (checkout / ".venv").rglob("*") if f.is_file()) / 1e6
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    text = report(timeline, warm=args.warm, files=files, venv_mb=venv_mb, load_before=load_before,
                  load_after=load_after)
    print(text)
    if timeline.converged is None:
        print("the demo did not converge; make's last lines:\n" + "\n".join(line for _, line in timeline.lines[-30:]),
              file=sys.stderr)
    if not args.no_record:
        append(text)
    return 0 if timeline.converged is not None else 1


if __name__ == "__main__":
    sys.exit(main())
