"""Cron schedules as Argo CD (robfig/cron) reads them: fields, names, steps, the day rule, and clear errors."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hub.gates.cron import CronError, parse


def test_fields_take_values_ranges_lists_and_steps() -> None:
    schedule = parse("5,10-12,*/20 9-17/4 1 * *")
    assert schedule.minutes == {0, 5, 10, 11, 12, 20, 40}
    assert schedule.hours == {9, 13, 17}
    assert schedule.days == {1}
    assert schedule.months == set(range(1, 13))
    assert schedule.weekdays == set(range(7))


def test_a_value_with_a_step_runs_to_the_end_of_the_field() -> None:
    assert parse("50/3 * * * *").minutes == {50, 53, 56, 59}


def test_month_and_weekday_names_in_any_case() -> None:
    schedule = parse("0 0 * JAN-mar,Dec Mon-FRI")
    assert schedule.months == {1, 2, 3, 12}
    assert schedule.weekdays == {1, 2, 3, 4, 5}


def test_question_mark_is_a_star() -> None:
    question, star = parse("0 0 ? * 1"), parse("0 0 * * 1")
    assert (question.days, question.days_star) == (star.days, True)


def test_times_of_day_are_sorted_minutes_after_midnight() -> None:
    assert parse("30 1,0 * * *").times_of_day() == (30, 90)


@pytest.mark.parametrize(("descriptor", "equivalent"), [
    ("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *")])
def test_descriptors_fleet_yaml_accepts(descriptor: str, equivalent: str) -> None:
    parsed, expected = parse(descriptor), parse(equivalent)
    assert (parsed.minutes, parsed.hours, parsed.days, parsed.months, parsed.weekdays) == (
        expected.minutes, expected.hours, expected.days, expected.months, expected.weekdays)
    assert parsed.days_star == expected.days_star and parsed.weekdays_star == expected.weekdays_star


def test_day_of_month_and_day_of_week_are_or_ed_when_neither_is_a_star() -> None:
    schedule = parse("0 0 1 * mon")
    assert schedule.matches_day(date(2026, 12, 1))      # a Tuesday, the first
    assert schedule.matches_day(date(2026, 12, 7))      # a Monday
    assert not schedule.matches_day(date(2026, 12, 8))  # a Tuesday


def test_day_of_month_and_day_of_week_are_and_ed_when_one_is_a_star() -> None:
    every_monday = parse("0 0 * * mon")
    assert every_monday.matches_day(date(2026, 12, 7))
    assert not every_monday.matches_day(date(2026, 12, 1))
    firsts_of_the_month = parse("0 0 1 * *")
    assert firsts_of_the_month.matches_day(date(2026, 12, 1))
    assert not firsts_of_the_month.matches_day(date(2026, 12, 7))


def test_a_star_with_a_step_above_one_is_no_star_for_the_day_rule() -> None:
    """robfig/cron (and so Argo CD): "*/2" is not a star, so it is OR-ed with the weekday; "*/1" still is."""
    odd_days_or_mondays = parse("0 0 */2 * mon")
    assert odd_days_or_mondays.matches_day(date(2026, 12, 3))   # a Thursday, odd
    assert odd_days_or_mondays.matches_day(date(2026, 12, 14))  # a Monday, even
    assert not odd_days_or_mondays.matches_day(date(2026, 12, 8))
    assert not parse("0 0 */1 * mon").matches_day(date(2026, 12, 3))


def test_month_restricts_every_day() -> None:
    schedule = parse("0 0 1 jun mon")
    assert schedule.matches_day(date(2026, 6, 8))
    assert not schedule.matches_day(date(2026, 12, 7))


def test_matches_a_wall_clock_time() -> None:
    schedule = parse("15 9 * * 1-5")
    assert schedule.matches(datetime(2026, 12, 7, 9, 15, 42))
    assert not schedule.matches(datetime(2026, 12, 7, 9, 16))
    assert not schedule.matches(datetime(2026, 12, 6, 9, 15))  # Sunday


@pytest.mark.parametrize(("schedule", "message"), [
    ("0 24 * * *", "cron schedule '0 24 * * *': hour field '24': '24' is outside 0-23"),
    ("0 0 * * 7", "day of week field '7': '7' is outside 0-6"),
    ("0 0 * *", "found 4 fields, expected a 5-field cron schedule"),
    ("0 0 * foo *", "month field 'foo': 'foo' is not a number or a name jan-dec"),
    ("*/0 * * * *", "minute field '*/0': '*/0': a step must be at least 1"),
    ("5-1 * * * *", "range '5-1' runs backwards"),
    ("1-2-3 * * * *", "'1-2-3' is not a value, range (a-b), list (a,b) or step (*/n)"),
    ("1,,2 * * * *", "'' is not a value"),
    ("@fortnightly", "cron schedule '@fortnightly': unknown descriptor"),
    ("*/x * * * *", "the step after '/' must be a whole number"),
])
def test_errors_name_the_schedule_and_the_field(schedule: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        parse(schedule)
    assert message in str(caught.value)
    assert repr(schedule) in str(caught.value)
