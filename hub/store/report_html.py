"""The report as one self-contained HTML page for people who are not engineers: a summary in sentences first,
then one section per question with plain headings, dates written out, every value escaped, inline CSS only (no
scripts, no external files), and a print stylesheet (A4, black on white, tables repeat their headers, sections
do not split their heading from their table).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from hub.store.report import Report
from hub.store.timefmt import readable, readable_duration, readable_period

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2430; margin: 2em auto;
       max-width: 72em; padding: 0 1.5em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 2px solid #d0d7e2; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
p.lead { color: #4a5568; margin-top: 0; }
.summary { background: #f4f7fb; border: 1px solid #d0d7e2; border-radius: 6px; padding: 0.8em 1.4em; }
.summary li { margin: 0.3em 0; }
.ok { color: #17663a; font-weight: 600; }
.bad { color: #b42318; font-weight: 600; }
.badge { display: inline-block; font-size: 0.8em; padding: 0 0.5em; border-radius: 3px; background: #e8edf5; }
.badge.prod { background: #fde8c8; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0 1.2em; font-size: 0.92em; }
th, td { border: 1px solid #d0d7e2; padding: 0.35em 0.55em; text-align: left; vertical-align: top; }
th { background: #eef2f8; }
tr.flag td { background: #fdecea; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em; word-break: break-all; }
.none { color: #6b7280; font-style: italic; }
footer { margin-top: 3em; color: #6b7280; font-size: 0.85em; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; color: #000; }
  .summary { background: none; border: 1px solid #000; }
  th { background: #eee; }
  tr.flag td { background: none; font-weight: 600; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  h2, h3 { page-break-after: avoid; break-after: avoid; }
  section { page-break-before: auto; }
}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _when(text: str) -> str:
    return _e(readable(text)) if text else '<span class="none">unknown</span>'


def _commit(revision: str) -> str:
    return f"<code>{_e(revision[:12])}</code>" if revision else '<span class="none">none</span>'


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _table(headers: Sequence[str], rows: Iterable[tuple[Sequence[str], bool]], empty: str) -> str:
    """Cells are HTML already escaped; a row flagged True is highlighted."""
    body = [('<tr class="flag">' if flag else "<tr>") + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"
            for cells, flag in rows]
    if not body:
        return f'<p class="none">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary(report: Report) -> str:
    s = report.summary()
    v = report.verification
    items = []
    if v.ok:
        items.append(f'<span class="ok">The audit log is intact.</span> All {v.entries:,} recorded entries were '
                     "checked: none was changed, removed or inserted afterwards.")
    else:
        items.append(f'<span class="bad">The audit log has been tampered with or damaged.</span> '
                     f"{_e(v.reason)}. Entries after number {v.last_seq:,} cannot be trusted.")
    names = ", ".join(c.name for c in report.clusters)
    items.append(f"{_plural(s['clusters'], 'cluster')} in region {_e(report.region)}"
                 + (f": {_e(names)}." if names else "."))
    items.append(f"{_plural(s['desired_states_pushed'], 'deployment')} sent to the clusters and "
                 f"{_plural(s['syncs'], 'sync')} reported; "
                 + (f'<span class="bad">{_plural(s["sync_failures"], "sync")} failed</span>.'
                    if s["sync_failures"] else "none failed."))
    production = s["production_changes"]
    unapproved = s["production_changes_without_approval"]
    line = f"{_plural(s['changes'], 'change')} reached the clusters, {production:,} of them in production"
    if production:
        line += (f"; all {production:,} were approved." if not unapproved else
                 f'; <span class="bad">{_plural(unapproved, "production change")} had no recorded '
                 "approval</span>.")
    else:
        line += "."
    items.append(line)
    if s["commits_not_trusted"]:
        items.append(f'<span class="bad">{_plural(s["commits_not_trusted"], "commit")} that ran had no trusted '
                     "signature.</span>")
    drift = s["drift_incidents"]
    if drift:
        line = (f"{_plural(drift, 'change')} made directly in a cluster, outside Git (drift): "
                f"{s['drift_healed']:,} undone")
        if s["median_heal_seconds"] is not None:
            line += (f", typically within {_e(readable_duration(s['median_heal_seconds']))} (longest "
                     f"{_e(readable_duration(s['max_heal_seconds']))})")
        if s["drift_open"]:
            line += f'; <span class="bad">{s["drift_open"]:,} not undone by the end of the period</span>'
        items.append(line + ".")
    else:
        items.append("No change was made directly in a cluster, outside Git (no drift).")
    if s["other_events"]:
        items.append(f"{_plural(s['other_events'], 'other recorded event')} (listed at the end).")
    return '<div class="summary"><ul>' + "".join(f"<li>{item}</li>" for item in items) + "</ul></div>"


def _ran(report: Report) -> str:
    parts = []
    by_cluster: dict[str, list] = {}
    for row in report.ran:
        by_cluster.setdefault(row.cluster, []).append(row)
    for cluster in report.clusters:
        rows = by_cluster.get(cluster.name, [])
        env = f' <span class="badge">{_e(cluster.environment)}</span>' if cluster.environment else ""
        parts.append(f"<h3>{_e(cluster.name)}{env}</h3>")
        parts.append(_table(("When", "Application", "Version (commit)", "What happened", "Details"), (
            ((_when(r.at), _e(r.application), _commit(r.revision), _e(r.event), _e(r.detail)),
             r.event.startswith("sync") and r.event != "sync Succeeded") for r in rows),
            "Nothing was deployed to this cluster in this period."))
    return "".join(parts) or '<p class="none">No cluster of this region recorded anything in this period.</p>'


def _approvers(items: list[dict]) -> str:
    return "<br>".join(f"{_e(a['who'])} ({_e(readable(a['at']))})" for a in items) or \
        '<span class="none">nobody</span>'


def render_html(report: Report) -> str:
    """The whole page."""
    period = readable_period(report.since, report.until)
    v = report.verification
    commits = _table(("Commit", "First seen", "Author", "Committer", "Signature", "Description"), (
        ((_commit(c.revision), _when(c.seen_at), _e(c.author), _e(c.committer),
          _e(c.signature + (f" ({c.signer})" if c.signer else "")), _e(c.subject)), c.signature != "trusted")
        for c in report.commits), "No commit record was found for what ran.")
    changes = _table(("Environment", "Application", "Commit", "Written by", "Approved by", "First deployed",
                      "Clusters"), (
        ((_e(c.environment) + (' <span class="badge prod">production</span>' if c.production else ""),
          _e(c.application), _commit(c.revision), _e(c.author) or '<span class="none">not recorded</span>',
          _approvers(c.approvers) + ("".join(f"<br>refused: {_e(r['who'])} ({_e(r['reason'])})"
                                             for r in c.refusals)),
          _when(c.first_at), _e(", ".join(c.clusters))), c.production and not c.approved)
        for c in report.changes), "No change reached this region's clusters in this period.")
    drift = _table(("Cluster", "Application", "Object", "Noticed", "Undone", "Time to undo", "Changed by",
                    "Fields", "Undone by"), (
        ((_e(d.cluster), _e(d.application), _e(d.object), _when(d.detected_at),
          _when(d.healed_at) if d.healed_at else '<span class="bad">not undone</span>',
          _e(readable_duration(d.heal_seconds)), _e(", ".join(d.caused_by) or "unknown"),
          _e("object deleted" if d.missing else ", ".join(d.fields)), _e(d.healed_by)), not d.healed_at)
        for d in report.drift), "No drift was recorded in this period.")
    failures = _table(("When", "Cluster", "Application", "Commit", "Result", "Message"), (
        ((_when(f.at), _e(f.cluster), _e(f.application), _commit(f.revision), _e(f.phase), _e(f.message)), False)
        for f in report.sync_failures), "No sync failed in this period.")
    other = _table(("When", "What", "Cluster", "Application", "Who", "Details"), (
        ((_when(o.at), _e(o.kind.replace("_", " ")), _e(o.cluster), _e(o.application), _e(o.actor),
          _e(o.summary)), False) for o in report.other_events), "Nothing else was recorded in this period.")
    verdict = (f'<p class="ok">Intact: {v.entries:,} entries checked.</p>' if v.ok else
               f'<p class="bad">Broken at entry {_e(v.first_broken)}: {_e(v.reason)}.</p>')
    covered = (f"<p>The last entry this report covers is number {report.covered_seq:,}, with fingerprint "
               f"<code>{_e(report.covered_hash)}</code>. Keep it with this report: running "
               f"<code>fleetline audit verify --expect {report.covered_seq}:{_e(report.covered_hash)}</code> "
               "later proves that no entry up to it has changed since.</p>") if report.covered_seq else \
        '<p class="none">The period covers no entry of the audit log.</p>'
    return "".join((
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>Compliance report: region {_e(report.region)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>Compliance report: region {_e(report.region)}</h1>",
        f'<p class="lead">Period: {_e(period)}. Generated {_e(readable(report.generated_at))} by Fleetline from '
        f"its tamper-evident audit log ({report.entries:,} entries for this region).</p></header>",
        f"<section><h2>Summary</h2>{_summary(report)}</section>",
        "<section><h2>What ran on each cluster, and when</h2>",
        "<p>Every deployment the hub sent to a cluster, and every result the cluster reported.</p>",
        f"{_ran(report)}</section>",
        "<section><h2>Where the changes came from</h2><p>The Git commits behind what ran, who wrote and who "
        f"committed them, and whether they carried a trusted signature.</p>{commits}</section>",
        "<section><h2>Who wrote and who approved each change</h2><p>Each version of an application that reached "
        "the region's clusters. Production changes without a recorded approval are highlighted.</p>"
        f"{changes}</section>",
        "<section><h2>Changes made outside Git (drift)</h2><p>Each time something in a cluster was changed by hand "
        "or by another tool, who changed it, and how long it took to put it back as Git says.</p>"
        f"{drift}</section>",
        f"<section><h2>Failed syncs</h2>{failures}</section>",
        f"<section><h2>Other recorded events</h2>{other}</section>",
        "<section><h2>Evidence check</h2><p>Every entry of the audit log carries a fingerprint (SHA-256) of its "
        "content and of the entry before it, so that changing, removing or inserting any entry afterwards is "
        f"detected.</p>{verdict}{covered}</section>",
        f"<footer>Fleetline audit report, region {_e(report.region)}, generated "
        f"{_e(report.generated_at)}.</footer></body></html>\n"))
