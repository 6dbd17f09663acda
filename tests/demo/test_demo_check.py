"""`fleetline demo --check` as CI runs it: a subprocess of the real command that starts kubesim, the hub and four
agents, and runs the tour (converge, drift and heal, commit, approve, roll out in order, roll back)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_demo_check_runs_the_tour_and_passes(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "fleetline.cli", "demo", "--check", "--workdir", str(workdir)],
                            cwd=ROOT, capture_output=True, text=True, timeout=220, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "fleetline demo --check: every step passed" in result.stdout, output
    for step in ("converge from Git", "drift with kubectl, self-heal", "commit a new model version",
                 "roll out across regions in the strategy's order: us-west-2 -> us-east-1 -> eu-west-1",
                 "rollback (git revert by the hub)", "fleetline status"):
        assert step in result.stdout, output
    log = subprocess.run(["git", "-C", str(workdir / "repo"), "log", "--format=%s"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert log[0].startswith("Roll back inference-server") and "fleetline demo --check" in log[1], log
    assert (workdir / "demo.json").stat().st_mode & 0o077 == 0  # it holds the admin token
