"""The commands that change something through the hub: `approve`, `rollout resume|abort`, `rollback` and
`promote`. Each sends one call (operator role) and prints what the hub did; a refusal is an error with the
hub's reason (exit 3 for 401/403). Input checked here (NAME=TAG, --set) fails with exit 2 before any call.
"""

from __future__ import annotations

import argparse

from hub.client.errors import OK, UsageError
from hub.client.http import HubClient
from hub.client.output import Terminal, one_line, short_revision
from hub.client.views import find_rollout_environment

SETTINGS = ("model_version",)


async def run_approve(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    answer = await client.approve(args.env, args.app, args.revision, args.region)
    if args.output == "json":
        terminal.json(answer)
        return OK
    approvers = [str(a) for a in answer.get("approvers") or []]
    where = f"{args.app} in {args.env}" + (f" ({args.region})" if args.region else "")
    count = f"{len(approvers)} of {answer.get('required', '?')} approvals ({', '.join(approvers) or 'none'})"
    if answer.get("satisfied"):
        terminal.print(f"approved {short_revision(args.revision)} of {where}: {count}; the sync follows")
    else:
        missing = max(int(answer.get("required") or 0) - len(approvers), 1)
        terminal.print(f"approved {short_revision(args.revision)} of {where}: {count}; waiting for {missing} more")
    return OK


async def run_rollout_action(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    if not args.app:
        raise UsageError(f"rollout {args.action} needs the application: fleetline rollout {args.action} APP "
                         "[--env ENV]")
    env = await find_rollout_environment(client, args.app, args.env)
    answer = await client.rollout_action(env, args.app, args.action)
    if args.output == "json":
        terminal.json(answer)
    else:
        done = "resumed" if args.action == "resume" else "aborted"
        terminal.print(f"{done} the rollout of {args.app} in {env}: phase {answer.get('phase') or '?'}")
    return OK


def rollback_target(args: argparse.Namespace) -> tuple[str | None, str | None, str]:
    """(cluster, environment, application) from `rollback CLUSTER APP` or `rollback --env ENV APP`."""
    names = list(args.names)
    if args.env:
        if len(names) != 1:
            raise UsageError("with --env, give only the application: fleetline rollback --env ENV APP --reason TEXT")
        return None, args.env, names[0]
    if len(names) != 2:
        raise UsageError("give the cluster and the application (fleetline rollback CLUSTER APP --reason TEXT), or "
                         "--env ENV and the application")
    return names[0], None, names[1]


async def run_rollback(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    cluster, env, app = rollback_target(args)
    if not args.reason.strip():
        raise UsageError("--reason must say why (it goes into the revert commit and the audit log)")
    answer = await client.rollback(app, args.reason.strip(), cluster=cluster, environment=env)
    if args.output == "json":
        terminal.json(answer)
        return OK
    where = f"on {cluster}" if cluster else f"in {env}"
    terminal.print(f"rolled back {app} {where}: commit {short_revision(answer.get('commit'))} reverts "
                   f"{short_revision(answer.get('reverted'))}")
    if answer.get("message"):
        terminal.print(f"  {one_line(str(answer['message']).splitlines()[0], 120)}")
    return OK


def promote_body(args: argparse.Namespace) -> dict[str, str]:
    """The promote call's body from `--image NAME=TAG`, `--set model_version=V`, `--env`, `--overlay`, ..."""
    image, sep, tag = args.image.partition("=")
    if not sep or not image.strip() or not tag.strip():
        raise UsageError(f"--image {args.image}: give NAME=TAG, e.g. --image inference-server=v1.4.2")
    settings: dict[str, str] = {}
    for item in args.set or []:
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in SETTINGS:
            raise UsageError(f"--set {item}: give model_version=VALUE (the only setting promote changes beside "
                             "the image)")
        settings[name.strip()] = value.strip()
    if not settings.get("model_version"):
        raise UsageError("promote needs the model version the image goes with: --set model_version=VALUE")
    body = {"environment": args.env, "overlay": args.overlay, "image": image.strip(), "tag": tag.strip(),
            "model_version": settings["model_version"]}
    if args.configmap:
        body["configmap"] = args.configmap
    if args.key:
        body["key"] = args.key
    return body


async def run_promote(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    body = promote_body(args)
    answer = await client.promote(body)
    if args.output == "json":
        terminal.json(answer)
        return OK
    files = [str(f) for f in answer.get("files") or []]
    terminal.print(f"promoted {args.app} in {args.env}: {body['image']}={body['tag']}, model_version "
                   f"{body['model_version']}; commit {short_revision(answer.get('commit'))} changes "
                   f"{', '.join(files) or 'no files'}")
    return OK
