"""`fleetline status`: the fleet as a table grouped by region, once or redrawn on every change (`--watch`).

The table has one row per application (one per cluster without any): cluster, environment, connected, app,
sync, health, revision, message. The exit status says whether everything shown is well: 0 when every cluster
is connected and every application Synced and Healthy, else 1 (with what is not well on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from hub.client.errors import FAILED, OK, ApiError, HubUnreachable
from hub.client.follow import EventFollower
from hub.client.http import HubClient
from hub.client.output import Terminal, ago, column_widths, one_line, short_revision, table

HEADERS = ["CLUSTER", "ENVIRONMENT", "CONNECTED", "APP", "SYNC", "HEALTH", "REVISION", "MESSAGE"]
PAINTED = frozenset({2, 4, 5})
SETTLE = 0.2  # after a wake-up, gather the burst of changes before fetching again
SHOWN_PROBLEMS = 5


def filter_fleet(fleet: dict, region: str | None) -> dict:
    """`fleet` (the API's shape) with only `region`'s clusters when one is given."""
    regions = fleet.get("regions") or []
    if region:
        regions = [r for r in regions if r.get("name") == region]
    return {**fleet, "regions": regions}


def fleet_rows(region: dict, now: datetime) -> list[list[str]]:
    rows = []
    for cluster in region.get("clusters") or []:
        connected = "yes" if cluster.get("connected") else "no"
        if not cluster.get("connected"):
            connected += f" (last seen {ago(cluster.get('last_seen'), now)})" if cluster.get("last_seen") \
                else " (never seen)"
        apps = cluster.get("applications") or []
        base = [str(cluster.get("name", "?")), str(cluster.get("environment") or "-"), connected]
        if not apps:
            rows.append([*base, "-", "-", "-", short_revision(cluster.get("revision")), "no applications"])
        for app in apps:
            message = app.get("message") or ""
            if app.get("operation_phase") == "Running":
                message = "sync running" + (f": {message}" if message else "")
            rows.append([*base, str(app.get("name", "?")), app.get("sync_status") or "Unknown",
                         app.get("health") or "Unknown", short_revision(app.get("revision")), one_line(message)])
    return rows


def fleet_table(terminal: Terminal, fleet: dict) -> list[str]:
    """The fleet as lines: per region a heading with counts, then its table (columns aligned across regions)."""
    now = terminal.now()
    regions = [(region, fleet_rows(region, now)) for region in fleet.get("regions") or []]
    if not any(rows for _, rows in regions):
        return ["no clusters (a token scoped to regions or environments sees only those)"]
    widths = column_widths(HEADERS, [row for _, rows in regions for row in rows])
    lines: list[str] = []
    for region, rows in regions:
        if not rows:
            continue
        if lines:
            lines.append("")
        lines.append(terminal.paint(f"REGION {region.get('name', '?')}", "bold") + f"  {region_summary(region)}")
        lines.extend(table(terminal, HEADERS, rows, painted=PAINTED, widths=widths))
    return lines


def region_summary(region: dict) -> str:
    clusters = region.get("clusters") or []
    apps = [app for cluster in clusters for app in cluster.get("applications") or []]
    down = sum(1 for cluster in clusters if not cluster.get("connected"))
    out_of_sync = sum(1 for app in apps if app.get("sync_status") != "Synced")
    unhealthy = sum(1 for app in apps if app.get("health") != "Healthy")
    parts = [_count(len(clusters), "cluster") + (f" ({down} disconnected)" if down else ""),
             _count(len(apps), "application")]
    if out_of_sync or unhealthy:
        parts[-1] += f" ({out_of_sync} not synced, {unhealthy} not healthy)"
    return ", ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def problems(fleet: dict) -> list[str]:
    """What is not well in `fleet`: disconnected clusters, applications not Synced and Healthy."""
    found = []
    for region in fleet.get("regions") or []:
        for cluster in region.get("clusters") or []:
            name = cluster.get("name", "?")
            if not cluster.get("connected"):
                found.append(f"{name} not connected")
            for app in cluster.get("applications") or []:
                sync, health = app.get("sync_status") or "Unknown", app.get("health") or "Unknown"
                if (sync, health) != ("Synced", "Healthy"):
                    found.append(f"{name}/{app.get('name', '?')} {sync} {health}")
    return found


def report_problems(terminal: Terminal, fleet: dict) -> int:
    found = problems(fleet)
    if not found:
        return OK
    more = f" and {len(found) - SHOWN_PROBLEMS} more" if len(found) > SHOWN_PROBLEMS else ""
    terminal.note(f"not well: {'; '.join(found[:SHOWN_PROBLEMS])}{more}")
    return FAILED


async def run_status(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    if args.watch:
        return await watch_status(client, args, terminal)
    fleet = filter_fleet(await client.fleet(), args.region)
    if args.output == "json":
        terminal.json(fleet)
    else:
        for line in fleet_table(terminal, fleet):
            terminal.print(line)
    return report_problems(terminal, fleet)


async def watch_status(client: HubClient, args: argparse.Namespace, terminal: Terminal) -> int:
    """Draw the fleet, then again whenever it changes, until interrupted (Ctrl-C ends the command with 0).
    Changes are noticed from the event stream, and by polling every `--interval` seconds as well."""
    shown: dict | None = None
    unreachable_noted = False
    async with EventFollower(client, enabled=not args.no_stream) as follower:
        while True:
            try:
                fleet = filter_fleet(await client.fleet(), args.region)
            except (HubUnreachable, ApiError) as exc:
                if isinstance(exc, ApiError) and exc.exit_code != 4:
                    raise
                if not unreachable_noted:
                    terminal.note(f"{exc}; retrying every {args.interval:g} s")
                unreachable_noted = True
            else:
                if unreachable_noted:
                    terminal.note("the hub answers again")
                unreachable_noted = False
                if fleet != shown:
                    draw(terminal, args.output, client.target.url, fleet)
                    shown = fleet
            if await follower.wait(args.interval):
                await asyncio.sleep(SETTLE)
                follower.discard()


def draw(terminal: Terminal, output: str, url: str, fleet: dict) -> None:
    """Show `fleet` once more: the screen redrawn on a terminal, a new table (or JSON line) otherwise."""
    if output == "json":
        terminal.json(fleet, compact=True)
        return
    heading = f"fleetline status  {url}  updated {terminal.now().strftime('%H:%M:%SZ')}  (Ctrl-C to stop)"
    if terminal.is_tty:
        terminal.out.write("\x1b[H\x1b[2J")
        terminal.print(heading)
    else:
        terminal.print(f"--- {heading}")
    for line in fleet_table(terminal, fleet):
        terminal.print(line)
    if not terminal.is_tty:
        terminal.print("")
