"""The report as one CSV table: every row names its `section`, and the other columns are the union of the
sections' columns (a row leaves the columns of other sections empty), so a spreadsheet filters by section.

Sections and their columns, in order: summary (item, value), clusters, ran, commits, changes, drift,
sync_failures, other_events (their fields, as in the JSON form), then verification (item, value). Lists are
joined with "; "; an approver is "who (time)"; booleans are "yes"/"no"; times are RFC 3339 UTC.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from hub.store.report import Report

_SECTIONS = ("clusters", "ran", "commits", "changes", "drift", "sync_failures", "other_events")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_cell(item) for item in value)
    if isinstance(value, dict):
        if "who" in value:
            reason = f": {value['reason']}" if value.get("reason") else ""
            return f"{value['who']} ({value.get('at', '')}){reason}"
        return "; ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def report_rows(report: Report) -> list[dict[str, object]]:
    """Every row of the CSV as a dict with its `section`."""
    rows: list[dict[str, object]] = [{"section": "summary", "item": k, "value": v}
                                     for k, v in report.summary().items()]
    for section in _SECTIONS:
        for item in getattr(report, section):
            row = {"section": section, **asdict(item)}
            if section == "changes":
                row["approved"] = item.approved
            rows.append(row)
    verification = {**report.verification.to_dict(), "covered_seq": report.covered_seq,
                    "covered_hash": report.covered_hash}
    rows += [{"section": "verification", "item": k, "value": v} for k, v in verification.items()]
    return rows


def render_csv(report: Report) -> str:
    """The CSV text (header first)."""
    rows = report_rows(report)
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()
