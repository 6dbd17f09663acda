"""`fleetline sim`: start simulated clusters from the command line (filled in by kubesim's cluster module)."""

from __future__ import annotations

import argparse


def add_sim_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sim", help="run simulated Kubernetes clusters (kubesim)")
    parser.set_defaults(run=lambda args: parser.error("kubesim is not built yet"))
