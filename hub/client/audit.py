"""`fleetline audit log|verify|report` through the hub's API, for operators without the hub's database.

Not registered by `add_operator_parsers`: `fleetline audit` reads the store directly (hub/store/cli.py), and
the composition root decides how the two meet (e.g. these when --hub or FLEETLINE_HUB is given). The functions
take a parsed Namespace and return the exit code; `add_api_audit_parser` registers them standalone.

Attributes read: connection (`hub`, `token`, `token_file`, `ca`, `insecure`, `color`); `log`: `region`,
`cluster`, `kind`, `since`, `until`, `limit`, `output` (table|json); `verify`: `output`; `report`: `region`,
`since`, `until`, `output` (json|csv|html), `out` (a file, else stdout).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hub.client.errors import FAILED, OK, UsageError
from hub.client.http import HubClient
from hub.client.output import Terminal, one_line, short_revision, show_time, table
from hub.client.runner import add_common_arguments, run_command

# Columns of the audit log table, from the entry fields that are present, in this order; the rest is DETAILS.
LOG_COLUMNS = (("seq", "SEQ"), ("id", "ID"), ("time", "TIME"), ("at", "TIME"), ("timestamp", "TIME"),
               ("kind", "KIND"), ("actor", "ACTOR"), ("region", "REGION"), ("cluster", "CLUSTER"),
               ("application", "APP"), ("revision", "REVISION"))
HIDDEN = {"hash", "prev_hash", "previous_hash"}


def api_audit_log(args: argparse.Namespace) -> int:
    """`audit log`: the audit entries matching the filters, as a table or the API's JSON."""
    return run_command(_log, args)


def api_audit_verify(args: argparse.Namespace) -> int:
    """`audit verify`: exit 0 when the hub says the chain is intact, 1 naming the first broken entry."""
    return run_command(_verify, args)


def api_audit_report(args: argparse.Namespace) -> int:
    """`audit report`: a region's compliance report (json, csv or html) to stdout or `--out FILE`."""
    return run_command(_report, args)


def audit_rows(entries: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows for audit entries, whatever fields the hub gives them."""
    present = [(key, title) for key, title in LOG_COLUMNS if any(key in e for e in entries)]
    seen_titles: set[str] = set()
    columns = []
    for key, title in present:
        if title not in seen_titles:
            columns.append((key, title))
            seen_titles.add(title)
    used = {key for key, _ in columns} | HIDDEN
    rows = []
    for entry in entries:
        row = []
        for key, title in columns:
            value = entry.get(key)
            row.append(show_time(value) if title == "TIME" else short_revision(value) if key == "revision"
                       else str(value) if value not in (None, "") else "-")
        rest = {k: v for k, v in entry.items() if k not in used and v not in (None, "", [], {})}
        row.append(one_line(" ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, sort_keys=True)}"
                                     for k, v in rest.items()), 100) or "-")
        rows.append(row)
    return [title for _, title in columns] + ["DETAILS"], rows


async def _log(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    answer = await client.audit(region=args.region, cluster=args.cluster, kind=args.kind, since=args.since,
                                until=args.until, limit=args.limit)
    if args.output == "json":
        terminal.json(answer)
        return OK
    entries = [e for e in answer.get("entries") or [] if isinstance(e, dict)]
    if not entries:
        terminal.print("no audit entries match")
        return OK
    headers, rows = audit_rows(entries)
    for line in table(terminal, headers, rows):
        terminal.print(line)
    return OK


async def _verify(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    answer = await client.audit_verify()
    if args.output == "json":
        terminal.json(answer)
    elif answer.get("ok"):
        terminal.print(f"audit chain intact: {answer.get('entries', '?')} entries, last hash "
                       f"{answer.get('last_hash') or '-'}")
    if answer.get("ok"):
        return OK
    terminal.note(f"error: audit chain broken at entry {answer.get('first_broken', '?')}: "
                  f"{answer.get('reason') or 'no reason given'} ({answer.get('entries', '?')} entries checked)")
    return FAILED


async def _report(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    if not args.region:
        raise UsageError("audit report needs --region (the compliance report is per region)")
    report = await client.audit_report(args.output, region=args.region, since=args.since, until=args.until)
    if args.out:
        path = Path(args.out)
        try:
            if isinstance(report, str):
                path.write_text(report, encoding="utf-8")
            else:
                path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot write it ({exc})") from None
        terminal.note(f"wrote the {args.output} report of {args.region} to {args.out}")
    elif isinstance(report, str):
        terminal.out.write(report if report.endswith("\n") else report + "\n")
    else:
        terminal.json(report)
    return OK


def add_api_audit_parser(sub: argparse._SubParsersAction, name: str = "audit") -> argparse.ArgumentParser:
    """Register `NAME log|verify|report` backed by the API (for a composition root or a test harness)."""
    parser = sub.add_parser(name, help="the audit log through the hub's API",
                            description="Query and verify the hub's audit log, and produce a region's compliance "
                                        "report, through the REST API (viewer role).")
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION")
    actions.required = True
    log = actions.add_parser("log", help="audit entries, filtered", description="List audit entries.")
    add_common_arguments(log, outputs=("table", "json"))
    for flag, text in (("--region", "only this region"), ("--cluster", "only this cluster"),
                       ("--kind", "only this kind of entry"), ("--since", "from this time (RFC 3339 or a date)"),
                       ("--until", "up to this time")):
        log.add_argument(flag, help=text)
    log.add_argument("--limit", type=int, help="at most this many entries")
    log.set_defaults(command=_log, run=api_audit_log)
    verify = actions.add_parser("verify", help="check the hash chain", description="Check the audit chain.")
    add_common_arguments(verify, outputs=("table", "json"))
    verify.set_defaults(command=_verify, run=api_audit_verify)
    report = actions.add_parser("report", help="a region's compliance report", description="Compliance report.")
    add_common_arguments(report, outputs=("json", "csv", "html"))
    report.add_argument("--region", required=True, help="the region reported on")
    report.add_argument("--since", required=True, help="start (RFC 3339 or a date, e.g. 2026-03-01)")
    report.add_argument("--until", help="end (default: now)")
    report.add_argument("--out", metavar="FILE", help="write the report to FILE instead of stdout")
    report.set_defaults(command=_report, run=api_audit_report)
    return parser
