"""A rollout survives a hub restart: `to_json` -> JSON text -> `from_json` gives the same state, which goes
on deciding exactly as the original; what is not a rollout state is refused with a clear error."""

from __future__ import annotations

import json

import pytest

from hub.rollout import SOAKING, RolloutState
from tests.hub.rollout.conftest import Clock, healthy, report, start, step


def through_json(state: RolloutState) -> RolloutState:
    return RolloutState.from_json(json.loads(json.dumps(state.to_json())))


def test_a_rollout_in_the_middle_of_a_step_round_trips(clock: Clock) -> None:
    state = start(clock, [["canary"], ["w1", "w2", "w3"], ["e1"]], step("canary", soak=120),
                  step("west", concurrency="50%", deadline=300, failures=1), on_failure="rollback")
    state.decide(clock.now)
    healthy(state, clock, "canary")
    clock.advance(120)
    state.decide(clock.now)
    report(state, clock, "w1", health="Degraded")
    report(state, clock, "w2", health="Progressing")
    state.decide(clock.now)
    copy = through_json(state)
    assert copy == state
    assert copy.to_json() == state.to_json()
    for rollout in (state, copy):  # the same events from here on give the same decisions
        clock_copy = Clock(clock.now)
        clock_copy.advance(30)
        healthy(rollout, clock_copy, "w2", "w3")
        report(rollout, clock_copy, "w3", health="Degraded")
    assert state.decide(clock.now + 30) == copy.decide(clock.now + 30)
    assert state.decide(clock.now + 30).rollback == {"w1", "w2", "w3"}


def test_a_soaking_and_a_halted_rollout_round_trip(clock: Clock) -> None:
    state = start(clock, [["a"], ["b"]], step("first", soak=60), step("second"))
    state.decide(clock.now)
    healthy(state, clock, "a")
    assert state.decide(clock.now).phase == SOAKING
    assert through_json(state).decide(clock.now + 60) == state.decide(clock.now + 60)
    report(state, clock, "b", health="Degraded")
    clock.advance(61)
    report(state, clock, "b", health="Degraded")
    halted = state.decide(clock.now)
    copy = through_json(state)
    assert copy.decide(clock.now) == halted and copy.halted


def test_the_decision_is_json_ready(clock: Clock) -> None:
    state = start(clock, [["b", "a"]], step("first"))
    decision = state.decide(clock.now)
    assert json.loads(json.dumps(decision.to_json())) == {
        "release": ["a", "b"], "rollback": [], "phase": "Progressing", "step": 0, "step_name": "first",
        "waiting_on": "waiting for b to report its status, and 1 more cluster(s)", "halted_reason": "", "done": [],
        "failed": {}}


def test_what_is_not_a_rollout_state_is_refused(clock: Clock) -> None:
    good = start(clock, [["a"]], step("first")).to_json()
    with pytest.raises(ValueError, match=r"not a rollout state of version 1 \(found version 7\)"):
        RolloutState.from_json({**good, "version": 7})
    with pytest.raises(ValueError, match=r"not a rollout state of version 1 \(found version 'list'\)"):
        RolloutState.from_json([])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid rollout state: KeyError: 'revision'"):
        RolloutState.from_json({key: value for key, value in good.items() if key != "revision"})
    with pytest.raises(ValueError, match="invalid rollout state: ValueError"):
        RolloutState.from_json({**good, "started_at": "yesterday"})
    with pytest.raises(ValueError, match="the steps' clusters and the clusters' progress disagree"):
        RolloutState.from_json({**good, "clusters": {}})
