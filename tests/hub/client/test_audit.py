"""The API-backed `audit log|verify|report`: the query sent, the table, the chain's verdict as the exit code,
and the report written as the hub renders it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.hub.client.fakehub import FakeHubApi
from tests.hub.client.harness import run_cli


def test_audit_log_filters_and_table(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/audit", (200, {"entries": [
        {"seq": 41, "time": "2026-03-01T10:00:00Z", "kind": "approval", "actor": "ana", "region": "eu",
         "cluster": "eu-1", "revision": "4f2a9c1" + "e" * 33, "hash": "abc", "prev_hash": "def",
         "details": {"environment": "prod"}},
        {"seq": 42, "time": "2026-03-01T10:01:00Z", "kind": "api_refused", "actor": "bo", "region": "",
         "cluster": None, "status": 403}]}))
    result = run_cli(hub, "audit", "log", "--region", "eu", "--since", "2026-03-01", "--limit", "50")
    assert result.code == 0, result.err
    assert hub.calls("GET", "/api/v1/audit")[0].query == {"region": "eu", "since": "2026-03-01", "limit": "50"}
    assert result.out.splitlines() == [
        "SEQ  TIME                  KIND         ACTOR  REGION  CLUSTER  REVISION  DETAILS",
        "41   2026-03-01 10:00:00Z  approval     ana    eu      eu-1     4f2a9c1   details={\"environment\": \"prod\"}",
        "42   2026-03-01 10:01:00Z  api_refused  bo     -       -        -         status=403"]
    assert json.loads(run_cli(hub, "audit", "log", "-o", "json").out)["entries"][1]["seq"] == 42


def test_audit_verify_exit_code_is_the_chains_verdict(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/audit/verify", (200, {"ok": True, "entries": 1200, "last_hash": "9f8e",
                                                 "first_broken": None, "reason": ""}))
    intact = run_cli(hub, "audit", "verify")
    assert (intact.code, intact.out) == (0, "audit chain intact: 1200 entries, last hash 9f8e\n")
    hub.on("GET", "/api/v1/audit/verify", (200, {"ok": False, "entries": 1200, "last_hash": "9f8e",
                                                 "first_broken": 731, "reason": "content hash mismatch"}))
    broken = run_cli(hub, "audit", "verify")
    assert broken.code == 1
    assert broken.err == "error: audit chain broken at entry 731: content hash mismatch (1200 entries checked)\n"


def test_audit_report_as_the_hub_renders_it(hub: FakeHubApi, tmp_path: Path) -> None:
    hub.on("GET", "/api/v1/audit/verify", (200, {"ok": True, "entries": 3, "first_broken": None, "reason": ""}))
    hub.on("GET", "/api/v1/audit/report", lambda r: (200, f"<html>{r.query['region']} {r.query['format']}</html>"
                                                     if r.query["format"] == "html" else {"region": r.query["region"]}))
    result = run_cli(hub, "audit", "report", "--region", "eu", "--since", "2026-03-01", "-o", "html", "--out",
                     str(tmp_path / "eu.html"))
    assert result.code == 0, result.err
    assert (tmp_path / "eu.html").read_text() == "<html>eu html</html>"
    assert hub.calls("GET", "/api/v1/audit/report")[0].query == {"region": "eu", "since": "2026-03-01",
                                                                 "format": "html"}
    assert json.loads(run_cli(hub, "audit", "report", "--region", "eu", "--since", "2026-03-01").out) == {
        "region": "eu"}


def test_a_date_alone_in_until_includes_that_whole_day_through_the_hub(hub: FakeHubApi) -> None:
    """As on the data directory, `--until 2026-05-31` covers all of 31 May: the API reads a date as its midnight,
    so the client sends the next day's midnight; a full time goes as given."""
    hub.on("GET", "/api/v1/audit", (200, {"entries": []}))
    hub.on("GET", "/api/v1/audit/report", (200, {"region": "eu"}))
    assert run_cli(hub, "audit", "log", "--until", "2026-05-31").code == 0
    assert run_cli(hub, "audit", "report", "--region", "eu", "--since", "2026-03-01", "--until", "2026-05-31",
                   "-o", "json").code == 0
    assert run_cli(hub, "audit", "log", "--until", "2026-05-31T10:00:00Z").code == 0
    sent = [c.query["until"] for c in hub.calls("GET", "/api/v1/audit") + hub.calls("GET", "/api/v1/audit/report")]
    assert sent == ["2026-06-01T00:00:00.000000Z", "2026-05-31T10:00:00Z", "2026-06-01T00:00:00.000000Z"]


def test_a_csv_or_html_report_of_a_broken_chain_exits_1(hub: FakeHubApi, tmp_path: Path) -> None:
    hub.on("GET", "/api/v1/audit/report", (200, "section,item,value\nsummary,chain_ok,no\n"))
    hub.on("GET", "/api/v1/audit/verify", (200, {"ok": False, "entries": 10, "first_broken": 7,
                                                 "reason": "content hash mismatch"}))
    broken = run_cli(hub, "audit", "report", "--region", "eu", "--since", "2026-03-01", "-o", "csv")
    assert broken.code == 1 and "BROKEN at entry 7" in broken.err
    assert broken.out.startswith("section,item,value")  # the report is still written
    hub.on("GET", "/api/v1/audit/verify", (200, {"ok": True, "entries": 10, "first_broken": None, "reason": ""}))
    assert run_cli(hub, "audit", "report", "--region", "eu", "--since", "2026-03-01", "-o", "csv").code == 0
