"""SessionHub: the gRPC servicer of `FleetHub.Connect` and the in-process interface the rest of the hub uses.

One object holds both sides. The rest of the hub calls `push`, `request_sync`, `subscribe_events`,
`subscribe_status`, `registry` and `revoke`; agents reach `Connect`. Each live session runs one reader (the
agent's messages; silence for three heartbeat intervals ends the session) and one writer (the only coroutine
that writes to the stream, in this priority: Goodbye, a due Heartbeat, control messages such as Welcome and
SyncRequest, the coalesced EventAck, then the next chunk of the latest desired state). Latest wins: a push that
arrives while an older generation is being sent restarts at chunk 0 of the newer one.

Semantics kept here (docs/protocol.md describes them for users):
- desired state is level-triggered: sent after connect only when the agent's Hello.applied_hash differs, and
  persisted (with its generation) before push() returns, so a restarted hub neither re-pushes an unchanged
  state nor reuses a generation (it is sent while being written; should the hub die in between, the agent's
  Hello names a generation the hub lacks, and the hub continues above it);
- events are de-duplicated on (cluster, sequence) against the highest sequence held, which is persisted before
  consumers see the event and before it is acknowledged: consumers see each event exactly once;
- a second session of a cluster fences the first (Goodbye FENCED); a revoked credential gets Goodbye REVOKED.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import grpc

from fleetline import certs
from fleetline.protocol import (
    CAPABILITY_EVENT_BATCHES,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_MAX_MESSAGE_BYTES,
    check_peer_protocol,
    desired_state_hash,
    our_version,
    split_desired_state,
)
from fleetline.wire import fleet_pb2, fleet_pb2_grpc
from hub.sessions.metrics import HubMetrics
from hub.sessions.state import SessionState
from hub.sessions.subscriptions import DEFAULT_MAX_ITEMS, Subscription, SubscriptionOverflow, collect
from hub.sessions.tokens import TokenStore, normalize_fingerprint, token_hash, valid_cluster_name

__all__ = ["HUB_VERSION", "SessionHub", "SessionInfo", "Subscription", "SubscriptionOverflow", "collect", "kv"]

log = logging.getLogger(__name__)

HUB_VERSION = "0.1.0"
_INLINE_BYTES = 64 * 1024  # states above this are hashed and cut in a thread


def kv(**fields: object) -> str:
    """One log line of key=value pairs; values with spaces or quotes are quoted."""
    parts = []
    for key, value in fields.items():
        text = "" if value is None else str(value)
        if not text or any(c in text for c in ' "=\n'):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


@dataclass
class SessionInfo:
    """One live session, as `SessionHub.registry()` reports it (a snapshot, not a live view)."""

    cluster: str
    session_id: str
    connected_at: float  # unix seconds
    last_seen: float  # unix seconds of the last message from the agent
    agent_version: str
    protocol: str  # "major.minor"
    peer: str  # gRPC peer address, e.g. "ipv4:127.0.0.1:53122"
    region: str = ""
    auth: str = ""  # "token", "certificate" or "none" (insecure, no credential configured)
    applied_generation: int = 0
    applied_hash: str = ""


@dataclass
class _Credential:
    identity: str | None  # None: no credential configured (insecure development mode); Hello names the cluster
    kind: str
    fingerprint: str = ""  # certificate fingerprint (hex) or token hash


@dataclass
class _Refusal:
    reason: str  # metric label: bad_token, no_credentials, revoked, malformed_credentials, ...
    message: str
    goodbye: int = 0  # a GoodbyeReason to send instead of a gRPC status
    cluster: str = ""


@dataclass
class _Cluster:
    name: str
    desired: fleet_pb2.DesiredState | None
    event_sequence: int  # the highest sequence accepted (persisted or about to be)
    persisted_sequence: int = 0  # the highest sequence on disk: what consumers have seen and agents are acked
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    chunks: list[fleet_pb2.DesiredStateChunk] | None = None  # of `desired`, cut lazily
    pushed_at: dict[int, float] = field(default_factory=dict)  # generation -> monotonic time of push()
    status: fleet_pb2.StatusReport | None = None
    pending_syncs: list[fleet_pb2.SyncRequest] = field(default_factory=list)
    session: _Session | None = None
    sessions_seen: int = 0


class _Session:
    """The state of one live stream; only its writer coroutine writes to `context`."""

    def __init__(self, cluster: _Cluster, info: SessionInfo, credential: _Credential) -> None:
        self.cluster = cluster
        self.info = info
        self.credential = credential
        self.control: collections.deque[fleet_pb2.HubMessage] = collections.deque()
        self.wake = asyncio.Event()
        self.closing = asyncio.Event()
        self.goodbye: fleet_pb2.HubMessage | None = None
        self.close_reason = "agent_closed"
        self.agent_hash = ""
        self.ack_to_send = 0
        self.ack_sent = 0
        self.cursor_generation = -1
        self.cursor = 0
        self.last_read = asyncio.get_running_loop().time()  # loop time of the agent's last message

    def send(self, message: fleet_pb2.HubMessage) -> None:
        self.control.append(message)
        self.wake.set()

    def close(self, reason: int, message: str, metric_reason: str) -> None:
        if self.goodbye is None:
            self.goodbye = fleet_pb2.HubMessage(goodbye=fleet_pb2.Goodbye(reason=reason, message=message))
            self.close_reason = metric_reason
        self.closing.set()
        self.wake.set()


class SessionHub(fleet_pb2_grpc.FleetHubServicer):
    """The session registry, the in-process interface (push, request_sync, subscriptions) and the servicer."""

    def __init__(
        self,
        data_dir: str | Path,
        tokens: TokenStore | None = None,
        *,
        require_credentials: bool = False,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        metrics: HubMetrics | None = None,
        hub_version: str = HUB_VERSION,
        fsync: bool = True,
    ) -> None:
        self.tokens = tokens
        self.require_credentials = require_credentials or tokens is not None
        self.heartbeat_interval = heartbeat_interval
        self.max_message_bytes = max_message_bytes
        self.metrics = metrics if metrics is not None else HubMetrics()
        self.hub_version = hub_version
        self._state = SessionState(data_dir, fsync=fsync)
        self._clusters: dict[str, _Cluster] = {}
        self._event_subs: set[Subscription[tuple[str, fleet_pb2.Event]]] = set()
        # Events are persisted in batches: one write of every cluster's held sequence, then publish and ack.
        self._persisted: dict[str, int] = self._state.load_event_sequences()
        self._pending_events: list[tuple[_Cluster, fleet_pb2.Event]] = []
        self._persist_wanted = asyncio.Event()
        self._persist_dirty = False
        self._persister: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        # State files are written by threads that mostly wait on fsync: more of them than asyncio's default
        # pool, so that pushing to 1,000 clusters at once is not serialised on 6 threads.
        self._writer = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="hub-state")
        self._status_subs: set[Subscription[tuple[str, fleet_pb2.StatusReport]]] = set()
        self._revoked_fingerprints: set[str] = set()  # certificate revocations when there is no token store
        self._changed = asyncio.Condition()
        self._handlers: set[asyncio.Task[object]] = set()
        self._live = 0  # clusters with a live session (a counter: walking every cluster per open/close is O(N))
        self._closed = False

    # ---- the in-process interface --------------------------------------------------------------------------

    def _cluster(self, name: str) -> _Cluster:
        record = self._clusters.get(name)
        if record is None:
            if not valid_cluster_name(name):
                raise ValueError(f"invalid cluster name {name!r}: use lower-case letters, digits, '-' and '.'")
            held = self._persisted.get(name)
            if held is None:
                held = self._persisted[name] = self._state.load_event_sequence(name)
            record = _Cluster(name, self._state.load_desired(name), held, held,
                              pending_syncs=self._state.load_pending_syncs(name))
            self._clusters[name] = record
        return record

    async def push(self, cluster: str, state: fleet_pb2.DesiredState) -> fleet_pb2.DesiredState:
        """Make `state` the cluster's desired state; returns it as stored (generation and content_hash set).

        A generation of 0 means "the next one". A state whose content hash equals the current one changes
        nothing (no new generation, nothing sent). The state is persisted before any agent is sent it.
        """
        record = self._cluster(cluster)
        new = fleet_pb2.DesiredState()
        new.CopyFrom(state)
        new.cluster = cluster
        async with record.lock:
            # a large state is hashed off the loop; a small one inline (a thread hop costs more than the hash)
            if new.ByteSize() > _INLINE_BYTES:
                new.content_hash = await asyncio.to_thread(desired_state_hash, new)
            else:
                new.content_hash = desired_state_hash(new)
            current = record.desired
            previous_generation = current.generation if current is not None else 0
            if current is not None and current.content_hash == new.content_hash \
                    and new.generation in (0, current.generation):
                return current
            if new.generation == 0:
                new.generation = previous_generation + 1
            elif new.generation <= previous_generation:
                raise ValueError(f"cluster {cluster}: generation {new.generation} is not newer than the current "
                                 f"{previous_generation} (pass 0 to take the next one)")
            # Sent while it is being written: the agent does not wait for the hub's disk. push() returns once it
            # is durable (and holds the cluster's lock until then, so writes of one cluster stay in order). A hub
            # that dies in between finds the generation in the agent's Hello and continues above it.
            chunks = None
            if new.ByteSize() > _INLINE_BYTES:  # a large state is cut off the loop too
                chunks = await asyncio.to_thread(split_desired_state, new, self.max_message_bytes)
            record.desired, record.chunks = new, chunks
            record.pushed_at = {new.generation: time.monotonic()}
            if record.session is not None:
                record.session.wake.set()
            await self._write(self._state.save_desired, cluster, new)
            self.metrics.pushes.inc()
            log.info(kv(event="desired_state_pushed", cluster=cluster, generation=new.generation,
                        revision=new.revision, hash=new.content_hash, applications=len(new.applications),
                        connected=record.session is not None))
        return new

    def desired_state(self, cluster: str) -> fleet_pb2.DesiredState | None:
        """The cluster's current desired state (as pushed and persisted), or None."""
        return self._cluster(cluster).desired

    async def request_sync(self, cluster: str, app: str, revision: str, approver: str, prune: bool = False) -> str:
        """Ask the cluster's agent to sync `app` at `revision`; returns the request id its events will carry.

        Sent at once on a live session, else kept (on disk: a hub restart keeps it) and sent right after the
        cluster's next Welcome.
        """
        record = self._cluster(cluster)
        request = fleet_pb2.SyncRequest(request_id=uuid.uuid4().hex, application=app, revision=revision,
                                        approved_by=approver, prune=prune)
        if record.session is not None:
            record.session.send(fleet_pb2.HubMessage(sync_request=request))
        else:
            async with record.lock:
                record.pending_syncs.append(request)
                await self._write(self._state.save_pending_syncs, cluster, list(record.pending_syncs))
        log.info(kv(event="sync_requested", cluster=cluster, app=app, revision=revision, approver=approver,
                    request_id=request.request_id, delivered_now=record.session is not None))
        return request.request_id

    def subscribe_events(self, max_items: int = DEFAULT_MAX_ITEMS) -> Subscription[tuple[str, fleet_pb2.Event]]:
        """Every event accepted from now on, once each, as (cluster, Event); a consumer more than `max_items`
        behind is cut off with SubscriptionOverflow (see hub/sessions/subscriptions.py)."""
        return Subscription(self._event_subs, max_items)

    def subscribe_status(self, max_items: int = DEFAULT_MAX_ITEMS
                         ) -> Subscription[tuple[str, fleet_pb2.StatusReport]]:
        """Every status report received from now on, as (cluster, StatusReport); bounded like subscribe_events."""
        return Subscription(self._status_subs, max_items)

    def status(self, cluster: str) -> fleet_pb2.StatusReport | None:
        """The latest status report of the cluster received since this hub started."""
        record = self._clusters.get(cluster)
        return record.status if record is not None else None

    def registry(self) -> list[SessionInfo]:
        """The live sessions, one per connected cluster, sorted by cluster."""
        return [replace(r.session.info) for r in sorted(self._clusters.values(), key=lambda r: r.name)
                if r.session is not None]

    async def revoke(self, cluster: str) -> None:
        """Revoke the cluster's credentials (its tokens; the certificate of its live session) and close it."""
        if self.tokens is not None:
            await asyncio.to_thread(self.tokens.revoke, cluster)
        record = self._clusters.get(cluster)
        session = record.session if record is not None else None
        if session is not None and session.credential.kind == "certificate":
            self.revoke_certificate(session.credential.fingerprint)
        if session is not None:
            session.close(fleet_pb2.REVOKED, f"the credential of cluster {cluster} was revoked", "revoked")
        log.warning(kv(event="credential_revoked", cluster=cluster, live_session_closed=session is not None))

    def revoke_certificate(self, fingerprint: str) -> None:
        """Refuse a client certificate (SHA-256 fingerprint) from now on; live sessions using it are closed."""
        fingerprint = normalize_fingerprint(fingerprint)
        if self.tokens is not None:
            self.tokens.revoke_certificate(fingerprint)
        self._revoked_fingerprints.add(fingerprint)
        for record in self._clusters.values():
            session = record.session
            if session is not None and session.credential.kind == "certificate" \
                    and session.credential.fingerprint == fingerprint:
                session.close(fleet_pb2.REVOKED, "the client certificate was revoked", "revoked")

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait until `predicate()` holds, re-checked whenever a session opens, closes or acknowledges."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def close(self, grace: float = 1.0) -> None:
        """Say Goodbye SHUTTING_DOWN to every session, wait up to `grace` for them, end the subscriptions."""
        self._closed = True
        for record in self._clusters.values():
            if record.session is not None:
                record.session.close(fleet_pb2.SHUTTING_DOWN, "the hub is shutting down", "shutting_down")
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=grace)
        await self._flush_events()  # after any flush in progress (the lock), before the persister stops
        if self._persister is not None:
            self._persister.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._persister
        self._writer.shutdown(wait=True)
        for sub in list(self._event_subs) + list(self._status_subs):
            sub.close()

    # ---- the servicer --------------------------------------------------------------------------------------

    async def Connect(self, request_iterator: object, context: grpc.aio.ServicerContext) -> None:  # noqa: N802
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await self._connect(context)
        finally:
            if task is not None:
                self._handlers.discard(task)

    def _refuse(self, refusal: _Refusal, peer: str) -> None:
        self.metrics.refused.labels(refusal.reason).inc()
        log.warning(kv(event="session_refused", reason=refusal.reason, cluster=refusal.cluster, peer=peer,
                       message=refusal.message))

    async def _goodbye(self, context: grpc.aio.ServicerContext, reason: int, message: str) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError, RuntimeError):
            await context.write(fleet_pb2.HubMessage(goodbye=fleet_pb2.Goodbye(reason=reason, message=message)))
            self.metrics.messages_out.labels("goodbye").inc()

    async def _connect(self, context: grpc.aio.ServicerContext) -> None:
        peer = context.peer()
        if self._closed:
            await self._goodbye(context, fleet_pb2.SHUTTING_DOWN, "the hub is shutting down")
            return
        credential = self._authenticate(context)
        if isinstance(credential, _Refusal):
            self._refuse(credential, peer)
            if credential.goodbye:
                # Take the agent's Hello first: ending the stream while its first write is in flight makes
                # gRPC fail that write, and the call, with INTERNAL, so the Goodbye could be lost.
                with contextlib.suppress(TimeoutError, grpc.aio.AioRpcError, asyncio.InvalidStateError):
                    await asyncio.wait_for(context.read(), timeout=self.heartbeat_interval)
                await self._goodbye(context, credential.goodbye, credential.message)
                return
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, credential.message)
            return
        try:
            first = await asyncio.wait_for(context.read(), timeout=3 * self.heartbeat_interval)
        except TimeoutError:
            self._refuse(_Refusal("no_hello", "no Hello within three heartbeat intervals"), peer)
            return
        if first is grpc.aio.EOF or first.WhichOneof("body") != "hello":
            message = "the first message of a session must be Hello"
            self._refuse(_Refusal("protocol_error", message), peer)
            await self._goodbye(context, fleet_pb2.PROTOCOL_ERROR, message)
            return
        self.metrics.messages_in.labels("hello").inc()
        hello = first.hello
        refusal = self._check_hello(hello, credential)
        if refusal is not None:
            self._refuse(refusal, peer)
            await self._goodbye(context, refusal.goodbye, refusal.message)
            return
        await self._run_session(context, hello, credential, peer)

    def _authenticate(self, context: grpc.aio.ServicerContext) -> _Credential | _Refusal:
        metadata = {key.lower(): value for key, value in (context.invocation_metadata() or ())}
        authorization = metadata.get("authorization")
        if isinstance(authorization, bytes):
            authorization = authorization.decode("utf-8", "replace")
        if authorization is not None and self.tokens is not None:
            scheme, _, token = authorization.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return _Refusal("malformed_credentials", "the authorization metadata must be 'Bearer <token>'")
            cluster = self.tokens.verify(token)
            if cluster is not None:
                return _Credential(cluster, "token", token_hash(token))
            revoked = self.tokens.revoked_token_cluster(token)
            if revoked is not None:
                return _Refusal("revoked", f"the token of cluster {revoked} was revoked", fleet_pb2.REVOKED, revoked)
            return _Refusal("bad_token", "the bearer token is not known to this hub (issue one with "
                                         "`fleetline hub-token issue CLUSTER`)")
        auth = context.auth_context() or {}
        pems = auth.get("x509_pem_cert") or []
        if pems:
            pem = pems[0]
            try:
                identity = certs.identity_of(pem)
                fingerprint = normalize_fingerprint(certs.certificate_fingerprint(pem))
            except ValueError as exc:
                return _Refusal("bad_certificate", f"the client certificate cannot be read: {exc}")
            if identity is None:
                return _Refusal("bad_certificate", "the client certificate names no cluster (no SAN URI "
                                                   "spiffe://fleetline/cluster/<name> and no CN)")
            if fingerprint in self._revoked_fingerprints or (
                    self.tokens is not None and self.tokens.is_revoked(fingerprint)):
                return _Refusal("revoked", f"the client certificate of cluster {identity} was revoked",
                                fleet_pb2.REVOKED, identity)
            return _Credential(identity, "certificate", fingerprint)
        if self.require_credentials:
            return _Refusal("no_credentials", "this hub requires a bearer token or a client certificate")
        return _Credential(None, "none")

    def _check_hello(self, hello: fleet_pb2.Hello, credential: _Credential) -> _Refusal | None:
        problem = check_peer_protocol(hello.protocol if hello.HasField("protocol") else None, local="hub")
        if problem is not None:
            return _Refusal("unsupported_protocol", problem, fleet_pb2.UNSUPPORTED_PROTOCOL, hello.cluster)
        if credential.identity is not None and hello.cluster != credential.identity:
            return _Refusal("identity_mismatch", f"Hello names cluster {hello.cluster!r} but the credential "
                            f"belongs to cluster {credential.identity!r}", fleet_pb2.IDENTITY_MISMATCH,
                            hello.cluster)
        if not valid_cluster_name(hello.cluster):
            return _Refusal("identity_mismatch", f"invalid cluster name {hello.cluster!r}",
                            fleet_pb2.IDENTITY_MISMATCH, hello.cluster)
        return None

    async def _run_session(self, context: grpc.aio.ServicerContext, hello: fleet_pb2.Hello,
                           credential: _Credential, peer: str) -> None:
        record = self._cluster(hello.cluster)
        now = time.time()
        info = SessionInfo(
            cluster=hello.cluster, session_id=uuid.uuid4().hex, connected_at=now, last_seen=now,
            agent_version=hello.agent_version, protocol=f"{hello.protocol.major}.{hello.protocol.minor}",
            peer=peer, region=hello.region, auth=credential.kind, applied_generation=hello.applied_generation,
            applied_hash=hello.applied_hash)
        session = _Session(record, info, credential)
        session.agent_hash = hello.applied_hash
        async with record.lock:
            await self._adopt_agent_generation(record, hello)
            old = record.session
            if old is not None:
                old.close(fleet_pb2.FENCED, f"a newer session {info.session_id} of cluster {hello.cluster} "
                          f"from {peer} took over", "fenced")
            if record.sessions_seen or hello.applied_generation:
                self.metrics.reconnects.inc()
            record.sessions_seen += 1
            if old is None:
                self._live += 1
            record.session = session
            if 0 < hello.next_event_sequence <= record.event_sequence:
                log.warning(kv(event="agent_sequence_restarted", cluster=hello.cluster,
                               next_event_sequence=hello.next_event_sequence, held=record.event_sequence,
                               action="accepting its sequences from 1 again (its outbox was lost)"))
                record.event_sequence = record.persisted_sequence = 0
                self._persisted[record.name] = 0
                self._request_persist()
        self.metrics.connected.set(self._live)
        session.send(fleet_pb2.HubMessage(welcome=fleet_pb2.Welcome(
            session_id=info.session_id, heartbeat_interval_ms=max(1, round(self.heartbeat_interval * 1000)),
            hub_version=self.hub_version, protocol=our_version(), max_message_bytes=self.max_message_bytes,
            acked_event_sequence=record.persisted_sequence, capabilities=[CAPABILITY_EVENT_BATCHES])))
        session.ack_sent = session.ack_to_send = record.persisted_sequence
        if record.pending_syncs:
            for request in record.pending_syncs:
                session.send(fleet_pb2.HubMessage(sync_request=request))
            record.pending_syncs = []
            await self._write(self._state.save_pending_syncs, record.name, [])
        log.info(kv(event="session_opened", cluster=hello.cluster, session=info.session_id, peer=peer,
                    auth=credential.kind, agent_version=hello.agent_version, protocol=info.protocol,
                    region=hello.region, applied_generation=hello.applied_generation))
        await self._notify()
        reader = asyncio.create_task(self._read_loop(session, context))
        writer = asyncio.create_task(self._write_loop(session, context))
        closing = asyncio.create_task(session.closing.wait())
        try:
            await asyncio.wait({reader, writer, closing}, return_when=asyncio.FIRST_COMPLETED)
            if session.closing.is_set() and not writer.done():
                await asyncio.wait({writer}, timeout=max(1.0, self.heartbeat_interval))
            if reader.done() and not reader.cancelled() and reader.exception() is None:
                session.close_reason = reader.result() or session.close_reason
        finally:
            # The bookkeeping comes before any await: when the agent hangs up right after a Goodbye, gRPC
            # cancels this handler, and the cancellation lands on the first await of this block.
            for task in (reader, writer, closing):
                task.cancel()
            if record.session is session:
                record.session = None
                self._live -= 1
            self.metrics.connected.set(self._live)
            self.metrics.sessions_closed.labels(session.close_reason).inc()
            log.info(kv(event="session_closed", cluster=hello.cluster, session=info.session_id,
                        reason=session.close_reason))
            results = await asyncio.gather(reader, writer, closing, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                    log.warning(kv(event="session_error", cluster=hello.cluster, session=info.session_id,
                                   error=repr(result)))
            await self._notify()

    async def _adopt_agent_generation(self, record: _Cluster, hello: fleet_pb2.Hello) -> None:
        """If the agent holds a newer generation than ours (the hub lost its data dir), continue above it."""
        desired = record.desired
        if desired is None or hello.applied_generation < desired.generation:
            return
        if hello.applied_hash == desired.content_hash:
            return
        restamped = fleet_pb2.DesiredState()
        restamped.CopyFrom(desired)
        restamped.generation = hello.applied_generation + 1
        await self._write(self._state.save_desired, record.name, restamped)
        record.desired, record.chunks = restamped, None
        log.warning(kv(event="generation_restamped", cluster=record.name, agent_generation=hello.applied_generation,
                       generation=restamped.generation))

    def _recheck_credential(self, session: _Session) -> None:
        """Close a live session whose credential was revoked elsewhere (e.g. `fleetline hub-token revoke`)."""
        credential = session.credential
        if self.tokens is None or credential.kind not in ("token", "certificate"):
            return
        try:
            if credential.kind == "token":
                revoked = self.tokens.cluster_of_hash(credential.fingerprint) != credential.identity
            else:
                revoked = self.tokens.is_revoked(credential.fingerprint)
        except (OSError, ValueError) as exc:
            log.warning(kv(event="token_file_unreadable", error=str(exc), action="keeping live sessions"))
            return
        if revoked:
            session.close(fleet_pb2.REVOKED, f"the credential of cluster {session.cluster.name} was revoked",
                          "revoked")

    async def _read_loop(self, session: _Session, context: grpc.aio.ServicerContext) -> str:
        # Silence is judged by the writer (it wakes on timers anyway): a timeout per read would cost a task or
        # a timer for every message.
        loop = asyncio.get_running_loop()
        counted = self.metrics.messages_in_by_kind()
        while True:
            message = await context.read()
            if message is grpc.aio.EOF:
                return "agent_closed"
            session.last_read = loop.time()
            if not await self._on_message(session, message, counted):
                return "protocol_error"

    async def _on_message(self, session: _Session, message: fleet_pb2.AgentMessage,
                          counted: Callable[[str], object]) -> bool:
        """Handle one message of the agent; False when it broke the protocol (the session is closing)."""
        cluster = session.cluster
        session.info.last_seen = time.time()
        kind = message.WhichOneof("body") or "unknown"
        counted(kind).inc()
        if kind == "event":
            self._on_event(session, message.event)
        elif kind == "events":
            for event in message.events.events:
                self._on_event(session, event)
        elif kind == "status":
            cluster.status = message.status
            for sub in list(self._status_subs):
                sub.publish((cluster.name, message.status))
        elif kind == "desired_state_ack":
            await self._on_ack(session, message.desired_state_ack)
        elif kind == "hello":
            session.close(fleet_pb2.PROTOCOL_ERROR, "Hello may only be the first message", "protocol_error")
            return False
        # heartbeat: last_seen is enough; unknown bodies (a newer minor version) are ignored
        return True

    def _on_event(self, session: _Session, event: fleet_pb2.Event) -> None:
        cluster = session.cluster
        if event.sequence <= cluster.event_sequence:
            self.metrics.duplicate_events.inc()
            session.ack_to_send = cluster.persisted_sequence
            session.wake.set()
            return
        cluster.event_sequence = event.sequence
        self._pending_events.append((cluster, event))
        self._request_persist()

    async def _write(self, function: Callable[..., None], *args: object) -> None:
        await asyncio.get_running_loop().run_in_executor(self._writer, function, *args)

    def _request_persist(self) -> None:
        self._persist_dirty = True
        self._persist_wanted.set()
        if self._persister is None or self._persister.done():
            self._persister = asyncio.get_running_loop().create_task(self._persist_loop())

    async def _persist_loop(self) -> None:
        while True:
            await self._persist_wanted.wait()
            self._persist_wanted.clear()
            await self._flush_events()

    async def _flush_events(self) -> None:
        """Write the held sequences of every event accepted since the last flush (one atomic write), then
        publish those events to the consumers and acknowledge them to their agents, in order."""
        async with self._flush_lock:
            if not self._persist_dirty:
                return
            self._persist_dirty = False
            batch, self._pending_events = self._pending_events, []
            for cluster, event in batch:
                self._persisted[cluster.name] = max(self._persisted.get(cluster.name, 0), event.sequence)
            # shielded: once the batch is taken it is written and published whole, even if close() cancels us
            await asyncio.shield(asyncio.to_thread(self._state.save_event_sequences, dict(self._persisted)))
            self._publish(batch)

    def _publish(self, batch: list[tuple[_Cluster, fleet_pb2.Event]]) -> None:
        touched: dict[str, _Cluster] = {}
        for cluster, event in batch:
            cluster.persisted_sequence = max(cluster.persisted_sequence, event.sequence)
            for sub in list(self._event_subs):
                sub.publish((cluster.name, event))
            touched[cluster.name] = cluster
        for cluster in touched.values():
            if cluster.session is not None:
                cluster.session.ack_to_send = cluster.persisted_sequence
                cluster.session.wake.set()

    async def _on_ack(self, session: _Session, ack: fleet_pb2.DesiredStateAck) -> None:
        cluster = session.cluster
        session.agent_hash = ack.content_hash
        session.info.applied_generation = ack.generation
        session.info.applied_hash = ack.content_hash
        current = cluster.desired is not None and ack.content_hash == cluster.desired.content_hash
        pushed = cluster.pushed_at.pop(ack.generation, None)
        if pushed is not None and current:
            self.metrics.push_to_ack.observe(time.monotonic() - pushed)
        if current:
            cluster.chunks = None  # delivered: free the serialized copy (cut again if another agent needs it)
        log.info(kv(event="desired_state_acked", cluster=cluster.name, generation=ack.generation,
                    hash=ack.content_hash))
        await self._notify()

    def _next_message(self, session: _Session, heartbeat_due: bool) -> fleet_pb2.HubMessage | None:
        if session.goodbye is not None:
            return session.goodbye
        if heartbeat_due:
            return fleet_pb2.HubMessage(heartbeat=fleet_pb2.Heartbeat(sent_at_ms=int(time.time() * 1000)))
        if session.control:
            return session.control.popleft()
        if session.ack_to_send > session.ack_sent:
            session.ack_sent = session.ack_to_send
            return fleet_pb2.HubMessage(event_ack=fleet_pb2.EventAck(sequence=session.ack_to_send))
        cluster = session.cluster
        desired = cluster.desired
        if desired is None or desired.content_hash == session.agent_hash:
            return None
        if session.cursor_generation != desired.generation:
            session.cursor_generation, session.cursor = desired.generation, 0
        if cluster.chunks is None:
            cluster.chunks = split_desired_state(desired, self.max_message_bytes)
        if session.cursor >= len(cluster.chunks):
            return None  # all sent: waiting for the agent's ack
        chunk = cluster.chunks[session.cursor]
        session.cursor += 1
        return fleet_pb2.HubMessage(desired_state=chunk)

    async def _write_loop(self, session: _Session, context: grpc.aio.ServicerContext) -> None:
        loop = asyncio.get_running_loop()
        silence_limit = 3 * self.heartbeat_interval
        next_heartbeat = loop.time() + self.heartbeat_interval
        while True:
            session.wake.clear()
            if loop.time() - session.last_read >= silence_limit:
                log.warning(kv(event="peer_silent", cluster=session.cluster.name, session=session.info.session_id,
                               seconds=silence_limit, action="session dropped"))
                session.close_reason = "heartbeat_timeout"
                return
            message = self._next_message(session, loop.time() >= next_heartbeat)
            if message is None:
                # wake at the next heartbeat or when silence would end the session, whichever is first (a timer,
                # not wait_for: no task per idle wait)
                timer = loop.call_at(min(next_heartbeat, session.last_read + silence_limit), session.wake.set)
                try:
                    await session.wake.wait()
                finally:
                    timer.cancel()
                continue
            await context.write(message)
            kind = message.WhichOneof("body")
            self.metrics.messages_out.labels(kind).inc()
            if kind == "heartbeat":
                next_heartbeat = loop.time() + self.heartbeat_interval
                self._recheck_credential(session)
            elif kind == "goodbye":
                log.info(kv(event="goodbye_sent", cluster=session.cluster.name, session=session.info.session_id,
                            reason=fleet_pb2.GoodbyeReason.Name(message.goodbye.reason),
                            message=message.goodbye.message))
                return

