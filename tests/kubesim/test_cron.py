"""CronJob schedules: syntax, month ends, leap years, day-of-month/day-of-week OR, macros, zones, refusals.

The property test checks `next_after` against a brute-force oracle that walks real instants minute by minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesim.cron import MACROS, Schedule, parse_schedule


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def firings(expr: str, start: datetime, count: int, tz: str | None = None) -> list[datetime]:
    schedule, found, t = parse_schedule(expr), [], start
    for _ in range(count):
        t = schedule.next_after(t, tz)
        found.append(t)
    return found


# --- parsing --------------------------------------------------------------------------------------------


def test_fields_lists_ranges_and_steps() -> None:
    schedule = parse_schedule("0,30 9-17/4 */10 1-3,12 1-5")
    assert schedule.minutes == {0, 30}
    assert schedule.hours == {9, 13, 17}
    assert schedule.days_of_month == {1, 11, 21, 31}
    assert schedule.months == {1, 2, 3, 12}
    assert schedule.days_of_week == {1, 2, 3, 4, 5}


def test_a_number_with_a_step_runs_to_the_end_of_the_field() -> None:
    assert parse_schedule("5/15 * * * *").minutes == {5, 20, 35, 50}
    assert parse_schedule("0 0 * * 1/2").days_of_week == {1, 3, 5}  # stops at Saturday, as robfig does


def test_names_are_case_insensitive_and_work_in_ranges() -> None:
    schedule = parse_schedule("0 0 * JAN-mar,Dec Mon-FRI")
    assert schedule.months == {1, 2, 3, 12}
    assert schedule.days_of_week == {1, 2, 3, 4, 5}
    assert parse_schedule("0 0 * * sun,sat").days_of_week == {0, 6}


def test_seven_is_sunday() -> None:
    assert parse_schedule("0 0 * * 7").days_of_week == {0}
    assert parse_schedule("0 0 * * 5-7").days_of_week == {5, 6, 0}
    assert firings("0 0 * * 7", at(2024, 1, 1), 2) == [at(2024, 1, 7), at(2024, 1, 14)]


@pytest.mark.parametrize(("macro", "fields"), sorted(MACROS.items()))
def test_macros_equal_their_five_field_forms(macro: str, fields: str) -> None:
    start = at(2023, 12, 30, 13, 17)
    assert firings(macro, start, 3) == firings(fields, start, 3)


def test_macro_firing_times() -> None:
    start = at(2024, 5, 15, 10, 30)
    assert parse_schedule("@hourly").next_after(start) == at(2024, 5, 15, 11)
    assert parse_schedule("@daily").next_after(start) == at(2024, 5, 16)
    assert parse_schedule("@midnight").next_after(start) == at(2024, 5, 16)
    assert parse_schedule("@weekly").next_after(start) == at(2024, 5, 19)  # a Sunday
    assert parse_schedule("@monthly").next_after(start) == at(2024, 6, 1)
    assert parse_schedule("@yearly").next_after(start) == at(2025, 1, 1)
    assert parse_schedule("@annually").next_after(start) == at(2025, 1, 1)


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("* * * *", "expected 5 fields"),
        ("* * * * * *", "expected 5 fields"),
        ("60 * * * *", "minute field '60': 60 is out of range 0-59"),
        ("* 24 * * *", "hour field '24'"),
        ("* * 0 * *", "day-of-month field '0'"),
        ("* * 32 * *", "day-of-month field '32'"),
        ("* * * 13 *", "month field '13'"),
        ("* * * * 8", "day-of-week field '8'"),
        ("5-1 * * * *", "range start 5 is after its end 1"),
        ("*/0 * * * *", "step must be a positive number"),
        ("*/ * * * *", "missing step"),
        ("1-2-3 * * * *", "too many hyphens"),
        ("1/2/3 * * * *", "too many slashes"),
        ("1,,2 * * * *", "empty list item"),
        ("-1 * * * *", "missing value"),
        ("mon * * * *", "value 'mon' is not a number"),
        ("* * * foo *", "'foo' is neither a number nor a name (jan..dec)"),
        ("* * * * funday", "'funday' is neither a number nor a name (sun..sat)"),
        ("@every 5m", "@every is not supported"),
        ("@reboot", "unknown macro"),
        ("@Daily", "unknown macro"),
        ("CRON_TZ=Europe/Paris 0 9 * * *", "cannot use TZ or CRON_TZ in schedule, use the timeZone field"),
        ("TZ=UTC 0 9 * * *", "cannot use TZ or CRON_TZ"),
    ],
)
def test_invalid_schedules_say_what_is_wrong(expr: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="invalid cron schedule") as caught:
        parse_schedule(expr)
    assert fragment in str(caught.value)


# --- stepping -------------------------------------------------------------------------------------------


def test_next_is_strictly_after_and_on_a_whole_minute() -> None:
    every_minute = parse_schedule("* * * * *")
    assert every_minute.next_after(at(2024, 1, 1, 10, 0)) == at(2024, 1, 1, 10, 1)
    assert every_minute.next_after(at(2024, 1, 1, 10, 0, 59)) == at(2024, 1, 1, 10, 1)
    assert every_minute.next_after(at(2024, 1, 1, 10, 0) - timedelta(microseconds=1)) == at(2024, 1, 1, 10, 0)
    result = every_minute.next_after(at(2024, 1, 1, 10, 0, 30))
    assert result.tzinfo is UTC and result.second == 0 and result.microsecond == 0


def test_steps_and_rollovers() -> None:
    assert firings("*/20 * * * *", at(2024, 12, 31, 23, 30), 3) == [
        at(2024, 12, 31, 23, 40), at(2025, 1, 1, 0, 0), at(2025, 1, 1, 0, 20)]
    assert firings("15 10-14/2 * * *", at(2024, 3, 1, 12, 15), 3) == [
        at(2024, 3, 1, 14, 15), at(2024, 3, 2, 10, 15), at(2024, 3, 2, 12, 15)]


def test_the_31st_skips_short_months() -> None:
    assert firings("0 0 31 * *", at(2024, 1, 31), 4) == [
        at(2024, 3, 31), at(2024, 5, 31), at(2024, 7, 31), at(2024, 8, 31)]


def test_the_30th_skips_february() -> None:
    assert firings("0 12 30 * *", at(2023, 1, 30, 12), 2) == [at(2023, 3, 30, 12), at(2023, 4, 30, 12)]


def test_february_29th_waits_for_leap_years_including_across_2100() -> None:
    assert firings("0 0 29 2 *", at(2023, 3, 1), 2) == [at(2024, 2, 29), at(2028, 2, 29)]
    assert parse_schedule("0 0 29 2 *").next_after(at(2096, 2, 29)) == at(2104, 2, 29)  # 2100 is not leap


def test_last_day_of_february_in_leap_and_common_years() -> None:
    schedule = parse_schedule("0 0 28,29 2 *")
    assert firings("0 0 28,29 2 *", at(2024, 2, 1), 3) == [at(2024, 2, 28), at(2024, 2, 29), at(2025, 2, 28)]
    assert schedule.next_after(at(2025, 2, 28)) == at(2026, 2, 28)


def test_day_of_month_and_day_of_week_both_restricted_means_either() -> None:
    # the 13th, or any Friday: January 2024 has Fridays on the 5th, 12th, 19th, 26th
    assert firings("0 0 13 * 5", at(2024, 1, 1), 5) == [
        at(2024, 1, 5), at(2024, 1, 12), at(2024, 1, 13), at(2024, 1, 19), at(2024, 1, 26)]


def test_a_star_day_field_means_only_the_other_decides() -> None:
    assert firings("0 0 * * 1", at(2024, 1, 1), 2) == [at(2024, 1, 8), at(2024, 1, 15)]  # Mondays only
    assert firings("0 0 1 * *", at(2024, 1, 1), 2) == [at(2024, 2, 1), at(2024, 3, 1)]  # the 1st only
    assert firings("0 0 1 * ?", at(2024, 1, 1), 1) == [at(2024, 2, 1)]  # `?` is a star too


def test_a_stepped_star_counts_as_restricted_like_robfig() -> None:
    # "*/2" in day-of-month is not a plain star, so the OR applies: odd days, or Sundays.
    assert firings("0 0 */2 * 0", at(2024, 1, 1), 4) == [
        at(2024, 1, 3), at(2024, 1, 5), at(2024, 1, 7), at(2024, 1, 9)]
    assert parse_schedule("0 0 */2 * 0").next_after(at(2024, 1, 13)) == at(2024, 1, 14)  # a Sunday, even day


def test_month_restriction_with_weekdays() -> None:
    assert firings("30 8 * feb mon", at(2024, 1, 1), 3) == [
        at(2024, 2, 5, 8, 30), at(2024, 2, 12, 8, 30), at(2024, 2, 19, 8, 30)]
    assert parse_schedule("30 8 * feb mon").next_after(at(2024, 2, 26, 8, 30)) == at(2025, 2, 3, 8, 30)


def test_a_schedule_that_can_never_fire_is_accepted_but_has_no_next_time() -> None:
    never = parse_schedule("0 0 30 2 *")
    assert not never.can_fire
    with pytest.raises(ValueError, match="never fires"):
        never.next_after(at(2024, 1, 1))
    assert parse_schedule("0 0 31 2,4 *").can_fire is False
    assert parse_schedule("0 0 31 2,4 1").can_fire is True  # Mondays still fire (OR)
    assert parse_schedule("0 0 29 2 *").can_fire is True


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_schedule("* * * * *").next_after(datetime(2024, 1, 1))


def test_non_utc_input_is_accepted_and_the_answer_is_utc() -> None:
    paris = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 10:00 UTC
    assert parse_schedule("0 * * * *").next_after(paris) == at(2024, 6, 1, 11)


# --- time zones -----------------------------------------------------------------------------------------


def test_time_zone_shifts_the_wall_clock() -> None:
    assert parse_schedule("0 9 * * *").next_after(at(2024, 1, 14, 23), "Asia/Tokyo") == at(2024, 1, 15, 0)
    assert parse_schedule("0 9 * * *").next_after(at(2024, 1, 15, 0), "Asia/Tokyo") == at(2024, 1, 16, 0)
    assert parse_schedule("0 9 * * *").next_after(at(2024, 1, 15), "America/New_York") == at(2024, 1, 15, 14)
    assert parse_schedule("0 9 * * *").next_after(at(2024, 7, 15), "America/New_York") == at(2024, 7, 15, 13)


def test_time_zone_decides_the_day_for_day_fields() -> None:
    # Monday 2024-01-08 00:30 in Auckland is still Sunday in UTC.
    monday_half_past_midnight = parse_schedule("30 0 * * 1")
    assert monday_half_past_midnight.next_after(at(2024, 1, 7), "Pacific/Auckland") == at(2024, 1, 7, 11, 30)


def test_a_wall_time_skipped_by_spring_forward_does_not_fire() -> None:
    # New York jumps from 02:00 to 03:00 on 2024-03-10.
    assert firings("30 2 * * *", at(2024, 3, 9, 8), 2, "America/New_York") == [
        at(2024, 3, 11, 6, 30), at(2024, 3, 12, 6, 30)]
    assert firings("0 * * * *", at(2024, 3, 10, 5, 30), 3, "America/New_York") == [
        at(2024, 3, 10, 6), at(2024, 3, 10, 7), at(2024, 3, 10, 8)]  # 01:00 EST, then 03:00 EDT


def test_a_wall_time_repeated_by_fall_back_fires_twice() -> None:
    # New York repeats 01:00-02:00 on 2024-11-03 (EDT, then EST).
    assert firings("30 1 * * *", at(2024, 11, 2, 12), 3, "America/New_York") == [
        at(2024, 11, 3, 5, 30), at(2024, 11, 3, 6, 30), at(2024, 11, 4, 6, 30)]


def test_interleaved_times_in_a_fold_come_in_real_time_order() -> None:
    # 01:00 EDT (05:00Z), 01:30 EDT (05:30Z), 01:00 EST (06:00Z), 01:30 EST (06:30Z)
    assert firings("0,30 1 * * *", at(2024, 11, 3, 5, 10), 3, "America/New_York") == [
        at(2024, 11, 3, 5, 30), at(2024, 11, 3, 6, 0), at(2024, 11, 3, 6, 30)]


def test_half_hour_daylight_saving_shift() -> None:
    # Lord Howe Island moves from +10:30 to +11:00 at 02:00 local on 2024-10-06: 02:00-02:29 never happen.
    assert firings("15,45 2 * * *", at(2024, 10, 5, 12), 2, "Australia/Lord_Howe") == [
        at(2024, 10, 5, 15, 45), at(2024, 10, 6, 15, 15)]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Local", "../etc/passwd"])
def test_unknown_time_zones_are_refused(zone: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_schedule("* * * * *").next_after(at(2024, 1, 1), zone)


# --- against a brute-force oracle -----------------------------------------------------------------------

_MINUTES = ["*", "0", "59", "*/15", "5,35", "10-20/5", "7/20"]
_HOURS = ["*", "0", "1", "2", "23", "*/6", "9-17", "1-3"]
_DAYS = ["*", "?", "1", "15", "29", "30", "31", "1-7", "*/10", "28-31"]
_MONTHS = ["*", "2", "jan,jul", "*/3", "dec", "3,11", "10-12"]
_WEEKDAYS = ["*", "?", "0", "7", "mon-fri", "sat", "*/2", "sun,wed"]
_ZONES = [None, "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"]
_WINDOW = timedelta(days=3)


def _oracle_matches(schedule: Schedule, instant: datetime, zone: ZoneInfo | None) -> bool:
    local = instant.astimezone(zone) if zone else instant
    weekday = (local.weekday() + 1) % 7
    in_month, in_week = local.day in schedule.days_of_month, weekday in schedule.days_of_week
    if schedule.day_of_month_any or schedule.day_of_week_any:
        day_ok = in_month and in_week
    else:
        day_ok = in_month or in_week
    return (local.minute in schedule.minutes and local.hour in schedule.hours
            and local.month in schedule.months and day_ok)


def _oracle_next(schedule: Schedule, t: datetime, zone: ZoneInfo | None) -> datetime | None:
    """Walk real instants minute by minute for `_WINDOW`; None when nothing fires in it."""
    instant = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = t + _WINDOW
    while instant <= end:
        if _oracle_matches(schedule, instant, zone):
            return instant
        instant += timedelta(minutes=1)
    return None


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    fields=st.tuples(*(st.sampled_from(c) for c in (_MINUTES, _HOURS, _DAYS, _MONTHS, _WEEKDAYS))),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31),
                       timezones=st.just(UTC)),
    tz=st.sampled_from(_ZONES),
)
def test_next_after_agrees_with_a_minute_by_minute_walk(fields: tuple[str, ...], start: datetime,
                                                        tz: str | None) -> None:
    schedule = parse_schedule(" ".join(fields))
    zone = ZoneInfo(tz) if tz else None
    expected = _oracle_next(schedule, start, zone)
    if not schedule.can_fire:
        with pytest.raises(ValueError, match="never fires"):
            schedule.next_after(start, tz)
        return
    got = schedule.next_after(start, tz)
    if expected is not None:
        assert got == expected
    else:
        assert got > start + _WINDOW
        assert _oracle_matches(schedule, got, zone)
    assert schedule.matches(got, tz)


# Clock changes (UTC instants): New York and London both ways, Lord Howe's half hour, Chatham's +12:45/+13:45.
_TRANSITIONS = [
    ("America/New_York", at(2024, 3, 10, 7)), ("America/New_York", at(2024, 11, 3, 6)),
    ("Europe/London", at(2024, 3, 31, 1)), ("Europe/London", at(2024, 10, 27, 1)),
    ("Australia/Lord_Howe", at(2024, 4, 6, 15)), ("Australia/Lord_Howe", at(2024, 10, 5, 15, 30)),
    ("Pacific/Chatham", at(2024, 4, 6, 14)), ("Pacific/Chatham", at(2024, 9, 28, 14)),
]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    fields=st.tuples(*(st.sampled_from(c) for c in (_MINUTES, _HOURS, ["*", "?"], ["*"], ["*", "?"]))),
    transition=st.sampled_from(_TRANSITIONS),
    minutes_before=st.integers(min_value=-120, max_value=36 * 60),
)
def test_next_after_agrees_with_the_walk_around_clock_changes(fields: tuple[str, ...],
                                                              transition: tuple[str, datetime],
                                                              minutes_before: int) -> None:
    tz, instant = transition
    schedule = parse_schedule(" ".join(fields))
    start = instant - timedelta(minutes=minutes_before, seconds=17)
    assert schedule.next_after(start, tz) == _oracle_next(schedule, start, ZoneInfo(tz))
