"""The operator commands of `fleetline`, talking to the hub's REST API: `status`, `diff`, `sync`, `approve`,
`approvals`, `rollout`, `history`, `rollback` and `promote`, registered by `add_operator_parsers`.

Owns the command line only (flags, help with examples, choosing the command); the commands are in `status`,
`syncwait`, `views` and `actions`, run by `runner.run_command`. The API-backed `audit` is in `audit`.
"""

from __future__ import annotations

import argparse
import textwrap
from functools import partial

from hub.client.actions import run_approve, run_promote, run_rollback, run_rollout_action
from hub.client.http import HubClient
from hub.client.output import Terminal
from hub.client.runner import Command, add_common_arguments, run_command
from hub.client.status import run_status
from hub.client.syncwait import run_sync
from hub.client.views import run_approvals, run_diff, run_history, run_rollout_status

COMMANDS = ("status", "diff", "sync", "approve", "approvals", "rollout", "history", "rollback", "promote")
DESCRIPTION_WIDTH = 100
EXIT_CODES = """
exit codes:
  0  done, and all is well
  1  the operation failed, or what is shown is not well (unhealthy, out of sync, different, halted)
  2  usage error (a flag or value; the hub's 400/422) or a timeout
  3  authentication or permission refused (401/403): the hub's reason is printed
  4  the hub is unreachable, or answers 502/503/504: retry later

The hub and token come from --hub/FLEETLINE_HUB and --token-file/--token/FLEETLINE_TOKEN."""


def add_operator_parsers(sub: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    """Register the operator commands (names in COMMANDS) on `sub`; returns their parsers."""
    return [add_status(sub), add_diff(sub), add_sync(sub), add_approve(sub), add_approvals(sub), add_rollout(sub),
            add_history(sub), add_rollback(sub), add_promote(sub)]


def _parser(sub: argparse._SubParsersAction, name: str, command: Command, help_text: str, description: str,
            examples: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=textwrap.fill(description, DESCRIPTION_WIDTH),
                            epilog="examples:\n" + examples.strip("\n") + "\n" + EXIT_CODES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(command=command, run=partial(run_command, command))
    return parser


def _stream_arguments(parser: argparse.ArgumentParser, interval: float) -> None:
    parser.add_argument("--interval", metavar="SECONDS", type=_positive, default=interval,
                        help=f"also look at the hub this often (default {interval:g}); changes on the event "
                             "stream are shown at once")
    parser.add_argument("--no-stream", action="store_true",
                        help="do not use the event stream (/api/v1/events), only look every --interval seconds")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds (got {text})")
    return value


def add_status(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "status", run_status, "the fleet: clusters by region, their applications' sync and health",
                     "Show every cluster the token may see, grouped by region: environment, whether its agent is "
                     "connected, and per application its sync status, health, revision and message. Exits 1 when "
                     "a cluster is disconnected or an application is not Synced and Healthy.", """
  fleetline status --hub https://hub.example.com --token-file ~/.fleetline/token
  fleetline status --region eu
  fleetline status --watch                       # redraw on every change until Ctrl-C
  fleetline status -o json | jq '.regions[].clusters[] | select(.connected | not) | .name'
""")
    parser.add_argument("--region", metavar="R", help="only this region's clusters")
    parser.add_argument("--watch", action="store_true",
                        help="redraw whenever something changes (from the hub's event stream) until Ctrl-C; "
                             "with -o json, one JSON document per line per change")
    _stream_arguments(parser, 2.0)
    add_common_arguments(parser)
    return parser


def add_diff(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "diff", run_diff, "field-level difference between Git and the cluster",
                     "Show, per object, each field that differs between the desired state (Git) and the live "
                     "cluster: path, desired -> live, and the field manager that changed it. Secret values are "
                     "redacted. Without APP, every application of the cluster. Exits 1 when something differs, "
                     "like diff(1).", """
  fleetline diff eu-1 inference-server
  fleetline diff eu-1                            # every application of eu-1
  fleetline diff eu-1 inference-server -o json
""")
    parser.add_argument("cluster", metavar="CLUSTER")
    parser.add_argument("app", metavar="APP", nargs="?")
    add_common_arguments(parser)
    return parser


def add_sync(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "sync", run_sync, "ask a cluster's agent to sync an application (operator)",
                     "Request a sync of APP on CLUSTER (the way to release a manual, production application). With "
                     "--wait, follow it through its waves, printing progress, until it is Synced and Healthy "
                     "(exit 0), fails or ends Degraded (exit 1), or --timeout passes (exit 2).", """
  fleetline sync eu-1 inference-server
  fleetline sync eu-1 inference-server --revision 4f2a9c1 --wait --timeout 600
  fleetline sync eu-1 inference-server --prune --wait -o json > result.json
""")
    parser.add_argument("cluster", metavar="CLUSTER")
    parser.add_argument("app", metavar="APP")
    parser.add_argument("--revision", metavar="REV", help="the revision to sync (default: the desired state's)")
    parser.add_argument("--prune", action="store_true", help="also delete objects no longer in Git")
    parser.add_argument("--wait", action="store_true", help="follow the sync to its outcome")
    parser.add_argument("--timeout", metavar="SECONDS", type=_positive, default=300.0,
                        help="with --wait: give up after this long, exit 2 (default 300)")
    _stream_arguments(parser, 2.0)
    add_common_arguments(parser)
    return parser


def add_approve(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "approve", run_approve, "approve a revision of an application in an environment (operator)",
                     "Record your approval (as the token's name) of REVISION of APP in ENV. Once the environment's "
                     "required approvals are in, the hub syncs it. A region-scoped token must name its --region; "
                     "the approval then counts for that region's clusters only. `fleetline approvals` lists what "
                     "waits.", """
  fleetline approve prod inference-server 4f2a9c1
  fleetline approve prod inference-server 4f2a9c1 --region eu
""")
    parser.add_argument("env", metavar="ENV")
    parser.add_argument("app", metavar="APP")
    parser.add_argument("revision", metavar="REVISION")
    parser.add_argument("--region", metavar="R", help="the region the approval is for (required for a "
                                                      "region-scoped token)")
    add_common_arguments(parser)
    return parser


def add_approvals(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "approvals", run_approvals, "list the approvals that releases wait for",
                     "List the revisions waiting for approval: environment, region, cluster, application, "
                     "revision, approvals so far (and who), and what else holds them.", """
  fleetline approvals
  fleetline approvals --env prod --region eu -o json
""")
    parser.add_argument("--env", metavar="ENV", help="only this environment")
    parser.add_argument("--region", metavar="R", help="only this region")
    add_common_arguments(parser)
    return parser


def add_rollout(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "rollout", _run_rollout, "progressive rollouts: status, resume, abort",
                     "status: each rollout's revision, phase (Progressing, Soaking, Halted, Succeeded), step and "
                     "what it waits on; exits 1 when one shown is Halted (or APP has none). resume: continue a "
                     "halted rollout. abort: stop it (operator). Without --env, the one environment APP rolls out "
                     "in.", """
  fleetline rollout status
  fleetline rollout status inference-server --env prod
  fleetline rollout resume inference-server --env prod
  fleetline rollout abort inference-server
""")
    parser.add_argument("action", choices=("status", "resume", "abort"))
    parser.add_argument("app", metavar="APP", nargs="?")
    parser.add_argument("--env", metavar="ENV", help="the environment of the rollout")
    add_common_arguments(parser)
    return parser


async def _run_rollout(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    if args.action == "status":
        return await run_rollout_status(client, args, terminal)
    return await run_rollout_action(client, args, terminal)


def add_history(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "history", run_history, "the revisions an application ran on a cluster",
                     "List, newest first, each revision pushed for APP to CLUSTER: generation, when, the sync's "
                     "result and end, and the commit's author and subject.", """
  fleetline history eu-1 inference-server
  fleetline history eu-1 inference-server -o json | jq -r '.entries[0].revision'
""")
    parser.add_argument("cluster", metavar="CLUSTER")
    parser.add_argument("app", metavar="APP")
    add_common_arguments(parser)
    return parser


def add_rollback(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "rollback", run_rollback, "revert the last change of an application (operator)",
                     "Revert, in Git, the commit that last changed APP on CLUSTER (or in the environment --env "
                     "ENV), and push the revert; the hub then rolls it out like any commit. The revert's author is "
                     "the token's name; --reason goes into the commit message and the audit log.", """
  fleetline rollback eu-1 inference-server --reason "p99 latency doubled"
  fleetline rollback --env prod inference-server --reason "bad model" -o json
""")
    parser.usage = "%(prog)s (CLUSTER | --env ENV) APP --reason TEXT [-o {table,json}] [--hub URL] [--token-file FILE]"
    parser.add_argument("names", metavar="NAME", nargs="+",
                        help="the cluster and the application (CLUSTER APP), or with --env the application only")
    parser.add_argument("--env", metavar="ENV", help="roll back the environment rather than one cluster")
    parser.add_argument("--reason", metavar="TEXT", required=True, help="why (required)")
    add_common_arguments(parser)
    return parser


def add_promote(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = _parser(sub, "promote", run_promote, "promote an image tag and model version in an overlay (operator)",
                     "Write a new image tag and the model version it goes with into the overlay directory --overlay "
                     "of the environment --env, in one commit pushed to the ref the environment tracks (author: the "
                     "token's name); the hub rolls it out like any commit.", """
  fleetline promote inference-server --image inference-server=v1.4.2 --set model_version=2026-03-01 \\
      --env prod --overlay overlays/eu
  fleetline promote inference-server --image registry.example.com/ml/infer=v2 --set model_version=7 \\
      --env staging --overlay overlays/staging --configmap model-config --key MODEL_VERSION
""")
    parser.add_argument("app", metavar="APP", help="the application promoted (shown; the overlay decides what "
                                                   "changes)")
    parser.add_argument("--image", metavar="NAME=TAG", required=True,
                        help="the image (as named in the overlay's images entry) and its new tag")
    parser.add_argument("--set", metavar="model_version=V", action="append",
                        help="the model version that goes with the image (required)")
    parser.add_argument("--env", metavar="ENV", required=True, help="the environment whose ref gets the commit")
    parser.add_argument("--overlay", metavar="DIR", required=True, help="the overlay directory in the repository")
    parser.add_argument("--configmap", metavar="NAME", help="the ConfigMap holding the model version (default: the "
                                                            "one the overlay sets the key in)")
    parser.add_argument("--key", metavar="KEY", help="the ConfigMap key of the model version (default MODEL_VERSION)")
    add_common_arguments(parser)
    return parser
