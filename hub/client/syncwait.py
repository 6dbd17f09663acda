"""`fleetline sync`: request a sync and, with `--wait`, follow it through its waves to an outcome.

Following uses two sources, so that it works when either is missing: the application's status (polled, and
fetched again at once whenever the event stream says something happened) and the agent's sync events from the
stream, matched to our request by the `request_id` the agent copies into their details (docs/agent.md §7).

Outcomes: Synced and Healthy at the requested revision with no operation running (exit 0); the sync failed
(our request's SYNC_FAILED, or an operation phase Failed/Error after it began), or Synced but Degraded after it
began (exit 1); no outcome before `--timeout` (exit 2). A state left from before the request (an old failure)
is not taken for the outcome.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.client.errors import FAILED, OK, UNREACHABLE, USAGE, ApiError, HubUnreachable
from hub.client.follow import EventFollower
from hub.client.http import HubClient
from hub.client.output import Terminal, one_line, same_revision, short_revision
from hub.client.sse import SseEvent

FAILED_PHASES = ("Failed", "Error")
STREAM_CONNECT_WAIT = 3.0
# EventType names (fleet.proto) as normalised by `_word`, and their numbers for a hub that sends those.
EVENT_NUMBERS = {3: "syncstarted", 4: "syncsucceeded", 5: "syncfailed", 6: "hookresult"}


@dataclass
class Outcome:
    """How a wait ended: the exit code and a sentence saying why."""

    code: int
    message: str


@dataclass
class SyncWatch:
    """What we know about one sync request: the application before it, its latest status, the request's events,
    and which progress lines were already printed."""

    cluster: str
    app: str
    baseline: dict | None = None
    request_id: str | None = None
    target: str | None = None
    started: bool = False
    finished: str = ""  # "Succeeded" or "Failed" from our request's events
    finish_message: str = ""
    last: dict | None = None
    _early: list[SseEvent] = field(default_factory=list)
    _shown: dict[str, str] = field(default_factory=dict)

    def requested(self, request_id: str | None, revision: str | None) -> list[str]:
        """The hub accepted the request: events held back until now are looked at again."""
        self.request_id, self.target = request_id or "", revision or None
        early, self._early = self._early, []
        return [line for event in early for line in self.on_event(event)]

    # ---- status ------------------------------------------------------------------------------------------

    def on_status(self, app: dict) -> list[str]:
        """Take the application's latest status; the progress lines that changed."""
        if self.baseline is not None and app_state(app) != app_state(self.baseline):
            self.started = True
        if app.get("operation_phase") == "Running":
            self.started = True
        self.last = app
        lines = [self._changed("status", status_line(app))]
        for wave, text in wave_lines(app.get("resources") or []):
            lines.append(self._changed(f"wave {wave}", text))
        return [line for line in lines if line]

    def _changed(self, key: str, text: str) -> str:
        if self._shown.get(key) == text:
            return ""
        self._shown[key] = text
        return text

    # ---- events ------------------------------------------------------------------------------------------

    def on_event(self, event: SseEvent) -> list[str]:
        """Take an event of the stream; the progress lines it makes when it is about our request."""
        fields = event_fields(event)
        if fields is None or fields["cluster"] != self.cluster or fields["application"] not in (self.app, ""):
            return []
        if self.request_id is None:
            self._early.append(event)
            return []
        details = fields["details"]
        if not self.request_id or details.get("request_id") != self.request_id:
            return []
        kind = fields["type"]
        if kind == "syncstarted":
            self.started = True
            return [f"sync started at revision {short_revision(details.get('revision'))}"
                    + (f" (generation {details['generation']})" if details.get("generation") else "")]
        if kind == "hookresult":
            hook = details.get("hook") if isinstance(details.get("hook"), dict) else {}
            what = "/".join(str(hook[k]) for k in ("kind", "namespace", "name") if hook.get(k))
            text = f"hook {what or '?'} ({hook.get('phase', '?')}): {hook.get('hook_phase') or hook.get('status', '?')}"
            return [text + (f": {one_line(hook['message'])}" if hook.get("message") else "")]
        if kind in ("syncsucceeded", "syncfailed"):
            result = details.get("result") if isinstance(details.get("result"), dict) else {}
            self.started = True
            self.finished = "Succeeded" if kind == "syncsucceeded" else "Failed"
            self.finish_message = str(result.get("message") or fields["message"] or "")
            lines = [f"sync {self.finished.lower()}" + (f": {one_line(self.finish_message)}"
                                                        if self.finish_message else "")]
            return lines + [f"  {line}" for line in failed_resources(result)]
        return []

    # ---- outcome -----------------------------------------------------------------------------------------

    def outcome(self) -> Outcome | None:
        """The outcome, once there is one."""
        where = f"{self.app} on {self.cluster}"
        if self.finished == "Failed":
            return Outcome(FAILED, f"the sync of {where} failed: {self.finish_message or 'no reason given'}")
        app = self.last
        if app is None:
            return None
        phase, sync, health = app.get("operation_phase") or "", app.get("sync_status"), app.get("health")
        at_target = self.target is None or same_revision(app.get("revision"), self.target)
        if phase == "Running" or not at_target:
            return None
        message = f": {one_line(app['message'])}" if app.get("message") else ""
        if phase in FAILED_PHASES and self.started:
            return Outcome(FAILED, f"the sync of {where} ended {phase}{message}")
        if sync == "Synced" and health == "Healthy":
            return Outcome(OK, f"{where} is Synced and Healthy at {short_revision(app.get('revision'))}")
        if sync == "Synced" and health == "Degraded" and self.started:
            return Outcome(FAILED, f"{where} synced but is Degraded{message}")
        return None

    def describe_last(self) -> str:
        return status_line(self.last) if self.last else "no status seen"


def app_state(app: dict) -> tuple:
    return (app.get("revision"), app.get("sync_status"), app.get("health"), app.get("operation_phase"))


def status_line(app: dict) -> str:
    text = f"{app.get('sync_status') or 'Unknown'} {app.get('health') or 'Unknown'}"
    text += f" at {short_revision(app.get('revision'))}"
    if app.get("operation_phase"):
        text += f", operation {app['operation_phase']}"
    return text + (f": {one_line(app['message'])}" if app.get("message") else "")


def resource_name(resource: dict) -> str:
    return "/".join(str(resource[k]) for k in ("kind", "namespace", "name") if resource.get(k))


def wave_lines(resources: list[dict]) -> list[tuple[int, str]]:
    """Per sync wave, in order: how many of its resources are Synced and Healthy, and the first that is not."""
    waves: dict[int, list[dict]] = {}
    for resource in resources:
        try:
            wave = int(resource.get("sync_wave") or 0)
        except (TypeError, ValueError):
            wave = 0
        waves.setdefault(wave, []).append(resource)
    lines = []
    for wave, members in sorted(waves.items()):
        synced = sum(1 for r in members if r.get("sync_status") == "Synced")
        healthy = [r for r in members if r.get("health") in ("Healthy", "", None)]
        text = f"wave {wave}: {synced}/{len(members)} Synced, {len(healthy)}/{len(members)} Healthy"
        waiting = next((r for r in members if r.get("sync_status") != "Synced" or r not in healthy), None)
        if waiting is not None:
            text += f"; {resource_name(waiting)} {waiting.get('sync_status') or 'Unknown'} " \
                    f"{waiting.get('health') or ''}".rstrip()
            text += f": {one_line(waiting['message'], 100)}" if waiting.get("message") else ""
        lines.append((wave, text))
    return lines


def failed_resources(result: dict) -> list[str]:
    lines = []
    for resource in result.get("resources") or []:
        if not isinstance(resource, dict):
            continue
        if resource.get("status") not in ("Synced", None) or resource.get("hook_phase") in FAILED_PHASES:
            lines.append(f"wave {resource.get('wave', 0)} {resource_name(resource)}: "
                         f"{one_line(resource.get('message') or resource.get('status'))}")
    return lines


def _word(value: object) -> str:
    if isinstance(value, int):
        return EVENT_NUMBERS.get(value, "")
    return re.sub(r"[^a-z]", "", str(value or "").lower())


def event_fields(event: SseEvent) -> dict | None:
    """An `event` of the stream as {cluster, application, type, message, details}; None for other kinds.
    `details` merges the event's own fields (request_id, revision, ... when the hub flattens them, as in
    docs/api.md) with the agent's details (an object, or JSON text in details_json/detailsJson)."""
    if event.kind != "event":
        return None
    data = event.json()
    if not isinstance(data, dict):
        return None
    details = data.get("details")
    if not isinstance(details, dict):
        raw = data.get("details_json") or data.get("detailsJson") or details or "{}"
        try:
            details = json.loads(raw) if isinstance(raw, str) else {}
        except ValueError:
            details = {}
    own = {key: value for key, value in data.items() if key not in ("details", "details_json", "detailsJson")}
    return {"cluster": str(data.get("cluster") or ""), "application": str(data.get("application") or
                                                                           data.get("app") or ""),
            "type": _word(data.get("type", data.get("event_type", ""))), "message": str(data.get("message") or ""),
            "details": {**own, **(details if isinstance(details, dict) else {})}}


async def run_sync(client: HubClient, args: argparse.Namespace, terminal: Terminal,
                   clock: Callable[[], float] = time.monotonic) -> int:
    if not args.wait:
        answer = await client.sync(args.cluster, args.app, args.revision, args.prune)
        if args.output == "json":
            terminal.json(answer)
        else:
            terminal.print(requested_line(args, answer))
        return OK
    return await sync_and_wait(client, args, terminal, clock)


def requested_line(args: argparse.Namespace, answer: dict) -> str:
    revision = answer.get("revision") or args.revision
    return (f"sync of {args.app} on {args.cluster} requested" + (f" at revision {short_revision(revision)}"
                                                                  if revision else "")
            + (" with prune" if args.prune else "") + (f" (request {answer['request_id']})"
                                                        if answer.get("request_id") else ""))


async def sync_and_wait(client: HubClient, args: argparse.Namespace, terminal: Terminal,
                        clock: Callable[[], float] = time.monotonic) -> int:
    """Request the sync and follow it; progress goes to stdout (to stderr with `-o json`, where stdout gets the
    application's final status)."""
    start = clock()
    emit = terminal.note if args.output == "json" else terminal.print

    def say(line: str) -> None:
        emit(f"[{clock() - start:6.1f}s] {line}")

    watch = SyncWatch(args.cluster, args.app)
    cluster = await client.cluster(args.cluster)
    if not cluster.get("connected"):
        say(f"{args.cluster} is not connected: the request is delivered when its agent reconnects")
    def on_event(event: SseEvent) -> None:
        for line in watch.on_event(event):
            say(line)

    async with EventFollower(client, on_event, enabled=not args.no_stream) as follower:
        await follower.ready(min(STREAM_CONNECT_WAIT, args.timeout))
        watch.baseline = await client.application(args.cluster, args.app)
        answer = await client.sync(args.cluster, args.app, args.revision, args.prune)
        say(requested_line(args, answer))
        for line in watch.requested(answer.get("request_id"), answer.get("revision") or args.revision):
            say(line)
        outcome = await follow(client, watch, follower, say, deadline=start + args.timeout,
                               interval=args.interval, clock=clock)
    if args.output == "json" and watch.last is not None:
        terminal.json(watch.last)
    if outcome.code == OK:
        say(outcome.message)
    else:
        terminal.note(f"error: {outcome.message}")
    return outcome.code


async def follow(client: HubClient, watch: SyncWatch, follower: EventFollower, say: Callable[[str], None], *,
                 deadline: float, interval: float, clock: Callable[[], float]) -> Outcome:
    """Look at the application's status until `watch` has an outcome or `deadline` passes; a hub that does not
    answer for a while is retried until then."""
    trouble = ""
    while True:
        try:
            app = await client.application(watch.cluster, watch.app)
        except (HubUnreachable, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.exit_code != UNREACHABLE:
                raise
            if str(exc) != trouble:
                say(f"{exc}; retrying")
            trouble = str(exc)
        else:
            trouble = ""
            for line in watch.on_status(app):
                say(line)
        outcome = watch.outcome()
        if outcome is not None:
            return outcome
        remaining = deadline - clock()
        if remaining <= 0:
            return Outcome(USAGE, f"timed out waiting for {watch.app} on {watch.cluster} to be Synced and Healthy; "
                                  f"last seen: {watch.describe_last()}" + (f"; {trouble}" if trouble else ""))
        await follower.wait(min(interval, remaining))
