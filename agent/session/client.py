"""The agent's session with the hub: one outbound bidirectional gRPC stream, kept up for the agent's lifetime.

Owns the session state machine on the agent side: dial out, Hello (with the generation and hash of the cached
desired state and the next event sequence), Welcome (drop the events the hub already holds), then concurrently:
reassemble desired-state chunks, cache them durably, acknowledge them and hand them to the reconciler callback
(latest wins); drain the outbox in sequence order; send the newest status report; send heartbeats and treat a
hub silent for three intervals as dead. A lost session is redialled with full-jitter exponential backoff (reset
after a healthy session); a Goodbye that retrying cannot fix (FENCED, REVOKED, UNSUPPORTED_PROTOCOL,
IDENTITY_MISMATCH) or a refused credential stops the session with `SessionRefused` instead of hammering the hub.

Before it ever dials, the session hands the cached desired state to the callback, so the agent keeps enforcing
its last state while the hub is unreachable. Callbacks run one at a time in their own task, so a slow reconciler
never stalls the stream; a state that arrives while one runs replaces any state still waiting (latest wins). The
session writes nothing to a cluster itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge

from agent.session.cache import DesiredStateCache
from agent.session.outbox import Outbox
from fleetline import protocol
from fleetline.wire import fleet_pb2, fleet_pb2_grpc

log = logging.getLogger(__name__)

AGENT_VERSION = "0.1.0"
FATAL_GOODBYES = {
    fleet_pb2.FENCED: "a newer session for this cluster took over (is a second agent running with this identity?)",
    fleet_pb2.REVOKED: "the hub revoked this cluster's credential (issue a new one)",
    fleet_pb2.UNSUPPORTED_PROTOCOL: "the hub does not serve this agent's protocol version (upgrade one side)",
    fleet_pb2.IDENTITY_MISMATCH: "--cluster does not match the identity of the credential",
}
FATAL_STATUS_CODES = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}
HANDSHAKE_TIMEOUT = 10.0
DEFAULT_RECEIVE_LIMIT = 64 * 1024 * 1024

DesiredStateCallback = Callable[[fleet_pb2.DesiredState], Awaitable[None]]
SyncRequestCallback = Callable[[fleet_pb2.SyncRequest], Awaitable[None]]


class SessionState(enum.StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STOPPED = "stopped"


class SessionRefused(Exception):
    """The hub refused this agent for a reason retrying cannot fix; the session has stopped."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"hub refused the session: {reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class TlsCredentials:
    """PEM bytes of the client certificate, its key and the CA that signed the hub's certificate."""

    cert: bytes
    key: bytes
    ca: bytes


@dataclass(frozen=True)
class TokenCredentials:
    """A per-cluster bearer token; `ca` verifies the hub's certificate (None: the system's roots)."""

    token: str
    ca: bytes | None = None


Credentials = str | tuple[bytes, bytes, bytes] | TlsCredentials | TokenCredentials | None


class _SessionEnded(Exception):
    """The current stream is over (hub gone, silent or misbehaving); redial."""


class SessionMetrics:
    """The agent's Prometheus metrics, on a registry owned by the session."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.connected = Gauge("fleetline_agent_connected", "1 while a session with the hub is up",
                               registry=self.registry)
        self.reconnects = Counter("fleetline_agent_reconnects", "Redials after a lost or failed session",
                                  registry=self.registry)
        self.outbox_depth = Gauge("fleetline_agent_outbox_depth", "Events waiting for the hub's acknowledgement",
                                  registry=self.registry)
        self.messages = Counter("fleetline_agent_messages", "Messages on the hub stream",
                                ["direction", "type"], registry=self.registry)
        self.generation = Gauge("fleetline_agent_desired_state_generation",
                                "Generation of the desired state the agent holds", registry=self.registry)


def _is_loopback(address: str) -> bool:
    return protocol.is_loopback_host(address.rsplit(":", 1)[0] if ":" in address else address)


def _normalize_credentials(credentials: Credentials) -> TlsCredentials | TokenCredentials | None:
    if credentials is None or isinstance(credentials, TlsCredentials | TokenCredentials):
        return credentials
    if isinstance(credentials, str):
        return TokenCredentials(credentials)
    cert, key, ca = credentials
    return TlsCredentials(cert, key, ca)


def _now_ms() -> int:
    return int(time.time() * 1000)


class AgentSession:
    """The agent's side of the wire. `await run()` until `stop()`; `emit()` and `report_status()` any time."""

    def __init__(
        self,
        hub_address: str,
        cluster: str,
        region: str,
        cache_dir: str | os.PathLike[str],
        credentials: Credentials = None,
        *,
        insecure: bool = False,
        on_desired_state: DesiredStateCallback | None = None,
        on_sync_request: SyncRequestCallback | None = None,
        heartbeat_interval: float | None = None,
        outbox_capacity: int = 10_000,
        reconnect_base: float = 0.5,
        reconnect_cap: float = 30.0,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        max_receive_bytes: int = DEFAULT_RECEIVE_LIMIT,
        rng: random.Random | None = None,
        registry: CollectorRegistry | None = None,
        agent_version: str = AGENT_VERSION,
    ) -> None:
        self.hub_address = hub_address
        self.cluster = cluster
        self.region = region
        self.credentials = _normalize_credentials(credentials)
        self.insecure = insecure
        if insecure and not _is_loopback(hub_address):
            raise ValueError(f"--insecure (plain text) is only allowed to a loopback hub address, not {hub_address}")
        if not insecure and self.credentials is None:
            raise ValueError("no credential: give a token or a client certificate (or --insecure on loopback)")
        if isinstance(self.credentials, TlsCredentials) and insecure:
            raise ValueError("a client certificate needs TLS: drop --insecure")
        self.cache_dir = Path(cache_dir)
        self.cache = DesiredStateCache(self.cache_dir)
        self.outbox = Outbox(self.cache_dir / "outbox", outbox_capacity)
        self.on_desired_state = on_desired_state
        self.on_sync_request = on_sync_request
        self.heartbeat_override = heartbeat_interval
        self.heartbeat_interval = heartbeat_interval or protocol.DEFAULT_HEARTBEAT_INTERVAL
        self.reconnect_base = reconnect_base
        self.reconnect_cap = reconnect_cap
        self.handshake_timeout = handshake_timeout
        self.max_receive_bytes = max_receive_bytes
        self.max_message_bytes = protocol.DEFAULT_MAX_MESSAGE_BYTES
        self.agent_version = agent_version
        self.rng = rng if rng is not None else random.Random()
        self.metrics = SessionMetrics(registry)
        self.session_id: str | None = None
        self.error: SessionRefused | None = None
        self.applied: fleet_pb2.DesiredState | None = None
        self._state = SessionState.DISCONNECTED
        self._state_changed = asyncio.Condition()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._status: fleet_pb2.StatusReport | None = None
        self._status_dirty = False
        self._sent_sequence = 0
        self._batch_events = False  # the hub's Welcome listed "event-batches"
        self._send_lock = asyncio.Lock()
        self._deliver_slot: fleet_pb2.DesiredState | None = None
        self._deliver_wake = asyncio.Event()
        self._handed_over = asyncio.Event()
        self._last_received = 0.0
        self._call: grpc.aio.StreamStreamCall | None = None
        self._end_reason: str | None = None
        self._session_task: asyncio.Task[bool] | None = None
        self._cleaning_up = False
        self.metrics.outbox_depth.set(len(self.outbox))

    # ---- public -------------------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    def emit(self, event: fleet_pb2.Event) -> fleet_pb2.Event:
        """Queue an event (durably, with the next sequence) for delivery to the hub; returns the stored copy."""
        stored = self.outbox.add(event)
        self.metrics.outbox_depth.set(len(self.outbox))
        self._wake.set()
        return stored

    def report_status(self, status: fleet_pb2.StatusReport) -> None:
        """Replace the status to send: only the newest unsent report goes out (latest wins)."""
        report = fleet_pb2.StatusReport()
        report.CopyFrom(status)
        if not report.observed_at_ms:
            report.observed_at_ms = _now_ms()
        self._status = report
        self._status_dirty = True
        self._wake.set()

    def stop(self) -> None:
        """Ask run() to end the session and return."""
        self._stop.set()
        self._end_call("stopped")

    async def wait_for_state(self, state: SessionState, timeout: float) -> None:
        """Wait until the session is in `state` (TimeoutError after `timeout` seconds)."""
        async with asyncio.timeout(timeout), self._state_changed:
            await self._state_changed.wait_for(lambda: self._state == state)

    async def run(self) -> None:
        """Run until stop() (returns) or a refusal retrying cannot fix (raises SessionRefused)."""
        deliverer = asyncio.create_task(self._deliver_loop(), name="agent-deliver")
        try:
            cached = self.cache.load()
            if cached is not None:
                self.applied = cached
                self.metrics.generation.set(cached.generation)
                log.info("event=cached_state_loaded cluster=%s generation=%d revision=%s hash=%s", self.cluster,
                         cached.generation, cached.revision, cached.content_hash)
                # handed over before the first dial; a slow reconciler does not hold the connection back
                self._hand_over(cached)
                await self._handed_over.wait()
            attempt = 0
            while not self._stop.is_set():
                self._session_task = asyncio.create_task(self._session(), name="agent-session")
                try:
                    healthy = await self._session_task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # run() itself is being cancelled
                    healthy = False
                finally:
                    self._session_task = None
                if self._stop.is_set() or self.error is not None:
                    break
                if healthy:
                    attempt = 0
                delay = protocol.full_jitter_delay(attempt, self.reconnect_base, self.reconnect_cap, self.rng)
                attempt += 1
                self.metrics.reconnects.inc()
                log.info("event=reconnect_scheduled cluster=%s hub=%s delay_s=%.3f attempt=%d", self.cluster,
                         self.hub_address, delay, attempt)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
        finally:
            deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deliverer
            await self._set_state(SessionState.STOPPED)
            self.outbox.close()
        if self.error is not None:
            raise self.error

    # ---- one session ----------------------------------------------------------------------------------

    def _channel(self) -> grpc.aio.Channel:
        options = [("grpc.max_receive_message_length", self.max_receive_bytes),
                   ("grpc.max_send_message_length", self.max_receive_bytes)]
        creds = self.credentials
        if self.insecure:
            return grpc.aio.insecure_channel(self.hub_address, options=options)
        if isinstance(creds, TlsCredentials):
            ssl = grpc.ssl_channel_credentials(root_certificates=creds.ca, private_key=creds.key,
                                               certificate_chain=creds.cert)
        else:
            ssl = grpc.ssl_channel_credentials(root_certificates=creds.ca if creds is not None else None)
        return grpc.aio.secure_channel(self.hub_address, ssl, options=options)

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        if isinstance(self.credentials, TokenCredentials):
            return (("authorization", f"Bearer {self.credentials.token}"),)
        return ()

    def _hello(self) -> fleet_pb2.AgentMessage:
        hello = fleet_pb2.Hello(
            cluster=self.cluster, region=self.region, agent_version=self.agent_version,
            protocol=protocol.our_version(), capabilities=[protocol.CAPABILITY_CHUNKED_DESIRED_STATE],
            next_event_sequence=self.outbox.next_sequence,
        )
        if self.applied is not None:
            hello.applied_generation = self.applied.generation
            hello.applied_hash = self.applied.content_hash
        return fleet_pb2.AgentMessage(hello=hello)

    async def _session(self) -> bool:
        """One stream from dial to end. Returns whether it was healthy (welcomed and up for a heartbeat).

        stop() and the liveness watchdog end it through _end_call(), which records the reason and cancels this
        task; the cancellation is then absorbed here as an ordinary end of session.
        """
        await self._set_state(SessionState.CONNECTING)
        welcomed_at: float | None = None
        tasks: list[asyncio.Task[None]] = []
        self._end_reason = None
        try:
            async with self._channel() as channel:
                call = fleet_pb2_grpc.FleetHubStub(channel).Connect(metadata=self._metadata())
                self._call = call
                self._last_received = time.monotonic()
                handshake_watchdog = asyncio.create_task(self._watchdog(True), name="agent-handshake-watchdog")
                tasks.append(handshake_watchdog)
                await self._send(call, self._hello())
                first = await call.read()
                if first is grpc.aio.EOF:
                    raise _SessionEnded("the hub closed the stream before Welcome")
                self._alive()
                self._count_in(first)
                if first.WhichOneof("body") == "goodbye":
                    self._goodbye(first.goodbye)
                if first.WhichOneof("body") != "welcome":
                    raise _SessionEnded(f"expected Welcome, got {first.WhichOneof('body')}")
                self._welcome(first.welcome)
                handshake_watchdog.cancel()
                welcomed_at = time.monotonic()
                await self._set_state(SessionState.CONNECTED)
                assembler = protocol.ChunkAssembler()
                tasks += [asyncio.create_task(self._watchdog(False), name="agent-watchdog"),
                          asyncio.create_task(self._sender(call), name="agent-sender"),
                          asyncio.create_task(self._heartbeats(call), name="agent-heartbeats")]
                while True:
                    message = await call.read()
                    if message is grpc.aio.EOF:
                        raise _SessionEnded("the hub closed the stream")
                    self._alive()
                    self._count_in(message)
                    await self._handle(call, message, assembler)
        except _SessionEnded as exc:
            self._log_lost(str(exc))
        except asyncio.CancelledError:
            if self._end_reason is None:
                raise  # cancelled from outside: not ours to swallow
            asyncio.current_task().uncancel()
            self._log_lost(self._end_reason)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in FATAL_STATUS_CODES:
                with contextlib.suppress(SessionRefused):
                    self._refuse(exc.code().name, exc.details() or "credential refused")
            elif self._end_reason is not None:
                self._log_lost(self._end_reason)
            else:
                self._log_lost(exc.details() or "", code=exc.code().name)
        except SessionRefused:
            pass
        finally:
            self._cleaning_up = True
            self._call = None
            for task in tasks:
                task.cancel()
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, Exception) and not isinstance(result, grpc.aio.AioRpcError | grpc.aio.UsageError):
                    log.warning("event=session_task_failed cluster=%s error=%r", self.cluster, repr(result))
            self.metrics.connected.set(0)
            if self._state != SessionState.STOPPED:
                await self._set_state(SessionState.DISCONNECTED)
            self._cleaning_up = False
        return welcomed_at is not None and time.monotonic() - welcomed_at >= self.heartbeat_interval

    def _log_lost(self, reason: str, code: str = "") -> None:
        if reason == "stopped":
            log.info("event=session_stopped cluster=%s hub=%s", self.cluster, self.hub_address)
            return
        log.warning("event=session_lost cluster=%s hub=%s%s reason=%r", self.cluster, self.hub_address,
                    f" code={code}" if code else "", reason)

    def _end_call(self, reason: str) -> None:
        """End the live stream (stop(), or a silent hub): cancel the call and the task waiting on it.

        Both, because a pending write can outlive a cancelled call (grpc.aio waits for initial metadata that
        never comes when the call is cancelled before it is sent)."""
        if self._session_task is None or self._session_task.done() or self._cleaning_up:
            return
        self._end_reason = self._end_reason or reason
        if self._call is not None:
            self._call.cancel()
        self._session_task.cancel()

    def _alive(self) -> None:
        self._last_received = time.monotonic()

    async def _watchdog(self, handshake: bool) -> None:
        """End the stream when the hub says nothing: no Welcome within the handshake timeout, then nothing at
        all (heartbeats included) for three heartbeat intervals."""
        while True:
            limit = self.handshake_timeout if handshake else 3 * self.heartbeat_interval
            remaining = self._last_received + limit - time.monotonic()
            if remaining <= 0:
                self._end_call(f"no Welcome within {limit:.1f}s" if handshake
                               else f"the hub was silent for {limit:.1f}s (three heartbeats)")
                return
            await asyncio.sleep(remaining)  # a deadline that moves with every message, re-checked on waking

    def _welcome(self, welcome: fleet_pb2.Welcome) -> None:
        problem = protocol.check_peer_protocol(welcome.protocol, local="agent")
        if problem is not None:
            self._refuse("UNSUPPORTED_PROTOCOL", problem)
        if self.heartbeat_override is None and welcome.heartbeat_interval_ms:
            self.heartbeat_interval = welcome.heartbeat_interval_ms / 1000
        if welcome.max_message_bytes:
            self.max_message_bytes = welcome.max_message_bytes
        self.session_id = welcome.session_id
        self._batch_events = protocol.CAPABILITY_EVENT_BATCHES in welcome.capabilities
        self.outbox.ack(welcome.acked_event_sequence)
        self.metrics.outbox_depth.set(len(self.outbox))
        self._sent_sequence = welcome.acked_event_sequence
        if self._status is not None:
            self._status_dirty = True  # a new hub process may not have it
        self.metrics.connected.set(1)
        self._wake.set()
        log.info("event=session_up cluster=%s hub=%s session=%s hub_version=%s heartbeat_s=%.3f acked_event=%d "
                 "pending_events=%d", self.cluster, self.hub_address, welcome.session_id, welcome.hub_version,
                 self.heartbeat_interval, welcome.acked_event_sequence, len(self.outbox))

    def _refuse(self, reason: str, message: str) -> None:
        self.error = SessionRefused(reason, message)
        log.error("event=session_refused cluster=%s hub=%s reason=%s message=%r", self.cluster, self.hub_address,
                  reason, message)
        raise self.error

    def _goodbye(self, goodbye: fleet_pb2.Goodbye) -> None:
        reason = fleet_pb2.GoodbyeReason.Name(goodbye.reason)
        if goodbye.reason in FATAL_GOODBYES:
            self._refuse(reason, goodbye.message or FATAL_GOODBYES[goodbye.reason])
        raise _SessionEnded(f"Goodbye {reason}: {goodbye.message}")

    async def _handle(self, call: grpc.aio.StreamStreamCall, message: fleet_pb2.HubMessage,
                      assembler: protocol.ChunkAssembler) -> None:
        kind = message.WhichOneof("body")
        if kind == "desired_state":
            try:
                state = assembler.add(message.desired_state)
            except protocol.ProtocolError as exc:
                # redial: the new Hello carries the hash we hold, so the hub sends its state again
                raise _SessionEnded(f"bad desired state from the hub: {exc}") from exc
            if state is not None:
                await self._received_state(call, state)
        elif kind == "event_ack":
            self.outbox.ack(message.event_ack.sequence)
            self.metrics.outbox_depth.set(len(self.outbox))
        elif kind == "goodbye":
            self._goodbye(message.goodbye)
        elif kind == "sync_request":
            request = message.sync_request
            log.info("event=sync_requested cluster=%s app=%s revision=%s approved_by=%s request_id=%s",
                     self.cluster, request.application, request.revision, request.approved_by, request.request_id)
            if self.on_sync_request is not None:
                await self.on_sync_request(request)
        # heartbeat: reading it was the point; welcome again: ignored

    async def _received_state(self, call: grpc.aio.StreamStreamCall, state: fleet_pb2.DesiredState) -> None:
        if state.cluster and state.cluster != self.cluster:
            log.error("event=desired_state_refused cluster=%s state_cluster=%s generation=%d reason=%r",
                      self.cluster, state.cluster, state.generation, "desired state of another cluster")
            return
        try:
            await asyncio.to_thread(self.cache.save, state)  # a large state: hash, write and fsync off the loop
        except OSError as exc:
            # not durably held: do not acknowledge, but still enforce it
            log.error("event=cache_write_failed cluster=%s path=%s error=%r", self.cluster, self.cache.path, str(exc))
        else:
            await self._send(call, fleet_pb2.AgentMessage(desired_state_ack=fleet_pb2.DesiredStateAck(
                generation=state.generation, content_hash=state.content_hash)))
        self.applied = state
        self.metrics.generation.set(state.generation)
        log.info("event=desired_state_received cluster=%s generation=%d revision=%s hash=%s applications=%d",
                 self.cluster, state.generation, state.revision, state.content_hash, len(state.applications))
        self._hand_over(state)

    def _hand_over(self, state: fleet_pb2.DesiredState) -> None:
        """Give `state` to the reconciler callback; one replaces another not yet handed over (latest wins)."""
        self._handed_over.clear()
        self._deliver_slot = state
        self._deliver_wake.set()

    async def _sender(self, call: grpc.aio.StreamStreamCall) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            for message, last_sequence in self._event_messages():
                await self._send(call, message)
                self._sent_sequence = last_sequence
            if self._status_dirty and self._status is not None:
                self._status_dirty = False
                message = fleet_pb2.AgentMessage(status=self._status)
                if message.ByteSize() > self.max_message_bytes:
                    log.warning("event=status_too_large cluster=%s bytes=%d limit=%d", self.cluster,
                                message.ByteSize(), self.max_message_bytes)
                else:
                    await self._send(call, message)

    def _event_messages(self) -> Iterator[tuple[fleet_pb2.AgentMessage, int]]:
        """The unsent events of the outbox as messages, each with the last sequence it carries: one event per
        message, or, when the hub accepts batches, whatever is pending in as few EventBatch messages as the
        message limit and MAX_EVENTS_PER_BATCH allow (a burst of drift costs the hub one read, not hundreds)."""
        if not self._batch_events:
            for event in self.outbox.pending(after=self._sent_sequence):
                yield self._fit(fleet_pb2.AgentMessage(event=event)), event.sequence
            return
        batch = fleet_pb2.EventBatch()
        size = 0
        limit = self.max_message_bytes - 64  # room for the AgentMessage and EventBatch framing
        for event in self.outbox.pending(after=self._sent_sequence):
            event = self._fit(fleet_pb2.AgentMessage(event=event)).event
            event_size = event.ByteSize() + 8  # the field tag and length of a repeated entry
            if batch.events and (size + event_size > limit or len(batch.events) >= protocol.MAX_EVENTS_PER_BATCH):
                yield fleet_pb2.AgentMessage(events=batch), batch.events[-1].sequence
                batch, size = fleet_pb2.EventBatch(), 0
            batch.events.append(event)
            size += event_size
        if batch.events:
            yield fleet_pb2.AgentMessage(events=batch), batch.events[-1].sequence

    def _fit(self, message: fleet_pb2.AgentMessage) -> fleet_pb2.AgentMessage:
        """An event larger than the hub accepts would block the outbox forever: send it without its details
        (the same way on every attempt, so the hub's de-duplication still holds) and say so."""
        size = message.ByteSize()
        if size <= self.max_message_bytes:
            return message
        event = message.event
        log.warning("event=event_truncated cluster=%s sequence=%d type=%s bytes=%d limit=%d", self.cluster,
                    event.sequence, fleet_pb2.EventType.Name(event.type), size, self.max_message_bytes)
        slim = fleet_pb2.Event()
        slim.CopyFrom(event)
        slim.details_json = json.dumps({"truncated": True, "original_bytes": size})
        slim.message = event.message[:1024]
        return fleet_pb2.AgentMessage(event=slim)

    async def _heartbeats(self, call: grpc.aio.StreamStreamCall) -> None:
        while True:
            await self._send(call, fleet_pb2.AgentMessage(heartbeat=fleet_pb2.Heartbeat(sent_at_ms=_now_ms())))
            await asyncio.sleep(self.heartbeat_interval)  # a period, not a wait for a condition

    async def _send(self, call: grpc.aio.StreamStreamCall, message: fleet_pb2.AgentMessage) -> None:
        async with self._send_lock:
            await call.write(message)
        self.metrics.messages.labels("out", message.WhichOneof("body")).inc()

    def _count_in(self, message: fleet_pb2.HubMessage) -> None:
        self.metrics.messages.labels("in", message.WhichOneof("body") or "unknown").inc()

    # ---- handing desired state to the reconciler ---------------------------------------------------------

    async def _deliver_loop(self) -> None:
        while True:
            await self._deliver_wake.wait()
            self._deliver_wake.clear()
            state, self._deliver_slot = self._deliver_slot, None
            self._handed_over.set()
            if state is not None:
                await self._deliver(state)

    async def _deliver(self, state: fleet_pb2.DesiredState) -> None:
        if self.on_desired_state is None:
            return
        try:
            await self.on_desired_state(state)
        except Exception:  # the reconciler's failure must not end the session
            log.exception("event=desired_state_callback_failed cluster=%s generation=%d", self.cluster,
                          state.generation)

    async def _set_state(self, state: SessionState) -> None:
        async with self._state_changed:
            self._state = state
            self._state_changed.notify_all()
