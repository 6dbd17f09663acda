"""A window's schedule in absolute time: time zones and both daylight saving time changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hub.gates.cron import parse
from hub.gates.timeline import Span, fire_instants, open_spans, wall_instants

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_a_schedule_fires_on_the_wall_clock_of_its_zone() -> None:
    assert fire_instants(parse("0 9 * * *"), BERLIN, date(2026, 1, 15)) == [utc(2026, 1, 15, 8)]
    assert fire_instants(parse("0 9 * * *"), BERLIN, date(2026, 7, 15)) == [utc(2026, 7, 15, 7)]
    assert fire_instants(parse("0 9 * * *"), NEW_YORK, date(2026, 7, 15)) == [utc(2026, 7, 15, 13)]


def test_around_the_spring_change_the_same_wall_time_moves_an_hour_in_utc() -> None:
    schedule = parse("0 9 * * *")
    assert fire_instants(schedule, BERLIN, date(2026, 3, 28)) == [utc(2026, 3, 28, 8)]
    assert fire_instants(schedule, BERLIN, date(2026, 3, 29)) == [utc(2026, 3, 29, 7)]  # the change day itself
    assert fire_instants(schedule, NEW_YORK, date(2026, 3, 7)) == [utc(2026, 3, 7, 14)]
    assert fire_instants(schedule, NEW_YORK, date(2026, 3, 8)) == [utc(2026, 3, 8, 13)]


def test_a_wall_time_the_clock_skips_fires_when_the_clock_jumps() -> None:
    """Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 never happens."""
    assert wall_instants(datetime(2026, 3, 29, 2, 30), BERLIN) == [utc(2026, 3, 29, 1)]
    assert fire_instants(parse("30 2 * * *"), BERLIN, date(2026, 3, 29)) == [utc(2026, 3, 29, 1)]
    assert fire_instants(parse("30 1,2,3 * * *"), BERLIN, date(2026, 3, 29)) == [
        utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)]


def test_a_wall_time_that_happens_twice_fires_twice() -> None:
    """Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens at 00:30 and 01:30 UTC."""
    assert wall_instants(datetime(2026, 10, 25, 2, 30), BERLIN) == [utc(2026, 10, 25, 0, 30),
                                                                   utc(2026, 10, 25, 1, 30)]
    assert fire_instants(parse("30 * * * *"), BERLIN, date(2026, 10, 25))[:5] == [
        utc(2026, 10, 24, 22, 30), utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30),
        utc(2026, 10, 25, 2, 30)]
    assert len(fire_instants(parse("30 * * * *"), BERLIN, date(2026, 10, 25))) == 25


def test_duration_is_elapsed_time_across_a_change() -> None:
    """A 48h freeze from Saturday 00:00 CEST ends 48 real hours later, Sunday 23:00 CET."""
    spans = open_spans(parse("0 0 * * 6"), BERLIN, 48 * 3600, utc(2026, 10, 24, 12), utc(2026, 10, 30))
    assert next(spans) == Span(utc(2026, 10, 23, 22), utc(2026, 10, 25, 22))


def test_spans_that_overlap_or_touch_merge() -> None:
    spans = list(open_spans(parse("0 * * * *"), ZoneInfo("UTC"), 3600, utc(2026, 1, 1), utc(2026, 1, 2)))
    assert len(spans) == 1
    assert spans[0].start <= utc(2026, 1, 1) and spans[0].end > utc(2026, 1, 2)


def test_spans_are_listed_from_the_one_open_at_since() -> None:
    spans = open_spans(parse("0 22 * * *"), ZoneInfo("UTC"), 8 * 3600, utc(2026, 1, 2, 3), utc(2026, 1, 5))
    assert [next(spans), next(spans)] == [Span(utc(2026, 1, 1, 22), utc(2026, 1, 2, 6)),
                                          Span(utc(2026, 1, 2, 22), utc(2026, 1, 3, 6))]


def test_spans_stop_after_until() -> None:
    spans = list(open_spans(parse("0 0 * * *"), ZoneInfo("UTC"), 60, utc(2026, 1, 1), utc(2026, 1, 10)))
    assert spans[0] == Span(utc(2026, 1, 1), utc(2026, 1, 1, 0, 1))
    assert 10 <= len(spans) <= 12
