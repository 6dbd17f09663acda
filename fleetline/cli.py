"""The `fleetline` command line: one entry point, subcommands loaded lazily from their packages.

Each subcommand lives in its package's `cli` module; only the module of the command being run is imported
(the simulator, the gRPC hub and the agent pull in aiohttp and grpc, which `fleetline render` does not need).
`fleetline --help`, or an unknown command, imports them all so that argparse can list every command.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# (the commands a module registers, the module, the function that registers them), in help order
SUBCOMMANDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("sim",), "kubesim.cli", "add_sim_parser"),
    (("render",), "hub.render.cli", "add_render_parser"),
    (("impact",), "hub.plan.cli", "add_impact_parser"),
    (("certs",), "fleetline.certs_cli", "add_certs_parser"),
    (("hub", "hub-token"), "hub.sessions.cli", "add_hub_parser"),
    (("agent",), "agent.cli", "add_agent_parser"),
    (("tokens",), "hub.api.cli", "add_tokens_parser"),
    (("audit",), "hub.store.cli", "add_audit_parser"),
    (("status", "diff", "sync", "approve", "approvals", "rollout", "history", "rollback", "promote"),
     "hub.client.cli", "add_operator_parsers"),
    (("demo",), "hub.demo.cli", "add_demo_parser"),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser, with only the subcommand named first in `argv` registered when it is a known one."""
    parser = argparse.ArgumentParser(prog="fleetline", description="GitOps fleet manager for Kubernetes")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    wanted = argv[0] if argv else None
    chosen = [entry for entry in SUBCOMMANDS if wanted in entry[0]] or list(SUBCOMMANDS)
    for _, module, function in chosen:
        getattr(importlib.import_module(module), function)(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
