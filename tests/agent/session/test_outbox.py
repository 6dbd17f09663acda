"""Outbox: persisted across re-open, sequences never reused, bounded with gap events, acked entries dropped."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from agent.session.outbox import Outbox
from fleetline.wire import fleet_pb2


def drift(name: str = "inference") -> fleet_pb2.Event:
    return fleet_pb2.Event(type=fleet_pb2.DRIFT_DETECTED, application=name, message="spec.replicas")


def health(name: str = "inference") -> fleet_pb2.Event:
    return fleet_pb2.Event(type=fleet_pb2.HEALTH_CHANGED, application=name, message="Degraded")


def test_add_assigns_sequence_and_timestamp(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    original = drift()
    first = box.add(original)
    second = box.add(health())
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.occurred_at_ms > 0
    assert original.sequence == 0  # the caller's message is not modified
    assert [e.sequence for e in box.pending()] == [1, 2]
    assert [e.sequence for e in box.pending(after=1)] == [2]
    given = box.add(fleet_pb2.Event(type=fleet_pb2.SYNC_STARTED, occurred_at_ms=42))
    assert given.occurred_at_ms == 42
    box.close()


def test_persisted_across_reopen_and_sequences_never_reused(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    for _ in range(5):
        box.add(drift())
    box.ack(3)
    box.close()

    box = Outbox(tmp_path)
    assert [e.sequence for e in box.pending()] == [4, 5]
    assert box.pending()[0].type == fleet_pb2.DRIFT_DETECTED
    box.ack(5)
    assert box.pending() == []
    box.close()

    box = Outbox(tmp_path)  # everything acknowledged: the next sequence still survives
    assert box.next_sequence == 6
    assert box.add(drift()).sequence == 6
    box.close()


def test_ack_drops_only_up_to_and_is_idempotent(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    for _ in range(4):
        box.add(drift())
    assert box.ack(2) == 2
    assert box.ack(2) == 0
    assert box.ack(1) == 0
    assert [e.sequence for e in box.pending()] == [3, 4]
    box.close()


def test_ack_beyond_what_we_remember_moves_next_sequence(tmp_path: Path) -> None:
    """A wiped cache directory must not make new events collide with sequences the hub already holds."""
    box = Outbox(tmp_path)
    box.ack(100)
    assert box.add(drift()).sequence == 101
    box.close()
    assert Outbox(tmp_path).next_sequence == 102


def test_compaction_keeps_state(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    for i in range(300):
        box.add(drift())
        box.ack(i)  # acks lag by one
    size = box.path.stat().st_size
    assert size < 2000  # compacted: one live event, not 300
    box.close()
    box = Outbox(tmp_path)
    assert [e.sequence for e in box.pending()] == [300]
    assert box.next_sequence == 301
    box.close()


def test_torn_last_line_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    box = Outbox(tmp_path)
    box.add(drift())
    box.add(drift())
    box.close()
    raw = box.path.read_bytes()
    box.path.write_bytes(raw[:-10])  # a crash in the middle of the second append
    with caplog.at_level(logging.WARNING, logger="agent.session.outbox"):
        box = Outbox(tmp_path)
    assert "outbox_line_skipped" in caplog.text
    assert [e.sequence for e in box.pending()] == [1]
    third = box.add(drift())
    assert third.sequence >= 2
    box.close()
    assert [e.sequence for e in Outbox(tmp_path).pending()] == [1, third.sequence]


def test_overflow_drops_oldest_health_events_and_records_one_gap(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    box = Outbox(tmp_path, capacity=10)
    box.add(drift())  # 1
    for _ in range(8):
        box.add(health())  # 2..9
    box.add(drift())  # 10: full now
    with caplog.at_level(logging.WARNING, logger="agent.session.outbox"):
        added = box.add(drift())  # overflow: drop the oldest HEALTH_CHANGED (capacity//10 = 1), add a gap
    assert "outbox_overflow" in caplog.text
    pending = box.pending()
    types = [fleet_pb2.EventType.Name(e.type) for e in pending]
    assert 2 not in [e.sequence for e in pending]
    assert types.count("OUTBOX_GAP") == 1
    gap = next(e for e in pending if e.type == fleet_pb2.OUTBOX_GAP)
    details = json.loads(gap.details_json)
    assert details["dropped"] == 1
    assert (details["first_sequence"], details["last_sequence"]) == (2, 2)
    assert gap.sequence == 11 and added.sequence == 12
    # every drift event survives
    assert [e.sequence for e in pending if e.type == fleet_pb2.DRIFT_DETECTED] == [1, 10, 12]
    assert [e.sequence for e in pending] == sorted(e.sequence for e in pending)
    box.close()
    reopened = Outbox(tmp_path, capacity=10)
    assert [e.sequence for e in reopened.pending()] == [e.sequence for e in pending]
    reopened.close()


def test_flood_of_health_events_yields_few_gaps_in_batches(tmp_path: Path) -> None:
    box = Outbox(tmp_path, capacity=100)
    for _ in range(1000):
        box.add(health())
    pending = box.pending()
    gaps = [e for e in pending if e.type == fleet_pb2.OUTBOX_GAP]
    assert len(gaps) == 1  # earlier gaps are folded into the newest
    details = json.loads(gaps[0].details_json)
    assert len(pending) <= 100
    assert details["dropped"] + len(pending) - 1 == 1000  # every event is either pending or counted in the gap
    assert details["first_sequence"] == 1
    assert details["replaces_gaps"]
    assert pending[-1].type == fleet_pb2.HEALTH_CHANGED  # the newest status survives, the oldest went
    box.close()


def test_never_drops_drift_or_sync_events_exceeds_capacity_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    box = Outbox(tmp_path, capacity=5)
    kinds = [fleet_pb2.DRIFT_DETECTED, fleet_pb2.DRIFT_HEALED, fleet_pb2.SYNC_STARTED, fleet_pb2.SYNC_SUCCEEDED,
             fleet_pb2.SYNC_FAILED, fleet_pb2.HOOK_RESULT, fleet_pb2.SYNC_LOOP, fleet_pb2.DRIFT_DETECTED]
    with caplog.at_level(logging.WARNING, logger="agent.session.outbox"):
        for kind in kinds:
            box.add(fleet_pb2.Event(type=kind))
    assert [e.type for e in box.pending()] == kinds
    assert "outbox_over_capacity" in caplog.text
    assert caplog.text.count("outbox_over_capacity") == 1  # warned once, not per event
    assert not [e for e in box.pending() if e.type == fleet_pb2.OUTBOX_GAP]
    box.close()
