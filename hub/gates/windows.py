"""Whether sync windows let a sync run now, which window blocks it and when it may run.

Argo CD's rules (`SyncWindows.CanSync`), for the windows that govern one (application, cluster) pair
(`Fleet.sync_windows_for`):
- no windows: allowed;
- an active deny window blocks (deny wins over allow), except a manual sync when every active deny window has
  `manualSync: true`;
- else an active allow window allows;
- else, when allow windows exist (none of them active), the sync is blocked, except a manual sync when any of
  those allow windows has `manualSync: true`;
- else (deny windows only, none active): allowed.

A window is active from each instant its schedule fires (in its time zone, see `hub.gates.timeline`) for its
duration: [start, start + duration). (Argo CD tests `start < now < start + duration`; the two differ only at
the two exact instants.) `syncOverrun` does not apply here: the hub decides when a sync starts, and a sync the
hub has handed to an agent is the agent's to finish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.fleet.model import SyncWindow
from hub.gates import cron
from hub.gates.timeline import Span, open_spans

HORIZON = timedelta(days=366)
MAX_STEPS = 10_000  # window changes looked at to find an opening (at most a few hundred with ordinary windows)


@dataclass(frozen=True)
class WindowVerdict:
    """What the windows say about a sync at one instant.

    `opens_at` is the earliest instant from `now` on at which such a sync is allowed: `now` itself when it is
    allowed, None when it stays blocked for the whole horizon (a year; or windows that change every minute
    defeat the search, which the reason then says). `blocking` is the window to blame
    when blocked (the first active deny window that blocks, or the allow window that opens next); `active`
    lists every window active at `now`."""

    allowed: bool
    reason: str
    blocking: SyncWindow | None
    opens_at: datetime | None
    active: tuple[SyncWindow, ...] = ()


def evaluate(windows: Sequence[SyncWindow], now: datetime, *, manual: bool = False,
             horizon: timedelta = HORIZON) -> WindowVerdict:
    """Whether `windows` let a sync (a manual one with `manual=True`) run at `now` (timezone-aware).

    ValueError (CronError for a schedule) naming the window when a window cannot be evaluated."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"sync windows need a timezone-aware time, got {now.isoformat()} without a zone")
    if not windows:
        return WindowVerdict(True, "allowed: no sync window governs it", None, now)
    instant = now.timestamp()
    until = instant + horizon.total_seconds()
    cursors = [_Cursor(window, instant, until) for window in windows]
    active = tuple(cursor.window for cursor in cursors if cursor.active_at(instant))
    blockers, candidate = _blockers(cursors, instant, manual)
    if not blockers:
        return WindowVerdict(True, _allowed_reason(cursors, instant, manual, until), None, now, active)
    opens, gave_up = _opening(cursors, candidate, until, manual)
    opens_at = None if opens is None else datetime.fromtimestamp(opens, now.tzinfo)
    first = blockers[0]
    if first.window.kind == "deny":
        what = "blocked by " + " and ".join(describe(blocker.window) for blocker in blockers)
    else:
        allows = [cursor.window for cursor in cursors if cursor.window.kind == "allow"]
        what = "blocked: outside " + " and ".join(describe(window) for window in allows)
    if opens is not None:
        when = f"until {_format(opens, first.zone)}"
    elif gave_up:
        when = f"and its windows open and close too often to tell when (after {MAX_STEPS} changes)"
    else:
        when = f"and no sync is allowed within the next {horizon.days} days"
    return WindowVerdict(False, f"{what} {when}", first.window, opens_at, active)


def describe(window: SyncWindow) -> str:
    """A window as a reason names it: "deny window 'weekend freeze' (0 0 * * 6, 48h, Europe/Berlin)"."""
    name = f" {window.description!r}" if window.description else ""
    return f"{window.kind} window{name} ({window.schedule}, {window.duration}, {window.time_zone})"


class _Cursor:
    """One window's open spans, walked forward in time."""

    def __init__(self, window: SyncWindow, since: float, until: float) -> None:
        self.window = window
        try:
            self.zone = ZoneInfo(window.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{describe(window)}: unknown time zone {window.time_zone!r}; expected an IANA "
                             f"time zone such as \"UTC\" or \"Europe/Paris\"") from None
        if window.duration_seconds <= 0:
            raise ValueError(f"{describe(window)}: the duration must be longer than 0")
        schedule = cron.parse(window.schedule)
        self._spans = open_spans(schedule, self.zone, window.duration_seconds, since, until)
        self.span: Span | None = next(self._spans, None)

    def _advance(self, instant: float) -> None:
        while self.span is not None and self.span.end <= instant:
            self.span = next(self._spans, None)

    def active_at(self, instant: float) -> bool:
        self._advance(instant)
        return self.span is not None and self.span.contains(instant)

    def next_start(self, instant: float) -> float | None:
        """When the window next opens after `instant` (None: not within the horizon); only for an inactive one."""
        self._advance(instant)
        return None if self.span is None else self.span.start


def _blockers(cursors: list[_Cursor], instant: float, manual: bool) -> tuple[list[_Cursor], float | None]:
    """The windows that block the sync at `instant` (none: allowed), and the first instant it could be
    allowed at (None when nothing opens within the horizon)."""
    active = [cursor for cursor in cursors if cursor.active_at(instant)]
    denies = [cursor for cursor in active if cursor.window.kind == "deny"]
    if denies:
        if manual and all(cursor.window.manual_sync for cursor in denies):
            return [], None
        blocking = [cursor for cursor in denies if not (manual and cursor.window.manual_sync)]
        return blocking, max(cursor.span.end for cursor in blocking if cursor.span is not None)
    allows = [cursor for cursor in cursors if cursor.window.kind == "allow"]
    if not allows or any(cursor in active for cursor in allows):
        return [], None
    if manual and any(cursor.window.manual_sync for cursor in allows):
        return [], None
    upcoming = [(start, index) for index, cursor in enumerate(allows)
                if (start := cursor.next_start(instant)) is not None]
    if not upcoming:
        return allows, None
    start, index = min(upcoming)
    return [allows[index]] + [cursor for cursor in allows if cursor is not allows[index]], start


def _opening(cursors: list[_Cursor], candidate: float | None, until: float, manual: bool) -> tuple[float | None, bool]:
    """The first instant from `candidate` on at which no window blocks (None: not within the horizon), and
    whether the search gave up after MAX_STEPS window changes (windows that open and close every minute)."""
    for _ in range(MAX_STEPS):
        if candidate is None or candidate > until:
            return None, False
        blockers, later = _blockers(cursors, candidate, manual)
        if not blockers:
            return candidate, False
        candidate = later
    return None, True


def _allowed_reason(cursors: list[_Cursor], instant: float, manual: bool, until: float) -> str:
    active = [cursor for cursor in cursors if cursor.active_at(instant)]
    denies = [cursor for cursor in active if cursor.window.kind == "deny"]
    if denies:
        names = " and ".join(describe(cursor.window) for cursor in denies)
        return f"allowed: a manual sync inside {names}, which allows manual syncs"
    allows = [cursor for cursor in active if cursor.window.kind == "allow"]
    if allows:
        cursor = allows[0]
        end = cursor.span.end if cursor.span is not None else until
        closes = f" until {_format(end, cursor.zone)}" if end <= until else ""
        return f"allowed: inside {describe(cursor.window)}{closes}"
    if manual and any(cursor.window.kind == "allow" for cursor in cursors):
        names = " and ".join(describe(cursor.window) for cursor in cursors
                             if cursor.window.kind == "allow" and cursor.window.manual_sync)
        return f"allowed: a manual sync outside the allow windows; manual syncs are allowed by {names}"
    return "allowed: no sync window is active"


def _format(instant: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(instant, zone).strftime("%Y-%m-%d %H:%M %Z")
