"""End to end over real gRPC on loopback: the real hub (`hub.sessions.start_hub`) and the real agent session
(`agent.session.client.AgentSession`), each on its own side of the wire, with per-cluster bearer tokens.

The unit tests of each side talk to a fake peer; these tests prove the two implementations agree on the
protocol of docs/protocol.md: pushed desired state reaches the agent's callback and cache and the hub sees the
ack; events reach the hub's subscribers exactly once, across an agent restart; a reconnect with an unchanged
state re-sends nothing; a state above the message limit arrives whole; and an agent of one cluster can never
receive another cluster's desired state.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from agent.session.cache import DesiredStateCache
from agent.session.client import SessionRefused, SessionState, TlsCredentials
from fleetline import certs
from fleetline.protocol import our_version
from fleetline.wire import fleet_pb2, fleet_pb2_grpc
from hub.sessions.server import start_hub
from hub.sessions.tokens import TokenStore
from tests.wire.support import HEARTBEAT, TIMEOUT, A, B, Fleet, collect, connected, desired, event, start_agent


async def test_pushed_state_reaches_the_agent_its_cache_and_the_hub_sees_the_ack(fleet, agents):
    agent = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    await connected(fleet, agent)

    stored = await fleet.hub.hub.push(A, desired(A, "r1"))
    got = await agent.next_state()

    assert got == stored
    assert (got.cluster, got.generation, got.revision) == (A, 1, "r1")
    assert got.content_hash.startswith("sha256:")
    await fleet.hub.hub.wait_for(
        lambda: [(i.applied_generation, i.applied_hash) for i in fleet.hub.hub.registry()]
        == [(1, stored.content_hash)], TIMEOUT)
    assert fleet.sample("fleetline_hub_push_to_ack_seconds_count") == 1
    assert DesiredStateCache(fleet.root / "a").load() == stored
    assert agent.sample("fleetline_agent_messages_total", direction="out", type="desired_state_ack") == 1

    # a newer push replaces it (latest wins) and arrives with the next generation
    second = await fleet.hub.hub.push(A, desired(A, "r2"))
    assert (await agent.next_state()) == second
    assert second.generation == 2


async def test_restarted_agent_enforces_its_cache_first_and_an_unchanged_state_is_not_resent(fleet, agents):
    first = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    await connected(fleet, first)
    stored = await fleet.hub.hub.push(A, desired(A, "r1"))
    assert (await first.next_state()) == stored
    await fleet.hub.hub.wait_for(lambda: [i.applied_generation for i in fleet.hub.hub.registry()] == [1], TIMEOUT)
    assert await first.stop() is None
    sent_before = fleet.sample("fleetline_hub_messages_sent_total", type="desired_state")

    again = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    # autonomy: the cached state is handed over before (and whether or not) the hub answers
    assert (await again.next_state()) == stored
    await connected(fleet, again)
    # the next state the new session receives is the newer push, not the unchanged one again
    newer = await fleet.hub.hub.push(A, desired(A, "r2"))
    assert (await again.next_state()) == newer
    assert again.sample("fleetline_agent_messages_total", direction="in", type="desired_state") == 1
    assert fleet.sample("fleetline_hub_messages_sent_total", type="desired_state") == sent_before + 1


async def test_events_reach_hub_subscribers_exactly_once_in_order_across_an_agent_restart(fleet, agents):
    events = fleet.hub.hub.subscribe_events()
    agent = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    kinds = [fleet_pb2.DRIFT_DETECTED, fleet_pb2.SYNC_STARTED, fleet_pb2.SYNC_SUCCEEDED, fleet_pb2.DRIFT_HEALED]
    # emitted before the session is up: queued on disk, delivered in order once connected
    for number, kind in enumerate(kinds):
        agent.session.emit(event(kind, f"event {number}"))
    await connected(fleet, agent)
    got = await collect(events, len(kinds), TIMEOUT)
    assert [(cluster, e.sequence, e.type, e.message) for cluster, e in got] == \
        [(A, n + 1, kind, f"event {n}") for n, kind in enumerate(kinds)]
    assert all(e.occurred_at_ms > 0 for _, e in got)

    # a restarted agent (same disk) may resend what it had not seen acknowledged; consumers see none of it
    # again, and its new event carries the next sequence, never a reused one
    assert await agent.stop() is None
    again = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    again.session.emit(event(fleet_pb2.HOOK_RESULT, "after restart"))
    await connected(fleet, again)
    [(cluster, late)] = await collect(events, 1, TIMEOUT)
    assert (cluster, late.sequence, late.type, late.message) == (A, len(kinds) + 1, fleet_pb2.HOOK_RESULT,
                                                                 "after restart")


async def test_events_resent_by_a_reconnecting_agent_are_published_once(fleet):
    """The same (cluster, sequence) arriving twice over the wire is published once: the hub's half of the
    at-least-once/exactly-once contract, driven through the generated stubs as a reconnecting agent would."""
    events = fleet.hub.hub.subscribe_events()
    metadata = (("authorization", f"Bearer {fleet.tokens[B]}"),)

    async def session(sequences: list[int]) -> list[fleet_pb2.HubMessage]:
        async with grpc.aio.insecure_channel(fleet.hub.address) as channel:
            call = fleet_pb2_grpc.FleetHubStub(channel).Connect(metadata=metadata)
            await call.write(fleet_pb2.AgentMessage(hello=fleet_pb2.Hello(
                cluster=B, protocol=our_version(), next_event_sequence=max(sequences) + 1)))
            replies = [await asyncio.wait_for(call.read(), TIMEOUT)]
            for sequence in sequences:
                await call.write(fleet_pb2.AgentMessage(event=fleet_pb2.Event(
                    sequence=sequence, type=fleet_pb2.DRIFT_DETECTED, message=f"drift {sequence}")))
            while True:
                reply = await asyncio.wait_for(call.read(), TIMEOUT)
                replies.append(reply)
                if reply.WhichOneof("body") == "event_ack" and reply.event_ack.sequence == max(sequences):
                    break
            call.cancel()
            return replies

    first = await session([1, 2])
    assert first[0].welcome.acked_event_sequence == 0
    second = await session([1, 2, 3])  # the acks of 1 and 2 were "lost": resent with 3
    assert second[0].welcome.acked_event_sequence == 2
    got = await collect(events, 3, TIMEOUT)
    assert [(cluster, e.sequence) for cluster, e in got] == [(B, 1), (B, 2), (B, 3)]
    assert fleet.sample("fleetline_hub_duplicate_events_total") == 2


async def test_an_agent_never_receives_another_clusters_state(fleet, agents):
    agent_a = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    agent_b = start_agent(fleet, agents, B, fleet.tokens[B], "b")
    await connected(fleet, agent_a)
    await connected(fleet, agent_b)

    # B's state is pushed while A is connected: only B receives it
    state_b = await fleet.hub.hub.push(B, desired(B, "b1"))
    assert (await agent_b.next_state()) == state_b
    state_a = await fleet.hub.hub.push(A, desired(A, "a1"))
    assert (await agent_a.next_state()) == state_a
    assert agent_a.received.empty()
    assert agent_a.sample("fleetline_agent_messages_total", direction="in", type="desired_state") == 1
    assert DesiredStateCache(fleet.root / "a").load() == state_a
    assert B not in DesiredStateCache(fleet.root / "a").path.read_bytes().decode("latin-1")

    # A's token presenting Hello for cluster B: refused before any of B's state could be sent
    async with grpc.aio.insecure_channel(fleet.hub.address) as channel:
        call = fleet_pb2_grpc.FleetHubStub(channel).Connect(
            metadata=(("authorization", f"Bearer {fleet.tokens[A]}"),))
        await call.write(fleet_pb2.AgentMessage(hello=fleet_pb2.Hello(cluster=B, protocol=our_version())))
        replies = []
        while (reply := await asyncio.wait_for(call.read(), TIMEOUT)) is not grpc.aio.EOF:
            replies.append(reply)
    assert [r.WhichOneof("body") for r in replies] == ["goodbye"]
    assert replies[0].goodbye.reason == fleet_pb2.IDENTITY_MISMATCH

    # and the real agent configured that way stops with the reason, having received nothing
    impostor = start_agent(fleet, agents, B, fleet.tokens[A], "impostor")
    with pytest.raises(SessionRefused) as refused:
        await asyncio.wait_for(impostor.task, TIMEOUT)
    assert refused.value.reason == "IDENTITY_MISMATCH"
    assert impostor.received.empty()
    assert DesiredStateCache(fleet.root / "impostor").load() is None
    assert fleet.sample("fleetline_hub_refused_connections_total", reason="identity_mismatch") == 2
    # B's own session was never disturbed by the impostor (no fencing before the identity check)
    assert [i.cluster for i in fleet.hub.hub.registry()] == [A, B]


async def test_an_unknown_token_stops_the_agent_with_a_clear_error(fleet, agents):
    agent = start_agent(fleet, agents, A, "not-a-token", "a")
    with pytest.raises(SessionRefused) as refused:
        await asyncio.wait_for(agent.task, TIMEOUT)
    assert refused.value.reason == "UNAUTHENTICATED"
    # refused at the first attempt; at most a retry or two when gRPC surfaces the hub's abort as INTERNAL
    # (the abort can race the agent's write of Hello), never a stream of retries
    assert 1 <= fleet.sample("fleetline_hub_refused_connections_total", reason="bad_token") <= 3
    assert fleet.hub.hub.registry() == []


async def test_a_state_larger_than_the_message_limit_arrives_whole(tmp_path: Path, agents):
    store = TokenStore(tmp_path / "tokens")
    limit = 64 * 1024
    handle = await start_hub("127.0.0.1:0", tmp_path / "hub", tokens=store, insecure=True,
                             heartbeat_interval=HEARTBEAT, max_message_bytes=limit, fsync=False)
    try:
        fleet = Fleet(handle, {A: store.issue(A)}, tmp_path)
        agent = start_agent(fleet, agents, A, fleet.tokens[A], "a")
        await connected(fleet, agent)
        big = desired(A, "big", manifests=40, manifest_bytes=50_000)  # about 2 MB, 31 times the limit
        assert big.ByteSize() > 30 * limit
        stored = await handle.hub.push(A, big)
        assert (await agent.next_state()) == stored
        chunks = agent.sample("fleetline_agent_messages_total", direction="in", type="desired_state")
        assert chunks >= big.ByteSize() // limit
        assert await agent.stop() is None
    finally:
        await handle.stop(grace=0.5)


async def test_mutual_tls_identity_gets_its_own_state_and_cannot_claim_another_cluster(tmp_path: Path, agents):
    ca_cert, ca_key = certs.create_ca("fleetline test CA")
    hub_cert, hub_key = certs.issue_server_certificate(ca_cert, ca_key, ["localhost", "127.0.0.1"])
    cert_a, key_a = certs.issue_cluster_certificate(ca_cert, ca_key, A)
    handle = await start_hub("127.0.0.1:0", tmp_path / "hub", tls=(hub_cert, hub_key, ca_cert),
                             heartbeat_interval=HEARTBEAT, fsync=False)
    try:
        fleet = Fleet(handle, {}, tmp_path)
        await handle.hub.push(B, desired(B, "b1"))
        agent = start_agent(fleet, agents, A, TlsCredentials(cert_a, key_a, ca_cert), "a")
        await connected(fleet, agent)
        assert [(i.cluster, i.auth) for i in handle.hub.registry()] == [(A, "certificate")]
        stored = await handle.hub.push(A, desired(A, "a1"))
        assert (await agent.next_state()) == stored
        assert agent.received.empty()

        impostor = start_agent(fleet, agents, B, TlsCredentials(cert_a, key_a, ca_cert), "impostor")
        with pytest.raises(SessionRefused) as refused:
            await asyncio.wait_for(impostor.task, TIMEOUT)
        assert refused.value.reason == "IDENTITY_MISMATCH"
        assert impostor.received.empty()
        assert DesiredStateCache(tmp_path / "impostor").load() is None
        assert fleet.sample("fleetline_hub_refused_connections_total", reason="identity_mismatch") == 1
        assert agent.session.state == SessionState.CONNECTED
        assert await agent.stop() is None
    finally:
        await handle.stop(grace=0.5)
