"""The read-only commands besides status: `diff`, `history`, `approvals` (pending) and `rollout status`.

Each prints a readable table or list (the API's JSON with `-o json`) and exits 1 when what it shows is not well:
`diff` when something differs (like diff(1) and `argocd app diff`), `rollout status` when a rollout is halted.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from hub.client.errors import FAILED, OK, UsageError
from hub.client.http import HubClient
from hub.client.output import Terminal, one_line, short_revision, show_time, table, value_text


def diff_lines(cluster: str, app: str, diff: dict) -> list[str]:
    """One application's field-level diff: per object, `path: desired -> live (changed by manager)`."""
    fields = [f for f in diff.get("fields") or [] if isinstance(f, dict)]
    as_of = f" (as of {show_time(diff['as_of'])})" if diff.get("as_of") else ""
    if not fields:
        return [f"{cluster}/{app}: no differences{as_of}"]
    counted = "1 field differs" if len(fields) == 1 else f"{len(fields)} fields differ"
    lines = [f"{cluster}/{app}: {counted}{as_of}"]
    by_object: dict[str, list[dict]] = {}
    for entry in fields:
        by_object.setdefault(str(entry.get("object") or "?"), []).append(entry)
    for name, entries in by_object.items():
        lines.append(f"  {name}")
        for entry in entries:
            manager = f"   (changed by {entry['manager']})" if entry.get("manager") else ""
            lines.append(f"    {entry.get('path') or '?'}: {one_line(value_text(entry.get('desired')), 200)} -> "
                         f"{one_line(value_text(entry.get('live')), 200)}{manager}")
    return lines


async def run_diff(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    if args.app:
        apps = [args.app]
    else:
        apps = [str(a.get("name")) for a in (await client.cluster(args.cluster)).get("applications") or []]
    diffs = {app: await client.diff(args.cluster, app) for app in apps}
    if args.output == "json":
        terminal.json(diffs[args.app] if args.app else {"cluster": args.cluster, "applications": diffs})
    elif not apps:
        terminal.print(f"{args.cluster}: no applications")
    else:
        for app, diff in diffs.items():
            for line in diff_lines(args.cluster, app, diff):
                terminal.print(line)
    return FAILED if any(d.get("fields") for d in diffs.values()) else OK


HISTORY_HEADERS = ["REVISION", "GENERATION", "PUSHED", "RESULT", "FINISHED", "AUTHOR", "SUBJECT"]


async def run_history(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    history = await client.history(args.cluster, args.app)
    if args.output == "json":
        terminal.json(history)
        return OK
    entries = history.get("entries") or []
    if not entries:
        terminal.print(f"{args.cluster}/{args.app}: no history yet")
        return OK
    rows = [[short_revision(e.get("revision")), str(e.get("generation") or "-"), show_time(e.get("pushed_at")),
             e.get("result") or "-", show_time(e.get("finished_at")), one_line(e.get("author"), 40) or "-",
             one_line(e.get("subject"), 72) or "-"] for e in entries]
    for line in table(terminal, HISTORY_HEADERS, rows, painted=frozenset({3})):
        terminal.print(line)
    return OK


APPROVAL_HEADERS = ["ENVIRONMENT", "REGION", "CLUSTER", "APP", "REVISION", "APPROVALS", "HELD"]


async def run_approvals(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    answer = await client.approvals()
    pending = [p for p in answer.get("pending") or [] if _matches(p, args.env, args.region)]
    if args.output == "json":
        terminal.json({**answer, "pending": pending})
        return OK
    if not pending:
        terminal.print("no approvals pending")
        return OK
    rows = [[p.get("environment") or "-", p.get("region") or "-", p.get("cluster") or "-",
             p.get("application") or "-", short_revision(p.get("revision")), approvals_text(p),
             one_line(p.get("held"), 60) or "-"] for p in pending]
    for line in table(terminal, APPROVAL_HEADERS, rows):
        terminal.print(line)
    return OK


def approvals_text(entry: dict) -> str:
    approvers = [str(a) for a in entry.get("approvers") or []]
    return f"{len(approvers)}/{entry.get('required', '?')}" + (f" ({', '.join(approvers)})" if approvers else "")


def _matches(entry: dict, env: str | None, region: str | None) -> bool:
    return (not env or entry.get("environment") == env) and (not region or entry.get("region") == region)


ROLLOUT_HEADERS = ["ENVIRONMENT", "APP", "REVISION", "PREVIOUS", "PHASE", "STEP", "WAITING ON"]


def select_rollouts(rollouts: Iterable[dict], app: str | None, env: str | None) -> list[dict]:
    return [r for r in rollouts
            if (not app or r.get("application") == app) and (not env or r.get("environment") == env)]


def rollout_lines(terminal: Terminal, rollouts: list[dict]) -> list[str]:
    rows = []
    for r in rollouts:
        steps = r.get("steps") or []
        step = f"{min(int(r.get('step') or 0) + 1, len(steps))}/{len(steps)}" if steps else str(r.get("step", "-"))
        rows.append([r.get("environment") or "-", r.get("application") or "-", short_revision(r.get("revision")),
                     short_revision(r.get("previous_revision")), r.get("phase") or "-", step,
                     one_line(r.get("waiting_on"), 60) or "-"])
    lines = table(terminal, ROLLOUT_HEADERS, rows, painted=frozenset({4}))
    for r in rollouts:
        if r.get("halted_reason"):
            lines.append(f"{r.get('environment')}/{r.get('application')} halted: {one_line(r['halted_reason'], 300)}")
        if r.get("rolled_back"):
            lines.append(f"{r.get('environment')}/{r.get('application')} rolled back on: "
                         f"{', '.join(map(str, r['rolled_back']))}")
    return lines


async def run_rollout_status(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    rollouts = select_rollouts((await client.rollouts()).get("rollouts") or [], args.app, args.env)
    if args.output == "json":
        terminal.json({"rollouts": rollouts})
    elif rollouts:
        for line in rollout_lines(terminal, rollouts):
            terminal.print(line)
    else:
        where = (f" of {args.app}" if args.app else "") + (f" in {args.env}" if args.env else "")
        terminal.print(f"no rollouts{where}")
    if args.app and not rollouts:
        return FAILED
    return FAILED if any(r.get("phase") == "Halted" for r in rollouts) else OK


async def find_rollout_environment(client: HubClient, app: str, env: str | None) -> str:
    """`env`, or the one environment with a rollout of `app`; UsageError naming the choices otherwise."""
    if env:
        return env
    found = sorted({str(r.get("environment")) for r in select_rollouts((await client.rollouts()).get("rollouts")
                                                                       or [], app, None)})
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(f"no rollout of {app} (see `fleetline rollout status`); give --env ENV to name one")
    raise UsageError(f"{app} rolls out in several environments ({', '.join(found)}): give --env ENV")
