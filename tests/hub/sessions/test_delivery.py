"""Desired-state delivery, event de-duplication, persistence across a hub restart, and heartbeats."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fleetline.protocol import desired_state_hash
from fleetline.wire import fleet_pb2
from hub.sessions.server import start_hub
from hub.sessions.service import collect
from tests.hub.sessions.conftest import FakeAgent, make_state


def target(hub) -> str:
    return f"127.0.0.1:{hub.port}"


def event(sequence: int, kind: int = fleet_pb2.DRIFT_DETECTED) -> fleet_pb2.Event:
    return fleet_pb2.Event(sequence=sequence, type=kind, application="inference", message=f"event {sequence}")


async def read_until_heartbeat(agent: FakeAgent) -> list[str]:
    """The kinds of the messages before the hub's next heartbeat (the writer sends all it has before one)."""
    kinds = []
    while True:
        message = await agent.read(skip_heartbeats=False)
        assert message is not None
        kind = message.WhichOneof("body")
        if kind == "heartbeat":
            return kinds
        kinds.append(kind)


async def test_push_reaches_the_agent_with_generation_and_hash_and_ack_is_measured(hub, tokens, agents):
    token = tokens.issue("eu-1")
    stored = await hub.hub.push("eu-1", make_state("rev1"))
    assert stored.generation == 1 and stored.content_hash == desired_state_hash(stored)
    agent = await FakeAgent(target(hub), "eu-1", token).connect()
    agents.append(agent)
    await agent.expect("welcome")
    state = await agent.desired_state()
    assert (state.cluster, state.generation, state.revision, state.content_hash) == ("eu-1", 1, "rev1",
                                                                                   stored.content_hash)
    await agent.ack(state)
    hist = hub.hub.metrics.registry
    await hub.hub.wait_for(lambda: hub.hub.registry()[0].applied_generation == 1, 5)
    assert hist.get_sample_value("fleetline_hub_push_to_ack_seconds_count") == 1
    again = await hub.hub.push("eu-1", make_state("rev1"))  # unchanged content: no new generation
    assert again.generation == 1
    newer = await hub.hub.push("eu-1", make_state("rev2"))
    assert newer.generation == 2
    assert (await agent.desired_state()).revision == "rev2"
    with pytest.raises(ValueError, match="not newer"):
        await hub.hub.push("eu-1", fleet_pb2.DesiredState(generation=1, revision="old"))


async def test_an_agent_only_ever_receives_its_own_clusters_state(hub, tokens, agents):
    await hub.hub.push("us-east-1", make_state("east"))
    await hub.hub.push("eu-1", make_state("eu"))
    agent = await FakeAgent(target(hub), "eu-1", tokens.issue("eu-1")).connect()
    agents.append(agent)
    await agent.expect("welcome")
    state = await agent.desired_state()
    assert (state.cluster, state.revision) == ("eu-1", "eu")
    await agent.ack(state)
    await hub.hub.push("us-east-1", make_state("east2"))
    assert "desired_state" not in await read_until_heartbeat(agent)


async def test_an_agent_ahead_of_a_hub_that_lost_its_data_gets_a_newer_generation(hub, tokens, agents):
    await hub.hub.push("eu-1", make_state("rev1"))
    agent = await FakeAgent(target(hub), "eu-1", tokens.issue("eu-1"), applied_generation=7,
                            applied_hash="sha256:" + "0" * 64).connect()
    agents.append(agent)
    await agent.expect("welcome")
    state = await agent.desired_state()
    assert (state.generation, state.revision) == (8, "rev1")
    assert hub.hub.desired_state("eu-1").generation == 8


async def test_latest_wins_while_disconnected(hub, tokens, agents):
    for revision in ("r1", "r2", "r3"):
        await hub.hub.push("eu-1", make_state(revision))
    agent = await FakeAgent(target(hub), "eu-1", tokens.issue("eu-1")).connect()
    agents.append(agent)
    await agent.expect("welcome")
    state = await agent.desired_state()
    assert (state.generation, state.revision) == (3, "r3")
    assert "desired_state" not in await read_until_heartbeat(agent), "stale generations must never be queued"


async def test_latest_wins_mid_transfer(tmp_path: Path, tokens, agents):
    handle = await start_hub("127.0.0.1:0", tmp_path, tokens, insecure=True, heartbeat_interval=0.5,
                             max_message_bytes=64 * 1024)
    try:
        await handle.hub.push("eu-1", make_state("big", apps=8, manifest_bytes=1024 * 1024))
        agent = await FakeAgent(target(handle), "eu-1", tokens.issue("eu-1")).connect()
        agents.append(agent)
        await agent.expect("welcome")
        first = (await agent.expect("desired_state")).desired_state
        assert first.generation == 1 and first.chunk_count > 100
        agent.assembler.add(first)
        await handle.hub.push("eu-1", make_state("small"))
        seen = []
        while True:
            state = await agent.desired_state()
            seen.append(state.revision)
            if state.revision == "small":
                break
        assert seen in (["small"], ["big", "small"])
        assert state.generation == 2
    finally:
        await handle.stop(0.5)


async def test_twenty_megabytes_arrive_whole_in_chunks_under_the_limit(hub, tokens, agents):
    big = make_state("huge", apps=20, manifest_bytes=1024 * 1024)
    stored = await hub.hub.push("eu-1", big)
    agent = await FakeAgent(target(hub), "eu-1", tokens.issue("eu-1")).connect()
    agents.append(agent)
    await agent.expect("welcome")
    chunks = 0
    while True:
        message = await agent.expect("desired_state", timeout=20)
        assert message.ByteSize() <= hub.hub.max_message_bytes
        chunks += 1
        state = agent.assembler.add(message.desired_state)
        if state is not None:
            break
    assert chunks == message.desired_state.chunk_count >= 5
    assert state.content_hash == stored.content_hash and len(state.applications) == 20
    assert state.applications[19].manifests_json == big.applications[19].manifests_json


async def test_events_are_deduplicated_and_acknowledged(hub, tokens, agents):
    agent = await FakeAgent(target(hub), "eu-1", tokens.issue("eu-1")).connect()
    agents.append(agent)
    await agent.expect("welcome")
    subscription = hub.hub.subscribe_events()
    for sequence in (1, 2, 2, 1, 3):
        await agent.send(event=event(sequence))
    received = await collect(subscription, 3, 5)
    assert [(c, e.sequence) for c, e in received] == [("eu-1", 1), ("eu-1", 2), ("eu-1", 3)]
    acks = []
    while not acks or acks[-1] < 3:
        acks.append((await agent.expect("event_ack")).event_ack.sequence)
    assert acks == sorted(acks) and acks[-1] == 3
    assert hub.hub.metrics.registry.get_sample_value("fleetline_hub_duplicate_events_total") == 2
    await agent.send(event=event(4))
    [(_, fourth)] = await collect(subscription, 1, 5)
    assert fourth.sequence == 4, "no duplicate was left in the subscription"


async def test_event_batches_are_advertised_deduplicated_and_acknowledged_as_single_events(hub, tokens, agents):
    agent = await FakeAgent(target(hub), "eu-1", tokens.issue("eu-1")).connect()
    agents.append(agent)
    welcome = (await agent.expect("welcome")).welcome
    assert "event-batches" in welcome.capabilities
    subscription = hub.hub.subscribe_events()
    await agent.send(events=fleet_pb2.EventBatch(events=[event(s) for s in (1, 2, 3)]))
    await agent.send(events=fleet_pb2.EventBatch(events=[event(s) for s in (2, 3, 4, 5)]))  # 2, 3 again
    await agent.send(event=event(5))  # a single event still works beside batches
    await agent.send(events=fleet_pb2.EventBatch(events=[event(6)]))
    received = await collect(subscription, 6, 5)
    assert [(c, e.sequence) for c, e in received] == [("eu-1", s) for s in range(1, 7)]
    acks = []
    while not acks or acks[-1] < 6:
        acks.append((await agent.expect("event_ack")).event_ack.sequence)
    assert acks == sorted(acks) and acks[-1] == 6
    assert hub.hub.metrics.registry.get_sample_value("fleetline_hub_duplicate_events_total") == 3
    assert hub.hub.metrics.registry.get_sample_value("fleetline_hub_messages_received_total",
                                                     {"type": "events"}) == 3


async def test_status_reports_reach_subscribers(hub, tokens, agents):
    agent = await FakeAgent(target(hub), "eu-1", tokens.issue("eu-1")).connect()
    agents.append(agent)
    await agent.expect("welcome")
    subscription = hub.hub.subscribe_status()
    report = fleet_pb2.StatusReport(generation=1, applications=[fleet_pb2.ApplicationStatus(name="a",
                                                                                            health="Healthy")])
    await agent.send(status=report)
    [(cluster, got)] = await collect(subscription, 1, 5)
    assert cluster == "eu-1" and got == report and hub.hub.status("eu-1") == report


async def test_restart_with_the_same_data_dir_neither_redelivers_events_nor_repushes(tmp_path: Path, tokens,
                                                                                       agents):
    data = tmp_path / "data"
    token = tokens.issue("eu-1")
    first_hub = await start_hub("127.0.0.1:0", data, tokens, insecure=True, heartbeat_interval=0.3)
    try:
        pushed = await first_hub.hub.push("eu-1", make_state("rev1"))
        agent = await FakeAgent(target(first_hub), "eu-1", token).connect()
        agents.append(agent)
        await agent.expect("welcome")
        state = await agent.desired_state()
        await agent.ack(state)
        events = first_hub.hub.subscribe_events()
        for sequence in (1, 2, 3):
            await agent.send(event=event(sequence))
        assert len(await collect(events, 3, 5)) == 3
    finally:
        await first_hub.stop(0.5)
    second_hub = await start_hub("127.0.0.1:0", data, tokens, insecure=True, heartbeat_interval=0.3)
    try:
        assert (await second_hub.hub.push("eu-1", make_state("rev1"))).generation == 1  # unchanged: no re-push
        events = second_hub.hub.subscribe_events()
        agent = await FakeAgent(target(second_hub), "eu-1", token, applied_generation=state.generation,
                                applied_hash=state.content_hash, next_event_sequence=5).connect()
        agents.append(agent)
        welcome = (await agent.expect("welcome")).welcome
        assert welcome.acked_event_sequence == 3
        for sequence in (2, 3, 4):  # an agent that missed the last ack resends
            await agent.send(event=event(sequence))
        [(_, only)] = await collect(events, 1, 5)
        assert only.sequence == 4
        assert "desired_state" not in await read_until_heartbeat(agent)
        newer = await second_hub.hub.push("eu-1", make_state("rev2"))
        assert newer.generation == pushed.generation + 1
        assert (await agent.desired_state()).revision == "rev2"
    finally:
        await second_hub.stop(0.5)


async def test_a_silent_agent_is_dropped_after_three_heartbeat_intervals(tmp_path: Path, tokens, agents):
    handle = await start_hub("127.0.0.1:0", tmp_path, tokens, insecure=True, heartbeat_interval=0.1)
    try:
        agent = await FakeAgent(target(handle), "eu-1", tokens.issue("eu-1")).connect()
        agents.append(agent)
        await agent.expect("welcome")
        heartbeats = 0
        while (message := await agent.read(skip_heartbeats=False)) is not None:  # the agent never answers
            assert message.WhichOneof("body") == "heartbeat"
            heartbeats += 1
        assert heartbeats >= 2
        await handle.hub.wait_for(lambda: not handle.hub.registry(), 5)
        value = handle.hub.metrics.registry.get_sample_value("fleetline_hub_sessions_closed_total",
                                                            {"reason": "heartbeat_timeout"})
        assert value == 1
    finally:
        await handle.stop(0.5)


async def test_a_talking_agent_stays_connected(tmp_path: Path, tokens, agents):
    handle = await start_hub("127.0.0.1:0", tmp_path, tokens, insecure=True, heartbeat_interval=0.1)
    try:
        agent = await FakeAgent(target(handle), "eu-1", tokens.issue("eu-1")).connect()
        agents.append(agent)
        await agent.expect("welcome")
        for _ in range(8):  # 8 hub heartbeats = 0.8 s, well past 3 intervals, answered each time
            message = await agent.read(skip_heartbeats=False)
            assert message is not None and message.WhichOneof("body") == "heartbeat"
            await agent.send(heartbeat=fleet_pb2.Heartbeat(sent_at_ms=1))
        assert [i.cluster for i in handle.hub.registry()] == ["eu-1"]
    finally:
        await handle.stop(0.5)


async def test_sync_request_made_while_disconnected_is_delivered_on_connect(hub, tokens, agents):
    request_id = await hub.hub.request_sync("eu-1", "inference", "rev9", "alice@example.com")
    agent = await FakeAgent(target(hub), "eu-1", tokens.issue("eu-1")).connect()
    agents.append(agent)
    await agent.expect("welcome")
    request = (await agent.expect("sync_request")).sync_request
    assert (request.request_id, request.application, request.revision, request.approved_by) == (
        request_id, "inference", "rev9", "alice@example.com")
    live_id = await hub.hub.request_sync("eu-1", "inference", "rev10", "bob")
    assert (await agent.expect("sync_request")).sync_request.request_id == live_id


async def test_sync_request_made_while_disconnected_survives_a_hub_restart(tmp_path: Path, tokens, agents):
    data = tmp_path / "data"
    first_hub = await start_hub("127.0.0.1:0", data, tokens, insecure=True, heartbeat_interval=0.5)
    try:
        request_id = await first_hub.hub.request_sync("eu-1", "inference", "rev9", "alice@example.com", prune=True)
    finally:
        await first_hub.stop(0.5)
    assert (data / "sessions" / "eu-1" / "pending_syncs.json").exists()
    second_hub = await start_hub("127.0.0.1:0", data, tokens, insecure=True, heartbeat_interval=0.5)
    try:
        agent = await FakeAgent(target(second_hub), "eu-1", tokens.issue("eu-1")).connect()
        agents.append(agent)
        await agent.expect("welcome")
        request = (await agent.expect("sync_request")).sync_request
        assert (request.request_id, request.revision, request.approved_by, request.prune) == (
            request_id, "rev9", "alice@example.com", True)
        await second_hub.hub.wait_for(lambda: not (data / "sessions" / "eu-1" / "pending_syncs.json").exists(), 5)
    finally:
        await second_hub.stop(0.5)


async def test_hub_shutdown_says_goodbye(tmp_path: Path, tokens, agents):
    handle = await start_hub("127.0.0.1:0", tmp_path, tokens, insecure=True, heartbeat_interval=0.5)
    agent = await FakeAgent(target(handle), "eu-1", tokens.issue("eu-1")).connect()
    agents.append(agent)
    await agent.expect("welcome")
    stopping = asyncio.create_task(handle.stop(1.0))
    assert (await agent.expect("goodbye")).goodbye.reason == fleet_pb2.SHUTTING_DOWN
    await stopping
