"""Version skew on the wire, both ways: an agent one minor version newer (1.1) than the hub (1.0) is served, and
a 1.1 hub serves the real 1.0 agent; what the newer side adds (fields the older one does not know, inside known
messages, and a message type it does not know) is ignored rather than refused (docs/protocol.md section 6;
issue 4 scope 4).

The newer peer is raw: its messages are hand-encoded protobuf bytes (the generated 1.0 classes cannot produce
fields they do not know), sent over a real gRPC stream with an identity serializer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc

from agent.session.cache import DesiredStateCache
from agent.session.client import SessionState
from fleetline.protocol import desired_state_hash, split_desired_state
from fleetline.wire import fleet_pb2
from tests.wire.support import TIMEOUT, A, Fleet, collect, desired, start_agent

CONNECT = "/fleetline.v1.FleetHub/Connect"
VARINT, LENGTH_DELIMITED = 0, 2


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, value: int | bytes) -> bytes:
    """One encoded field: a varint for an int, length-delimited for bytes."""
    if isinstance(value, int):
        return varint(number << 3 | VARINT) + varint(value)
    return varint(number << 3 | LENGTH_DELIMITED) + varint(len(value)) + value


# Fields a 1.1 agent might add, with numbers no 1.0 message uses.
UNKNOWN_SCALAR = field(90, 424242)
UNKNOWN_TEXT = field(91, b"a field from protocol 1.1")
UNKNOWN_BODY = 15  # a oneof member of AgentMessage that 1.0 does not have (1.0 uses 1-5)


def agent_message(body_field: int, body: bytes) -> bytes:
    return field(body_field, body)


async def eventually(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Poll `predicate` (metrics notify no one) until it holds; AssertionError at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "the condition did not hold within the deadline"
        await asyncio.sleep(0.02)


async def read_body(call: grpc.aio.StreamStreamCall, kind: str) -> fleet_pb2.HubMessage:
    """The next hub message of `kind`, skipping heartbeats."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            message = await call.read()
            assert message is not grpc.aio.EOF, f"the hub ended the stream while {kind} was expected"
            if message.WhichOneof("body") != "heartbeat":
                assert message.WhichOneof("body") == kind, message
                return message


async def test_an_agent_one_minor_newer_with_unknown_fields_and_messages_is_served(fleet):
    events = fleet.hub.hub.subscribe_events()
    hello = fleet_pb2.Hello(cluster=A, region="eu", agent_version="1.1.0",
                            protocol=fleet_pb2.ProtocolVersion(major=1, minor=1), next_event_sequence=1)
    hello_bytes = hello.SerializeToString() + UNKNOWN_SCALAR + UNKNOWN_TEXT
    # the bytes really carry fields the 1.0 classes do not know, and parse to the same known fields
    parsed = fleet_pb2.Hello.FromString(hello_bytes)
    assert parsed.ListFields() == hello.ListFields() and UNKNOWN_TEXT in parsed.SerializeToString()

    async with grpc.aio.insecure_channel(fleet.hub.address) as channel:
        connect = channel.stream_stream(CONNECT, request_serializer=lambda raw: raw,
                                        response_deserializer=fleet_pb2.HubMessage.FromString)
        call = connect(metadata=(("authorization", f"Bearer {fleet.tokens[A]}"),))
        await call.write(agent_message(1, hello_bytes))
        welcome = (await read_body(call, "welcome")).welcome
        assert welcome.protocol == fleet_pb2.ProtocolVersion(major=1, minor=0)
        [info] = fleet.hub.hub.registry()
        assert (info.cluster, info.protocol, info.agent_version, info.region) == (A, "1.1", "1.1.0", "eu")

        # a message type the hub does not know: counted as "unknown" and ignored, the session stays up
        await call.write(agent_message(UNKNOWN_BODY, UNKNOWN_SCALAR + UNKNOWN_TEXT))
        # an Event with unknown fields: accepted with its known fields, published and acknowledged
        known = fleet_pb2.Event(sequence=1, occurred_at_ms=1_700_000_000_000, type=fleet_pb2.DRIFT_DETECTED,
                                application="inference", message="drift seen by a 1.1 agent")
        await call.write(agent_message(3, UNKNOWN_TEXT + known.SerializeToString() + UNKNOWN_SCALAR))
        ack = (await read_body(call, "event_ack")).event_ack
        assert ack.sequence == 1
        [(cluster, published)] = await collect(events, 1)
        assert cluster == A
        assert (published.sequence, published.type, published.application, published.message) == \
            (1, fleet_pb2.DRIFT_DETECTED, "inference", "drift seen by a 1.1 agent")
        assert fleet.sample("fleetline_hub_messages_received_total", type="unknown") == 1
        assert fleet.sample("fleetline_hub_messages_received_total", type="event") == 1

        # the session is still the same live one: a heartbeat with an unknown field keeps it, a push reaches it
        await call.write(agent_message(5, fleet_pb2.Heartbeat(sent_at_ms=1).SerializeToString() + UNKNOWN_SCALAR))
        await eventually(lambda: fleet.sample("fleetline_hub_messages_received_total", type="heartbeat") >= 1)
        assert [i.session_id for i in fleet.hub.hub.registry()] == [info.session_id]
        stored = await fleet.hub.hub.push(A, fleet_pb2.DesiredState(revision="r1"))
        chunk = (await read_body(call, "desired_state")).desired_state
        assert (chunk.generation, chunk.content_hash) == (stored.generation, stored.content_hash)
        call.cancel()

    assert fleet.sample("fleetline_hub_refused_connections_total", reason="unsupported_protocol") == 0
    assert fleet.sample("fleetline_hub_sessions_closed_total", reason="protocol_error") == 0


async def test_a_hub_one_minor_newer_with_unknown_fields_and_messages_serves_the_real_agent(tmp_path: Path, agents):
    """A raw 1.1 hub: its Welcome says 1.1 and carries an unknown field, it sends a message type the agent does
    not know, and every desired-state chunk carries unknown fields. The real 1.0 agent takes the state whole."""
    state = desired(A, "r1")
    state.cluster, state.generation = A, 1
    state.content_hash = desired_state_hash(state)
    hellos: asyncio.Queue[fleet_pb2.Hello] = asyncio.Queue()
    acks: asyncio.Queue[fleet_pb2.DesiredStateAck] = asyncio.Queue()

    async def connect(requests: AsyncIterator[fleet_pb2.AgentMessage],
                      _context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        iterator = aiter(requests)
        hellos.put_nowait((await anext(iterator)).hello)
        welcome = fleet_pb2.Welcome(session_id="s-1", heartbeat_interval_ms=1000, hub_version="1.1.0",
                                    protocol=fleet_pb2.ProtocolVersion(major=1, minor=1), max_message_bytes=1024)
        yield field(1, welcome.SerializeToString() + UNKNOWN_TEXT)
        yield field(UNKNOWN_BODY, UNKNOWN_SCALAR)  # a 1.1 message type
        for chunk in split_desired_state(state, 1024):
            yield field(2, UNKNOWN_SCALAR + chunk.SerializeToString() + UNKNOWN_TEXT)
        async for message in iterator:
            if message.WhichOneof("body") == "desired_state_ack":
                acks.put_nowait(message.desired_state_ack)
                break
        while True:  # keep the session alive until the agent hangs up
            yield field(5, fleet_pb2.Heartbeat(sent_at_ms=1).SerializeToString() + UNKNOWN_SCALAR)
            await asyncio.sleep(0.2)  # the period of this hub's heartbeats, not a wait for a condition

    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("fleetline.v1.FleetHub", {
        "Connect": grpc.stream_stream_rpc_method_handler(
            connect, request_deserializer=fleet_pb2.AgentMessage.FromString, response_serializer=lambda raw: raw),
    }),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        fleet = Fleet(None, {}, tmp_path)  # type: ignore[arg-type]
        agent = start_agent(fleet, agents, A, "token-of-a", "a", address=f"127.0.0.1:{port}")
        hello = await asyncio.wait_for(hellos.get(), TIMEOUT)
        assert (hello.protocol.major, hello.protocol.minor) == (1, 0)
        got = await agent.next_state()
        assert got == state
        ack = await asyncio.wait_for(acks.get(), TIMEOUT)
        assert (ack.generation, ack.content_hash) == (1, state.content_hash)
        assert DesiredStateCache(tmp_path / "a").load() == state
        assert agent.session.state == SessionState.CONNECTED and agent.session.error is None
        assert agent.sample("fleetline_agent_messages_total", direction="in", type="unknown") == 1
        assert agent.sample("fleetline_agent_reconnects_total") == 0
        assert await agent.stop() is None
    finally:
        await server.stop(grace=None)
