"""The rollout state machine, rule by rule, on a fake clock: the default single step, steps in order,
concurrency, soak, deadlines, Degraded, maxFailures, halt and rollback, resume, and what it says it waits on."""

from __future__ import annotations

import pytest

from hub.fleet.model import Rollout
from hub.rollout import HALTED, PROGRESSING, SOAKING, SUCCEEDED, ClusterReport, RolloutState
from tests.hub.rollout.conftest import NEW, OLD, Clock, healthy, report, start, step

# --- the default, and steps in order ---------------------------------------------------------------------


def test_the_default_strategy_releases_every_cluster_at_once(clock: Clock) -> None:
    state = RolloutState.start("web", NEW, OLD, [["a", "b", "c"]], None, clock.now)
    decision = state.decide(clock.now)
    assert (decision.release, decision.rollback, decision.phase, decision.step, decision.step_name) == \
        ({"a", "b", "c"}, set(), PROGRESSING, 0, "(all)")
    clock.advance(5)
    healthy(state, clock, "a", "b", "c")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.step, decision.done, decision.waiting_on) == (SUCCEEDED, 1, {"a", "b", "c"}, "")


def test_steps_run_in_order(clock: Clock) -> None:
    state = start(clock, [["staging"], ["canary"], ["west-1", "west-2"]], step("staging"), step("canary"))
    assert state.decide(clock.now).release == {"staging"}
    healthy(state, clock, "canary", "west-1")  # later steps' clusters are not judged before their release
    assert state.decide(clock.now).release == {"staging"}
    clock.advance(10)
    healthy(state, clock, "staging")
    decision = state.decide(clock.now)
    # canary already runs the new revision: done at its release, so the implicit step follows at once
    assert decision.release == {"staging", "canary", "west-1", "west-2"}
    assert (decision.step, decision.step_name, decision.done) == (2, "(rest)", {"staging", "canary", "west-1"})
    assert decision.waiting_on == "waiting for west-2 to report its status"


def test_an_empty_step_is_skipped(clock: Clock) -> None:
    state = start(clock, [[], ["a"]], step("nothing-here"), step("a"))
    decision = state.decide(clock.now)
    assert (decision.release, decision.step, decision.step_name) == ({"a"}, 1, "a")


def test_a_rollout_of_no_cluster_has_succeeded(clock: Clock) -> None:
    state = RolloutState.start("web", NEW, OLD, [[]], None, clock.now)
    assert state.decide(clock.now).phase == SUCCEEDED


# --- concurrency -----------------------------------------------------------------------------------------


def test_at_most_max_concurrency_clusters_are_in_flight(clock: Clock) -> None:
    clusters = ["c1", "c2", "c3", "c4", "c5"]
    state = start(clock, [clusters], step("all", concurrency=2))
    assert state.decide(clock.now).release == {"c1", "c2"}
    report(state, clock, "c1", health="Progressing")
    assert state.decide(clock.now).release == {"c1", "c2"}
    clock.advance(30)
    healthy(state, clock, "c2")
    assert state.decide(clock.now).release == {"c1", "c2", "c3"}
    healthy(state, clock, "c1", "c3")
    assert state.decide(clock.now).release == set(clusters)


def test_a_percentage_of_the_step_is_rounded_up(clock: Clock) -> None:
    state = start(clock, [["a", "b", "c"]], step("all", concurrency="50%"))
    assert state.decide(clock.now).release == {"a", "b"}


# --- soak ------------------------------------------------------------------------------------------------


def test_a_step_soaks_for_min_healthy_time_before_the_next(clock: Clock) -> None:
    state = start(clock, [["canary"], ["rest"]], step("canary", soak=300), step("rest"))
    state.decide(clock.now)
    clock.advance(20)
    healthy(state, clock, "canary")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.release, decision.waiting_on) == (SOAKING, {"canary"},
                                                                     "soaking canary for 5m0s more")
    clock.advance(108)
    assert state.decide(clock.now).waiting_on == "soaking canary for 3m12s more"
    clock.advance(191.5)
    assert state.decide(clock.now).release == {"canary"}
    clock.advance(0.5)
    decision = state.decide(clock.now)
    assert (decision.phase, decision.release, decision.step) == (PROGRESSING, {"canary", "rest"}, 1)


def test_a_cluster_that_stops_being_healthy_restarts_the_soak(clock: Clock) -> None:
    state = start(clock, [["a", "b"], ["next"]], step("first", soak=60), step("next"))
    state.decide(clock.now)
    healthy(state, clock, "a", "b")
    clock.advance(50)
    report(state, clock, "b", health="Progressing")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.waiting_on) == (PROGRESSING, "waiting for b to be Healthy again (it is "
                                                                  "Progressing)")
    clock.advance(10)
    healthy(state, clock, "b")
    assert state.decide(clock.now).waiting_on == "soaking a and b for 1m0s more"
    clock.advance(60)
    assert state.decide(clock.now).release == {"a", "b", "next"}


def test_soak_waits_for_the_last_cluster_to_turn_healthy(clock: Clock) -> None:
    state = start(clock, [["a", "b"], ["next"]], step("first", soak=60), step("next"))
    state.decide(clock.now)
    healthy(state, clock, "a")
    clock.advance(100)
    healthy(state, clock, "b")
    clock.advance(59)
    assert state.decide(clock.now).phase == SOAKING
    clock.advance(1)
    assert "next" in state.decide(clock.now).release


# --- deadline, Degraded, maxFailures ----------------------------------------------------------------------


def test_a_cluster_not_done_by_its_progress_deadline_halts_the_rollout(clock: Clock) -> None:
    state = start(clock, [["a"], ["b"]], step("first", deadline=600), step("second"))
    state.decide(clock.now)
    clock.advance(599)
    report(state, clock, "a", health="Progressing")
    assert state.decide(clock.now).phase == PROGRESSING
    clock.advance(1)
    decision = state.decide(clock.now)
    assert (decision.phase, decision.release, decision.rollback) == (HALTED, {"a"}, set())
    assert decision.failed == {"a": "not Synced and Healthy at c0ffee0 within 10m0s of its release"}
    assert decision.halted_reason == ('step "first": 1 failed cluster(s), more than maxFailures 0: a not Synced and '
                                      "Healthy at c0ffee0 within 10m0s of its release")
    clock.advance(3600)
    healthy(state, clock, "a")
    assert state.decide(clock.now).release == {"a"}  # halted: nothing more is released


def test_a_report_after_the_deadline_is_a_failure_however_often_decide_runs(clock: Clock) -> None:
    state = start(clock, [["a"], ["b"]], step("first", deadline=60), step("second"))
    state.decide(clock.now)
    clock.advance(61)
    healthy(state, clock, "a")  # too late, although decide did not run in between
    assert state.decide(clock.now).phase == HALTED


def test_a_degraded_cluster_halts_and_later_steps_are_untouched(clock: Clock) -> None:
    state = start(clock, [["canary"], ["west"], ["east"]], step("canary"), step("west"))
    state.decide(clock.now)
    clock.advance(40)
    report(state, clock, "canary", health="Degraded")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.step, decision.step_name, decision.release) == (HALTED, 0, "canary", {"canary"})
    assert decision.failed == {"canary": "Degraded at c0ffee0"}
    assert decision.waiting_on == "a resume, or a newer revision"


def test_degraded_at_the_old_revision_is_no_failure(clock: Clock) -> None:
    state = start(clock, [["a"]], step("first"))
    state.decide(clock.now)
    report(state, clock, "a", health="Degraded", revision=OLD)
    decision = state.decide(clock.now)
    assert (decision.phase, decision.waiting_on) == (PROGRESSING, "waiting for a to run revision c0ffee0 (it "
                                                                  "reports bad5eed)")


def test_degraded_during_the_soak_is_a_failure(clock: Clock) -> None:
    state = start(clock, [["a"], ["b"]], step("first", soak=600), step("second"))
    state.decide(clock.now)
    healthy(state, clock, "a")
    clock.advance(300)
    report(state, clock, "a", health="Degraded")
    assert state.decide(clock.now).phase == HALTED


def test_max_failures_are_tolerated_and_one_more_halts(clock: Clock) -> None:
    state = start(clock, [["a", "b", "c"], ["d", "e", "f"]], step("first", failures=1), step("second", failures=1))
    state.decide(clock.now)
    report(state, clock, "a", health="Degraded")
    healthy(state, clock, "b", "c")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.step, decision.release) == (PROGRESSING, 1, {"a", "b", "c", "d", "e", "f"})
    assert decision.done == {"b", "c"} and decision.failed == {"a": "Degraded at c0ffee0"}
    report(state, clock, "d", health="Degraded")
    assert state.decide(clock.now).phase == PROGRESSING
    report(state, clock, "e", health="Degraded")
    decision = state.decide(clock.now)
    assert decision.phase == HALTED
    assert decision.halted_reason == ('step "second": 2 failed cluster(s), more than maxFailures 1: d Degraded at '
                                      "c0ffee0; e Degraded at c0ffee0")


def test_a_failed_cluster_frees_its_slot(clock: Clock) -> None:
    state = start(clock, [["a", "b"]], step("first", concurrency=1, failures=1))
    assert state.decide(clock.now).release == {"a"}
    report(state, clock, "a", health="Degraded")
    assert state.decide(clock.now).release == {"a", "b"}


def test_a_completed_step_is_not_judged_again(clock: Clock) -> None:
    state = start(clock, [["a"], ["b"]], step("first"), step("second"))
    state.decide(clock.now)
    healthy(state, clock, "a")
    state.decide(clock.now)
    report(state, clock, "a", health="Degraded")
    assert state.decide(clock.now).phase == PROGRESSING


# --- rollback --------------------------------------------------------------------------------------------


def test_rollback_returns_the_failed_steps_clusters_and_keeps_earlier_steps(clock: Clock) -> None:
    state = start(clock, [["canary"], ["w1", "w2", "w3"]], step("canary"), step("west", concurrency=2),
                  on_failure="rollback")
    state.decide(clock.now)
    healthy(state, clock, "canary")
    assert state.decide(clock.now).release == {"canary", "w1", "w2"}
    healthy(state, clock, "w1")
    report(state, clock, "w2", health="Degraded")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.release, decision.rollback) == (HALTED, {"canary"}, {"w1", "w2"})
    assert decision.halted_reason == ('step "west": 1 failed cluster(s), more than maxFailures 0: w2 Degraded at '
                                      "c0ffee0; rolled back w1 and w2 to bad5eed")
    assert decision.done == {"canary"}


def test_rollback_without_a_previous_revision_only_halts(clock: Clock) -> None:
    state = start(clock, [["a"]], step("first"), on_failure="rollback", previous="")
    state.decide(clock.now)
    report(state, clock, "a", health="Degraded")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.release, decision.rollback) == (HALTED, {"a"}, set())
    assert decision.halted_reason.endswith("; no previous revision to roll back to, so the step's clusters are left "
                                           "as they are")


# --- resume ----------------------------------------------------------------------------------------------


def test_resume_forgets_the_steps_failures_and_restarts_its_deadlines(clock: Clock) -> None:
    state = start(clock, [["a", "b"], ["c"]], step("first", deadline=100), step("second"))
    state.decide(clock.now)
    report(state, clock, "a", health="Degraded")
    assert state.decide(clock.now).phase == HALTED
    clock.advance(90)
    state.resume(clock.now)
    decision = state.decide(clock.now)
    assert (decision.phase, decision.failed, decision.halted_reason) == (PROGRESSING, {}, "")
    clock.advance(99)  # b's deadline started over at the resume
    healthy(state, clock, "a", "b")
    assert state.decide(clock.now).release == {"a", "b", "c"}


def test_a_resumed_failure_fails_again_at_its_new_deadline(clock: Clock) -> None:
    state = start(clock, [["a"]], step("first", deadline=100))
    state.decide(clock.now)
    report(state, clock, "a", health="Degraded")
    state.decide(clock.now)
    clock.advance(10)
    state.resume(clock.now)  # a's last report stays Degraded, but it is older than the resume
    clock.advance(99)
    assert state.decide(clock.now).phase == PROGRESSING
    clock.advance(1)
    assert state.decide(clock.now).failed == {"a": "not Synced and Healthy at c0ffee0 within 1m40s of its release"}


def test_resume_after_rollback_releases_the_step_again(clock: Clock) -> None:
    state = start(clock, [["a", "b", "c"]], step("first", concurrency=2), on_failure="rollback")
    state.decide(clock.now)
    report(state, clock, "a", health="Degraded")
    assert state.decide(clock.now).rollback == {"a", "b"}
    report(state, clock, "a", revision=OLD)
    state.resume(clock.now)
    decision = state.decide(clock.now)
    assert (decision.release, decision.rollback, decision.phase) == ({"a", "b"}, set(), PROGRESSING)
    healthy(state, clock, "a", "b", "c")
    assert state.decide(clock.now).phase == SUCCEEDED


def test_resume_does_nothing_to_a_rollout_that_is_not_halted(clock: Clock) -> None:
    state = start(clock, [["a"]], step("first", deadline=100))
    state.decide(clock.now)
    clock.advance(50)
    state.resume(clock.now)
    clock.advance(50)
    assert state.decide(clock.now).phase == HALTED  # the deadline did not start over


# --- reports ---------------------------------------------------------------------------------------------


def test_older_reports_and_unknown_clusters_are_ignored(clock: Clock) -> None:
    state = start(clock, [["a"]], step("first"))
    state.decide(clock.now)
    report(state, clock, "a", health="Progressing")
    state.observe("a", ClusterReport(revision=NEW, sync_status="Synced", health="Healthy", at=clock.now - 1))
    state.observe("zz", ClusterReport(revision=NEW, sync_status="Synced", health="Degraded", at=clock.now))
    decision = state.decide(clock.now)
    assert (decision.phase, decision.done) == (PROGRESSING, set())


def test_a_report_from_before_the_release_does_not_fail_the_cluster(clock: Clock) -> None:
    state = start(clock, [["a"], ["b"]], step("first"), step("second"))
    report(state, clock, "b", health="Degraded")  # b ran the new revision by hand, before its step
    state.decide(clock.now)
    clock.advance(1)
    healthy(state, clock, "a")
    decision = state.decide(clock.now)
    assert (decision.phase, decision.release, decision.failed) == (PROGRESSING, {"a", "b"}, {})


@pytest.mark.parametrize(("revision", "sync", "health", "expected"), [
    (OLD, "Synced", "Healthy", "waiting for a to run revision c0ffee0 (it reports bad5eed)"),
    (NEW, "OutOfSync", "Healthy", "waiting for a to be Synced at c0ffee0 (it is OutOfSync)"),
    (NEW, "Synced", "Progressing", "waiting for a to be Healthy (it is Progressing)"),
    (NEW, "Synced", "Missing", "waiting for a to be Healthy (it is Missing)"),
])
def test_waiting_on_says_what_the_first_cluster_lacks(clock: Clock, revision: str, sync: str, health: str,
                                                      expected: str) -> None:
    state = start(clock, [["a", "b", "c"]], step("first"))
    state.decide(clock.now)
    report(state, clock, "a", health=health, sync=sync, revision=revision)
    assert state.decide(clock.now).waiting_on == f"{expected}, and 2 more cluster(s)"


def test_a_revision_that_is_no_commit_id_is_shown_whole(clock: Clock) -> None:
    state = RolloutState.start("web", "v1.2.0", "v1.1.0", [["a"]], None, clock.now)
    state.decide(clock.now)
    report(state, clock, "a", revision="v1.1.0")
    assert state.decide(clock.now).waiting_on == "waiting for a to run revision v1.2.0 (it reports v1.1.0)"


# --- start -----------------------------------------------------------------------------------------------


def test_start_refuses_a_plan_that_does_not_fit_the_strategy(clock: Clock) -> None:
    with pytest.raises(ValueError, match="cluster 'a' is in step 0 and step 1"):
        start(clock, [["a"], ["a"]], step("first"))
    with pytest.raises(ValueError, match="3 steps of clusters for a strategy of 1 steps"):
        start(clock, [["a"], ["b"], ["c"]], step("first"))
    with pytest.raises(ValueError, match="on_failure must be 'halt' or 'rollback'"):
        RolloutState.start("web", NEW, OLD, [["a"]], Rollout(on_failure="pause"), clock.now)


def test_decide_twice_at_the_same_time_changes_nothing(clock: Clock) -> None:
    state = start(clock, [["a", "b"], ["c"]], step("first", concurrency=1, soak=30), step("second"))
    state.decide(clock.now)
    healthy(state, clock, "a")
    first = state.decide(clock.now)
    snapshot = state.to_json()
    assert state.decide(clock.now) == first
    assert state.to_json() == snapshot
