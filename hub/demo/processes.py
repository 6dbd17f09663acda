"""Child processes of the demo: started with their output in a log file, watched for a line, stopped in order.

Every child runs in its own session (so a Ctrl-C in the terminal reaches the demo alone, which then stops the
children in order: agents, then the hub, then the clusters) and, on Linux, asks the kernel to send it SIGTERM
if the demo itself dies (PR_SET_PDEATHSIG), so that even a killed demo leaves no process behind.
`ProcessGroup.stop()` sends SIGTERM tier by tier (the highest first), waits for each tier, and SIGKILLs what is
left after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import re
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1
STOP_GRACE = 10.0  # seconds a child has to exit after SIGTERM


class ProcessError(RuntimeError):
    """A child that exited early or never printed what it should have; the message names its log."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """One running child: its name, process, log file and the lines it printed so far."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    tier: int = 0  # stopped after every child of a higher tier
    lines: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self) -> None:
        assert self.process.stdout is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            while raw := await self.process.stdout.readline():
                line = raw.decode("utf-8", "replace").rstrip("\n")
                log.write(line + "\n")
                log.flush()
                self.lines.append(line)
                self.changed.set()
        self.changed.set()

    async def wait_for(self, pattern: str, timeout: float) -> list[re.Match[str]]:
        """Wait until a printed line matches `pattern`; every match so far. ProcessError if the child exits or
        `timeout` seconds pass first."""
        regex = re.compile(pattern)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            matches = [m for line in self.lines if (m := regex.search(line))]
            if matches:
                return matches
            if self.process.returncode is not None or (self.reader is not None and self.reader.done()):
                raise ProcessError(f"{self.name} exited (status {self.process.returncode}) before it was ready; "
                                   f"see {self.log_path}:\n  " + "\n  ".join(self.lines[-8:]))
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise ProcessError(f"{self.name} was not ready within {timeout:g} s; see {self.log_path}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 1.0))


class ProcessGroup:
    """The demo's children, stopped in the reverse order of their start."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    async def start(self, name: str, argv: Sequence[str], *, tier: int = 0,
                    env: dict[str, str] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log_path.write_text("")
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        child = Child(name, process, log_path, tier)
        child.reader = asyncio.create_task(child._read())
        self.children.append(child)
        return child

    def exited(self) -> list[Child]:
        """Children that have exited although nobody asked them to."""
        return [child for child in self.children if child.process.returncode is not None]

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM to every child, tier by tier from the highest (agents before the hub, the hub before the
        clusters); SIGKILL for a tier's children still running after `grace` seconds."""
        for tier in sorted({child.tier for child in self.children}, reverse=True):
            await self._stop_tier([child for child in self.children if child.tier == tier], grace)
        for child in self.children:
            if child.reader is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await child.reader
        self.children.clear()

    @staticmethod
    async def _stop_tier(children: list[Child], grace: float) -> None:
        for child in children:
            if child.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        waits = [asyncio.create_task(child.process.wait()) for child in children]
        _, pending = await asyncio.wait(waits, timeout=grace)
        if pending:
            for child in children:
                if child.process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        child.process.kill()
            await asyncio.wait(waits)
