"""Region reports: only the region's entries, what ran, commits, approvals, drift with time to heal, failures,
the chain's verdict; and the CSV and HTML forms."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from html.parser import HTMLParser

import pytest

from hub.store.report import report
from hub.store.report_csv import render_csv
from hub.store.report_html import render_html
from hub.store.sqlite import SqliteStore

from .conftest import COMMIT_EU, COMMIT_SHARED, COMMIT_US, at, two_regions

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}


class WellFormed(HTMLParser):
    """Checks that every element is closed in order, and collects the text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> WellFormed:
    checker = WellFormed()
    checker.feed(page)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    return checker


@pytest.fixture
def history(store: SqliteStore) -> SqliteStore:
    two_regions(store)
    return store


def test_each_region_lists_only_its_own_entries(history: SqliteStore) -> None:
    eu = report(history, "eu", at(1, 0), at(31, 0))
    us = report(history, "us-east", at(1, 0), at(31, 0))
    assert [c.name for c in eu.clusters] == ["eu-1", "eu-2"]
    assert [c.name for c in us.clusters] == ["use-1"]
    assert {r.cluster for r in eu.ran} == {"eu-1", "eu-2"} and {r.cluster for r in us.ran} == {"use-1"}
    assert [c.revision for c in eu.commits] == [COMMIT_EU] and [c.revision for c in us.commits] == [COMMIT_US]
    eu_text, us_text = json.dumps(eu.to_dict()), json.dumps(us.to_dict())
    assert COMMIT_US not in eu_text and "use-1" not in eu_text and "Bob" not in eu_text
    assert COMMIT_EU not in us_text and "eu-1" not in us_text and "alice" not in us_text
    assert COMMIT_SHARED not in eu_text + us_text  # seen, never ran anywhere
    # the API refusal naming eu-1 (no region) is eu's; the one naming nothing is nobody's
    assert [(o.kind, o.cluster) for o in eu.other_events] == [("api_refused", "eu-1")]
    assert [(o.kind, o.actor) for o in us.other_events] == [("rollback", "bob")]


def test_what_ran_commits_and_approvals(history: SqliteStore) -> None:
    eu = report(history, "eu", at(1, 0), at(31, 0))
    assert [(r.cluster, r.event, r.generation) for r in eu.ran] == [
        ("eu-1", "desired state pushed", 7), ("eu-1", "sync Succeeded", 7),
        ("eu-2", "desired state pushed", 3), ("eu-2", "sync Failed", 3)]
    commit = eu.commits[0]
    assert (commit.author, commit.committer, commit.signature, commit.subject) == \
        ("Ann Author <ann@example.com>", "Cy <cy@example.com>", "trusted", "inference: bump image")
    by_env = {c.environment: c for c in eu.changes}
    prod, staging = by_env["prod"], by_env["staging"]
    assert prod.production and prod.approved and prod.clusters == ["eu-1"]
    assert prod.author == "Ann Author <ann@example.com>"
    assert prod.approvers == [{"who": "alice", "at": "2026-03-02T09:00:00.000000Z"}]
    assert prod.refusals[0]["who"] == "mallory" and "not an approver" in prod.refusals[0]["reason"]
    assert not staging.production and not staging.approvers
    us = report(history, "us-east", at(1, 0), at(31, 0))
    assert [(c.production, c.approved) for c in us.changes] == [(True, False)]
    summary = us.summary()
    assert summary["production_changes_without_approval"] == 1 and summary["commits_not_trusted"] == 1


def test_drift_incidents_and_sync_failures(history: SqliteStore) -> None:
    eu = report(history, "eu", at(1, 0), at(31, 0))
    assert len(eu.drift) == 1
    incident = eu.drift[0]
    assert (incident.cluster, incident.object, incident.caused_by, incident.fields) == \
        ("eu-1", "Deployment ml/inference", ["kubectl-edit"], ["/spec/replicas"])
    assert (incident.detected_at, incident.healed_at, incident.heal_seconds, incident.healed_by) == \
        ("2026-03-04T09:00:00.000000Z", "2026-03-04T09:00:04.000000Z", 4.0, "self-heal")
    assert [(f.cluster, f.phase, f.message) for f in eu.sync_failures] == \
        [("eu-2", "Failed", "Deployment/inference: image pull failed")]
    us = report(history, "us-east", at(1, 0), at(31, 0))
    assert us.drift[0].healed_at == "" and us.drift[0].heal_seconds is None and us.summary()["drift_open"] == 1


def test_the_period_bounds_the_entries_but_not_the_context(history: SqliteStore) -> None:
    early = report(history, "eu", at(1, 0), at(3, 9, 30))  # the prod push and sync, not the staging ones
    assert [(r.cluster, r.event) for r in early.ran] == [("eu-1", "desired state pushed"), ("eu-1", "sync Succeeded")]
    late = report(history, "eu", at(3, 0), at(31, 0))  # the commit (1 March) and approval (2 March) came earlier
    prod = next(c for c in late.changes if c.environment == "prod")
    assert prod.approvers and late.commits[0].revision == COMMIT_EU
    healed_only = report(history, "eu", at(4, 9, 0, 2), at(31, 0))  # noticed before the period began
    incident = healed_only.drift[0]
    assert incident.detected_before_period and incident.detected_at == "2026-03-04T09:00:00.000000Z"
    assert incident.heal_seconds == 4.0


def test_the_verification_and_the_last_entry_covered(history: SqliteStore) -> None:
    eu = report(history, "eu", at(1, 0), at(5, 0))
    entries = list(history.audit_entries())
    covered = max((e for e in entries if e.at < "2026-03-05"), key=lambda e: e.seq)
    assert eu.verification.ok and eu.verification.entries == len(entries)
    assert (eu.covered_seq, eu.covered_hash) == (covered.seq, covered.hash)
    with sqlite3.connect(history.path) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 4")
    broken = report(history, "eu", at(1, 0), at(31, 0))
    assert not broken.verification.ok and broken.verification.first_broken == 4
    assert broken.summary()["chain_ok"] is False


def test_csv_is_one_table_with_a_section_column(history: SqliteStore) -> None:
    text = render_csv(report(history, "eu", at(1, 0), at(31, 0)))
    rows = list(csv.DictReader(io.StringIO(text)))
    sections = {row["section"] for row in rows}
    assert sections == {"summary", "clusters", "ran", "commits", "changes", "drift", "sync_failures",
                        "other_events", "verification"}
    assert all(len(row) == len(rows[0]) for row in rows)
    change = next(r for r in rows if r["section"] == "changes" and r["environment"] == "prod")
    assert change["approved"] == "yes" and change["approvers"] == "alice (2026-03-02T09:00:00.000000Z)"
    drift = next(r for r in rows if r["section"] == "drift")
    assert drift["heal_seconds"] == "4.0" and drift["caused_by"] == "kubectl-edit"
    assert next(r for r in rows if r["section"] == "summary" and r["item"] == "chain_ok")["value"] == "yes"
    assert COMMIT_US not in text


def test_html_is_well_formed_self_contained_and_leads_with_a_summary(history: SqliteStore) -> None:
    history.append_audit([])  # nothing
    eu = report(history, "eu", at(1, 0), at(31, 0))
    page = render_html(eu)
    checker = parsed(page)
    text = " ".join(" ".join(checker.text).split())
    assert page.startswith("<!DOCTYPE html>")
    assert "script" not in checker.tags and "link" not in checker.tags and "http" not in page.lower().replace(
        "http-equiv", "")
    assert "@media print" in page
    summary_at, ran_at = text.index("Summary"), text.index("What ran on each cluster")
    assert summary_at < ran_at
    assert "The audit log is intact." in text and "2 clusters in region eu: eu-1, eu-2." in text
    assert "1 change made directly in a cluster, outside Git (drift): 1 undone, typically within 4.0 s" in text
    assert "4 Mar 2026, 09:00:00 UTC" in text  # dates for people
    assert "kubectl-edit" in text and "Ann Author <ann@example.com>" in text  # escaped, shown as text
    assert f"fleetline audit verify --expect {eu.covered_seq}:{eu.covered_hash}" in text
    assert COMMIT_US[:12] not in page


def test_html_escapes_what_entries_say(store: SqliteStore) -> None:
    from hub.store.records import AuditDraft
    store.append_audit([AuditDraft("sync_result", region="eu", cluster="eu-<b>1</b>", application="a&b",
                                   revision="r1", at=at(2),
                                   data={"phase": "Failed", "message": "<script>alert(1)</script>"})])
    page = render_html(report(store, "eu"))
    parsed(page)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_an_empty_region_reports_nothing_but_the_verdict(history: SqliteStore) -> None:
    empty = report(history, "ap-south", at(1, 0), at(31, 0))
    assert empty.entries == 0 and not empty.clusters and not empty.changes and empty.verification.ok
    text = " ".join(parsed(render_html(empty)).text)
    assert "0 clusters in region ap-south." in text and "No drift was recorded" in " ".join(text.split())
