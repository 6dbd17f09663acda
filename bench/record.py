"""What every benchmark writes beside its figures in bench/RESULTS.md: the commit measured and a verdict, and
the appending of its section to the file."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    """The short commit of the checkout measured ("unknown" outside a Git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def ok(good: bool) -> str:
    """A target's verdict as the results tables write it."""
    return "met" if good else "**missed**"


def append(section: str) -> None:
    """Append `section` (a heading, a table, notes) to bench/RESULTS.md, after a blank line."""
    with open(ROOT / "bench" / "RESULTS.md", "a") as fh:
        fh.write("\n" + section.lstrip("\n"))
