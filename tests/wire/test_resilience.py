"""The real hub and real agents through failures: a network cut made with a loopback TCP proxy, two agents
claiming one cluster, and a credential revoked under a live session (docs/protocol.md sections 3, 4 and 7)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.session.client import SessionRefused
from fleetline.wire import fleet_pb2
from hub.sessions.server import start_hub
from hub.sessions.tokens import TokenStore
from tests.wire.support import TIMEOUT, A, Fleet, collect, connected, desired, event, start_agent

FAST_HEARTBEAT = 0.3  # silence for three intervals (0.9 s) is death


class CuttableProxy:
    """A loopback TCP proxy in front of the hub. cut() keeps every connection open but drops the bytes both
    ways (a cable pulled with no RST, which only heartbeats can notice); restore() closes what was cut and
    forwards new connections again."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.cut_active = False
        self.connected_while_cut = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cut(self) -> None:
        self.cut_active = True

    def restore(self) -> None:
        self.cut_active = False
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def close(self) -> None:
        self.restore()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_active:
            self.connected_while_cut.set()
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await source.read(65536):
                if self.cut_active:
                    continue  # swallowed: neither side hears anything, nor a close
                sink.write(data)
                await sink.drain()
        if not self.cut_active:  # a close is news too: while cut, restore() closes instead
            sink.close()


@pytest.fixture
async def fast_fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    store = TokenStore(tmp_path / "tokens")
    handle = await start_hub("127.0.0.1:0", tmp_path / "hub", tokens=store, insecure=True,
                             heartbeat_interval=FAST_HEARTBEAT, fsync=False)
    try:
        yield Fleet(handle, {A: store.issue(A)}, tmp_path)
    finally:
        await handle.stop(grace=0.5)


async def test_a_network_cut_is_detected_by_heartbeats_and_the_outbox_drains_in_order(fast_fleet, agents):
    fleet = fast_fleet
    proxy = await CuttableProxy(fleet.hub.port).start()
    try:
        events = fleet.hub.hub.subscribe_events()
        agent = start_agent(fleet, agents, A, fleet.tokens[A], "a", address=proxy.address, handshake_timeout=1.0)
        await connected(fleet, agent)
        stored = await fleet.hub.hub.push(A, desired(A, "r1"))
        assert (await agent.next_state()) == stored
        agent.session.emit(event(fleet_pb2.DRIFT_DETECTED, "before the cut"))
        assert [e.sequence for _, e in await collect(events, 1)] == [1]

        proxy.cut()
        for n in range(3):
            agent.session.emit(event(fleet_pb2.SYNC_STARTED, f"during the cut {n}"))
        # the hub notices the silence and drops the session ...
        await fleet.hub.hub.wait_for(lambda: fleet.hub.hub.registry() == [], TIMEOUT)
        assert fleet.sample("fleetline_hub_sessions_closed_total", reason="heartbeat_timeout") == 1
        assert fleet.sample("fleetline_hub_sessions_closed_total", reason="agent_closed") == 0
        # ... and so does the agent: it dials again although its old connection was never closed
        await asyncio.wait_for(proxy.connected_while_cut.wait(), TIMEOUT)

        proxy.restore()
        await connected(fleet, agent)
        got = await collect(events, 3)
        assert [(e.sequence, e.message) for _, e in got] == [(n + 2, f"during the cut {n}") for n in range(3)]
        agent.session.emit(event(fleet_pb2.DRIFT_HEALED, "after the cut"))
        [(_, late)] = await collect(events, 1)
        assert (late.sequence, late.message) == (5, "after the cut")
        assert agent.sample("fleetline_agent_reconnects_total") >= 1
        # the state it already held was not sent again
        assert agent.received.empty()
        assert agent.sample("fleetline_agent_messages_total", direction="in", type="desired_state") == 1
    finally:
        await proxy.close()


async def test_two_agents_claiming_one_cluster_the_newer_wins_and_the_older_stops(fleet, agents):
    older = start_agent(fleet, agents, A, fleet.tokens[A], "older")
    await connected(fleet, older)
    first_session = fleet.hub.hub.registry()[0].session_id

    newer = start_agent(fleet, agents, A, fleet.tokens[A], "newer")
    with pytest.raises(SessionRefused) as refused:
        await asyncio.wait_for(older.task, TIMEOUT)
    assert refused.value.reason == "FENCED"
    await connected(fleet, newer)
    [info] = fleet.hub.hub.registry()
    assert info.session_id != first_session
    await fleet.hub.hub.wait_for(lambda: fleet.sample("fleetline_hub_sessions_closed_total", reason="fenced") == 1,
                                 TIMEOUT)

    # the older one stopped for good (no hammering, no fencing back); the winner gets the pushes
    stored = await fleet.hub.hub.push(A, desired(A, "r1"))
    assert (await newer.next_state()) == stored
    assert older.received.empty()
    assert [i.session_id for i in fleet.hub.hub.registry()] == [info.session_id]


async def test_revoking_a_live_agents_token_closes_its_session_and_refuses_it_afterwards(fleet, agents):
    agent = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    await connected(fleet, agent)

    await fleet.hub.hub.revoke(A)
    with pytest.raises(SessionRefused) as refused:
        await asyncio.wait_for(agent.task, TIMEOUT)
    assert refused.value.reason == "REVOKED"

    again = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    with pytest.raises(SessionRefused) as refused_again:
        await asyncio.wait_for(again.task, TIMEOUT)
    assert refused_again.value.reason == "REVOKED"
    assert fleet.sample("fleetline_hub_refused_connections_total", reason="revoked") == 1
    await fleet.hub.hub.wait_for(lambda: fleet.hub.hub.registry() == [], TIMEOUT)
