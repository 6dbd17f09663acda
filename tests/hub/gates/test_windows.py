"""Sync windows: Argo CD's allow/deny rules, manual syncs, time zones, DST, and when a blocked sync may run."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from hub.fleet import load_fleet
from hub.fleet.model import SyncWindow
from hub.gates import CronError, evaluate
from hub.gates.cron import parse
from hub.render.files import DirectoryFiles

BERLIN = ZoneInfo("Europe/Berlin")


def window(kind: str, schedule: str, duration: str, time_zone: str = "UTC", *,
           duration_seconds: float | None = None, **extra: object) -> SyncWindow:
    seconds = int(duration[:-1]) * {"h": 3600, "m": 60}[duration[-1]]
    return SyncWindow(kind=kind, schedule=schedule, duration=duration,
                      duration_seconds=seconds if duration_seconds is None else duration_seconds,
                      time_zone=time_zone, **extra)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


FREEZE = window("deny", "0 0 * * 6", "48h", "Europe/Berlin", description="weekend freeze")
BUSINESS_HOURS = window("allow", "0 9 * * 1-5", "8h", "Europe/Berlin", description="business hours")


def test_no_windows_allow_every_sync() -> None:
    verdict = evaluate([], at(2026, 12, 5, 12))
    assert verdict.allowed and verdict.blocking is None and verdict.opens_at == at(2026, 12, 5, 12)


def test_an_active_deny_window_blocks_and_says_until_when() -> None:
    verdict = evaluate([FREEZE], at(2026, 12, 5, 12))
    assert not verdict.allowed
    assert verdict.reason == ("blocked by deny window 'weekend freeze' (0 0 * * 6, 48h, Europe/Berlin) "
                              "until 2026-12-07 00:00 CET")
    assert verdict.blocking == FREEZE
    assert verdict.opens_at == at(2026, 12, 6, 23)
    assert verdict.active == (FREEZE,)


def test_an_inactive_deny_window_allows() -> None:
    verdict = evaluate([FREEZE], at(2026, 12, 3, 12))
    assert verdict.allowed and verdict.active == ()


def test_a_window_without_description_is_named_by_its_fields() -> None:
    verdict = evaluate([window("deny", "0 22 * * *", "8h")], at(2026, 12, 3, 23))
    assert verdict.reason == "blocked by deny window (0 22 * * *, 8h, UTC) until 2026-12-04 06:00 UTC"


def test_a_window_is_open_from_its_start_and_closed_at_its_end() -> None:
    night = window("deny", "0 22 * * *", "8h")
    assert evaluate([night], at(2026, 12, 3, 21, 59, 59)).allowed
    assert not evaluate([night], at(2026, 12, 3, 22)).allowed
    assert not evaluate([night], at(2026, 12, 4, 5, 59, 59)).allowed
    assert evaluate([night], at(2026, 12, 4, 6)).allowed


def test_the_schedule_is_read_in_the_windows_time_zone() -> None:
    """01:00 UTC is 10:00 in Tokyo (inside 09:00+8h) and 17:00 the day before in Los Angeles (outside)."""
    tokyo = window("allow", "0 9 * * *", "8h", "Asia/Tokyo")
    los_angeles = window("allow", "0 9 * * *", "8h", "America/Los_Angeles")
    now = at(2026, 6, 2, 1)
    assert evaluate([tokyo], now).allowed
    verdict = evaluate([los_angeles], now)
    assert not verdict.allowed
    assert verdict.opens_at == at(2026, 6, 2, 16)
    assert verdict.reason.endswith("until 2026-06-02 09:00 PDT")


def test_the_caller_s_time_zone_is_kept_in_opens_at() -> None:
    now = datetime(2026, 12, 5, 13, tzinfo=timezone(timedelta(hours=1)))
    verdict = evaluate([FREEZE], now)
    assert verdict.opens_at == at(2026, 12, 6, 23)
    assert verdict.opens_at.utcoffset() == timedelta(hours=1)


def test_business_hours_follow_the_spring_dst_change() -> None:
    """09:00 Berlin is 08:00 UTC on Friday 27 March 2026 and 07:00 UTC on Monday 30 March (CEST)."""
    assert not evaluate([BUSINESS_HOURS], at(2026, 3, 27, 7, 30)).allowed
    assert evaluate([BUSINESS_HOURS], at(2026, 3, 30, 7, 30)).allowed
    verdict = evaluate([BUSINESS_HOURS], at(2026, 3, 28, 12))  # Saturday
    assert verdict.opens_at == at(2026, 3, 30, 7)
    assert verdict.reason == ("blocked: outside allow window 'business hours' (0 9 * * 1-5, 8h, Europe/Berlin) "
                              "until 2026-03-30 09:00 CEST")


def test_business_hours_follow_the_autumn_dst_change() -> None:
    """17:00 Berlin closes at 15:00 UTC on Friday 23 October 2026 and 16:00 UTC on Monday 26 October (CET)."""
    assert not evaluate([BUSINESS_HOURS], at(2026, 10, 23, 15, 30)).allowed
    assert evaluate([BUSINESS_HOURS], at(2026, 10, 26, 15, 30)).allowed
    assert evaluate([BUSINESS_HOURS], at(2026, 10, 26, 15, 30)).reason.endswith("until 2026-10-26 17:00 CET")


def test_a_freeze_whose_start_the_clock_skips_starts_at_the_jump() -> None:
    night = window("deny", "30 2 * * *", "1h", "Europe/Berlin")
    assert evaluate([night], at(2026, 3, 29, 0, 59)).allowed                  # 01:59 CET
    verdict = evaluate([night], at(2026, 3, 29, 1))                          # 03:00 CEST, right after the jump
    assert not verdict.allowed
    assert verdict.reason.endswith("until 2026-03-29 04:00 CEST")


def test_a_freeze_at_a_time_that_happens_twice_blocks_both_times() -> None:
    night = window("deny", "30 2 * * *", "20m", "Europe/Berlin")
    assert not evaluate([night], at(2026, 10, 25, 0, 40)).allowed             # 02:40 CEST
    assert evaluate([night], at(2026, 10, 25, 1, 10)).allowed                 # 02:10 CET, between the two
    verdict = evaluate([night], at(2026, 10, 25, 1, 40))                      # 02:40 CET
    assert not verdict.allowed
    assert verdict.reason.endswith("until 2026-10-25 02:50 CET")


def test_a_freeze_lasts_its_duration_in_elapsed_time_across_a_dst_change() -> None:
    verdict = evaluate([FREEZE], at(2026, 10, 24, 12))
    assert verdict.opens_at == at(2026, 10, 25, 22)
    assert verdict.reason.endswith("until 2026-10-25 23:00 CET")


def test_deny_wins_over_an_active_allow() -> None:
    always = window("allow", "0 0 * * *", "24h")
    verdict = evaluate([always, FREEZE], at(2026, 12, 5, 12))
    assert not verdict.allowed
    assert verdict.blocking == FREEZE
    assert set(verdict.active) == {always, FREEZE}
    assert verdict.opens_at == at(2026, 12, 6, 23)


def test_an_active_allow_window_allows() -> None:
    verdict = evaluate([BUSINESS_HOURS], at(2026, 12, 7, 10))
    assert verdict.allowed
    assert verdict.reason == ("allowed: inside allow window 'business hours' (0 9 * * 1-5, 8h, Europe/Berlin) "
                              "until 2026-12-07 17:00 CET")


def test_outside_every_allow_window_blocks_until_the_first_opens() -> None:
    evening = window("allow", "0 20 * * *", "1h", description="evening")
    verdict = evaluate([BUSINESS_HOURS, evening], at(2026, 12, 5, 12))        # Saturday
    assert not verdict.allowed
    assert verdict.blocking == evening
    assert verdict.opens_at == at(2026, 12, 5, 20)
    assert "outside allow window 'business hours'" in verdict.reason and "allow window 'evening'" in verdict.reason


def test_one_active_allow_among_inactive_ones_allows() -> None:
    """Argo CD since v2.x: an active allow window allows even when other allow windows are inactive."""
    evening = window("allow", "0 20 * * *", "1h")
    assert evaluate([BUSINESS_HOURS, evening], at(2026, 12, 7, 10)).allowed


def test_a_deny_ending_outside_the_allow_windows_waits_for_the_next_allow() -> None:
    """Friday 18:00 to Monday 07:00 UTC freeze, allow windows 09:00-17:00 Berlin on weekdays: next Monday 08:00."""
    freeze = window("deny", "0 18 * * 5", "61h", description="weekend")
    verdict = evaluate([freeze, BUSINESS_HOURS], at(2026, 12, 4, 19))
    assert verdict.blocking == freeze
    assert verdict.opens_at == at(2026, 12, 7, 8)
    assert verdict.reason.endswith("until 2026-12-07 08:00 UTC")


def test_an_allow_that_opens_inside_a_deny_waits_for_the_deny_to_end() -> None:
    release = window("deny", "0 9 7 12 *", "2h", "Europe/Berlin", description="release freeze")
    verdict = evaluate([release, BUSINESS_HOURS], at(2026, 12, 5, 12))
    assert verdict.blocking == BUSINESS_HOURS
    assert verdict.opens_at == at(2026, 12, 7, 10)                             # 11:00 Berlin


def test_overlapping_deny_windows_block_until_the_last_ends() -> None:
    night = window("deny", "0 22 * * *", "8h", description="night")
    change = window("deny", "0 4 * * *", "4h", description="change freeze")
    verdict = evaluate([night, change], at(2026, 12, 3, 5))
    assert verdict.opens_at == at(2026, 12, 3, 8)
    assert "'night'" in verdict.reason and "'change freeze'" in verdict.reason


def test_a_deny_that_starts_as_another_ends_extends_the_block() -> None:
    night = window("deny", "0 22 * * *", "8h", description="night")
    morning = window("deny", "0 6 * * *", "2h", description="morning")
    verdict = evaluate([night, morning], at(2026, 12, 3, 23))
    assert verdict.opens_at == at(2026, 12, 4, 8)
    assert verdict.blocking == night


def test_a_schedule_that_reopens_before_it_closes_blocks_for_good() -> None:
    always = window("deny", "0 * * * *", "90m")
    verdict = evaluate([always], at(2026, 12, 3, 12))
    assert not verdict.allowed and verdict.opens_at is None
    assert verdict.reason == "blocked by deny window (0 * * * *, 90m, UTC) and no sync is allowed within the next " \
                             "366 days"


def test_an_allow_window_that_never_opens_blocks_for_good() -> None:
    never = window("allow", "0 0 30 2 *", "1h")
    verdict = evaluate([never], at(2026, 12, 3, 12))
    assert not verdict.allowed and verdict.opens_at is None and verdict.blocking == never


def test_a_deny_with_manual_sync_lets_manual_syncs_through() -> None:
    freeze = window("deny", "0 0 * * 6", "48h", "Europe/Berlin", manual_sync=True, description="weekend freeze")
    now = at(2026, 12, 5, 12)
    assert not evaluate([freeze], now).allowed
    verdict = evaluate([freeze], now, manual=True)
    assert verdict.allowed
    assert verdict.reason == ("allowed: a manual sync inside deny window 'weekend freeze' (0 0 * * 6, 48h, "
                              "Europe/Berlin), which allows manual syncs")


def test_a_manual_sync_needs_manual_sync_on_every_active_deny() -> None:
    lenient = window("deny", "0 0 * * 6", "48h", manual_sync=True, description="lenient")
    strict = window("deny", "0 10 * * 6", "4h", description="strict")
    verdict = evaluate([lenient, strict], at(2026, 12, 5, 12), manual=True)
    assert not verdict.allowed
    assert verdict.blocking == strict
    assert verdict.reason.startswith("blocked by deny window 'strict'")
    assert verdict.opens_at == at(2026, 12, 5, 14)                             # when `strict` ends


def test_a_manual_sync_inside_a_manual_deny_ignores_the_allow_windows() -> None:
    freeze = window("deny", "0 0 * * 6", "48h", manual_sync=True)
    assert evaluate([freeze, BUSINESS_HOURS], at(2026, 12, 5, 12), manual=True).allowed


def test_outside_allow_windows_any_of_them_with_manual_sync_lets_manual_syncs_through() -> None:
    evening = window("allow", "0 20 * * *", "1h", manual_sync=True, description="evening")
    now = at(2026, 12, 5, 12)
    assert not evaluate([BUSINESS_HOURS, evening], now).allowed
    verdict = evaluate([BUSINESS_HOURS, evening], now, manual=True)
    assert verdict.allowed
    assert "allow window 'evening'" in verdict.reason
    assert not evaluate([BUSINESS_HOURS], now, manual=True).allowed


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate([FREEZE], datetime(2026, 12, 5, 12))


def test_a_bad_schedule_names_the_schedule() -> None:
    with pytest.raises(CronError, match=r"cron schedule '0 25 \* \* \*': hour field '25'"):
        evaluate([window("deny", "0 25 * * *", "1h")], at(2026, 12, 5, 12))


def test_an_unknown_time_zone_names_the_window() -> None:
    with pytest.raises(ValueError, match=r"deny window \(0 1 \* \* \*, 1h, Mars/Olympus\): unknown time zone"):
        evaluate([window("deny", "0 1 * * *", "1h", "Mars/Olympus")], at(2026, 12, 5, 12))


def test_windows_from_fleet_yaml_govern_their_applications(tmp_path: Path) -> None:
    fleet = {
        "apiVersion": "fleetline.io/v1alpha1", "kind": "Fleet", "metadata": {"name": "ml"},
        "spec": {
            "environments": {"production": {"production": True, "syncWindows": [
                {"kind": "deny", "schedule": "0 22 * * *", "duration": "8h", "timeZone": "Europe/Paris",
                 "clusters": ["eu-*"], "description": "eu nights"}]}},
            "clusters": [{"name": "eu-1", "region": "eu", "environment": "production"},
                         {"name": "us-1", "region": "us", "environment": "production"}],
            "applications": [{"name": "inference", "source": {"path": "apps/inference"}}]}}
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(fleet))
    (tmp_path / "apps/inference").mkdir(parents=True)
    (tmp_path / "apps/inference/cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    loaded = load_fleet(DirectoryFiles(tmp_path))
    app = loaded.applications[0]
    night = at(2026, 12, 3, 23)
    eu = evaluate(loaded.sync_windows_for(app, "eu-1"), night)
    assert not eu.allowed
    assert eu.reason == "blocked by deny window 'eu nights' (0 22 * * *, 8h, Europe/Paris) until 2026-12-04 06:00 CET"
    assert evaluate(loaded.sync_windows_for(app, "us-1"), night).allowed


def test_windows_that_change_every_minute_do_not_stall_the_search() -> None:
    """Denied 40 s of every minute, allowed 30 s of it: never open, found out after MAX_STEPS changes."""
    deny = window("deny", "* * * * *", "1m", duration_seconds=40)
    allow = window("allow", "* * * * *", "1m", duration_seconds=30)
    verdict = evaluate([deny, allow], at(2026, 12, 3, 12, 0, 10))
    assert not verdict.allowed and verdict.opens_at is None
    assert "open and close too often" in verdict.reason


# A reference by brute force: walk every minute of UTC, read it on the window's wall clock; a run of wall-clock
# minutes the clock skips fires at the jump if the schedule matches any of them.

def _reference_starts(sync_window: SyncWindow, low: datetime, high: datetime) -> list[datetime]:
    zone, schedule = ZoneInfo(sync_window.time_zone), parse(sync_window.schedule)
    starts, previous, instant = [], None, low
    while instant <= high:
        wall = instant.astimezone(zone).replace(tzinfo=None)
        skipped = [previous + timedelta(minutes=n) for n in range(1, 180)] if previous is not None else []
        skipped = [minute for minute in skipped if minute < wall]
        if schedule.matches(wall) or any(schedule.matches(minute) for minute in skipped):
            starts.append(instant)
        previous, instant = wall, instant + timedelta(minutes=1)
    return starts


def _reference_allowed(windows: list[SyncWindow], now: datetime, manual: bool) -> bool:
    active = []
    for sync_window in windows:
        duration = timedelta(seconds=sync_window.duration_seconds)
        starts = _reference_starts(sync_window, (now - duration).replace(second=0) - timedelta(minutes=1), now)
        if any(start <= now < start + duration for start in starts):
            active.append(sync_window)
    denies = [w for w in active if w.kind == "deny"]
    if denies:
        return manual and all(w.manual_sync for w in denies)
    allows = [w for w in windows if w.kind == "allow"]
    if not allows or any(w.kind == "allow" for w in active):
        return True
    return manual and any(w.manual_sync for w in allows)


def test_verdicts_agree_with_a_minute_by_minute_reference_around_dst_changes() -> None:
    rng = random.Random(6)
    schedules = ["0 9 * * 1-5", "30 2 * * *", "*/20 1-3 * * *", "15 * * * 0,6", "0 0 * * 6", "0 3 29 3 *"]
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]  # Lord Howe shifts by 30 min
    changes = [at(2026, 3, 28, 20), at(2026, 10, 24, 20), at(2026, 3, 7, 20), at(2026, 10, 31, 20),
               at(2026, 4, 4, 12)]
    for _ in range(60):
        windows = [window(rng.choice(["allow", "deny"]), rng.choice(schedules), rng.choice(["20m", "1h", "3h"]),
                          rng.choice(zones), manual_sync=rng.random() < 0.3) for _ in range(rng.randint(1, 3))]
        now = rng.choice(changes) + timedelta(minutes=rng.randint(0, 36 * 60), seconds=rng.randint(0, 59))
        manual = rng.random() < 0.3
        verdict = evaluate(windows, now, manual=manual)
        assert verdict.allowed == _reference_allowed(windows, now, manual), (windows, now, manual, verdict)
        if not verdict.allowed and verdict.opens_at is not None and verdict.opens_at - now < timedelta(hours=12):
            assert _reference_allowed(windows, verdict.opens_at, manual), (windows, now, verdict)
            assert not _reference_allowed(windows, verdict.opens_at - timedelta(seconds=1), manual)
