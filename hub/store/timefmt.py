"""Times in the store: one RFC 3339 UTC text form that sorts as it reads, parsing of user-given bounds, and the
readable form a report shows.

Every time the store writes is `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds, always 27 characters), so
comparing the texts compares the times and SQLite can range-scan them. A naive datetime is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def rfc3339(moment: datetime) -> str:
    """`moment` as the store's text form (UTC, microseconds, `Z`)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_ms(unix_ms: int) -> str:
    """Unix milliseconds (the wire's `occurred_at_ms`) as the store's text form."""
    return rfc3339(datetime.fromtimestamp(unix_ms / 1000, tz=UTC))


def parse_time(text: str) -> datetime:
    """An RFC 3339 / ISO 8601 time (`Z` or an offset; none means UTC) as an aware datetime; ValueError naming it."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use 2026-03-01 or 2026-03-01T09:30:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_bound(text: str, *, end: bool = False) -> datetime:
    """A user's `--since`/`--until`: a date alone means the start of that day (UTC), or with `end` the start of the
    next day, so that `--until 2026-05-31` includes all of 31 May; a full time is taken as given."""
    stripped = text.strip()
    if len(stripped) == 10:
        try:
            day = date.fromisoformat(stripped)
        except ValueError:
            raise ValueError(f"{text!r} is not a date: use 2026-03-01 or 2026-03-01T09:30:00Z") from None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    return parse_time(stripped)


def readable(text: str) -> str:
    """`2026-03-01T14:05:09.123456Z` as `1 Mar 2026, 14:05:09 UTC` (for people); "" stays ""."""
    if not text:
        return ""
    moment = parse_time(text).astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M:%S} UTC"


def readable_period(since: str, until: str) -> str:
    """`[since, until)` for people: `1 Mar 2026 to the end of 31 May 2026 (UTC)` when the bounds are midnights,
    else the times; an empty bound is "the beginning" or "now"."""
    start = "the beginning"
    if since:
        moment = parse_time(since).astimezone(UTC)
        start = f"{moment.day} {moment:%b %Y}" if moment.time() == datetime.min.time() else readable(since)
    end = "now"
    if until:
        moment = parse_time(until).astimezone(UTC)
        if moment.time() == datetime.min.time():
            day = moment - timedelta(days=1)
            end = f"the end of {day.day} {day:%b %Y}"
        else:
            end = f"{readable(until)} (not included)"
    text = f"{start} to {end}"
    return text if "UTC" in text else f"{text} (UTC)"


def readable_duration(seconds: float | None) -> str:
    """`75.5` as `1 min 16 s`, `7300` as `2 h 2 min`; None as ""."""
    if seconds is None:
        return ""
    whole = round(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"
