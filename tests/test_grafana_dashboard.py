"""docs/grafana/fleetline.json is a Grafana dashboard model Grafana can import (uid, title, schema version, panels
laid out on the 24-column grid, each with PromQL targets, the variables they use defined), and every metric its
PromQL names is one the hub or the agent exposes: the names come from the metrics objects' own registries,
instantiated here, so a renamed metric fails this test instead of leaving an empty panel."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from agent.reconcile.metrics import ReconcileMetrics
from agent.session.client import SessionMetrics
from hub.api.metrics import ApiMetrics
from hub.metrics import FleetMetrics
from hub.notify.metrics import NotifyMetrics
from hub.sessions.metrics import HubMetrics
from hub.source.metrics import SourceMetrics
from tests.hub.metrics.promtool import requires_promtool, run
from tests.hub.metrics.test_docs import defined_in_source

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "docs" / "grafana" / "fleetline.json"
METRICS_CLASSES = (FleetMetrics, HubMetrics, SourceMetrics, NotifyMetrics, ApiMetrics, SessionMetrics,
                   ReconcileMetrics)

# The sample names prometheus-client exposes for a family of each type (counters are collected without _total).
SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum", "_created"),
            "summary": ("", "_count", "_sum", "_created"), "info": ("_info",), "stateset": ("",), "unknown": ("",)}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile", "limitk", "limit_ratio"}
FUNCTIONS = {"abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
             "count_over_time", "day_of_month", "day_of_week", "delta", "deriv", "exp", "floor", "histogram_quantile",
             "holt_winters", "idelta", "increase", "irate", "label_join", "label_replace", "last_over_time", "ln",
             "log2", "log10", "max_over_time", "min_over_time", "predict_linear", "quantile_over_time", "rate",
             "resets", "round", "scalar", "sort", "sort_desc", "sqrt", "stddev_over_time", "sum_over_time", "time",
             "timestamp", "vector"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}
GRAFANA_GLOBALS = {"__rate_interval", "__interval", "__range"}
PANEL_TYPES = {"stat", "timeseries", "table", "gauge", "bargauge", "piechart", "state-timeline", "text", "row"}


def load() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def data_panels(dashboard: dict) -> list[dict]:
    """Every panel that is not a row, nested rows' panels included."""
    found = []
    for panel in dashboard["panels"]:
        found += panel.get("panels", []) if panel["type"] == "row" else [panel]
    return found


def expressions(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL) for every target of every panel."""
    return [(panel["title"], target["expr"]) for panel in data_panels(dashboard) for target in panel["targets"]]


def registered_families() -> dict[str, str]:
    """Every metric family of the hub's and the agent's metrics objects, read from their registries: name (as the
    source spells it, counters with _total) -> type."""
    families: dict[str, str] = {}
    for metrics_class in METRICS_CLASSES:
        registry = CollectorRegistry()
        metrics_class(registry)
        collected = list(registry.collect())
        assert collected, f"{metrics_class.__name__} registered no metric"
        families.update({family.name: family.type for family in collected})
    return families


def exposed_metric_names() -> set[str]:
    """The sample names those families expose (fleetline_app_sync_total, fleetline_render_seconds_bucket, ...)."""
    return {name + suffix for name, kind in registered_families().items() for suffix in SUFFIXES[kind]}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: every identifier that is not a function, an aggregation, a
    keyword, a label (in matchers or grouping clauses), a duration or a Grafana variable. An unknown function is
    an error, so that a misspelt one cannot pass as a metric or vanish."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    text = re.sub(r"\boffset\s+-?\d+(ms|s|m|h|d|w|y)\b", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        word = match.group()
        if text[match.end():].lstrip().startswith("("):
            assert word in FUNCTIONS | AGGREGATIONS, f"unknown PromQL function {word!r} in {expr}"
        elif word not in KEYWORDS | AGGREGATIONS:
            names.add(word)
    return names


def test_metric_names_finds_metrics_and_nothing_else() -> None:
    expr = ('sum by (region, action) (rate(fleetline_drift_events_total{action="detected", region=~"$region"}'
            '[$__rate_interval]) * on (cluster) group_left (region) group by (cluster, region) '
            '(fleetline_cluster_connected)) or vector(0) unless up offset 1h')
    assert metric_names(expr) == {"fleetline_drift_events_total", "fleetline_cluster_connected", "up"}
    assert metric_names("histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))") == {"x_bucket"}
    with pytest.raises(AssertionError, match="unknown PromQL function 'rte'"):
        metric_names("sum(rte(fleetline_app_sync_total[5m]))")


def test_exposed_names_come_from_every_registry_of_hub_and_agent() -> None:
    families = {name + "_total" if kind == "counter" else name for name, kind in registered_families().items()}
    in_source = set(defined_in_source())
    assert in_source <= families, f"metrics defined in hub/ or agent/ but not instantiated here: {in_source - families}"
    names = exposed_metric_names()
    assert {"fleetline_cluster_connected", "fleetline_app_info", "fleetline_api_requests_total",
            "fleetline_agent_apply_duration_seconds_bucket", "fleetline_hub_push_to_ack_seconds_bucket"} <= names
    assert "fleetline_app_sync" not in names and "fleetline_render_seconds" not in names  # _total, _bucket only


def test_the_dashboard_is_a_grafana_dashboard_model() -> None:
    dashboard = load()
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"]), dashboard["uid"]
    assert dashboard["title"].strip()
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert {"from", "to"} <= set(dashboard["time"])
    assert dashboard["panels"], "no panels"
    ids = [panel["id"] for panel in dashboard["panels"]] + [p["id"] for r in dashboard["panels"]
                                                            for p in r.get("panels", [])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    occupied: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        assert panel["type"] in PANEL_TYPES, f"{panel['title']}: unknown panel type {panel['type']}"
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                 for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
    for panel in data_panels(dashboard):
        assert panel["title"].strip() and panel.get("description", "").strip(), panel
        assert panel["datasource"]["type"] == "prometheus", panel["title"]
        targets = panel["targets"]
        assert targets, f"{panel['title']} has no targets"
        ref_ids = [target["refId"] for target in targets]
        assert len(ref_ids) == len(set(ref_ids)), f"{panel['title']}: refIds must be unique"
        assert all(target["expr"].strip() for target in targets), f"{panel['title']}: a target has no expr"


def test_every_variable_a_query_uses_is_defined() -> None:
    dashboard = load()
    defined = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert "datasource" in defined
    for title, expr in expressions(dashboard):
        used = set(re.findall(r"\$\{?(\w+)", expr))
        assert used <= defined | GRAFANA_GLOBALS, f"{title}: undefined variables {used - defined - GRAFANA_GLOBALS}"
    for panel in data_panels(dashboard):
        assert panel["datasource"]["uid"] == "${datasource}", f"{panel['title']} does not use the datasource variable"


def test_every_metric_the_dashboard_queries_is_exposed_by_the_hub_or_an_agent() -> None:
    exposed = exposed_metric_names()
    used_anywhere: set[str] = set()
    for title, expr in expressions(load()):
        names = metric_names(expr)
        assert names, f"{title}: {expr} selects no metric"
        unknown = names - exposed
        assert not unknown, f"{title}: {sorted(unknown)} are not exposed by the hub or the agent ({expr})"
        used_anywhere |= names
    # the brief's panels: connections, sync/health, drift, time to heal, rollouts, push latency, API errors
    assert {"fleetline_cluster_connected", "fleetline_app_info", "fleetline_drift_events_total",
            "fleetline_agent_apply_duration_seconds_bucket", "fleetline_rollout_step", "fleetline_rollout_halted",
            "fleetline_hub_push_to_ack_seconds_bucket", "fleetline_api_requests_total"} <= used_anywhere


@requires_promtool
def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    """`promtool check rules` parses each query (Grafana's variables replaced by values) as a recording rule."""
    rules = [{"record": f"fleetline:dashboard:{index}",
              "expr": expr.replace("$__rate_interval", "5m").replace("$region", ".*")}
             for index, (_, expr) in enumerate(expressions(load()))]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    code, output = run("check", "rules", "rules.yaml", cwd=tmp_path)
    assert code == 0, output
    assert f"SUCCESS: {len(rules)} rules found" in output
