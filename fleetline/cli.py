"""The `fleetline` command line: one entry point, subcommands loaded lazily from their packages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fleetline", description="GitOps fleet manager for Kubernetes")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    from agent.session.cli import add_agent_parser
    from fleetline.certs_cli import add_certs_parser
    from hub.plan.cli import add_impact_parser
    from hub.render.cli import add_render_parser
    from hub.sessions.cli import add_hub_parser
    from kubesim.cli import add_sim_parser

    add_sim_parser(sub)
    add_render_parser(sub)
    add_impact_parser(sub)
    add_certs_parser(sub)
    add_hub_parser(sub)
    add_agent_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
