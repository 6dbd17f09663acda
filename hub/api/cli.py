"""`fleetline tokens create|list|revoke`: manage the hub's API tokens in its data directory (no hub needed).

A running hub reads the token file again at its next request, so a token created or revoked here works, or stops
working, at once. Creating and revoking are recorded in the hub's audit log (`<data-dir>/fleetline.db`, the same
hash chain the running hub appends to; SQLite serializes the two writers) as `credential_issued` and
`credential_revoked`, with the local user as the actor: the database is opened before the token file is touched,
so a token is never created unaudited (a create whose audit entry cannot be written is revoked again). Exit
codes: 0 done, 1 no such token (revoke), 2 bad input, an unreadable token file or audit log.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from hub.api.tokens import FILE_NAME, ROLES, ApiTokenStore, Token, TokenError, check_token_request
from hub.store import SqliteStore, StoreError, localaudit
from hub.store import kinds as audit
from hub.store.localaudit import open_audit

VIA = "fleetline tokens"

EPILOG_CREATE = """examples:
  fleetline tokens create --data-dir /var/lib/fleetline --name ci --role viewer
  fleetline tokens create --data-dir /var/lib/fleetline --name eu-ops --role operator --region eu
  fleetline tokens create --data-dir /var/lib/fleetline --name prod-approver --role operator \\
      --region us-east --region us-west --environment prod

The token is printed once, alone on stdout (store it now: only its SHA-256 is kept)."""


def add_tokens_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `fleetline tokens` and its subcommands; returns the `tokens` parser."""
    parser = sub.add_parser(
        "tokens", help="create, list and revoke API tokens",
        description=f"Manage the REST API's tokens, kept hashed in <data-dir>/{FILE_NAME}. Roles: viewer (read), "
                    "operator (+ sync, approve, rollouts, rollback, promote), admin (+ tokens). --region and "
                    "--environment limit a token to those clusters.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  fleetline tokens create --data-dir DIR --name eu-ops --role operator --region eu\n"
               "  fleetline tokens list --data-dir DIR\n  fleetline tokens revoke eu-ops --data-dir DIR")
    actions = parser.add_subparsers(dest="tokens_command", metavar="ACTION")
    actions.required = True

    create = actions.add_parser("create", help="create a token and print it once", epilog=EPILOG_CREATE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_dir(create)
    create.add_argument("--name", required=True, help="the token's name: the actor in the audit log, the approver")
    create.add_argument("--role", required=True, choices=ROLES, help="what the token may do")
    create.add_argument("--region", dest="regions", action="append", default=[], metavar="REGION",
                        help="limit the token to this region's clusters (repeat for several)")
    create.add_argument("--environment", dest="environments", action="append", default=[], metavar="ENV",
                        help="limit the token to this environment's clusters (repeat for several)")
    create.set_defaults(run=run_create)

    listing = actions.add_parser("list", help="list tokens (never their secrets)",
                                 epilog="example:\n  fleetline tokens list --data-dir /var/lib/fleetline -o json",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_dir(listing)
    listing.add_argument("-o", "--output", choices=("table", "json"), default="table", help="output format")
    listing.set_defaults(run=run_list)

    revoke = actions.add_parser("revoke", help="revoke a token (it stays listed, refused as revoked)",
                                epilog="example:\n  fleetline tokens revoke eu-ops --data-dir /var/lib/fleetline",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    revoke.add_argument("name", help="the token's name")
    _data_dir(revoke)
    revoke.set_defaults(run=run_revoke)
    return parser


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", required=True,
                        help=f"the hub's data directory (the tokens are in DIR/{FILE_NAME})")


def _audit(store: SqliteStore, kind: str, token: Token) -> None:
    store.append_audit([localaudit.draft(kind, {"credential": "api-token", "via": VIA, **token.to_json()})])


def run_create(args: argparse.Namespace) -> int:
    try:
        check_token_request(args.name, args.role, args.regions, args.environments)
        tokens = ApiTokenStore.in_data_dir(args.data_dir)
        store = open_audit(args.data_dir, "every token created or revoked")
    except (TokenError, OSError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        secret = tokens.create(args.name, args.role, args.regions, args.environments)
        created = tokens.get(args.name)
        if created is None:
            raise TokenError(f"token {args.name!r} is not in {tokens.path} after it was created; is another "
                             "process rewriting the file?")
        try:
            _audit(store, audit.CREDENTIAL_ISSUED, created)
        except (StoreError, OSError, sqlite3.Error) as exc:
            tokens.revoke(args.name)
            print(f"error: {store.where}: cannot record the new token in the audit log ({exc}); token "
                  f"{args.name!r} was revoked again: fix the data directory and create a token of another name",
                  file=sys.stderr)
            return 2
    except (TokenError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(secret)
    print(f"created {args.role} token {args.name!r}{_scope_words(args.regions, args.environments)}; it is shown "
          "only this once", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    try:
        tokens = ApiTokenStore.in_data_dir(args.data_dir).all_tokens()
    except (TokenError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.output == "json":
        print(json.dumps({"tokens": [t.to_json() for t in tokens]}, indent=2))
        return 0
    print(_table(tokens))
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    try:
        tokens = ApiTokenStore.in_data_dir(args.data_dir)
        existing = tokens.get(args.name)
        if existing is None:
            print(f"error: no token named {args.name!r}: `fleetline tokens list --data-dir {args.data_dir}` "
                  "shows the names", file=sys.stderr)
            return 1
        if existing.revoked:
            print(f"token {args.name!r} was already revoked")
            return 0
        store = open_audit(args.data_dir, "every token created or revoked")
    except (TokenError, OSError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        revoked = tokens.revoke(args.name)
        try:
            _audit(store, audit.CREDENTIAL_REVOKED, revoked)
        except (StoreError, OSError, sqlite3.Error) as exc:
            print(f"error: {store.where}: token {args.name!r} is revoked, but the audit log could not record it "
                  f"({exc})", file=sys.stderr)
            return 2
    except (TokenError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"revoked token {args.name!r}")
    return 0


def _scope_words(regions: list[str], environments: list[str]) -> str:
    words = []
    if regions:
        words.append("region(s) " + ", ".join(regions))
    if environments:
        words.append("environment(s) " + ", ".join(environments))
    return " for " + " and ".join(words) if words else ""


def _table(tokens: list[Token]) -> str:
    header = ("NAME", "ROLE", "REGIONS", "ENVIRONMENTS", "CREATED", "STATUS")
    rows = [header] + [(t.name, t.role, ",".join(t.regions) or "*", ",".join(t.environments) or "*",
                        t.to_json()["created_at"] or "-", "revoked" if t.revoked else "active") for t in tokens]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)
