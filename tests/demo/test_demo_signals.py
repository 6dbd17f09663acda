"""`fleetline demo` stops everything it started on SIGINT (Ctrl-C) and SIGTERM: no process is left behind. SIGINT
comes once the tour is printed (a newcomer pressing Ctrl-C), SIGTERM while the fleet is still converging."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace") \
                        and _alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")
@pytest.mark.parametrize(("signum", "after_tour"), [(signal.SIGINT, True), (signal.SIGTERM, False)],
                         ids=["SIGINT-after-the-tour", "SIGTERM-while-converging"])
def test_a_signal_stops_every_process_of_the_demo(tmp_path: Path, signum: signal.Signals, after_tour: bool) -> None:
    workdir = tmp_path / "demo"
    out = tmp_path / "demo.out"
    with out.open("w") as sink:
        demo = subprocess.Popen([sys.executable, "-m", "fleetline.cli", "demo", "--workdir", str(workdir)],
                                cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 50
        while not (workdir / "demo.json").exists() or (after_tour and "Press Ctrl-C" not in out.read_text()):
            assert demo.poll() is None, out.read_text()
            assert time.monotonic() < deadline, f"the demo did not get there within 50 s:\n{out.read_text()}"
            time.sleep(0.1)
        pids = json.loads((workdir / "demo.json").read_text())["pids"]
        assert set(pids) == {"kubesim", "hub", "agent-staging-1", "agent-us-east-1", "agent-us-west-2",
                             "agent-eu-west-1"}
        assert all(_alive(pid) for pid in pids.values()), pids
        assert set(pids.values()) <= set(_processes_mentioning(str(workdir)))
        demo.send_signal(signum)
        demo.wait(timeout=40)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    output = out.read_text()
    assert demo.returncode == 0, output
    assert "stopped" in output, output
    left = [name for name, pid in pids.items() if _alive(pid)] + [str(p) for p in _processes_mentioning(str(workdir))]
    assert not left, f"still running after the demo exited: {left}\n{output}"
