"""A real `fleetline agent` process, managing a kubesim cluster, killed with SIGKILL and started again while the
hub is down: it resumes enforcing its cached desired state (an object deleted meanwhile is re-created, with no
hub), and when the hub comes back on the same port and data directory it reconnects, nothing is sent again
because the hash in its Hello matches, and the drift events queued meanwhile reach the hub's consumers once
(issue 4 acceptance: "agent killed and restarted while the hub is down: it resumes from its cache";
docs/protocol.md section 8)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from fleetline.wire import fleet_pb2
from hub.sessions.server import HubHandle, start_hub
from hub.sessions.tokens import TokenStore
from tests.kubesim.conftest import kube, sim, sim_options, wait_for  # noqa: F401  (fixtures)
from tests.wire.support import TIMEOUT, A, collect, desired

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT = 0.5


class AgentProcess:
    """`python -m fleetline.cli agent ...` as a child process; its log (stderr) is collected line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._grew = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, hub_address: str, cache: Path, token_file: Path, kubeconfig: Path) -> AgentProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fleetline.cli", "agent", "--hub", hub_address, "--cluster", A, "--region", "eu",
            "--cache-dir", str(cache), "--token-file", str(token_file), "--insecure", "--kubeconfig",
            str(kubeconfig), cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while raw := await self.process.stderr.readline():
            async with self._grew:
                self.lines.append(raw.decode().rstrip("\n"))
                self._grew.notify_all()
        async with self._grew:
            self.lines.append("<exited>")
            self._grew.notify_all()

    async def wait_for_line(self, predicate: Callable[[str], bool], timeout: float = 3 * TIMEOUT) -> int:
        """The index of the first line satisfying `predicate`, waiting for it (AssertionError if never)."""
        try:
            async with asyncio.timeout(timeout), self._grew:
                await self._grew.wait_for(lambda: any(map(predicate, self.lines)) or "<exited>" in self.lines)
        except TimeoutError:
            raise AssertionError("no such line within the deadline; the agent logged:\n" + self.log()) from None
        for index, line in enumerate(self.lines):
            if predicate(line):
                return index
        raise AssertionError("the agent exited; it logged:\n" + self.log())

    def log(self) -> str:
        return "\n".join(self.lines)

    async def kill(self, sig: int = signal.SIGKILL) -> int:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
        await asyncio.wait_for(self._reader, TIMEOUT)
        return code


def has(*parts: str) -> Callable[[str], bool]:
    return lambda line: all(part in line for part in parts)


@pytest.fixture
async def processes() -> AsyncIterator[list[AgentProcess]]:
    started: list[AgentProcess] = []
    yield started
    for agent in started:
        await agent.kill()


@pytest.fixture
async def hubs() -> AsyncIterator[list[HubHandle]]:
    started: list[HubHandle] = []
    yield started
    for handle in started:
        await handle.stop(grace=0.5)


async def eventually(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Poll `predicate` (metrics notify no one) until it holds; AssertionError at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "the condition did not hold within the deadline"
        await asyncio.sleep(0.02)


def sample(handle: HubHandle, name: str, **labels: str) -> float:
    value = handle.hub.metrics.registry.get_sample_value(name, labels or None)
    return 0.0 if value is None else value


def enforced(cluster: str, revision: str) -> fleet_pb2.DesiredState:
    """Two ConfigMaps in namespace ml, created with it, automated with self-heal."""
    state = desired(cluster, revision)
    policy = state.applications[0].sync_policy
    policy.sync_options.append("CreateNamespace=true")
    policy.automated.self_heal = True
    return state


def configmaps(clients) -> set[str]:
    return {c.metadata.name for c in clients.core_v1.list_namespaced_config_map("ml").items}


async def test_agent_sigkilled_and_restarted_while_the_hub_is_down_resumes_from_its_cache(tmp_path: Path, processes,
                                                                                           hubs, sim, kube):  # noqa: F811
    store = TokenStore(tmp_path / "tokens")
    token_file = tmp_path / "token"
    token_file.write_text(store.issue(A) + "\n")
    hub = await start_hub("127.0.0.1:0", tmp_path / "hub", tokens=store, insecure=True,
                          heartbeat_interval=HEARTBEAT, fsync=False)
    hubs.append(hub)
    stored = await hub.hub.push(A, enforced(A, "r1"))
    names = {f"{A}-r1-0", f"{A}-r1-1"}
    applied = has("event=desired_state_applied", f"generation={stored.generation}", "revision=r1")

    first = await AgentProcess.start(hub.address, tmp_path / "cache", token_file, sim.kubeconfig_path)
    processes.append(first)
    await first.wait_for_line(has("event=desired_state_received", f"hash={stored.content_hash}"))
    await first.wait_for_line(applied)
    await first.wait_for_line(has("event=sync_finished", "result=Succeeded"))
    assert names <= configmaps(kube)
    await hub.hub.wait_for(lambda: [(i.cluster, i.applied_hash) for i in hub.hub.registry()]
                           == [(A, stored.content_hash)], TIMEOUT)  # acked: the agent's cache holds it

    # the hub goes away, then the agent dies without any chance to clean up; someone deletes a managed object
    await hub.stop(grace=0.5)
    await first.wait_for_line(has("event=session_lost"))  # Goodbye SHUTTING_DOWN
    assert await first.kill() == -signal.SIGKILL
    kube.core_v1.delete_namespaced_config_map(f"{A}-r1-0", "ml")
    second = await AgentProcess.start(hub.address, tmp_path / "cache", token_file, sim.kubeconfig_path)
    processes.append(second)

    loaded = await second.wait_for_line(has("event=cached_state_loaded", f"generation={stored.generation}",
                                            f"hash={stored.content_hash}"))
    enforcing = await second.wait_for_line(applied)
    assert loaded < enforcing, second.log()
    await second.wait_for_line(has("event=self_healed", f"object=ConfigMap ml/{A}-r1-0"))
    await asyncio.to_thread(wait_for, lambda: names <= configmaps(kube), 10.0, message="the ConfigMap re-created")
    await second.wait_for_line(has("event=session_lost", "code=UNAVAILABLE"))
    assert not any("event=session_up" in line for line in second.lines)
    assert not any("event=sync_finished" in line for line in second.lines), "synced before: no second sync"

    # the hub comes back on the same port and data directory: the agent reconnects with the hash it holds
    back = await start_hub(hub.address, tmp_path / "hub", tokens=TokenStore(tmp_path / "tokens"), insecure=True,
                           heartbeat_interval=HEARTBEAT, fsync=False)
    hubs.append(back)
    events = back.hub.subscribe_events()
    assert back.port == hub.port
    await second.wait_for_line(has("event=session_up", f"hub={hub.address}"))
    await back.hub.wait_for(lambda: [(i.cluster, i.applied_generation, i.applied_hash) for i in back.hub.registry()]
                            == [(A, stored.generation, stored.content_hash)], TIMEOUT)
    # the drift and its healing, queued while the hub was away, arrive once each
    received = [event for _, event in await collect(events, 2)]
    assert [fleet_pb2.EventType.Name(e.type) for e in received] == ["DRIFT_DETECTED", "DRIFT_HEALED"]
    # The hub's writer sends a differing state right after Welcome, before any heartbeat; once a heartbeat went
    # out on this session, a re-send would already have happened.
    await eventually(lambda: sample(back, "fleetline_hub_messages_sent_total", type="heartbeat") >= 1)
    assert sample(back, "fleetline_hub_messages_sent_total", type="desired_state") == 0
    assert sample(back, "fleetline_hub_reconnects_total") == 1  # a session holding state from before
    assert back.hub.desired_state(A) == stored  # the same generation, read back from the data directory
    assert not any("event=desired_state_received" in line for line in second.lines), second.log()
    assert sum(applied(line) for line in second.lines) == 1

    # the session is live end to end: a newer state reaches the restarted agent, and only that one
    newer = await back.hub.push(A, enforced(A, "r2"))
    assert newer.generation == stored.generation + 1
    await second.wait_for_line(has("event=desired_state_applied", f"generation={newer.generation}", "revision=r2"))
    await back.hub.wait_for(lambda: [i.applied_hash for i in back.hub.registry()] == [newer.content_hash], TIMEOUT)
    assert sample(back, "fleetline_hub_messages_sent_total", type="desired_state") >= 1
    received = [line for line in second.lines if "event=desired_state_received" in line]
    assert len(received) == 1 and re.search(rf"generation={newer.generation}\b", received[0]), second.log()
    await asyncio.to_thread(wait_for, lambda: (cms := configmaps(kube)) >= {f"{A}-r2-0", f"{A}-r2-1"}
                            and not cms & names, 20.0, message="r2 applied and r1 pruned")

    assert await second.kill(signal.SIGTERM) == 0, second.log()
