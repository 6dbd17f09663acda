"""CronJob schedules: the standard 5-field cron syntax, parsed and stepped the way Kubernetes does it.

Kubernetes parses `spec.schedule` with robfig/cron v3's standard parser; this module follows its semantics:

* fields `minute hour day-of-month month day-of-week`, each `*`, `?`, a number, a name (`jan`..`dec`,
  `sun`..`sat`, any case), a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (= `a-max/n`), or a comma list;
* the macros `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly`;
* when day-of-month and day-of-week are both restricted, a day matching either one fires (Vixie cron's OR);
  a field counts as unrestricted only when it is `*` or `?` (with no step, or a step of 1).

Beyond robfig, `7` is accepted as Sunday, as Vixie cron does. Rejected with a clear `ValueError`: `@every`
(not a CronJob schedule), and any `TZ=`/`CRON_TZ=` prefix (Kubernetes wants `spec.timeZone` instead).

Times are stepped in the schedule's time zone (UTC unless given an IANA name), as robfig does: a wall-clock
time skipped by a daylight-saving jump does not fire, and one repeated by a fall-back fires twice.
Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTH_NAMES = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAY_NAMES = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February at its longest
# Any schedule that can fire at all fires within 8 years (February 29th across 2100); search a little longer.
_SEARCH_DAYS = 366 * 9


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None
    top: int | None = None  # where `*` and `a/n` end, when lower than `high`

    @property
    def end(self) -> int:
        return self.high if self.top is None else self.top


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTH_NAMES),
    _Field("day-of-week", 0, 7, _DAY_NAMES, top=6),  # 7 is Sunday too, but `*` and `a/n` stop at Saturday
)


@dataclass(frozen=True)
class Schedule:
    """A parsed cron schedule; `next_after` gives its firing times."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]  # 0 is Sunday
    day_of_month_any: bool  # `*` or `?`: unrestricted, so only day-of-week decides
    day_of_week_any: bool

    def next_after(self, t: datetime, tz: str | None = None) -> datetime:
        """The first firing time strictly after `t`, in UTC, on a whole minute.

        `t` must be timezone-aware; `tz` is the CronJob's `spec.timeZone` (an IANA name), UTC when None.
        Raises `ValueError` for an unknown time zone, a naive `t`, or a schedule that can never fire
        (such as `0 0 30 2 *`, which Kubernetes accepts but never runs).
        """
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"next_after needs a timezone-aware datetime, got naive {t.isoformat()}")
        zone = load_time_zone(tz)
        if not self.can_fire:
            raise ValueError(f"cron schedule {self.expression!r} never fires: no selected month has that day")
        day = t.astimezone(zone).date() - timedelta(days=1)  # a fall-back can repeat the previous evening
        last = day + timedelta(days=_SEARCH_DAYS)
        while day <= last:
            if day.month not in self.months:
                day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
                continue
            if self._day_matches(day):
                found = self._first_on(day, zone, t)
                if found is not None:
                    return found
            day += timedelta(days=1)
        raise ValueError(f"cron schedule {self.expression!r} does not fire within {_SEARCH_DAYS} days")

    def matches(self, t: datetime, tz: str | None = None) -> bool:
        """Whether the schedule fires at `t` (timezone-aware), on the wall clock of `tz` (UTC when None)."""
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"matches needs a timezone-aware datetime, got naive {t.isoformat()}")
        local = t.astimezone(load_time_zone(tz))
        on_minute = local.second == 0 and local.microsecond == 0
        return (on_minute and local.minute in self.minutes and local.hour in self.hours
                and local.month in self.months and self._day_matches(local.date()))

    @property
    def can_fire(self) -> bool:
        """False only for a day-of-month that no selected month has (e.g. the 31st of February or April)."""
        if self.day_of_month_any or not self.day_of_week_any:
            return True
        return any(day <= _DAYS_IN_MONTH[month - 1] for month in self.months for day in self.days_of_month)

    def _day_matches(self, day: date) -> bool:
        in_month = day.day in self.days_of_month
        in_week = day.isoweekday() % 7 in self.days_of_week
        if self.day_of_month_any or self.day_of_week_any:
            return in_month and in_week
        return in_month or in_week

    def _first_on(self, day: date, zone: tzinfo, after: datetime) -> datetime | None:
        """The earliest firing instant after `after` among this local day's wall-clock times."""
        offset = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
        if offset == datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).utcoffset():
            # No clock change today: wall-clock order is time order, so the first hit is the answer.
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    instant = (datetime.combine(day, time(hour, minute)) - offset).replace(tzinfo=UTC)
                    if instant > after:
                        return instant
            return None
        instants = [instant for hour in self.hours for minute in self.minutes
                    for instant in _instants(datetime.combine(day, time(hour, minute)), zone)
                    if instant > after]
        return min(instants, default=None)


def _instants(wall: datetime, zone: tzinfo) -> set[datetime]:
    """The UTC instants at which `zone`'s clock reads `wall`: none in a gap, two in a fold."""
    found = set()
    for fold in (0, 1):
        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            found.add(instant)
    return found


def load_time_zone(name: str | None) -> tzinfo:
    """The zone for a CronJob `spec.timeZone` (UTC for None); `ValueError` when it is not an IANA zone."""
    if name is None:
        return UTC
    problem = f"unknown time zone {name!r}: use an IANA name such as Europe/Paris or Etc/UTC"
    if not name or name.lower() == "local":
        raise ValueError(problem)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(problem) from err


def parse_schedule(expr: str) -> Schedule:
    """Parse a CronJob `spec.schedule`; raises `ValueError` saying what is wrong and where."""
    if not isinstance(expr, str):
        raise ValueError(f"invalid cron schedule {expr!r}: expected a string")
    text = expr.strip()
    if not text:
        raise ValueError("invalid cron schedule '': empty (expected 5 fields, e.g. '*/5 * * * *', or a macro "
                         "such as @daily)")
    if "TZ" in text:
        raise ValueError(f"invalid cron schedule {expr!r}: cannot use TZ or CRON_TZ in schedule, "
                         "use the timeZone field instead")
    if text.startswith("@"):
        if text.startswith("@every"):
            raise ValueError(f"invalid cron schedule {expr!r}: @every is not supported by CronJob; "
                             "write the interval as 5 fields, e.g. '*/15 * * * *'")
        if text not in MACROS:
            raise ValueError(f"invalid cron schedule {expr!r}: unknown macro (known: {', '.join(MACROS)})")
        fields = MACROS[text].split()
    else:
        fields = text.split()
    if len(fields) != len(_FIELDS):
        raise ValueError(f"invalid cron schedule {expr!r}: expected 5 fields (minute hour day-of-month month "
                         f"day-of-week), got {len(fields)}")
    parsed = []
    for spec, field in zip(fields, _FIELDS, strict=True):
        try:
            parsed.append(_parse_field(spec, field))
        except ValueError as err:
            raise ValueError(f"invalid cron schedule {expr!r}: {field.name} field {spec!r}: {err}") from None
    (minutes, _), (hours, _), (doms, dom_any), (months, _), (dows, dow_any) = parsed
    return Schedule(expression=expr, minutes=minutes, hours=hours, days_of_month=doms, months=months,
                    days_of_week=frozenset(day % 7 for day in dows), day_of_month_any=dom_any,
                    day_of_week_any=dow_any)


def _parse_field(spec: str, field: _Field) -> tuple[frozenset[int], bool]:
    """The values one field selects, and whether it is unrestricted (`*` or `?` with no step above 1)."""
    values: set[int] = set()
    unrestricted = False
    for part in spec.split(","):
        if not part:
            raise ValueError("empty list item")
        range_part, slash, step_text = part.partition("/")
        if "/" in step_text:
            raise ValueError(f"too many slashes in {part!r}")
        step = 1
        if slash:
            step = _number(step_text, "step")
            if step == 0:
                raise ValueError(f"step must be a positive number in {part!r}")
        if range_part in ("*", "?"):
            low, high = field.low, field.end
            unrestricted = unrestricted or step == 1
        else:
            first, dash, second = range_part.partition("-")
            if "-" in second:
                raise ValueError(f"too many hyphens in {part!r}")
            low = _value(first, field)
            high = _value(second, field) if dash else (field.end if slash else low)
            if low > high:
                raise ValueError(f"range start {low} is after its end {high}")
        values.update(range(low, high + 1, step))
    return frozenset(values), unrestricted


def _value(text: str, field: _Field) -> int:
    if field.names:
        if text.lower() in field.names:
            return field.names[text.lower()]
        if not (text.isascii() and text.isdigit()):
            names = list(field.names)
            raise ValueError(f"{text!r} is neither a number nor a name ({names[0]}..{names[-1]})")
    value = _number(text, "value")
    if not field.low <= value <= field.high:
        raise ValueError(f"{value} is out of range {field.low}-{field.high}")
    return value


def _number(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{what} {text!r} is not a number" if text else f"missing {what}")
    return int(text)
