"""FleetMetrics: the series and values after sequences of calls, stale series removed, events read as Argo CD would."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry

from fleetline.wire import fleet_pb2
from hub.metrics import FleetMetrics, sync_outcome
from hub.sessions.metrics import HubMetrics
from hub.source.metrics import SourceMetrics


def series(metrics: FleetMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called `name`: its labels (sorted pairs) -> value."""
    found = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def info(cluster: str, region: str, app: str, sync: str, health: str, autosync: str) -> tuple:
    return tuple(sorted({"cluster": cluster, "region": region, "app": app, "sync_status": sync,
                         "health_status": health, "autosync": autosync}.items()))


def report(*apps: tuple[str, str, str]) -> fleet_pb2.StatusReport:
    return fleet_pb2.StatusReport(generation=3, applications=[
        fleet_pb2.ApplicationStatus(name=name, sync_status=sync, health=health) for name, sync, health in apps])


def sync_event(kind: int, details: dict | str | None, sequence: int = 1) -> fleet_pb2.Event:
    text = details if isinstance(details, str) else json.dumps(details) if details is not None else ""
    return fleet_pb2.Event(sequence=sequence, type=kind, application="web", details_json=text)


def test_app_info_has_one_series_per_application_and_replaces_stale_ones() -> None:
    metrics = FleetMetrics()
    metrics.status("eu-1", "eu", report(("web", "OutOfSync", "Progressing"), ("db", "Synced", "Healthy")),
                   {"web": True, "db": False})
    metrics.status("us-1", "us-east", report(("web", "Synced", "Healthy")), {"web": True})
    assert series(metrics, "fleetline_app_info") == {
        info("eu-1", "eu", "web", "OutOfSync", "Progressing", "true"): 1.0,
        info("eu-1", "eu", "db", "Synced", "Healthy", "false"): 1.0,
        info("us-1", "us-east", "web", "Synced", "Healthy", "true"): 1.0,
    }

    # web becomes Synced and Healthy, db is gone, cache appears without a status; us-1 is untouched
    metrics.status("eu-1", "eu", report(("web", "Synced", "Healthy"), ("cache", "", "")), {"web": True})
    assert series(metrics, "fleetline_app_info") == {
        info("eu-1", "eu", "web", "Synced", "Healthy", "true"): 1.0,
        info("eu-1", "eu", "cache", "Unknown", "Unknown", "false"): 1.0,
        info("us-1", "us-east", "web", "Synced", "Healthy", "true"): 1.0,
    }

    # autosync turned off changes the series too; an empty report removes them all
    metrics.status("us-1", "us-east", report(("web", "Synced", "Healthy")), {"web": False})
    assert info("us-1", "us-east", "web", "Synced", "Healthy", "false") in series(metrics, "fleetline_app_info")
    assert info("us-1", "us-east", "web", "Synced", "Healthy", "true") not in series(metrics, "fleetline_app_info")
    metrics.status("us-1", "us-east", report(), {})
    assert {dict(labels)["cluster"] for labels in series(metrics, "fleetline_app_info")} == {"eu-1"}


def test_sync_results_count_by_phase_and_feed_the_duration_histogram() -> None:
    metrics = FleetMetrics()
    ok = {"trigger": "automated", "result": {"phase": "Succeeded", "duration_ms": 600}}
    failed = {"trigger": "retry", "result": {"phase": "Failed", "duration_ms": 20_000}}
    metrics.event("eu-1", "web", sync_event(fleet_pb2.SYNC_STARTED, {"trigger": "automated"}))
    metrics.event("eu-1", "web", sync_event(fleet_pb2.SYNC_SUCCEEDED, ok))
    metrics.event("eu-1", "web", sync_event(fleet_pb2.SYNC_SUCCEEDED, ok))
    metrics.event("eu-1", "web", sync_event(fleet_pb2.SYNC_FAILED, failed))
    metrics.event("eu-1", "web", sync_event(fleet_pb2.SYNC_FAILED, {"request_id": "r1"}))  # refused request
    metrics.event("us-1", "web", sync_event(fleet_pb2.SYNC_SUCCEEDED, "not json"))
    assert series(metrics, "fleetline_app_sync_total") == {
        (("app", "web"), ("cluster", "eu-1"), ("phase", "Succeeded")): 2.0,
        (("app", "web"), ("cluster", "eu-1"), ("phase", "Failed")): 1.0,
        (("app", "web"), ("cluster", "eu-1"), ("phase", "Error")): 1.0,
        (("app", "web"), ("cluster", "us-1"), ("phase", "Succeeded")): 1.0,
    }
    get = metrics.registry.get_sample_value
    assert get("fleetline_app_reconcile_seconds_count") == 3  # the refused and the unreadable ones have no duration
    assert get("fleetline_app_reconcile_seconds_sum") == pytest.approx(0.6 + 0.6 + 20.0)
    assert get("fleetline_app_reconcile_seconds_bucket", {"le": "1.0"}) == 2
    assert get("fleetline_app_reconcile_seconds_bucket", {"le": "16.0"}) == 2
    assert get("fleetline_app_reconcile_seconds_bucket", {"le": "30.0"}) == 3


def test_sync_outcome_reads_phase_and_duration_defensively() -> None:
    crashed = sync_event(fleet_pb2.SYNC_FAILED, {"result": {"phase": "Error", "duration_ms": 5}})
    assert (sync_outcome(crashed).phase, sync_outcome(crashed).duration_seconds) == ("Error", 0.005)
    for bad in ({"result": {"phase": "Succeeded", "duration_ms": -1}}, {"result": {"duration_ms": "5"}},
                {"result": {"duration_ms": True}}, {"result": []}, [1, 2]):
        assert sync_outcome(sync_event(fleet_pb2.SYNC_SUCCEEDED, bad)).duration_seconds is None
    # the event type decides success, whatever the result says
    assert sync_outcome(sync_event(fleet_pb2.SYNC_FAILED, {"result": {"phase": "Succeeded"}})).phase == "Failed"
    with pytest.raises(ValueError, match="DRIFT_DETECTED, not a sync result"):
        sync_outcome(sync_event(fleet_pb2.DRIFT_DETECTED, {}))


def test_drift_and_sync_loop_events_count_per_cluster_and_app() -> None:
    metrics = FleetMetrics()
    for kind in (fleet_pb2.DRIFT_DETECTED, fleet_pb2.DRIFT_HEALED, fleet_pb2.DRIFT_DETECTED, fleet_pb2.SYNC_LOOP,
                 fleet_pb2.HEALTH_CHANGED, fleet_pb2.OUTBOX_GAP, fleet_pb2.HOOK_RESULT):
        metrics.event("eu-1", "web", sync_event(kind, {}))
    metrics.event("us-1", "db", sync_event(fleet_pb2.DRIFT_HEALED, {"self_heal": True}))
    assert series(metrics, "fleetline_drift_events_total") == {
        (("action", "detected"), ("app", "web"), ("cluster", "eu-1")): 2.0,
        (("action", "healed"), ("app", "web"), ("cluster", "eu-1")): 1.0,
        (("action", "healed"), ("app", "db"), ("cluster", "us-1")): 1.0,
    }
    assert series(metrics, "fleetline_sync_loops_total") == {(("app", "web"), ("cluster", "eu-1")): 1.0}
    assert series(metrics, "fleetline_app_sync_total") == {}


def test_cluster_connection_follows_calls_and_a_region_change_replaces_the_series() -> None:
    metrics = FleetMetrics()
    metrics.cluster_connected("eu-1", "eu", False)
    metrics.cluster_connected("us-1", "us-east", True)
    metrics.cluster_connected("eu-1", "eu", True)
    metrics.cluster_connected("us-1", "us-west", False)
    assert series(metrics, "fleetline_cluster_connected") == {
        (("cluster", "eu-1"), ("region", "eu")): 1.0,
        (("cluster", "us-1"), ("region", "us-west")): 0.0,
    }


def test_forget_cluster_removes_its_gauges_and_keeps_its_counters() -> None:
    metrics = FleetMetrics()
    metrics.cluster_connected("eu-1", "eu", True)
    metrics.cluster_connected("eu-2", "eu", True)
    metrics.status("eu-1", "eu", report(("web", "Synced", "Healthy")), {})
    metrics.status("eu-2", "eu", report(("web", "Synced", "Healthy")), {})
    metrics.event("eu-1", "web", sync_event(fleet_pb2.DRIFT_DETECTED, {}))
    metrics.forget_cluster("eu-1")
    metrics.forget_cluster("never-seen")
    assert series(metrics, "fleetline_cluster_connected") == {(("cluster", "eu-2"), ("region", "eu")): 1.0}
    assert [dict(labels)["cluster"] for labels in series(metrics, "fleetline_app_info")] == ["eu-2"]
    assert len(series(metrics, "fleetline_drift_events_total")) == 1
    metrics.status("eu-1", "eu", report(("db", "OutOfSync", "Healthy")), {})  # it may come back
    assert info("eu-1", "eu", "db", "OutOfSync", "Healthy", "false") in series(metrics, "fleetline_app_info")


def test_git_requests_fetch_and_render_durations() -> None:
    metrics = FleetMetrics()
    metrics.git_request("fetch", "success")
    metrics.git_request("fetch", "success")
    metrics.git_request("fetch", "failure")
    metrics.git_request("push", "success")
    metrics.git_fetch(0.3)
    metrics.git_fetch(-2)  # a clock step backwards counts as 0
    metrics.render(0.02)
    assert series(metrics, "fleetline_git_request_total") == {
        (("result", "success"), ("type", "fetch")): 2.0,
        (("result", "failure"), ("type", "fetch")): 1.0,
        (("result", "success"), ("type", "push")): 1.0,
    }
    get = metrics.registry.get_sample_value
    assert (get("fleetline_git_fetch_seconds_count"), get("fleetline_git_fetch_seconds_sum")) == (2, 0.3)
    assert get("fleetline_git_fetch_seconds_bucket", {"le": "0.05"}) == 1
    assert (get("fleetline_render_seconds_count"), get("fleetline_render_seconds_sum")) == (1, 0.02)


def test_revision_age_is_computed_from_the_clock_at_scrape_time() -> None:
    now = [1_800_000_000.0]
    metrics = FleetMetrics(clock=lambda: now[0])
    committed = datetime.fromtimestamp(now[0] - 90, tz=timezone(timedelta(hours=2)))
    metrics.revision("prod", committed)
    metrics.revision("staging", now[0] - 5)
    get = metrics.registry.get_sample_value
    assert get("fleetline_revision_age_seconds", {"environment": "prod"}) == pytest.approx(90)
    now[0] += 60
    assert get("fleetline_revision_age_seconds", {"environment": "prod"}) == pytest.approx(150)
    assert get("fleetline_revision_age_seconds", {"environment": "staging"}) == pytest.approx(65)
    metrics.revision("prod", now[0] - 1)  # a new commit
    assert get("fleetline_revision_age_seconds", {"environment": "prod"}) == pytest.approx(1)
    metrics.forget_environment("staging")
    assert get("fleetline_revision_age_seconds", {"environment": "staging"}) is None
    with pytest.raises(ValueError, match="has no time zone"):
        metrics.revision("prod", datetime(2026, 3, 1, 12, 0))
    with pytest.raises(ValueError, match="not str"):
        metrics.revision("prod", "2026-03-01")  # type: ignore[arg-type]
    assert get("fleetline_revision_age_seconds", {"environment": "prod"}) == pytest.approx(1)  # bad input lost nothing


def test_rollout_step_and_halted_per_application_and_environment() -> None:
    metrics = FleetMetrics()
    metrics.rollout_step("web", 0, environment="prod")
    metrics.rollout_step("web", 2, environment="staging")
    metrics.rollout_step("web", 1, environment="prod", halted=True)
    get = metrics.registry.get_sample_value
    assert get("fleetline_rollout_step", {"app": "web", "environment": "prod"}) == 1
    assert get("fleetline_rollout_halted", {"app": "web", "environment": "prod"}) == 1
    assert get("fleetline_rollout_step", {"app": "web", "environment": "staging"}) == 2
    assert get("fleetline_rollout_halted", {"app": "web", "environment": "staging"}) == 0
    metrics.rollout_step("web", 1, environment="prod")  # resumed
    assert get("fleetline_rollout_halted", {"app": "web", "environment": "prod"}) == 0
    with pytest.raises(ValueError, match="'web' must be an integer >= 0"):
        metrics.rollout_step("web", -1, environment="prod")
    metrics.forget_rollout("web", environment="staging")
    assert len(series(metrics, "fleetline_rollout_step")) == 1
    assert len(series(metrics, "fleetline_rollout_halted")) == 1


def test_metrics_live_on_their_own_registry_and_share_one_with_the_sessions_and_the_source() -> None:
    first, second = FleetMetrics(), FleetMetrics()  # two hubs in one process (tests) do not collide
    first.git_request("fetch", "success")
    assert second.registry.get_sample_value("fleetline_git_request_total", {"type": "fetch", "result": "success"}) \
        is None
    shared = CollectorRegistry()
    HubMetrics(shared), SourceMetrics(shared), FleetMetrics(shared)  # raises on a duplicate name
    names = {family.name for family in shared.collect()}
    assert {"fleetline_app_info", "fleetline_hub_connected_agents", "fleetline_hub_source_stale"} <= names
