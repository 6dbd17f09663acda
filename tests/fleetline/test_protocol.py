"""fleetline.protocol: version skew, desired-state hashing, chunking and reassembly, full-jitter backoff."""

from __future__ import annotations

import json
import random

import pytest

from fleetline import protocol
from fleetline.protocol import ChunkAssembler, ProtocolError
from fleetline.wire import fleet_pb2

MIB = 1024 * 1024


def make_state(generation: int = 1, manifests: int = 3, manifest_bytes: int = 200, revision: str = "abc123"):
    apps = []
    for app in range(2):
        docs = []
        for i in range(manifests):
            doc = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{app}-{i}", "namespace": "ml"},
                "data": {"blob": f"{app}-{i}-" + "x" * manifest_bytes},
            }
            docs.append(json.dumps(doc, sort_keys=True))
        apps.append(
            fleet_pb2.ApplicationBundle(
                name=f"app-{app}",
                namespace="ml",
                revision=revision,
                manifests_json=docs,
                sync_policy=fleet_pb2.SyncPolicy(automated=fleet_pb2.Automated(prune=True, self_heal=True)),
            )
        )
    state = fleet_pb2.DesiredState(cluster="us-east-1", generation=generation, revision=revision, applications=apps)
    state.content_hash = protocol.desired_state_hash(state)
    return state


def wire_size(chunk: fleet_pb2.DesiredStateChunk) -> int:
    return len(fleet_pb2.HubMessage(desired_state=chunk).SerializeToString())


# ---- versions ---------------------------------------------------------------------------------------------


def test_our_version_is_the_constants() -> None:
    version = protocol.our_version()
    assert (version.major, version.minor) == (protocol.PROTOCOL_MAJOR, protocol.PROTOCOL_MINOR) == (1, 0)


@pytest.mark.parametrize("minor", [0, 1])
def test_same_major_within_one_minor_is_supported(minor: int) -> None:
    assert protocol.check_peer_protocol(fleet_pb2.ProtocolVersion(major=1, minor=minor)) is None


@pytest.mark.parametrize(("major", "minor"), [(1, 2), (1, 3), (2, 0), (0, 9), (0, 0)])
def test_unsupported_versions_name_the_supported_range(major: int, minor: int) -> None:
    message = protocol.check_peer_protocol(fleet_pb2.ProtocolVersion(major=major, minor=minor))
    assert message is not None
    assert f"protocol {major}.{minor} is not supported" in message
    assert "speaks 1.0" in message and "1.0-1.1" in message


def test_unsupported_message_says_who_upgrades() -> None:
    newer = protocol.check_peer_protocol(fleet_pb2.ProtocolVersion(major=1, minor=3))
    older = protocol.check_peer_protocol(fleet_pb2.ProtocolVersion(major=0, minor=5))
    assert "this hub" in newer and "upgrade the hub" in newer
    assert "upgrade the agent" in older
    from_agent = protocol.check_peer_protocol(fleet_pb2.ProtocolVersion(major=2, minor=0), local="agent")
    assert "this agent" in from_agent and "serves hubs" in from_agent


def test_unset_version_is_refused() -> None:
    assert protocol.check_peer_protocol(fleet_pb2.Hello().protocol) is not None
    assert protocol.check_peer_protocol(None) is not None


# ---- hashing ----------------------------------------------------------------------------------------------


def test_hash_ignores_generation_and_existing_hash() -> None:
    a = make_state(generation=1)
    b = make_state(generation=7)
    b.content_hash = "sha256:bogus"
    assert protocol.desired_state_hash(a) == protocol.desired_state_hash(b)
    assert a.content_hash.startswith("sha256:") and len(a.content_hash) == len("sha256:") + 64
    assert b.generation == 7 and b.content_hash == "sha256:bogus"  # the argument is not modified


def test_hash_changes_with_content() -> None:
    a = make_state()
    b = make_state()
    b.applications[0].manifests_json[0] = b.applications[0].manifests_json[0].replace("x", "y", 1)
    c = make_state(revision="def456")
    assert len({protocol.desired_state_hash(s) for s in (a, b, c)}) == 3


def test_hash_survives_a_round_trip_through_the_wire() -> None:
    state = make_state()
    copy = fleet_pb2.DesiredState.FromString(state.SerializeToString())
    assert protocol.desired_state_hash(copy) == state.content_hash


# ---- chunking ---------------------------------------------------------------------------------------------


def test_twenty_megabyte_state_splits_under_four_mib_and_reassembles_whole() -> None:
    state = make_state(generation=42, manifests=1100, manifest_bytes=10_000)
    assert state.ByteSize() > 20 * MIB
    chunks = protocol.split_desired_state(state, protocol.DEFAULT_MAX_MESSAGE_BYTES)
    assert len(chunks) == 6
    assert all(wire_size(c) <= protocol.DEFAULT_MAX_MESSAGE_BYTES for c in chunks)
    assert [c.chunk_index for c in chunks] == list(range(len(chunks)))
    assert {(c.generation, c.content_hash, c.chunk_count) for c in chunks} == {(42, state.content_hash, 6)}
    assembler = ChunkAssembler()
    results = [assembler.add(c) for c in chunks]
    assert results[:-1] == [None] * (len(chunks) - 1)
    assert results[-1] == state
    assert assembler.pending_generation is None


@pytest.mark.parametrize("limit", [300, 1000, 4096, 8192])
def test_every_chunk_fits_small_limits(limit: int) -> None:
    state = make_state(manifests=20, manifest_bytes=500)
    chunks = protocol.split_desired_state(state, limit)
    assert len(chunks) > 1
    assert max(wire_size(c) for c in chunks) <= limit
    # the budget is tight: chunks are not much smaller than the limit allows
    assert max(wire_size(c) for c in chunks) > limit - 16
    assembler = ChunkAssembler()
    assert [assembler.add(c) for c in chunks][-1] == state


def test_empty_state_is_one_chunk() -> None:
    state = fleet_pb2.DesiredState(cluster="eu-1", generation=3)
    state.content_hash = protocol.desired_state_hash(state)
    chunks = protocol.split_desired_state(state, 1024)
    assert len(chunks) == 1 and chunks[0].chunk_count == 1
    assert ChunkAssembler().add(chunks[0]) == state


def test_split_fills_in_a_missing_hash() -> None:
    state = make_state()
    state.ClearField("content_hash")
    chunks = protocol.split_desired_state(state, 1000)
    assert chunks[0].content_hash == protocol.desired_state_hash(state)
    assembler = ChunkAssembler()
    whole = [assembler.add(c) for c in chunks][-1]
    assert whole.content_hash == chunks[0].content_hash


def test_limit_too_small_for_any_data_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        protocol.split_desired_state(make_state(), 80)


def test_newer_generation_discards_a_partial_older_one() -> None:
    old = protocol.split_desired_state(make_state(generation=1, manifests=20), 1000)
    new_state = make_state(generation=2, manifests=21)
    new = protocol.split_desired_state(new_state, 1000)
    assembler = ChunkAssembler()
    for chunk in old[: len(old) // 2]:
        assert assembler.add(chunk) is None
    assert assembler.pending_generation == 1
    results = [assembler.add(c) for c in new]
    assert results[-1] == new_state
    # the rest of the abandoned generation is now out of order
    with pytest.raises(ProtocolError, match="no chunk 0"):
        assembler.add(old[len(old) // 2])


def test_same_generation_may_restart_from_chunk_zero() -> None:
    state = make_state(manifests=20)
    chunks = protocol.split_desired_state(state, 1000)
    assembler = ChunkAssembler()
    assembler.add(chunks[0])
    assembler.add(chunks[1])
    assert [assembler.add(c) for c in chunks][-1] == state


def test_older_generation_while_a_newer_is_partial_is_an_error() -> None:
    newer = protocol.split_desired_state(make_state(generation=5, manifests=20), 1000)
    older = protocol.split_desired_state(make_state(generation=4, manifests=20), 1000)
    assembler = ChunkAssembler()
    assembler.add(newer[0])
    with pytest.raises(ProtocolError, match="older than the partial generation 5"):
        assembler.add(older[0])
    assert assembler.pending_generation is None


def test_corrupted_chunk_fails_the_hash() -> None:
    state = make_state(manifests=20)
    chunks = protocol.split_desired_state(state, 1000)
    victim = chunks[len(chunks) // 2]
    data = bytearray(victim.data)
    position = data.index(b"x")
    data[position] = ord("y")  # still decodes: a flipped byte inside a manifest string
    victim.data = bytes(data)
    assembler = ChunkAssembler()
    with pytest.raises(ProtocolError, match="content hash .* does not match"):
        for chunk in chunks:
            assembler.add(chunk)
    # the assembler recovers: the next clean send is accepted
    assert [assembler.add(c) for c in protocol.split_desired_state(state, 1000)][-1] == state


def test_undecodable_data_is_a_protocol_error() -> None:
    chunk = fleet_pb2.DesiredStateChunk(generation=1, content_hash="sha256:x", chunk_count=1, data=b"\xff\xff\xff")
    with pytest.raises(ProtocolError, match="does not decode"):
        ChunkAssembler().add(chunk)


def test_generation_inside_must_match_the_chunks() -> None:
    state = make_state(generation=3)
    chunks = protocol.split_desired_state(state, 1_000_000)
    chunks[0].generation = 4
    with pytest.raises(ProtocolError, match="carries generation 3"):
        ChunkAssembler().add(chunks[0])


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda cs: cs.pop(1), "out of order, expected chunk 1"),
        (lambda cs: cs.insert(2, cs[1]), "out of order, expected chunk 2"),
        (lambda cs: cs.pop(0), "no chunk 0"),
        (lambda cs: setattr(cs[1], "generation", 9), "expected a chunk of generation 1"),
        (lambda cs: setattr(cs[1], "chunk_count", 99), "chunk_count or content_hash differs"),
        (lambda cs: setattr(cs[1], "chunk_index", 500), "index out of range"),
        (lambda cs: setattr(cs[0], "chunk_count", 0), "index out of range"),
    ],
)
def test_out_of_order_chunks_are_protocol_errors(mutate, match: str) -> None:
    chunks = protocol.split_desired_state(make_state(generation=1, manifests=20), 1000)
    mutate(chunks)
    assembler = ChunkAssembler()
    with pytest.raises(ProtocolError, match=match):
        for chunk in chunks:
            assembler.add(chunk)


def test_assembler_bounds_memory() -> None:
    chunks = protocol.split_desired_state(make_state(manifests=20), 1000)
    assembler = ChunkAssembler(max_state_bytes=2000)
    with pytest.raises(ProtocolError, match="exceeds 2000 bytes"):
        for chunk in chunks:
            assembler.add(chunk)


# ---- backoff ----------------------------------------------------------------------------------------------


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        delays = [protocol.full_jitter_delay(attempt, 0.5, 30.0, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # jitter spans the range rather than sitting at one value
        assert min(delays) < ceiling * 0.2


def test_full_jitter_is_reproducible_with_a_seeded_rng_and_capped_for_huge_attempts() -> None:
    a = [protocol.full_jitter_delay(n, 0.5, 30.0, random.Random(1)) for n in range(5)]
    b = [protocol.full_jitter_delay(n, 0.5, 30.0, random.Random(1)) for n in range(5)]
    assert a == b
    assert 0.0 <= protocol.full_jitter_delay(10_000, 0.5, 30.0, random.Random(1)) <= 30.0
    with pytest.raises(ValueError):
        protocol.full_jitter_delay(-1, 0.5, 30.0, random.Random(1))


def test_defaults() -> None:
    assert protocol.DEFAULT_HEARTBEAT_INTERVAL == 10.0
    assert protocol.DEFAULT_MAX_MESSAGE_BYTES == 4 * MIB


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("10.0.0.1", False), ("0.0.0.0", False), ("hub.example.com", False), ("", False),
])
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert protocol.is_loopback_host(host) is loopback
