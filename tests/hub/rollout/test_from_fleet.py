"""A rollout strategy read from fleet.yaml in a real Git commit, run end to end on a fake clock: staging,
then the canary us-west-2, then the rest of us-west, then us-east, then eu (the example of
docs/fleet-yaml.md); and a crash-looping revision that halts at the canary and rolls it back."""

from __future__ import annotations

from pathlib import Path

import git

from hub.fleet import Fleet, load_fleet
from hub.render.files import GitTreeFiles
from hub.rollout import HALTED, PROGRESSING, SOAKING, SUCCEEDED, RolloutState
from tests.hub.rollout.conftest import NEW, OLD, Clock, healthy, report

FLEET_YAML = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml-platform}
spec:
  environments:
    staging: {}
    production: {production: true}
  clusters:
    - {name: staging-1, region: us-west, environment: staging}
    - {name: us-west-1, region: us-west, environment: production}
    - {name: us-west-2, region: us-west, environment: production}
    - {name: us-west-3, region: us-west, environment: production}
    - {name: us-east-1, region: us-east, environment: production}
    - {name: us-east-2, region: us-east, environment: production}
    - {name: eu-west-1, region: eu, environment: production}
  applications:
    - name: inference-server
      source: {path: "apps/inference-server/overlays/{region}"}
      rollout:
        onFailure: rollback
        steps:
          - name: staging
            environments: [staging]
            minHealthyTime: 10m
          - name: canary
            clusters: [us-west-2]
            minHealthyTime: 30m
          - name: us-west
            regions: [us-west]
            maxConcurrency: 1
            progressDeadline: 15m
          - name: us-east
            regions: [us-east]
            maxConcurrency: 50%
            minHealthyTime: 5m
            maxFailures: 1
"""


def committed_fleet(tmp_path: Path) -> Fleet:
    (tmp_path / "fleet.yaml").write_text(FLEET_YAML)
    repository = git.Repo.init(tmp_path)
    repository.index.add(["fleet.yaml"])
    return load_fleet(GitTreeFiles(tmp_path, repository.index.commit("fleet").hexsha))


def test_the_docs_example_rolls_out_step_by_step(tmp_path: Path, clock: Clock) -> None:
    fleet = committed_fleet(tmp_path)
    app = fleet.applications[0]
    plan = fleet.rollout_plan(app)
    assert plan == [["staging-1"], ["us-west-2"], ["us-west-1", "us-west-3"], ["us-east-1", "us-east-2"],
                    ["eu-west-1"]]
    state = RolloutState.start(app.name, NEW, OLD, plan, app.rollout, clock.now)
    assert state.decide(clock.now).release == {"staging-1"}
    clock.advance(30)
    healthy(state, clock, "staging-1")
    assert state.decide(clock.now).waiting_on == "soaking staging-1 for 10m0s more"
    clock.advance(600)
    assert state.decide(clock.now).release == {"staging-1", "us-west-2"}
    clock.advance(30)
    healthy(state, clock, "us-west-2")
    clock.advance(1800)
    decision = state.decide(clock.now)
    assert (decision.step_name, decision.release) == ("us-west", {"staging-1", "us-west-2", "us-west-1"})
    clock.advance(30)
    healthy(state, clock, "us-west-1")
    assert "us-west-3" in state.decide(clock.now).release
    clock.advance(30)
    healthy(state, clock, "us-west-3")
    decision = state.decide(clock.now)
    assert (decision.step_name, decision.release - {"staging-1", "us-west-1", "us-west-2", "us-west-3"}) == \
        ("us-east", {"us-east-1"})
    report(state, clock, "us-east-1", health="Degraded")  # maxFailures: 1 tolerates it
    decision = state.decide(clock.now)
    assert "us-east-2" in decision.release
    healthy(state, clock, "us-east-2")
    assert state.decide(clock.now).phase == SOAKING
    clock.advance(300)
    decision = state.decide(clock.now)
    assert (decision.phase, decision.step_name) == (PROGRESSING, "(rest)")
    healthy(state, clock, "eu-west-1")
    decision = state.decide(clock.now)
    assert decision.phase == SUCCEEDED
    assert decision.failed == {"us-east-1": "Degraded at c0ffee0"}


def test_a_crash_looping_revision_halts_at_the_canary_and_rolls_it_back(tmp_path: Path, clock: Clock) -> None:
    fleet = committed_fleet(tmp_path)
    app = fleet.applications[0]
    state = RolloutState.start(app.name, NEW, OLD, fleet.rollout_plan(app), app.rollout, clock.now)
    state.decide(clock.now)
    healthy(state, clock, "staging-1")
    clock.advance(600)
    state.decide(clock.now)
    clock.advance(45)
    report(state, clock, "us-west-2", health="Degraded")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.release, decision.rollback) == (HALTED, {"staging-1"}, {"us-west-2"})
    assert decision.halted_reason == ('step "canary": 1 failed cluster(s), more than maxFailures 0: us-west-2 '
                                      "Degraded at c0ffee0; rolled back us-west-2 to bad5eed")
