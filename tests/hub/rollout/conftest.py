"""Rollout test helpers: a fake clock, strategies built in code, and reports."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.fleet.model import Rollout, RolloutStep
from hub.rollout import ClusterReport, RolloutState

NEW = "c0ffee" + "0" * 34
OLD = "bad5eed" + "0" * 33


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: float = 1000.0

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def step(name: str, concurrency: int | str | None = None, soak: float = 0.0, deadline: float = 600.0,
         failures: int = 0) -> RolloutStep:
    return RolloutStep(name=name, max_concurrency=concurrency, min_healthy_time=f"{soak}s",
                       min_healthy_time_seconds=soak, progress_deadline=f"{deadline}s",
                       progress_deadline_seconds=deadline, max_failures=failures)


def start(clock: Clock, plan: list[list[str]], *steps: RolloutStep, on_failure: str = "halt",
          previous: str = OLD) -> RolloutState:
    return RolloutState.start("inference-server", NEW, previous, plan, Rollout(steps=steps, on_failure=on_failure),
                              clock.now)


def report(state: RolloutState, clock: Clock, cluster: str, health: str = "Healthy", sync: str = "Synced",
           revision: str = NEW) -> None:
    """`cluster` reports now."""
    state.observe(cluster, ClusterReport(revision=revision, sync_status=sync, health=health, at=clock.now))


def healthy(state: RolloutState, clock: Clock, *clusters: str) -> None:
    for cluster in clusters:
        report(state, clock, cluster)
