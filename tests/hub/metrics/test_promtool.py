"""The exposition text of the hub's and the agent's registries, after a few values were recorded, passes
`promtool check metrics` (Prometheus' own linter: naming, units, _total suffixes, HELP text, parseability)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge

from agent.reconcile.metrics import ReconcileMetrics
from agent.session.client import SessionMetrics
from fleetline.wire import fleet_pb2
from hub.api.metrics import ApiMetrics
from hub.metrics import FleetMetrics
from hub.notify.metrics import NotifyMetrics
from hub.sessions.metrics import HubMetrics
from hub.source.metrics import SourceMetrics
from tests.hub.metrics.promtool import check_metrics, requires_promtool


def record_fleet(metrics: FleetMetrics) -> None:
    status = fleet_pb2.StatusReport(applications=[
        fleet_pb2.ApplicationStatus(name="inference", sync_status="OutOfSync", health="Degraded"),
        fleet_pb2.ApplicationStatus(name="registry", sync_status="Synced", health="Healthy")])
    metrics.status("eu-1", "eu", status, {"inference": True})
    result = json.dumps({"result": {"phase": "Succeeded", "duration_ms": 1500}})
    for kind in (fleet_pb2.SYNC_SUCCEEDED, fleet_pb2.SYNC_FAILED, fleet_pb2.DRIFT_DETECTED, fleet_pb2.DRIFT_HEALED,
                 fleet_pb2.SYNC_LOOP):
        metrics.event("eu-1", "inference", fleet_pb2.Event(type=kind, details_json=result))
    metrics.cluster_connected("eu-1", "eu", True)
    metrics.git_request("fetch", "success")
    metrics.git_fetch(0.4)
    metrics.render(0.2)
    metrics.revision("prod", datetime(2026, 3, 1, tzinfo=UTC))
    metrics.rollout_step("inference", 1, environment="prod", halted=True)


def record_sessions(metrics: HubMetrics) -> None:
    metrics.connected.set(2)
    metrics.messages_in_by_kind()("status").inc()
    metrics.messages_out.labels("welcome").inc()
    metrics.push_to_ack.observe(0.05)
    metrics.reconnects.inc()
    metrics.refused.labels("bad_token").inc()
    metrics.sessions_closed.labels("fenced").inc()
    metrics.duplicate_events.inc()
    metrics.pushes.inc()


def record_source(metrics: SourceMetrics) -> None:
    metrics.fetches.labels("success").inc()
    metrics.fetch_seconds.observe(0.7)
    metrics.stale.set(0)
    metrics.last_success_age.set_function(lambda: 12.0)
    metrics.revision.labels("prod", "refs/heads/main", "4f2a9c1").set(1)
    metrics.ref_errors.labels("staging", "refs/heads/next").set(1)
    metrics.webhooks.labels("accepted").inc()


def record_agent_session(metrics: SessionMetrics) -> None:
    metrics.connected.set(1)
    metrics.reconnects.inc()
    metrics.outbox_depth.set(3)
    metrics.messages.labels("in", "desired_state").inc()
    metrics.generation.set(7)


def record_agent_reconcile(metrics: ReconcileMetrics) -> None:
    metrics.syncs.labels("Succeeded", "automated").inc()
    metrics.sync_duration.observe(2.0)
    metrics.apply_duration.observe(0.01)
    metrics.drift_events.labels("detected").inc()
    metrics.self_heals.inc()
    metrics.sync_loops.inc()
    metrics.watch_restarts.set(1)
    metrics.managed_objects.set(12)


@requires_promtool
def test_fleet_metrics_pass_promtool() -> None:
    metrics = FleetMetrics()
    record_fleet(metrics)
    assert check_metrics(metrics.registry) == ""


@requires_promtool
def test_hub_session_and_source_metrics_pass_promtool() -> None:
    sessions, source = HubMetrics(), SourceMetrics()
    record_sessions(sessions)
    record_source(source)
    assert check_metrics(sessions.registry) == ""
    assert check_metrics(source.registry) == ""


@requires_promtool
def test_agent_metrics_pass_promtool() -> None:
    session, reconcile = SessionMetrics(), ReconcileMetrics()
    record_agent_session(session)
    record_agent_reconcile(reconcile)
    assert check_metrics(session.registry) == ""
    assert check_metrics(reconcile.registry) == ""


def record_api(metrics: ApiMetrics) -> None:
    metrics.requests.labels("GET", "/api/v1/clusters/{cluster}", "200").inc()
    metrics.latency.labels("/api/v1/clusters/{cluster}").observe(0.004)
    metrics.refused.labels("out_of_scope").inc()


def record_notify(metrics: NotifyMetrics) -> None:
    metrics.count("on-sync-failed", "slack", "sent")
    metrics.queue_depth.labels("slack").set(2)
    metrics.retries.labels("slack").inc()


@requires_promtool
def test_api_and_notification_metrics_pass_promtool() -> None:
    api, notify = ApiMetrics(), NotifyMetrics()
    record_api(api)
    record_notify(notify)
    assert check_metrics(api.registry) == ""
    assert check_metrics(notify.registry) == ""


@requires_promtool
def test_the_whole_hub_and_the_whole_agent_pass_promtool() -> None:
    """The hub's registries in one (no name collides), followed by the API's own as `/metrics` serves them; the
    agent's two on the session's registry, as `fleetline agent --metrics-port` serves them."""
    hub, agent = CollectorRegistry(), CollectorRegistry()
    record_fleet(FleetMetrics(hub))
    record_sessions(HubMetrics(hub))
    record_source(SourceMetrics(hub))
    record_notify(NotifyMetrics(hub))
    api = ApiMetrics()
    record_api(api)
    record_agent_session(SessionMetrics(agent))
    record_agent_reconcile(ReconcileMetrics(agent))
    assert check_metrics(hub, api.registry) == ""
    assert check_metrics(agent) == ""


@requires_promtool
def test_promtool_finds_what_it_should() -> None:
    """The checks above can fail: a gauge named like a counter is reported."""
    registry = CollectorRegistry()
    Gauge("fleetline_requests_total", "A gauge named like a counter", registry=registry).set(1)
    assert 'should not have "_total" suffix' in check_metrics(registry)
