"""A real hub process killed with SIGKILL and started again on the same data directory, with a real agent:
the agent reconnects, an unchanged desired state is not sent again, and the events it queued while the hub
was down reach the hub's consumers exactly once, in order (issue 4 acceptance; docs/protocol.md section 9)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fleetline.wire import fleet_pb2
from hub.sessions.tokens import TokenStore
from tests.wire.support import TIMEOUT, A, Fleet, desired, event, start_agent

ROOT = Path(__file__).resolve().parents[2]


class HubProcess:
    """tests/wire/hub_process.py as a child process; lines of its stdout are read on demand."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.port = 0
        self.generation = 0  # of the state it pushed at start

    @classmethod
    async def start(cls, root: Path, port: int = 0) -> HubProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.wire.hub_process", "--port", str(port), "--data-dir", str(root / "hub"),
            "--tokens", str(root / "tokens"), "--state", f"{A}={root / 'r1.pb'}", cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        hub = cls(process)
        pushed = await hub.line()
        assert pushed.startswith(f"PUSHED {A} "), pushed
        hub.generation = int(pushed.split()[2])
        ready = await hub.line()
        assert ready.startswith("READY "), ready
        hub.port = int(ready.split()[1])
        return hub

    async def line(self) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), 3 * TIMEOUT)
        assert raw, "the hub process exited"
        return raw.decode().rstrip("\n")

    async def command(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()

    async def kill(self) -> int | None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        return await asyncio.wait_for(self.process.wait(), TIMEOUT)


@pytest.fixture
async def hubs() -> AsyncIterator[list[HubProcess]]:
    started: list[HubProcess] = []
    yield started
    for hub in started:
        await hub.kill()


async def test_hub_sigkill_and_restart_nothing_resent_and_queued_events_exactly_once(tmp_path: Path, agents, hubs):
    token = TokenStore(tmp_path / "tokens").issue(A)
    (tmp_path / "r1.pb").write_bytes(desired(A, "r1").SerializeToString())
    (tmp_path / "r2.pb").write_bytes(desired(A, "r2").SerializeToString())
    hub = await HubProcess.start(tmp_path)
    hubs.append(hub)
    fleet = Fleet(None, {A: token}, tmp_path)  # type: ignore[arg-type]
    agent = start_agent(fleet, agents, A, token, "a", address=f"127.0.0.1:{hub.port}")

    first = await agent.next_state()
    assert (first.generation, first.revision) == (1, "r1")
    agent.session.emit(event(fleet_pb2.DRIFT_DETECTED, "one"))
    assert await hub.line() == f"EVENT {A} 1 one"

    assert await hub.kill() == -signal.SIGKILL
    for name in ("two", "three"):  # queued on the agent's disk while the hub is dead
        agent.session.emit(event(fleet_pb2.SYNC_STARTED, name))

    restarted = await HubProcess.start(tmp_path, port=hub.port)
    hubs.append(restarted)
    assert restarted.generation == 1, "the same content pushed again after the restart is not a new generation"
    assert [await restarted.line(), await restarted.line()] == [f"EVENT {A} 2 two", f"EVENT {A} 3 three"]

    await restarted.command(f"PUSH {A}={tmp_path / 'r2.pb'}")
    assert await restarted.line() == f"PUSHED {A} 2"
    second = await agent.next_state()  # r1 again would come first if the restarted hub had re-sent it
    assert (second.generation, second.revision) == (2, "r2")
    assert agent.received.empty()
    assert agent.sample("fleetline_agent_messages_total", direction="in", type="desired_state") == 2

    agent.session.emit(event(fleet_pb2.DRIFT_HEALED, "four"))
    assert await restarted.line() == f"EVENT {A} 4 four"  # and nothing before it was published twice
