"""`fleetline audit verify|report|log`: check the audit chain, write a region's compliance report, read the log.

One parser, two ways to reach the log:
- on the hub's machine, `--data-dir DIR` (or FLEETLINE_DATA_DIR) reads the database file directly
  (`<data-dir>/fleetline.db`, read-only: safe while the hub runs);
- from anywhere, `--hub URL` (or FLEETLINE_HUB) with an API token (`--token-file`, `--token`, FLEETLINE_TOKEN)
  asks a running hub through its API (hub/client/audit.py; a viewer token is enough).
A flag wins over a variable; with only variables set, FLEETLINE_DATA_DIR wins; --data-dir with --hub is refused.
Exit codes: 0 done (and the chain holds), 1 the chain does not hold (verify; report still writes the report and
says so), 2 the command could not run (no database, bad arguments, a schema newer than this Fleetline); through
the API also 3 (token refused) and 4 (hub unreachable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from fleetline.atomicfile import atomic_write
from hub.client.connection import add_connection_arguments
from hub.store import kinds
from hub.store.chain import verify
from hub.store.records import AuditQuery, StoreError
from hub.store.report import DEFAULT_PRODUCTION, report
from hub.store.report_csv import render_csv
from hub.store.report_html import render_html
from hub.store.sqlite import SqliteStore
from hub.store.timefmt import parse_bound, rfc3339

DATA_DIR_ENV = "FLEETLINE_DATA_DIR"
HUB_ENV = "FLEETLINE_HUB"
EXIT_OK, EXIT_BROKEN, EXIT_ERROR = 0, 1, 2

_VERIFY_EXAMPLES = """examples:
  fleetline audit verify --data-dir /var/lib/fleetline
  fleetline audit verify --data-dir /var/lib/fleetline --expect 18234:sha256:4f1c...   # nothing before it changed
  fleetline audit verify --hub https://hub.example.com --token-file ~/.fleetline-token
"""
_REPORT_EXAMPLES = """examples:
  fleetline audit report --region eu --since 2026-03-01 --until 2026-05-31 -o html --output eu-q2.html
  fleetline audit report --region us-east --since 2026-03-01 -o csv > us-east.csv
  fleetline audit report --region eu --since 2026-03-01T00:00:00Z --production-env prod --production-env live
  FLEETLINE_HUB=https://hub.example.com fleetline audit report --region eu --since 2026-03-01 -o html --output eu.html
(--until DATE includes that whole day, UTC; a full time is an exclusive bound; through --hub, --since is needed)
"""
_LOG_EXAMPLES = """examples:
  fleetline audit log --region eu --limit 20
  fleetline audit log --cluster eu-1 --kind drift_detected --kind drift_healed --since 2026-03-01
  fleetline audit log --kind api_refused -o json
  fleetline audit log --hub https://hub.example.com --region eu --kind approval   # through the API
"""


def add_audit_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `fleetline audit` and its subcommands; returns the `audit` parser."""
    parser = sub.add_parser("audit", help="verify the audit chain, write compliance reports, read the audit log",
                            description="The hub's tamper-evident audit log (hash-chained, in "
                                        "<data-dir>/fleetline.db): read directly with --data-dir on the hub's "
                                        "machine, or through a running hub's API with --hub and a token (viewer "
                                        "role).",
                            epilog="examples:\n  fleetline audit verify --data-dir /var/lib/fleetline\n"
                                   "  fleetline audit report --region eu --since 2026-03-01 -o html --output eu.html\n"
                                   "  fleetline audit log --hub https://hub.example.com --region eu --limit 20",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    commands.required = True
    formatter = argparse.RawDescriptionHelpFormatter

    check = commands.add_parser("verify", help="check the whole chain; name the first broken entry",
                                description="Walk the whole audit chain: every entry's hash must match its content "
                                            "and link to the entry before. Exit 0 when it holds, 1 naming the first "
                                            "entry that does not, 2 when the database cannot be read.",
                                epilog=_VERIFY_EXAMPLES, formatter_class=formatter)
    _where(check)
    check.add_argument("--expect", metavar="SEQ:HASH",
                       help="also require entry SEQ to have this hash (from an earlier report or verify; --data-dir "
                            "only)")
    check.add_argument("-o", "--output-format", choices=("text", "json"), default="text")
    check.set_defaults(run=run_verify, command=_api("verify"))

    rep = commands.add_parser("report", help="a region's compliance report (JSON, CSV or HTML)",
                              description="What ran on the region's clusters and when, from which commits, who "
                                          "authored and approved each production change, every drift incident "
                                          "with who caused it and the time to heal, sync failures, and the chain's "
                                          "verification. Exit 1 (after writing the report) when the chain is broken.",
                              epilog=_REPORT_EXAMPLES, formatter_class=formatter)
    _where(rep)
    rep.add_argument("--region", required=True, help="the region (only its entries appear)")
    rep.add_argument("--since", metavar="DATE|TIME", help="start of the period (inclusive; default: the beginning)")
    rep.add_argument("--until", metavar="DATE|TIME", help="end of the period (a date includes that day; default: now)")
    rep.add_argument("-o", "--output-format", choices=("json", "csv", "html"),
                     help="default: from --output's suffix, else json")
    rep.add_argument("--output", "--out", metavar="FILE", help="write the report here (default: standard output)")
    rep.add_argument("--production-env", metavar="ENV", action="append",
                     help=f"an environment that counts as production (repeat; default: "
                          f"{', '.join(DEFAULT_PRODUCTION)}; --data-dir only: a hub uses its own)")
    rep.set_defaults(run=run_report, command=_api("report"))

    log = commands.add_parser("log", help="list audit entries", description="The last --limit entries matching the "
                              "filters, oldest first.", epilog=_LOG_EXAMPLES, formatter_class=formatter)
    _where(log)
    log.add_argument("--region", help="entries of this region (and entries naming one of its clusters)")
    log.add_argument("--cluster")
    log.add_argument("--application", "--app", dest="application", help="only this application (--data-dir only)")
    log.add_argument("--kind", action="append", help="an entry kind, e.g. sync_result (repeat for several)")
    log.add_argument("--since", metavar="DATE|TIME")
    log.add_argument("--until", metavar="DATE|TIME")
    log.add_argument("--limit", type=int, default=50, help="at most this many, the latest (default 50; 0: all)")
    log.add_argument("-o", "--output-format", choices=("table", "json"), default="table")
    log.set_defaults(run=run_log, command=_api("log"))
    return parser


def _where(parser: argparse.ArgumentParser) -> None:
    """--data-dir (read the database here) and the flags to reach a hub instead (--hub, a token, --color)."""
    parser.add_argument("--data-dir", metavar="DIR",
                        help=f"the hub's data directory, holding fleetline.db (default: ${DATA_DIR_ENV}); or give "
                             "--hub to ask a running hub")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help=argparse.SUPPRESS)
    add_connection_arguments(parser)


def _api(name: str) -> Callable[[Any, argparse.Namespace, Any], Awaitable[int]]:
    """The API-backed coroutine of `audit NAME` (hub/client/audit.py: `audit_NAME(client, args, terminal)`), its
    module imported only when a hub is asked."""
    async def command(client: Any, args: argparse.Namespace, terminal: Any) -> int:
        from hub.client import audit as api

        return await getattr(api, f"audit_{name}")(client, args, terminal)
    return command


def via_hub(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to ask a running hub (True) or read the database (False; `args.data_dir` is then set); ValueError
    when neither or both are given by flags (see the module docstring)."""
    environ = os.environ if environ is None else environ
    if args.data_dir and args.hub:
        raise ValueError("give --data-dir (read the hub's database here) or --hub (ask a running hub), not both")
    if args.data_dir or args.hub:
        return bool(args.hub)
    if environ.get(DATA_DIR_ENV):
        args.data_dir = environ[DATA_DIR_ENV]
        return False
    if environ.get(HUB_ENV):
        return True
    raise ValueError(f"give --data-dir DIR (the hub's data directory, or set {DATA_DIR_ENV}) to read the database "
                     f"on the hub's machine, or --hub URL (or set {HUB_ENV}) and a token to ask a running hub")


def _run_via_hub(args: argparse.Namespace) -> int:
    from hub.client.runner import run_command

    return run_command(args.command, args)


def _fail(message: str) -> int:
    print(f"fleetline audit: {message}", file=sys.stderr)
    return EXIT_ERROR


def _open(args: argparse.Namespace) -> SqliteStore:
    if not args.data_dir:
        raise StoreError(f"give --data-dir DIR (the hub's data directory) or set {DATA_DIR_ENV}")
    return SqliteStore.open(args.data_dir, readonly=True)


def _parse_expect(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    seq, sep, digest = text.partition(":")
    if not sep or not seq.isdigit() or not digest:
        raise ValueError(f"--expect {text!r}: use SEQ:HASH, e.g. 18234:sha256:4f1c... (as a report prints it)")
    return int(seq), digest if digest.startswith("sha256:") else f"sha256:{digest}"


def run_verify(args: argparse.Namespace) -> int:
    try:
        if via_hub(args):
            return _run_via_hub(args)
        expect = _parse_expect(args.expect)
        store = _open(args)
    except (StoreError, ValueError) as exc:
        return _fail(str(exc))
    try:
        result = verify(store, expect)
    finally:
        store.close()
    if args.output_format == "json":
        print(json.dumps(result.to_dict(), indent=2))
    elif result.ok:
        print(f"ok: {result.reason}; last entry {result.last_seq} {result.last_hash}")
    else:
        print(f"BROKEN at entry {result.first_broken}: {result.reason}")
        print(f"the first {result.entries:,} entries hold (last good: {result.last_seq} {result.last_hash})")
    return EXIT_OK if result.ok else EXIT_BROKEN


def run_report(args: argparse.Namespace) -> int:
    try:
        if via_hub(args):
            return _run_via_hub(args)
        since = parse_bound(args.since) if args.since else None
        until = parse_bound(args.until, end=True) if args.until else None
        if since and until and until <= since:
            raise ValueError(f"--until {args.until} is not after --since {args.since}")
        form = args.output_format or _format_from_suffix(args.output)
        store = _open(args)
    except (StoreError, ValueError) as exc:
        return _fail(str(exc))
    try:
        result = report(store, args.region, since, until, production=args.production_env or DEFAULT_PRODUCTION)
    finally:
        store.close()
    if form == "html":
        text = render_html(result)
    elif form == "csv":
        text = render_csv(result)
    else:
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            atomic_write(args.output, text.encode("utf-8"))
        except OSError as exc:
            return _fail(f"{args.output}: cannot write the report: {exc}")
        print(f"wrote {args.output}: region {args.region}, {result.entries:,} entries", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if not result.verification.ok:
        print(f"fleetline audit: the audit chain is BROKEN at entry {result.verification.first_broken}: "
              f"{result.verification.reason}", file=sys.stderr)
        return EXIT_BROKEN
    return EXIT_OK


def _format_from_suffix(path: str | None) -> str:
    suffix = Path(path).suffix.lower().lstrip(".") if path else ""
    return {"htm": "html", "html": "html", "csv": "csv"}.get(suffix, "json")


def run_log(args: argparse.Namespace) -> int:
    try:
        if via_hub(args):
            return _run_via_hub(args)
        query = AuditQuery(
            region=args.region or "", cluster=args.cluster or "", application=args.application or "",
            kinds=tuple(k.strip() for item in args.kind or [] for k in item.split(",") if k.strip()),
            since=rfc3339(parse_bound(args.since)) if args.since else "",
            until=rfc3339(parse_bound(args.until, end=True)) if args.until else "",
            newest_first=True, limit=max(0, args.limit))
        store = _open(args)
    except (StoreError, ValueError) as exc:
        return _fail(str(exc))
    try:
        entries = list(store.audit_entries(query))[::-1]
    finally:
        store.close()
    if args.output_format == "json":
        print(json.dumps([entry.to_dict() for entry in entries], indent=2, ensure_ascii=False))
        return EXIT_OK
    rows = [("SEQ", "TIME (UTC)", "KIND", "REGION", "CLUSTER", "APP", "ACTOR", "WHAT")]
    rows += [(str(e.seq), e.at[:19].replace("T", " "), e.kind, e.region, e.cluster, e.application, e.actor,
              kinds.describe(e)) for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    if not entries:
        print("(no entries match)", file=sys.stderr)
    return EXIT_OK
