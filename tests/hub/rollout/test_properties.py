"""Invariants of the rollout state machine over random strategies and random report sequences
(hypothesis): steps never overlap, concurrency holds, releases only grow until a rollback, and the state
always survives a JSON round trip."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.fleet.model import Rollout
from hub.rollout import HALTED, SUCCEEDED, ClusterReport, RolloutState
from tests.hub.rollout.conftest import NEW, OLD, step

STEP = st.tuples(st.integers(0, 4), st.one_of(st.none(), st.integers(1, 3), st.sampled_from(["34%", "50%"])),
                 st.sampled_from([0.0, 30.0]), st.sampled_from([60.0, 300.0]), st.integers(0, 1))
EVENT = st.one_of(
    st.tuples(st.just("wait"), st.sampled_from([1.0, 20.0, 45.0, 400.0])),
    st.tuples(st.just("report"), st.integers(0, 11), st.sampled_from([NEW, NEW, OLD]),
              st.sampled_from(["Synced", "Synced", "OutOfSync"]),
              st.sampled_from(["Healthy", "Healthy", "Progressing", "Degraded"])),
)


def build(shape: list[tuple], on_failure: str) -> tuple[RolloutState, list[list[str]]]:
    plan, steps, number = [], [], 0
    for index, (size, concurrency, soak, deadline, failures) in enumerate(shape):
        plan.append([f"c{number + offset}" for offset in range(size)])
        number += size
        steps.append(step(f"s{index}", concurrency=concurrency, soak=soak, deadline=deadline, failures=failures))
    state = RolloutState.start("app", NEW, OLD, plan, Rollout(steps=tuple(steps), on_failure=on_failure), 0.0)
    return state, plan


@settings(max_examples=150, deadline=None)
@given(shape=st.lists(STEP, min_size=1, max_size=4), events=st.lists(EVENT, max_size=40),
       on_failure=st.sampled_from(["halt", "rollback"]))
def test_invariants_hold_for_any_sequence_of_reports(shape: list[tuple], events: list[tuple], on_failure: str) -> None:
    state, plan = build(shape, on_failure)
    names = [name for names in plan for name in names]
    now, released_before = 0.0, set()
    for event in events:
        if event[0] == "wait":
            now += event[1]
        elif names:
            _, index, revision, sync, health = event
            state.observe(names[index % len(names)], ClusterReport(revision, sync, health, now))
        decision = state.decide(now)
        current = state.step
        for index, clusters in enumerate(plan):
            released = decision.release & set(clusters)
            if index < current:  # completed steps stay released
                assert released == set(clusters)
            if index > current:  # later steps are untouched
                assert not released and not decision.rollback & set(clusters)
        if current < len(plan) and decision.phase != HALTED:
            in_flight = [name for name in plan[current] if state.clusters[name].in_flight]
            assert len(in_flight) <= state.steps[current].concurrency
        assert not decision.release & decision.rollback
        if decision.phase != HALTED:
            assert released_before <= decision.release
        released_before = decision.release
        if decision.phase == SUCCEEDED:
            assert decision.release == set(names) and current == len(plan)
        assert json.loads(json.dumps(state.to_json())) == state.to_json()
        assert RolloutState.from_json(state.to_json()) == state
