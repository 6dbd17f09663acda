"""`fleetline audit log|verify|report` through the hub's API, for operators without the hub's database.

The `fleetline audit` command has one parser (hub/store/cli.py): it reads the database itself with --data-dir,
and runs these coroutines (through `hub.client.runner.run_command`) when a hub is named with --hub or
FLEETLINE_HUB. Each takes the client, the parsed Namespace and the terminal, and returns the exit code.

Attributes read: connection (`hub`, `token`, `token_file`, `ca`, `insecure`, `color`); `log`: `region`,
`cluster`, `application`, `kind` (a list), `since`, `until`, `limit`, `output_format` (table|json); `verify`:
`expect`, `output_format` (text|json); `report`: `region`, `since`, `until`, `production_env`,
`output_format` (json|csv|html, else from the suffix of `output`), `output` (a file, else stdout).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hub.client.errors import FAILED, OK, UsageError
from hub.client.http import HubClient
from hub.client.output import Terminal, one_line, short_revision, show_time, table
from hub.store.timefmt import parse_bound, rfc3339

# Columns of the audit log table, from the entry fields that are present, in this order; the rest is DETAILS.
LOG_COLUMNS = (("seq", "SEQ"), ("id", "ID"), ("time", "TIME"), ("at", "TIME"), ("timestamp", "TIME"),
               ("kind", "KIND"), ("actor", "ACTOR"), ("region", "REGION"), ("cluster", "CLUSTER"),
               ("application", "APP"), ("revision", "REVISION"))
HIDDEN = {"hash", "prev_hash", "previous_hash"}


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


def _only_local(args: argparse.Namespace, *flags: tuple[str, str]) -> None:
    for attribute, flag in flags:
        if getattr(args, attribute, None):
            raise UsageError(f"{flag} works only on the hub's database (--data-dir DIR on the hub's machine), not "
                             "through --hub")


def _kinds(args: argparse.Namespace) -> list[str]:
    return [k.strip() for item in getattr(args, "kind", None) or [] for k in str(item).split(",") if k.strip()]


async def audit_log(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    """`audit log`: the audit entries matching the filters, as a table or the API's JSON. Several --kind: one
    query per kind, merged by seq (the latest --limit of them)."""
    _only_local(args, ("application", "--application"))
    limit = getattr(args, "limit", None)
    common = {"region": args.region, "cluster": args.cluster, "since": args.since, "until": _until(args.until),
              "limit": limit or None}
    kinds = _kinds(args)
    if len(kinds) <= 1:
        answer = await client.audit(**common, kind=kinds[0] if kinds else None)
    else:
        merged: dict[object, dict] = {}
        for kind in kinds:
            for entry in (await client.audit(**common, kind=kind)).get("entries") or []:
                if isinstance(entry, dict):
                    merged[entry.get("seq", id(entry))] = entry
        ordered = sorted(merged.values(), key=lambda e: e.get("seq") if isinstance(e.get("seq"), int) else 0)
        answer = {"entries": ordered[-limit:] if limit else ordered}
    if args.output_format == "json":
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


async def audit_verify(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    """`audit verify`: exit 0 when the hub says the chain is intact, 1 naming the first broken entry."""
    _only_local(args, ("expect", "--expect"))
    answer = await client.audit_verify()
    if args.output_format == "json":
        terminal.json(answer)
    elif answer.get("ok"):
        terminal.print(f"audit chain intact: {answer.get('entries', '?')} entries, last hash "
                       f"{answer.get('last_hash') or '-'}")
    if answer.get("ok"):
        return OK
    terminal.note(f"error: audit chain broken at entry {answer.get('first_broken', '?')}: "
                  f"{answer.get('reason') or 'no reason given'} ({answer.get('entries', '?')} entries checked)")
    return FAILED


async def audit_report(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    """`audit report`: a region's compliance report (json, csv or html) to stdout or `--output FILE`."""
    _only_local(args, ("production_env", "--production-env"))
    if not args.region:
        raise UsageError("audit report needs --region (the compliance report is per region)")
    if not args.since:
        raise UsageError("audit report through --hub needs --since (e.g. --since 2026-03-01)")
    form = args.output_format or _format_from_suffix(args.output)
    report = await client.audit_report(form, region=args.region, since=args.since, until=_until(args.until))
    if args.output:
        path = Path(args.output)
        try:
            if isinstance(report, str):
                path.write_text(report, encoding="utf-8")
            else:
                path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {args.output}: cannot write it ({exc})") from None
        terminal.note(f"wrote the {form} report of {args.region} to {args.output}")
    elif isinstance(report, str):
        terminal.out.write(report if report.endswith("\n") else report + "\n")
    else:
        terminal.json(report)
    # a CSV or HTML report carries its verdict as text: ask the hub for it, so the exit code says it either way
    verification = report.get("verification") if isinstance(report, dict) else await client.audit_verify()
    if isinstance(verification, dict) and verification.get("ok") is False:
        terminal.note(f"error: the audit chain is BROKEN at entry {verification.get('first_broken', '?')}: "
                      f"{verification.get('reason') or 'no reason given'}")
        return FAILED
    return OK


def _until(text: str | None) -> str | None:
    """`--until` as the API reads it: a date alone includes that whole day, as on the data directory (the API
    takes a date as its midnight), so it is sent as the next day's midnight."""
    if not text or len(text.strip()) != 10:
        return text
    try:
        return rfc3339(parse_bound(text, end=True))
    except ValueError:
        return text  # the API names what is wrong with it


def _format_from_suffix(path: str | None) -> str:
    suffix = Path(path).suffix.lower().lstrip(".") if path else ""
    return {"htm": "html", "html": "html", "csv": "csv"}.get(suffix, "json")
