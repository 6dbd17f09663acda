"""Running Prometheus' `promtool` on metrics and rules (tests skip with a reason when it is not installed: it comes
with the Debian package `prometheus`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

PROMTOOL = shutil.which("promtool")
requires_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not on PATH (install the Debian package: apt-get install -y prometheus)")


def check_metrics(*registries: CollectorRegistry) -> str:
    """`promtool check metrics` on the registries' exposition texts one after the other (as the API's `/metrics`
    serves several): its findings ("" when it has none). promtool exits 0 when the text parses and has no lint
    problems, 3 when it prints lint problems, 1 when it cannot parse the text."""
    assert PROMTOOL is not None
    text = b"".join(generate_latest(registry) for registry in registries)
    done = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, timeout=30)
    findings = (done.stdout + done.stderr).decode().strip()
    assert done.returncode in (0, 3), f"promtool could not read the exposition text: {findings}\n{text.decode()}"
    return findings


def run(*args: str | Path, cwd: Path) -> tuple[int, str]:
    """promtool with `args` in `cwd`: its exit code and output."""
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, *map(str, args)], cwd=cwd, capture_output=True, timeout=60)
    return done.returncode, (done.stdout + done.stderr).decode()
