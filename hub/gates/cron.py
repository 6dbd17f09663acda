"""Cron schedules of sync windows: parsing a 5-field schedule and telling which local days and times it fires on.

Reads schedules the way Argo CD does (robfig/cron's 5-field parser): minute, hour, day of month, month, day of
week; `*` and `?`, values, ranges `a-b`, lists `a,b`, steps `*/n`, `a-b/n` and `a/n` (meaning `a-max/n`),
month names `jan`-`dec` and weekday names `sun`-`sat` in any case, Sunday as 0. Day of month and day of week
combine as in robfig/cron: when either field is a star (`*` or `?`, or a star with step 1) both must match,
otherwise either may match, so "0 0 1 * mon" fires on the first of the month and on every Monday, while
"0 0 */2 * mon" (a step of 2 is no star) fires on odd days and on Mondays. The descriptors that fleet.yaml
accepts (`@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly`, `@annually`) stand for their
usual 5-field forms.

Knows nothing of time zones or durations: `hub.gates.timeline` maps the wall-clock times to instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_WEEKDAYS = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, lowest, highest, names) for the five fields in order
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}), ("month", 1, 12, _MONTHS),
           ("day of week", 0, 6, _WEEKDAYS))
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
EXPECTED = 'a 5-field cron schedule "minute hour day-of-month month day-of-week" such as "0 22 * * 1-5"'


class CronError(ValueError):
    """A schedule that cannot be parsed; the message names the schedule, the field and what is wrong."""


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule: the allowed values of each field, and whether the day fields are stars."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_star: bool
    weekdays_star: bool

    def matches_day(self, day: date) -> bool:
        """Whether the schedule fires on `day` (a local calendar date) at all."""
        if day.month not in self.months:
            return False
        day_match = day.day in self.days
        weekday_match = day.isoweekday() % 7 in self.weekdays
        if self.days_star or self.weekdays_star:
            return day_match and weekday_match
        return day_match or weekday_match

    def times_of_day(self) -> tuple[int, ...]:
        """The minutes after local midnight at which the schedule fires on a day it fires on, in order."""
        return tuple(sorted(hour * 60 + minute for hour in self.hours for minute in self.minutes))

    def matches(self, wall: datetime) -> bool:
        """Whether the schedule fires at the local wall-clock time `wall` (seconds are ignored)."""
        return self.matches_day(wall.date()) and wall.hour in self.hours and wall.minute in self.minutes


def parse(schedule: str) -> CronSchedule:
    """Parse `schedule`; CronError naming the schedule and the field when it is not a valid schedule."""
    text = schedule.strip()
    expanded = _DESCRIPTORS.get(text.lower(), text) if text.startswith("@") else text
    if expanded.startswith("@"):
        raise CronError(f"cron schedule {schedule!r}: unknown descriptor; expected {EXPECTED} or one of "
                        f"{', '.join(_DESCRIPTORS)}")
    parts = expanded.split()
    if len(parts) != 5:
        raise CronError(f"cron schedule {schedule!r}: found {len(parts)} fields, expected {EXPECTED}")
    values: list[frozenset[int]] = []
    stars: list[bool] = []
    for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True):
        try:
            field_values, star = _parse_field(part, low, high, names)
        except ValueError as exc:
            raise CronError(f"cron schedule {schedule!r}: {name} field {part!r}: {exc}") from None
        values.append(field_values)
        stars.append(star)
    return CronSchedule(text=text, minutes=values[0], hours=values[1], days=values[2], months=values[3],
                        weekdays=values[4], days_star=stars[2], weekdays_star=stars[4])


def _parse_field(part: str, low: int, high: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    """The values a field allows, and whether it counts as a star for the day-of-month/day-of-week rule."""
    values: set[int] = set()
    star = False
    for element in part.split(","):
        element_values, element_star = _parse_element(element, low, high, names)
        values.update(element_values)
        star = star or element_star
    return frozenset(values), star


def _parse_element(element: str, low: int, high: int, names: dict[str, int]) -> tuple[range, bool]:
    range_text, slash, step_text = element.partition("/")
    if slash and not step_text.isdigit():
        raise ValueError(f"{element!r}: the step after '/' must be a whole number")
    step = int(step_text) if slash else 1
    if step < 1:
        raise ValueError(f"{element!r}: a step must be at least 1")
    if range_text in ("*", "?"):
        return range(low, high + 1, step), step == 1
    bounds = range_text.split("-")
    if len(bounds) > 2:
        raise ValueError(f"{element!r} is not a value, range (a-b), list (a,b) or step (*/n)")
    start = _value(bounds[0], element, low, high, names)
    end = _value(bounds[1], element, low, high, names) if len(bounds) == 2 else high if slash else start
    if start > end:
        raise ValueError(f"range {element!r} runs backwards")
    return range(start, end + 1, step), False


def _value(text: str, element: str, low: int, high: int, names: dict[str, int]) -> int:
    if text.isdigit():
        value = int(text)
    elif text.lower() in names:
        value = names[text.lower()]
    elif not text:
        raise ValueError(f"{element!r} is not a value, range (a-b), list (a,b) or step (*/n)")
    else:
        known = f" or a name {next(iter(names))}-{list(names)[-1]}" if names else ""
        raise ValueError(f"{text!r} is not a number{known}")
    if not low <= value <= high:
        raise ValueError(f"{text!r} is outside {low}-{high}")
    return value
