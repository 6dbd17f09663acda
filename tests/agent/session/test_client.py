"""AgentSession against a scripted fake hub over real gRPC on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agent.session.cache import DesiredStateCache
from agent.session.client import AgentSession, SessionRefused, SessionState, TlsCredentials
from fleetline import protocol
from fleetline.certs import create_ca, issue_cluster_certificate, issue_server_certificate
from fleetline.protocol import split_desired_state
from fleetline.wire import fleet_pb2
from tests.agent.session.fakehub import FakeHub, make_state, start_fake_hub

CLUSTER = "us-east-1"


class Received:
    """The on_desired_state callback: records states and lets a test wait for one."""

    def __init__(self) -> None:
        self.states: list[fleet_pb2.DesiredState] = []
        self.cached_when_delivered: list[fleet_pb2.DesiredState | None] = []
        self.cache: DesiredStateCache | None = None
        self._changed = asyncio.Condition()

    async def __call__(self, state: fleet_pb2.DesiredState) -> None:
        self.states.append(state)
        self.cached_when_delivered.append(self.cache.load() if self.cache else None)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.states) >= count)


class LogWaiter(logging.Handler):
    """Sets `seen` when a log record containing `text` is emitted (records are emitted on the loop's thread)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


@pytest.fixture
async def hub() -> AsyncIterator[tuple[FakeHub, grpc.aio.Server, int]]:
    fake = FakeHub()
    server, port = await start_fake_hub(fake)
    yield fake, server, port
    await server.stop(grace=None)


@contextlib.asynccontextmanager
async def running(session: AgentSession) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(session.run())
    try:
        yield task
    finally:
        session.stop()
        async with asyncio.timeout(5):
            with contextlib.suppress(SessionRefused):
                await task


def make_session(tmp_path: Path, port: int, **kwargs) -> AgentSession:
    kwargs.setdefault("reconnect_base", 0.01)
    kwargs.setdefault("reconnect_cap", 0.05)
    kwargs.setdefault("rng", random.Random(7))
    return AgentSession(f"127.0.0.1:{port}", CLUSTER, "us-east", tmp_path / "cache", kwargs.pop("credentials", None),
                        insecure=True, **kwargs)


def count(session: AgentSession, metric: str, **labels: str) -> float:
    value = session.metrics.registry.get_sample_value(metric, labels or None)
    return value or 0.0


async def test_hello_carries_cached_generation_hash_and_next_sequence(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    cached = make_state(generation=7)
    DesiredStateCache(tmp_path / "cache").save(cached)
    fake.state = cached  # same hash: the hub must not re-send it
    session = make_session(tmp_path, port, credentials="tok-123")
    session.emit(fleet_pb2.Event(type=fleet_pb2.DRIFT_DETECTED))
    async with running(session):
        await fake.wait_until(lambda: len(fake.sessions) == 1)
        await session.wait_for_state(SessionState.CONNECTED, 5)
    hello = fake.sessions[0].hello
    assert (hello.cluster, hello.region) == (CLUSTER, "us-east")
    assert hello.applied_generation == 7
    assert hello.applied_hash == cached.content_hash
    assert hello.next_event_sequence == 2
    assert "chunked-desired-state" in hello.capabilities
    assert (hello.protocol.major, hello.protocol.minor) == (1, 0)
    assert fake.sessions[0].metadata["authorization"] == "Bearer tok-123"
    assert fake.sessions[0].of("desired_state_ack") == []


async def test_chunks_reassembled_cached_acked_then_delivered(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    state = make_state(generation=3, manifest_bytes=3000, apps=10)  # ~30 KB over 4 KB messages
    fake.state = state
    received = Received()
    session = make_session(tmp_path, port, on_desired_state=received)
    received.cache = session.cache
    async with running(session):
        await received.wait_for(1)
        await fake.wait_until(lambda: bool(fake.current.of("desired_state_ack")))
        assert session.state == SessionState.CONNECTED
    assert received.states == [state]
    assert received.cached_when_delivered == [state]  # durably cached before the reconciler saw it
    ack = fake.sessions[0].of("desired_state_ack")[0]
    assert (ack.generation, ack.content_hash) == (3, state.content_hash)
    assert DesiredStateCache(tmp_path / "cache").load() == state
    assert count(session, "fleetline_agent_messages_total", direction="in", type="desired_state") >= 8


async def test_state_of_another_cluster_is_refused(tmp_path: Path, hub, caplog: pytest.LogCaptureFixture) -> None:
    fake, _server, port = hub
    fake.state = make_state(cluster="eu-1")
    received = Received()
    session = make_session(tmp_path, port, on_desired_state=received)
    with caplog.at_level(logging.ERROR, logger="agent.session.client"):
        async with running(session):
            await session.wait_for_state(SessionState.CONNECTED, 5)
            # the heartbeat after the state proves the chunks were read
            n = len(fake.current.of("heartbeat"))
            await fake.wait_until(lambda: len(fake.current.of("heartbeat")) > n + 1)
            await fake.wait_until(lambda: "desired_state_refused" in caplog.text)
    assert received.states == []
    assert DesiredStateCache(tmp_path / "cache").load() is None
    assert fake.sessions[0].of("desired_state_ack") == []


async def test_corrupt_chunk_makes_the_agent_redial(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    session = make_session(tmp_path, port)
    async with running(session):
        await session.wait_for_state(SessionState.CONNECTED, 5)
        await fake.send(fleet_pb2.HubMessage(desired_state=fleet_pb2.DesiredStateChunk(
            generation=1, content_hash="sha256:00", chunk_index=0, chunk_count=1, data=b"\x0a\x01x")))
        await fake.wait_until(lambda: len(fake.sessions) >= 2)
    assert DesiredStateCache(tmp_path / "cache").load() is None


async def test_events_in_order_resent_after_reconnect_until_acked(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    session = make_session(tmp_path, port)
    for i in range(3):  # queued before any connection
        session.emit(fleet_pb2.Event(type=fleet_pb2.DRIFT_DETECTED, message=f"e{i}"))
    async with running(session):
        await fake.wait_until(lambda: len(fake.sessions) == 1 and len(fake.current.of("event")) == 3)
        assert [e.sequence for e in fake.sessions[0].of("event")] == [1, 2, 3]
        fake.acked_event_sequence = 2
        await fake.send(fleet_pb2.HubMessage(event_ack=fleet_pb2.EventAck(sequence=2)))
        await fake.wait_until(lambda: len(fake.current.of("heartbeat")) >= 2)  # the ack went before this
        await fake.close_current()  # the stream drops; 3 is not acknowledged
        await fake.wait_until(lambda: len(fake.sessions) == 2 and len(fake.current.of("event")) >= 1)
        assert [e.sequence for e in fake.sessions[1].of("event")] == [3]
        session.emit(fleet_pb2.Event(type=fleet_pb2.SYNC_SUCCEEDED))
        await fake.wait_until(lambda: len(fake.current.of("event")) == 2)
        assert [e.sequence for e in fake.sessions[1].of("event")] == [3, 4]
        await fake.send(fleet_pb2.HubMessage(event_ack=fleet_pb2.EventAck(sequence=4)))
        await fake.wait_until(lambda: len(session.outbox) == 0)
        assert count(session, "fleetline_agent_outbox_depth") == 0
    assert [e.message for e in (fake.events[s] for s in (1, 2, 3))] == ["e0", "e1", "e2"]
    assert sorted(fake.events) == [1, 2, 3, 4]
    assert count(session, "fleetline_agent_reconnects_total") >= 1


async def test_pending_events_go_in_batches_to_a_hub_that_accepts_them(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    fake.capabilities = [protocol.CAPABILITY_EVENT_BATCHES]
    fake.auto_ack_events = True
    session = make_session(tmp_path, port)
    for i in range(600):  # queued before any connection: 600 events of about 40 bytes, a 4,096-byte limit
        session.emit(fleet_pb2.Event(type=fleet_pb2.DRIFT_DETECTED, message=f"drift number {i}"))
    async with running(session):
        await fake.wait_until(lambda: len(fake.events) == 600)
        await fake.wait_until(lambda: len(session.outbox) == 0)
        messages = [m for m in fake.current.received if m.WhichOneof("body") == "events"]
        assert not fake.current.of("event"), "a hub that accepts batches gets no single-event messages"
        assert all(m.ByteSize() <= fake.max_message_bytes for m in messages)
        assert 600 // protocol.MAX_EVENTS_PER_BATCH < len(messages) < 600 // 10
        sent = [e.sequence for m in messages for e in m.events.events]
        assert sent == list(range(1, 601)), "in order, each once"
        session.emit(fleet_pb2.Event(type=fleet_pb2.SYNC_SUCCEEDED))  # one more: a batch of one
        await fake.wait_until(lambda: len(fake.events) == 601)
        assert [e.sequence for e in fake.current.of("events")[-1].events] == [601]


async def test_welcome_acked_sequence_drops_held_events(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    fake.acked_event_sequence = 2  # the hub already holds 1 and 2 (e.g. it acked them just before a crash)
    session = make_session(tmp_path, port)
    for _ in range(3):
        session.emit(fleet_pb2.Event(type=fleet_pb2.DRIFT_HEALED))
    async with running(session):
        await fake.wait_until(lambda: len(fake.sessions) == 1 and len(fake.current.of("event")) == 1)
        assert [e.sequence for e in fake.current.of("event")] == [3]
        assert [e.sequence for e in session.outbox.pending()] == [3]


async def test_status_latest_wins(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    session = make_session(tmp_path, port)
    for generation in (1, 2, 3):  # while disconnected: only the newest goes out
        session.report_status(fleet_pb2.StatusReport(generation=generation))
    async with running(session):
        await fake.wait_until(lambda: len(fake.sessions) == 1 and len(fake.current.of("status")) >= 1)
        await fake.wait_until(lambda: len(fake.current.of("heartbeat")) >= 2)
        assert [s.generation for s in fake.current.of("status")] == [3]
        session.report_status(fleet_pb2.StatusReport(generation=4))
        await fake.wait_until(lambda: len(fake.current.of("status")) == 2)
    assert [s.generation for s in fake.sessions[0].of("status")] == [3, 4]
    assert fake.sessions[0].of("status")[0].observed_at_ms > 0


async def test_heartbeats_sent_at_the_welcome_interval(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    fake.heartbeat_interval_ms = 50
    session = make_session(tmp_path, port)
    async with running(session):
        await fake.wait_until(lambda: len(fake.sessions) == 1 and len(fake.current.of("heartbeat")) >= 4)
        assert session.heartbeat_interval == pytest.approx(0.05)
    assert len(fake.sessions) == 1  # the hub's heartbeats kept the session alive


async def test_silent_hub_detected_after_three_intervals(tmp_path: Path, hub,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    fake, _server, port = hub
    fake.heartbeat_interval_ms = 50
    fake.send_heartbeats = False  # the stream stays open but the hub says nothing
    session = make_session(tmp_path, port)
    with caplog.at_level(logging.WARNING, logger="agent.session.client"):
        async with running(session):
            await fake.wait_until(lambda: len(fake.sessions) >= 2)
    assert "silent" in caplog.text


async def test_reconnects_with_backoff_when_the_hub_goes_away_and_comes_back(tmp_path: Path) -> None:
    fake = FakeHub()
    server, port = await start_fake_hub(fake)
    session = make_session(tmp_path, port)
    async with running(session):
        await session.wait_for_state(SessionState.CONNECTED, 5)
        await server.stop(grace=None)
        await session.wait_for_state(SessionState.DISCONNECTED, 5)
        assert count(session, "fleetline_agent_connected") == 0
        session.emit(fleet_pb2.Event(type=fleet_pb2.DRIFT_DETECTED, message="while away"))
        fake2 = FakeHub()
        server, _ = await start_fake_hub(fake2, port)
        try:
            await fake2.wait_until(lambda: len(fake2.sessions) == 1 and len(fake2.current.of("event")) == 1)
            await session.wait_for_state(SessionState.CONNECTED, 5)
            assert fake2.current.of("event")[0].message == "while away"
            assert count(session, "fleetline_agent_connected") == 1
        finally:
            await server.stop(grace=None)
    assert count(session, "fleetline_agent_reconnects_total") >= 1


async def test_backoff_grows_while_the_hub_keeps_failing(tmp_path: Path, hub,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    fake, _server, port = hub
    fake.goodbye = fleet_pb2.Goodbye(reason=fleet_pb2.SHUTTING_DOWN, message="restarting")
    session = make_session(tmp_path, port, reconnect_base=0.001, reconnect_cap=0.004)
    with caplog.at_level(logging.INFO, logger="agent.session.client"):
        async with running(session):
            await fake.wait_until(lambda: len(fake.sessions) >= 5)
    attempts = [int(a) for a in re.findall(r"event=reconnect_scheduled .* attempt=(\d+)", caplog.text)]
    assert attempts[:4] == [1, 2, 3, 4]  # never reset: no session was healthy
    delays = [float(d) for d in re.findall(r"delay_s=([0-9.]+)", caplog.text)]
    assert all(0 <= d <= 0.004 for d in delays)


@pytest.mark.parametrize("reason", [fleet_pb2.FENCED, fleet_pb2.REVOKED, fleet_pb2.UNSUPPORTED_PROTOCOL,
                                    fleet_pb2.IDENTITY_MISMATCH])
async def test_fatal_goodbye_stops_without_hammering(tmp_path: Path, hub, reason: int) -> None:
    fake, _server, port = hub
    fake.goodbye = fleet_pb2.Goodbye(reason=reason, message="go away")
    session = make_session(tmp_path, port)
    with pytest.raises(SessionRefused) as info:
        async with asyncio.timeout(5):
            await session.run()
    assert info.value.reason == fleet_pb2.GoodbyeReason.Name(reason)
    assert "go away" in str(info.value)
    assert len(fake.sessions) == 1
    assert session.state == SessionState.STOPPED


async def test_fenced_mid_session_stops(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    session = make_session(tmp_path, port)
    task = asyncio.create_task(session.run())
    await session.wait_for_state(SessionState.CONNECTED, 5)
    await fake.send(fleet_pb2.HubMessage(goodbye=fleet_pb2.Goodbye(reason=fleet_pb2.FENCED, message="newer")))
    with pytest.raises(SessionRefused, match="FENCED"):
        async with asyncio.timeout(5):
            await task
    assert len(fake.sessions) == 1


async def test_unauthenticated_is_fatal(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    fake.abort_code = grpc.StatusCode.UNAUTHENTICATED
    session = make_session(tmp_path, port, credentials="wrong")
    with pytest.raises(SessionRefused, match="UNAUTHENTICATED"):
        async with asyncio.timeout(5):
            await session.run()
    assert len(fake.sessions) == 1


async def test_restart_with_hub_down_enforces_cached_state(tmp_path: Path) -> None:
    fake = FakeHub()
    server, port = await start_fake_hub(fake)
    state = make_state(generation=9)
    fake.state = state
    first = make_session(tmp_path, port, on_desired_state=Received())
    async with running(first):
        await first.on_desired_state.wait_for(1)
    await server.stop(grace=None)  # the hub is down from here on

    received = Received()
    restarted = make_session(tmp_path, port, on_desired_state=received)
    async with running(restarted):
        await received.wait_for(1)
        assert restarted.state != SessionState.CONNECTED
    assert received.states == [state]
    assert len(fake.sessions) == 1


async def test_insecure_only_on_loopback(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        AgentSession("hub.example.com:8443", CLUSTER, "eu", tmp_path, "tok", insecure=True)
    with pytest.raises(ValueError, match="credential"):
        AgentSession("hub.example.com:8443", CLUSTER, "eu", tmp_path, None)
    AgentSession("[::1]:1", CLUSTER, "eu", tmp_path / "a", None, insecure=True).outbox.close()
    AgentSession("localhost:1", CLUSTER, "eu", tmp_path / "b", None, insecure=True).outbox.close()


async def test_mutual_tls_with_a_cluster_certificate(tmp_path: Path) -> None:
    ca_cert, ca_key = create_ca("fleetline test CA")
    hub_cert, hub_key = issue_server_certificate(ca_cert, ca_key, ["localhost", "127.0.0.1"])
    client_cert, client_key = issue_cluster_certificate(ca_cert, ca_key, CLUSTER)
    fake = FakeHub()
    server, port = await start_fake_hub(fake, tls=(hub_cert, hub_key, ca_cert))
    try:
        session = AgentSession(f"localhost:{port}", CLUSTER, "us-east", tmp_path / "cache",
                               TlsCredentials(client_cert, client_key, ca_cert))
        async with running(session):
            await session.wait_for_state(SessionState.CONNECTED, 5)
        assert fake.sessions[0].identity == CLUSTER
        assert "authorization" not in fake.sessions[0].metadata
    finally:
        await server.stop(grace=None)


async def test_untrusted_hub_certificate_is_not_accepted(tmp_path: Path) -> None:
    ca_cert, ca_key = create_ca("fleetline test CA")
    other_ca, _ = create_ca("someone else")
    hub_cert, hub_key = issue_server_certificate(ca_cert, ca_key, ["localhost", "127.0.0.1"])
    client_cert, client_key = issue_cluster_certificate(ca_cert, ca_key, CLUSTER)
    fake = FakeHub()
    server, port = await start_fake_hub(fake, tls=(hub_cert, hub_key, ca_cert))
    try:
        session = AgentSession(f"localhost:{port}", CLUSTER, "us-east", tmp_path / "cache",
                               TlsCredentials(client_cert, client_key, other_ca), reconnect_base=0.01,
                               reconnect_cap=0.02)
        lost = LogWaiter("event=session_lost")
        logging.getLogger("agent.session.client").addHandler(lost)
        try:
            async with running(session):
                async with asyncio.timeout(5):
                    await lost.seen.wait()
        finally:
            logging.getLogger("agent.session.client").removeHandler(lost)
        assert fake.sessions == []
        assert session.state == SessionState.STOPPED
    finally:
        await server.stop(grace=None)


async def test_slow_reconciler_gets_the_latest_state_not_a_queue(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    release = asyncio.Event()
    seen: list[int] = []
    first_seen = asyncio.Event()

    async def slow(state: fleet_pb2.DesiredState) -> None:
        seen.append(state.generation)
        first_seen.set()
        await release.wait()

    fake.state = make_state(generation=1)
    session = make_session(tmp_path, port, on_desired_state=slow)
    async with running(session):
        async with asyncio.timeout(5):
            await first_seen.wait()
        for generation in (2, 3):
            for chunk in split_desired_state(make_state(generation=generation), fake.max_message_bytes):
                await fake.send(fleet_pb2.HubMessage(desired_state=chunk))
        await fake.wait_until(lambda: [a.generation for a in fake.current.of("desired_state_ack")] == [1, 2, 3])
        release.set()
        await fake.wait_until(lambda: seen == [1, 3])  # generation 2 was superseded before it was handed over
        assert session.applied.generation == 3
        assert DesiredStateCache(tmp_path / "cache").load().generation == 3


async def test_slow_reconciler_on_the_cached_state_does_not_hold_the_connection_back(tmp_path: Path, hub) -> None:
    fake, _server, port = hub
    DesiredStateCache(tmp_path / "cache").save(make_state(generation=4))
    release = asyncio.Event()
    started: list[int] = []

    async def busy(state: fleet_pb2.DesiredState) -> None:
        started.append(state.generation)
        await release.wait()

    session = make_session(tmp_path, port, on_desired_state=busy)
    async with running(session):
        await session.wait_for_state(SessionState.CONNECTED, 5)
        assert started == [4]  # handed over before the dial, still running while connected
        assert fake.sessions[0].hello.applied_generation == 4
        release.set()


async def test_an_event_too_large_for_the_hub_is_sent_without_its_details(tmp_path: Path, hub) -> None:
    fake, _server, port = hub  # the fake hub announces max_message_bytes=4096
    session = make_session(tmp_path, port)
    session.emit(fleet_pb2.Event(type=fleet_pb2.SYNC_FAILED, message="apply failed",
                                 details_json='"' + "x" * 10_000 + '"'))
    session.emit(fleet_pb2.Event(type=fleet_pb2.SYNC_STARTED))
    async with running(session):
        await fake.wait_until(lambda: bool(fake.sessions) and len(fake.current.of("event")) == 2)
    big, small = fake.sessions[0].of("event")
    assert (big.sequence, big.message) == (1, "apply failed")
    assert '"truncated": true' in big.details_json
    assert small.sequence == 2  # the outbox did not stall behind it
