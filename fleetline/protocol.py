"""The hub-agent protocol rules both sides share: version skew, desired-state hashing and chunking, backoff.

Owns what the hub (`hub.sessions`) and the agent (`agent.session`) must compute identically so that they agree
on the wire: the protocol version and which peer versions are served, the content hash of a desired state, how a
desired state is cut into `DesiredStateChunk` messages that fit the message size limit and how the receiver puts
them back together, and the reconnect delay. It holds no connection, no state of its own beyond a
`ChunkAssembler` instance, and imports neither `hub` nor `agent`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from fleetline.wire import fleet_pb2

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 0
# A peer is served when it speaks the same major version and a minor version at most this far from ours.
MINOR_SKEW = 1

DEFAULT_HEARTBEAT_INTERVAL = 10.0  # seconds
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# The largest desired state a ChunkAssembler accepts by default: a bound on memory, far above any real fleet.
DEFAULT_MAX_STATE_BYTES = 1024 * 1024 * 1024

HASH_PREFIX = "sha256:"
# The capability an agent announces in Hello when it can reassemble chunked desired states.
CAPABILITY_CHUNKED_DESIRED_STATE = "chunked-desired-state"
# The capability a hub announces in Welcome when it accepts EventBatch messages (several events in one message).
CAPABILITY_EVENT_BATCHES = "event-batches"
# At most this many events go into one EventBatch (and never more bytes than the session's message limit).
MAX_EVENTS_PER_BATCH = 256

_MAX_UINT32 = 2**32 - 1
_MAX_UINT64 = 2**64 - 1


class ProtocolError(Exception):
    """The peer broke the protocol (chunks out of order, a content hash that does not check, ...)."""


def our_version() -> fleet_pb2.ProtocolVersion:
    """The protocol version this build speaks."""
    return fleet_pb2.ProtocolVersion(major=PROTOCOL_MAJOR, minor=PROTOCOL_MINOR)


def supported_minor_range() -> tuple[int, int]:
    """The lowest and highest peer minor versions served (within PROTOCOL_MAJOR)."""
    return max(0, PROTOCOL_MINOR - MINOR_SKEW), PROTOCOL_MINOR + MINOR_SKEW


def check_peer_protocol(version: fleet_pb2.ProtocolVersion | None, *, local: str = "hub") -> str | None:
    """None when a peer speaking `version` is served; otherwise a message for humans naming the versions.

    `local` names this side ("hub" or "agent") so the message says who should upgrade. An absent version
    (None, or an unset field, which reads 0.0) is never supported.
    """
    major = version.major if version is not None else 0
    minor = version.minor if version is not None else 0
    low, high = supported_minor_range()
    if major == PROTOCOL_MAJOR and low <= minor <= high:
        return None
    peer = "agent" if local == "hub" else "hub"
    served = f"{PROTOCOL_MAJOR}.{low}" if low == high else f"{PROTOCOL_MAJOR}.{low}-{PROTOCOL_MAJOR}.{high}"
    peer_is_older = (major, minor) < (PROTOCOL_MAJOR, low)
    upgrade = peer if peer_is_older else local
    return (
        f"protocol {major}.{minor} is not supported: this {local} speaks {PROTOCOL_MAJOR}.{PROTOCOL_MINOR} "
        f"and serves {peer}s {served} (upgrade the {upgrade} so both speak compatible versions)"
    )


def desired_state_hash(state: fleet_pb2.DesiredState) -> str:
    """"sha256:<hex>" over the deterministic serialization of `state` without content_hash and generation.

    The same content therefore hashes the same at every generation, and a hash already set on `state` does not
    feed into its own computation. `state` is not modified.
    """
    canonical = fleet_pb2.DesiredState()
    canonical.CopyFrom(state)
    canonical.ClearField("content_hash")
    canonical.ClearField("generation")
    digest = hashlib.sha256(canonical.SerializeToString(deterministic=True)).hexdigest()
    return HASH_PREFIX + digest


def _varint_size(value: int) -> int:
    size = 1
    while value >= 0x80:
        value >>= 7
        size += 1
    return size


def chunk_payload_budget(generation: int, content_hash: str, max_message_bytes: int) -> int:
    """How many data bytes one chunk may carry so that HubMessage(desired_state=chunk) fits the limit.

    Computed for the largest possible chunk_index/chunk_count, so the budget holds for every chunk.
    """
    probe = fleet_pb2.DesiredStateChunk(
        generation=generation, content_hash=content_hash, chunk_index=_MAX_UINT32, chunk_count=_MAX_UINT32
    )
    fixed = probe.ByteSize()
    # data: 1 tag byte + length varint; the chunk inside HubMessage: 1 tag byte + length varint.
    # Solve for the largest n with  1 + L(chunk) + chunk  <=  max,  chunk = fixed + 1 + L(n) + n.
    n = max_message_bytes - fixed - 2
    while n > 0:
        chunk = fixed + 1 + _varint_size(n) + n
        if 1 + _varint_size(chunk) + chunk <= max_message_bytes:
            return n
        n -= 1
    return 0


def split_desired_state(state: fleet_pb2.DesiredState, max_message_bytes: int) -> list[fleet_pb2.DesiredStateChunk]:
    """Cut `state` into chunks whose every HubMessage(desired_state=chunk) serializes to <= max_message_bytes.

    Each chunk carries state.generation and state.content_hash (computed with desired_state_hash when the state
    has none). The concatenated chunk data is the state's deterministic serialization. An empty state still
    yields one chunk. ValueError when the limit leaves no room for data.
    """
    content_hash = state.content_hash or desired_state_hash(state)
    budget = chunk_payload_budget(state.generation, content_hash, max_message_bytes)
    if budget < 1:
        raise ValueError(f"max_message_bytes={max_message_bytes} leaves no room for desired state data")
    data = state.SerializeToString(deterministic=True)
    count = max(1, -(-len(data) // budget))
    if count > _MAX_UINT32:
        raise ValueError(f"desired state of {len(data)} bytes needs more than {_MAX_UINT32} chunks")
    return [
        fleet_pb2.DesiredStateChunk(
            generation=state.generation,
            content_hash=content_hash,
            chunk_index=index,
            chunk_count=count,
            data=data[index * budget : (index + 1) * budget],
        )
        for index in range(count)
    ]


@dataclass
class _Partial:
    generation: int
    content_hash: str
    chunk_count: int
    next_index: int = 0
    size: int = 0
    parts: list[bytes] = field(default_factory=list)


class ChunkAssembler:
    """Reassembles DesiredStateChunk messages of one stream into DesiredState (one per stream/session).

    add() returns the whole state when the last chunk of a generation arrives and the content hash checks, else
    None. A chunk 0 of the same or a newer generation abandons any partial assembly (latest wins; the same
    generation may be re-sent from the start). Anything else out of order, a chunk of an older generation, a
    state larger than max_state_bytes, undecodable data or a hash that does not check raises ProtocolError and
    drops the partial assembly.
    """

    def __init__(self, max_state_bytes: int = DEFAULT_MAX_STATE_BYTES) -> None:
        self._max_state_bytes = max_state_bytes
        self._partial: _Partial | None = None

    @property
    def pending_generation(self) -> int | None:
        """The generation being assembled, or None when no assembly is in progress."""
        return self._partial.generation if self._partial is not None else None

    def reset(self) -> None:
        """Forget any partial assembly (e.g. when the stream ends)."""
        self._partial = None

    def add(self, chunk: fleet_pb2.DesiredStateChunk) -> fleet_pb2.DesiredState | None:
        try:
            return self._add(chunk)
        except ProtocolError:
            self._partial = None
            raise

    def _add(self, chunk: fleet_pb2.DesiredStateChunk) -> fleet_pb2.DesiredState | None:
        where = f"desired state chunk {chunk.chunk_index}/{chunk.chunk_count} of generation {chunk.generation}"
        if chunk.chunk_count < 1 or chunk.chunk_index >= chunk.chunk_count:
            raise ProtocolError(f"{where}: index out of range")
        partial = self._partial
        if chunk.chunk_index == 0:
            if partial is not None and chunk.generation < partial.generation:
                raise ProtocolError(f"{where}: older than the partial generation {partial.generation}")
            partial = self._partial = _Partial(chunk.generation, chunk.content_hash, chunk.chunk_count)
        elif partial is None:
            raise ProtocolError(f"{where}: no chunk 0 received for this generation")
        elif chunk.generation != partial.generation:
            raise ProtocolError(f"{where}: expected a chunk of generation {partial.generation}")
        elif chunk.chunk_count != partial.chunk_count or chunk.content_hash != partial.content_hash:
            raise ProtocolError(f"{where}: chunk_count or content_hash differs from chunk 0")
        elif chunk.chunk_index != partial.next_index:
            raise ProtocolError(f"{where}: out of order, expected chunk {partial.next_index}")
        partial.size += len(chunk.data)
        if partial.size > self._max_state_bytes:
            raise ProtocolError(f"{where}: desired state exceeds {self._max_state_bytes} bytes")
        partial.parts.append(chunk.data)
        partial.next_index += 1
        if partial.next_index < partial.chunk_count:
            return None
        self._partial = None
        state = fleet_pb2.DesiredState()
        try:
            state.ParseFromString(b"".join(partial.parts))
        except DecodeError as exc:
            raise ProtocolError(f"{where}: data does not decode as a DesiredState: {exc}") from exc
        actual = desired_state_hash(state)
        if actual != partial.content_hash:
            raise ProtocolError(f"{where}: content hash {actual} does not match the announced {partial.content_hash}")
        if state.generation != partial.generation:
            raise ProtocolError(f"{where}: the state inside carries generation {state.generation}")
        if not state.content_hash:
            state.content_hash = actual
        elif state.content_hash != actual:
            raise ProtocolError(f"{where}: the state's own content_hash {state.content_hash} does not check")
        return state


def full_jitter_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """AWS "full jitter" backoff: uniform(0, min(cap, base * 2**attempt)) seconds for retry number `attempt`."""
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, not {attempt}")
    ceiling = cap if attempt >= 64 else min(cap, base * (2**attempt))
    return rng.uniform(0.0, max(0.0, ceiling))


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or an IP address, IPv6 possibly in brackets) is the loopback interface: the only
    place either side may speak plain text (`--insecure`)."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
