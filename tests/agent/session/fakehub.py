"""A small scripted hub for the agent session tests: a real grpc.aio server on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from fleetline import protocol
from fleetline.certs import identity_from_auth_context
from fleetline.wire import fleet_pb2, fleet_pb2_grpc


@dataclass
class FakeSession:
    hello: fleet_pb2.Hello
    metadata: dict[str, str]
    identity: str | None = None  # the verified client certificate's cluster, on a mutual-TLS hub
    outgoing: asyncio.Queue[fleet_pb2.HubMessage | None] = field(default_factory=asyncio.Queue)
    received: list[fleet_pb2.AgentMessage] = field(default_factory=list)
    ended: bool = False

    def of(self, kind: str) -> list:
        return [getattr(m, kind) for m in self.received if m.WhichOneof("body") == kind]


class FakeHub(fleet_pb2_grpc.FleetHubServicer):
    """Records what the agent sends; answers Hello with Welcome (or a scripted Goodbye / abort)."""

    def __init__(self, heartbeat_interval_ms: int = 200, max_message_bytes: int = 4096) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.max_message_bytes = max_message_bytes
        self.send_heartbeats = True
        self.auto_ack_events = False
        self.goodbye: fleet_pb2.Goodbye | None = None
        self.abort_code: grpc.StatusCode | None = None
        self.state: fleet_pb2.DesiredState | None = None  # sent after Welcome when the Hello's hash differs
        self.acked_event_sequence = 0
        self.capabilities: list[str] = []  # announced in Welcome, e.g. "event-batches"
        self.events: dict[int, fleet_pb2.Event] = {}  # de-duplicated on sequence, as the real hub does
        self.event_receipts = 0
        self.sessions: list[FakeSession] = []
        self._changed = asyncio.Condition()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @property
    def current(self) -> FakeSession:
        return self.sessions[-1]

    async def send(self, message: fleet_pb2.HubMessage) -> None:
        await self.current.outgoing.put(message)

    async def close_current(self) -> None:
        await self.current.outgoing.put(None)

    async def Connect(self, request_iterator, context: grpc.aio.ServicerContext):  # noqa: N802 - gRPC's name
        first = await context.read()
        session = FakeSession(first.hello, {k: v for k, v in context.invocation_metadata()},
                              identity_from_auth_context(context.auth_context()))
        self.sessions.append(session)
        await self._notify()
        if self.abort_code is not None:
            await context.abort(self.abort_code, "refused by the fake hub")
        if self.goodbye is not None:
            await context.write(fleet_pb2.HubMessage(goodbye=self.goodbye))
            session.ended = True
            await self._notify()
            return
        await context.write(fleet_pb2.HubMessage(welcome=fleet_pb2.Welcome(
            session_id=f"s{len(self.sessions)}", heartbeat_interval_ms=self.heartbeat_interval_ms, hub_version="fake",
            protocol=protocol.our_version(), max_message_bytes=self.max_message_bytes,
            acked_event_sequence=self.acked_event_sequence, capabilities=self.capabilities)))
        if self.state is not None and self.state.content_hash != first.hello.applied_hash:
            for chunk in protocol.split_desired_state(self.state, self.max_message_bytes):
                await context.write(fleet_pb2.HubMessage(desired_state=chunk))

        async def reader() -> None:
            while True:
                message = await context.read()
                if message is grpc.aio.EOF:
                    await session.outgoing.put(None)
                    return
                session.received.append(message)
                kind = message.WhichOneof("body")
                if kind in ("event", "events"):
                    batch = [message.event] if kind == "event" else list(message.events.events)
                    for event in batch:
                        self.event_receipts += 1
                        self.events.setdefault(event.sequence, event)
                    if self.auto_ack_events:
                        self.acked_event_sequence = max(self.acked_event_sequence, batch[-1].sequence)
                        await session.outgoing.put(fleet_pb2.HubMessage(
                            event_ack=fleet_pb2.EventAck(sequence=self.acked_event_sequence)))
                await self._notify()

        async def heartbeats() -> None:
            while self.send_heartbeats:
                await session.outgoing.put(fleet_pb2.HubMessage(heartbeat=fleet_pb2.Heartbeat(sent_at_ms=1)))
                await asyncio.sleep(self.heartbeat_interval_ms / 1000)  # a period, not a wait for a condition

        tasks = [asyncio.create_task(reader()), asyncio.create_task(heartbeats())]
        try:
            while True:
                message = await session.outgoing.get()
                if message is None:
                    return
                await context.write(message)
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError, grpc.aio.UsageError):
                    await task
            session.ended = True
            await self._notify()


async def start_fake_hub(hub: FakeHub, port: int = 0,
                         tls: tuple[bytes, bytes, bytes] | None = None) -> tuple[grpc.aio.Server, int]:
    """Serve `hub` on loopback; `tls` = (server cert, key, client CA) requires and verifies client certificates."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 1)])
    fleet_pb2_grpc.add_FleetHubServicer_to_server(hub, server)
    if tls is None:
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
    else:
        cert, key, client_ca = tls
        credentials = grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                                  require_client_auth=True)
        bound = server.add_secure_port(f"127.0.0.1:{port}", credentials)
    await server.start()
    return server, bound


def make_state(cluster: str = "us-east-1", generation: int = 1, manifest_bytes: int = 100,
               apps: int = 1) -> fleet_pb2.DesiredState:
    state = fleet_pb2.DesiredState(cluster=cluster, generation=generation, revision=f"rev{generation}")
    for i in range(apps):
        state.applications.add(name=f"app{i}", namespace="ml",
                               manifests_json=['{"kind": "ConfigMap", "data": "' + "x" * manifest_bytes + '"}'])
    state.content_hash = protocol.desired_state_hash(state)
    return state
