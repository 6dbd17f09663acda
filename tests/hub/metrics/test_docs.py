"""docs/metrics.md documents every metric the hub and the agent define (and none they do not), and its alert rules
are valid and fire when they should (`promtool check rules`, `promtool test rules`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from agent.reconcile.metrics import ReconcileMetrics
from agent.session.client import SessionMetrics
from hub.metrics import FleetMetrics
from hub.sessions.metrics import HubMetrics
from hub.source.metrics import SourceMetrics
from tests.hub.metrics.promtool import requires_promtool, run

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "metrics.md"
CONSTRUCTOR = re.compile(r"\b(Counter|Gauge|Histogram|Summary|Info|Enum)\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"")


def exposed_name(kind: str, name: str) -> str:
    """The family name prometheus-client exposes for a metric constructed as `kind(name, ...)`."""
    if kind == "Counter":
        return name.removesuffix("_total") + "_total"
    return name + "_info" if kind == "Info" else name


def defined_in_source() -> dict[str, str]:
    """Every metric constructed in hub/ and agent/: exposed name -> the file defining it."""
    found = {}
    for package in ("hub", "agent"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for kind, name in CONSTRUCTOR.findall(path.read_text()):
                found[exposed_name(kind, name)] = str(path.relative_to(ROOT))
    return found


def documented() -> set[str]:
    """The metric names in the first column of docs/metrics.md's tables."""
    return set(re.findall(r"^\| `(fleetline_[a-z0-9_]+)` \|", DOC.read_text(), flags=re.M))


def alert_rules() -> dict:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    rules = [yaml.safe_load(block) for block in blocks if block.startswith("groups:")]
    assert len(rules) == 1, "docs/metrics.md should hold one ```yaml block of alert rules (starting with groups:)"
    return rules[0]


def registered() -> set[str]:
    """The family names on the registries of the hub and the agent (prometheus-client names counters without
    _total in collect(); the exposition adds it)."""
    registry = CollectorRegistry()
    for metrics in (FleetMetrics, HubMetrics, SourceMetrics, SessionMetrics, ReconcileMetrics):
        metrics(registry)
    return {family.name + "_total" if family.type == "counter" else family.name for family in registry.collect()}


def test_every_metric_of_hub_and_agent_is_documented_and_nothing_else() -> None:
    source = defined_in_source()
    assert set(source) >= registered(), "a registry defines a metric the source scan missed"
    missing = {name: path for name, path in source.items() if name not in documented()}
    assert not missing, f"metrics missing from docs/metrics.md: {missing}"
    stale = documented() - set(source)
    assert not stale, f"docs/metrics.md documents metrics no code defines: {sorted(stale)}"


def test_alert_rules_use_only_metrics_that_exist() -> None:
    names = set(defined_in_source())
    for group in alert_rules()["groups"]:
        for rule in group["rules"]:
            used = {re.sub(r"_(bucket|count|sum)$", "", name) for name in re.findall(r"fleetline_[a-z0-9_]+",
                                                                                      rule["expr"])}
            assert used and used <= names, f"{rule['alert']} uses unknown metrics {sorted(used - names)}"
    alerts = {rule["alert"] for group in alert_rules()["groups"] for rule in group["rules"]}
    assert {"FleetlineAppOutOfSync", "FleetlineSourceStale", "FleetlineAgentDown", "FleetlineSyncLoop",
            "FleetlineRolloutHalted"} <= alerts


@requires_promtool
def test_alert_rules_pass_promtool_check_rules(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(alert_rules()))
    code, output = run("check", "rules", "rules.yaml", cwd=tmp_path)
    assert code == 0, output
    assert "SUCCESS: 7 rules found" in output


RULE_TESTS = """
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # web is OutOfSync from 0m, its health going from Progressing to Degraded at 4m; db is OutOfSync from 7m
      - series: >-
          fleetline_app_info{cluster="eu-1",region="eu",app="web",
          sync_status="OutOfSync",health_status="Progressing",autosync="true"}
        values: '1 1 1 1'
      - series: >-
          fleetline_app_info{cluster="eu-1",region="eu",app="web",
          sync_status="OutOfSync",health_status="Degraded",autosync="true"}
        values: '_ _ _ _ 1x30'
      - series: >-
          fleetline_app_info{cluster="eu-1",region="eu",app="db",
          sync_status="OutOfSync",health_status="Healthy",autosync="false"}
        values: '_x7 1x30'
      # eu-1's first sync failure at 3m (its series starts at 1); us-1 only succeeds
      - series: 'fleetline_app_sync_total{cluster="eu-1",app="web",phase="Failed"}'
        values: '_ _ _ 1x40'
      - series: 'fleetline_app_sync_total{cluster="us-1",app="web",phase="Succeeded"}'
        values: '_ 1x8 2x30'
      - series: 'fleetline_hub_source_stale'
        values: '0 0 1x30'
      - series: 'fleetline_cluster_connected{cluster="eu-1",region="eu"}'
        values: '1 1 0x30'
      - series: 'fleetline_cluster_connected{cluster="us-1",region="us-east"}'
        values: '0 0 1x30'
      - series: 'fleetline_sync_loops_total{cluster="eu-1",app="web"}'
        values: '_x5 1x80'
      - series: 'fleetline_rollout_halted{app="web",environment="prod"}'
        values: '0 0 1 1 0x30'
      - series: 'fleetline_drift_events_total{cluster="eu-1",app="web",action="detected"}'
        values: '0+1x30'
    promql_expr_test:
      - expr: >-
          sum by (region) (increase(fleetline_drift_events_total{action="detected"}[10m])
            * on (cluster) group_left (region) group by (cluster, region) (fleetline_cluster_connected))
        eval_time: 20m
        exp_samples:
          - labels: '{region="eu"}'
            value: 10
    alert_rule_test:
      - {eval_time: 9m, alertname: FleetlineAppOutOfSync}
      - eval_time: 11m
        alertname: FleetlineAppOutOfSync
        exp_alerts:
          - exp_labels: {severity: warning, cluster: eu-1, region: eu, app: web}
      - eval_time: 18m
        alertname: FleetlineAppOutOfSync
        exp_alerts:
          - exp_labels: {severity: warning, cluster: eu-1, region: eu, app: web}
          - exp_labels: {severity: warning, cluster: eu-1, region: eu, app: db}
      - {eval_time: 13m, alertname: FleetlineAppDegraded}
      - eval_time: 15m
        alertname: FleetlineAppDegraded
        exp_alerts:
          - exp_labels: {severity: critical, cluster: eu-1, region: eu, app: web}
      - {eval_time: 2m, alertname: FleetlineSyncFailed}
      - eval_time: 5m
        alertname: FleetlineSyncFailed
        exp_alerts:
          - exp_labels: {severity: warning, cluster: eu-1, app: web}
      - {eval_time: 25m, alertname: FleetlineSyncFailed}
      - {eval_time: 16m, alertname: FleetlineSourceStale}
      - eval_time: 18m
        alertname: FleetlineSourceStale
        exp_alerts:
          - exp_labels: {severity: critical}
      - {eval_time: 6m, alertname: FleetlineAgentDown}
      - eval_time: 8m
        alertname: FleetlineAgentDown
        exp_alerts:
          - exp_labels: {severity: critical, cluster: eu-1, region: eu}
      - {eval_time: 4m, alertname: FleetlineSyncLoop}
      - eval_time: 6m
        alertname: FleetlineSyncLoop
        exp_alerts:
          - exp_labels: {severity: warning, cluster: eu-1, app: web}
      - {eval_time: 70m, alertname: FleetlineSyncLoop}
      - eval_time: 3m
        alertname: FleetlineRolloutHalted
        exp_alerts:
          - exp_labels: {severity: critical, app: web, environment: prod}
      - {eval_time: 5m, alertname: FleetlineRolloutHalted}
"""


@requires_promtool
def test_alert_rules_fire_when_they_should(tmp_path: Path) -> None:
    """promtool test rules compares annotations too: they are dropped here (check rules validates their
    templates), so that the test is about when each alert fires and with which labels."""
    rules = alert_rules()
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    (tmp_path / "tests.yaml").write_text(RULE_TESTS)
    code, output = run("test", "rules", "tests.yaml", cwd=tmp_path)
    assert code == 0, output


def test_alert_rules_are_yaml_prometheus_reads() -> None:
    for group in alert_rules()["groups"]:
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
            if "for" in rule:
                assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]


@pytest.mark.parametrize("name", ["fleetline_app_info", "fleetline_app_sync_total", "fleetline_app_reconcile_seconds",
                                  "fleetline_git_request_total", "fleetline_git_fetch_seconds",
                                  "fleetline_render_seconds", "fleetline_revision_age_seconds",
                                  "fleetline_cluster_connected", "fleetline_drift_events_total",
                                  "fleetline_rollout_step"])
def test_the_issues_metric_names_are_exposed_and_documented(name: str) -> None:
    assert name in registered()
    assert name in documented()
