"""When a window is open, in absolute time: its schedule's start instants in its time zone, merged into spans.

A window opens at every instant its cron schedule fires on the local wall clock of its time zone and stays open
for `duration` of elapsed time: the span [start, start + duration). Overlapping or touching spans merge, so a
window whose schedule fires again before it closes ("0 * * * *" for 2h) is one long span.

Daylight saving time, by zoneinfo (Argo CD instead applies the zone's offset of the moment it evaluates):
- a wall-clock time that happens twice (the clock goes back) fires at both occurrences;
- a wall-clock time the clock skips (the clock goes forward) fires at the jump, when the clock passes it, so
  a freeze scheduled at 02:30 on the night the clocks go forward from 02:00 to 03:00 starts at 03:00.

Instants are POSIX timestamps (float seconds) inside this module; `hub.gates.windows` converts at its edges.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.gates.cron import CronSchedule

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Span:
    """One period during which a window is open: [start, end) in POSIX seconds."""

    start: float
    end: float

    def contains(self, instant: float) -> bool:
        return self.start <= instant < self.end


def open_spans(schedule: CronSchedule, zone: ZoneInfo, duration: float, since: float,
               until: float) -> Iterator[Span]:
    """The merged spans during which the window is open, in order: each span that ends after `since`, up to
    the first that starts after `until`. A span still growing at `until` (a schedule that keeps reopening
    the window) is cut off more than a day after `until`, never before it."""
    day = datetime.fromtimestamp(since - duration, zone).date() - _DAY
    last_day = datetime.fromtimestamp(until, zone).date() + _DAY
    pattern = _merge([(minute * 60, minute * 60 + duration) for minute in schedule.times_of_day()])
    current: list[float] | None = None
    while day <= last_day:
        for start, end in _day_spans(schedule, zone, duration, day, pattern):
            if current is not None and start <= current[1]:
                current[1] = max(current[1], end)
                continue
            if current is not None and current[1] > since:
                yield Span(current[0], current[1])
                if current[0] > until:
                    return
            current = [start, end]
        day += _DAY
    if current is not None and current[1] > since:
        yield Span(current[0], current[1])


def fire_instants(schedule: CronSchedule, zone: ZoneInfo, day: date) -> list[float]:
    """The instants at which `schedule` fires on the local calendar `day` of `zone`, in order."""
    if not schedule.matches_day(day):
        return []
    if _constant_offset(zone, day):
        midnight = datetime.combine(day, time(), zone).timestamp()
        return [midnight + minute * 60 for minute in schedule.times_of_day()]
    instants: list[float] = []
    for minute in schedule.times_of_day():
        instants.extend(wall_instants(datetime.combine(day, time(minute // 60, minute % 60)), zone))
    return sorted(instants)


def wall_instants(wall: datetime, zone: ZoneInfo) -> list[float]:
    """The instants a schedule firing at the naive local time `wall` fires at: one; two when the clock goes
    back over it; the instant of the jump when the clock goes forward over it."""
    first = wall.replace(tzinfo=zone, fold=0).timestamp()
    second = wall.replace(tzinfo=zone, fold=1).timestamp()
    if first == second:
        return [first]
    if _local(first, zone) == wall:
        return [first, second]
    # Skipped: fold=1 reads `wall` with the offset after the jump (an instant before it), fold=0 with the one
    # before (an instant after it). Find the jump between them, to the second.
    before, after = int(second), int(first)
    while after - before > 1:
        middle = (before + after) // 2
        if _local(middle, zone) >= wall:
            after = middle
        else:
            before = middle
    return [float(after)]


def _day_spans(schedule: CronSchedule, zone: ZoneInfo, duration: float, day: date,
               pattern: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The window's merged spans that start on `day`: the precomputed pattern shifted to local midnight on a
    day without an offset change, else computed start by start."""
    if not schedule.matches_day(day):
        return []
    if _constant_offset(zone, day):
        midnight = datetime.combine(day, time(), zone).timestamp()
        return [(midnight + start, midnight + end) for start, end in pattern]
    return _merge([(instant, instant + duration) for instant in fire_instants(schedule, zone, day)])


def _constant_offset(zone: ZoneInfo, day: date) -> bool:
    """Whether `zone` keeps one UTC offset from the start of `day` to the start of the next (no DST change)."""
    offsets = set()
    for midnight in (datetime.combine(day, time(), zone), datetime.combine(day + _DAY, time(), zone)):
        offsets.add(midnight.utcoffset())
        offsets.add(midnight.replace(fold=1).utcoffset())
    return len(offsets) == 1


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted spans with overlapping or touching ones joined."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _local(instant: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(instant, zone).replace(tzinfo=None)
