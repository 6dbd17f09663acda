"""Fake agents for the hub's session tests: real gRPC over loopback with the generated stubs, nothing mocked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from fleetline.protocol import ChunkAssembler, our_version
from fleetline.wire import fleet_pb2, fleet_pb2_grpc
from hub.sessions.server import HubHandle, start_hub
from hub.sessions.tokens import TokenStore

TIMEOUT = 5.0
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 * 1024 * 1024),
                   ("grpc.max_send_message_length", 64 * 1024 * 1024)]


class FakeAgent:
    """A protocol-level agent: sends Hello, reads HubMessages, assembles desired state, sends events/acks."""

    def __init__(self, target: str, cluster: str, token: str | None = None, *,
                 credentials: grpc.ChannelCredentials | None = None,
                 protocol: fleet_pb2.ProtocolVersion | None = None, applied_generation: int = 0,
                 applied_hash: str = "", next_event_sequence: int = 0) -> None:
        self.target, self.cluster, self.token, self.credentials = target, cluster, token, credentials
        self.hello = fleet_pb2.Hello(cluster=cluster, region="eu", agent_version="test",
                                     protocol=protocol if protocol is not None else our_version(),
                                     applied_generation=applied_generation, applied_hash=applied_hash,
                                     next_event_sequence=next_event_sequence)
        self.assembler = ChunkAssembler()
        self.channel: grpc.aio.Channel | None = None
        self.call: grpc.aio.StreamStreamCall | None = None

    async def connect(self) -> FakeAgent:
        if self.credentials is not None:
            self.channel = grpc.aio.secure_channel(self.target, self.credentials, options=CHANNEL_OPTIONS)
        else:
            self.channel = grpc.aio.insecure_channel(self.target, options=CHANNEL_OPTIONS)
        metadata = (("authorization", f"Bearer {self.token}"),) if self.token else None
        self.call = fleet_pb2_grpc.FleetHubStub(self.channel).Connect(metadata=metadata)
        # refused before Hello was read (e.g. UNAUTHENTICATED): the write fails and read() raises the status
        with contextlib.suppress(grpc.aio.AioRpcError):
            await self.call.write(fleet_pb2.AgentMessage(hello=self.hello))
        return self

    async def send(self, **body: object) -> None:
        assert self.call is not None
        await self.call.write(fleet_pb2.AgentMessage(**body))

    async def read(self, timeout: float = TIMEOUT, skip_heartbeats: bool = True) -> fleet_pb2.HubMessage | None:
        """The next message (None at the end of the stream)."""
        assert self.call is not None
        async with asyncio.timeout(timeout):
            while True:
                message = await self.call.read()
                if message is grpc.aio.EOF:
                    return None
                if skip_heartbeats and message.WhichOneof("body") == "heartbeat":
                    continue
                return message

    async def expect(self, kind: str, timeout: float = TIMEOUT) -> fleet_pb2.HubMessage:
        message = await self.read(timeout)
        assert message is not None, f"stream ended while waiting for {kind}"
        assert message.WhichOneof("body") == kind, f"expected {kind}, got {message}"
        return message

    async def desired_state(self, timeout: float = TIMEOUT) -> fleet_pb2.DesiredState:
        """Read chunks until a whole desired state is assembled."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.expect("desired_state", timeout)
                state = self.assembler.add(message.desired_state)
                if state is not None:
                    return state

    async def ack(self, state: fleet_pb2.DesiredState) -> None:
        await self.send(desired_state_ack=fleet_pb2.DesiredStateAck(generation=state.generation,
                                                                     content_hash=state.content_hash))

    async def close(self) -> None:
        if self.call is not None:
            self.call.cancel()
        if self.channel is not None:
            await self.channel.close()


def make_state(revision: str = "abc123", apps: int = 1, manifest_bytes: int = 100) -> fleet_pb2.DesiredState:
    state = fleet_pb2.DesiredState(revision=revision)
    for index in range(apps):
        payload = "x" * manifest_bytes
        state.applications.add(name=f"app{index}", namespace="ml", revision=revision,
                               manifests_json=[f'{{"kind":"ConfigMap","data":{{"v":"{payload}"}}}}'])
    return state


@pytest.fixture
def tokens(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "tokens")


@pytest.fixture
async def hub(tmp_path: Path, tokens: TokenStore) -> AsyncIterator[HubHandle]:
    handle = await start_hub("127.0.0.1:0", tmp_path / "data", tokens, insecure=True, heartbeat_interval=0.5)
    yield handle
    await handle.stop(0.5)


@pytest.fixture
async def agents() -> AsyncIterator[list[FakeAgent]]:
    """Agents appended here are closed after the test."""
    created: list[FakeAgent] = []
    yield created
    for agent in created:
        await agent.close()


def refused(handle: HubHandle, reason: str) -> float:
    value = handle.hub.metrics.registry.get_sample_value("fleetline_hub_refused_connections_total",
                                                         {"reason": reason})
    return value or 0.0
