"""Running the operator commands in tests: in-process with captured output, or as a real process."""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub.client.cli import add_operator_parsers
from hub.client.output import Terminal
from hub.client.runner import run_command
from hub.store.cli import add_audit_parser
from tests.hub.client.fakehub import TOKEN, FakeHubApi

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
# The operator commands (and the API-backed audit) on their own parser, so that the tests do not depend on the
# composition root (fleetline/cli.py).
RUN_CLI = (
    "import argparse, sys\n"
    "from hub.store.cli import add_audit_parser\n"
    "from hub.client.cli import add_operator_parsers\n"
    "parser = argparse.ArgumentParser(prog='fleetline')\n"
    "sub = parser.add_subparsers()\n"
    "add_operator_parsers(sub)\n"
    "add_audit_parser(sub)\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.run(args))\n"
)
CLI = [sys.executable, "-c", RUN_CLI]


@dataclass
class Result:
    code: int
    out: str
    err: str


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fleetline")
    sub = parser.add_subparsers()
    add_operator_parsers(sub)
    add_audit_parser(sub)
    return parser


def run_cli(hub: FakeHubApi | None, *argv: str, token: str = TOKEN, env: dict[str, str] | None = None) -> Result:
    """Run a command in-process against `hub` (FLEETLINE_HUB, FLEETLINE_TOKEN), stdout and stderr captured."""
    environ = {"FLEETLINE_TOKEN": token} if token else {}
    if hub is not None:
        environ["FLEETLINE_HUB"] = hub.url
    environ.update(env or {})
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(list(argv))
    code = run_command(args.command, args, environ=environ, terminal=Terminal(out=out, err=err, now=lambda: NOW))
    return Result(code, out.getvalue(), err.getvalue())


def process_env(hub: FakeHubApi, token: str = TOKEN) -> dict[str, str]:
    """The environment of a CLI process: this one's without FLEETLINE_*, plus the fake hub and `token`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETLINE_") and k != "NO_COLOR"}
    return {**env, "PYTHONPATH": str(ROOT), "FLEETLINE_HUB": hub.url, "FLEETLINE_TOKEN": token}
