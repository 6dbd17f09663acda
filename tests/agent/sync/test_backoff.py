"""Retry backoff, self-heal backoff and Go durations."""

from __future__ import annotations

from itertools import islice

import pytest

from agent.sync import RetryPolicy, parse_duration, retry_delays, self_heal_delay
from fleetline.wire import fleet_pb2


@pytest.mark.parametrize("text, seconds", [
    ("5s", 5.0), ("3m", 180.0), ("1h30m", 5400.0), ("500ms", 0.5), ("1.5s", 1.5), ("0", 0.0), ("30", 30.0),
    ("2h45m30s", 9930.0), ("100us", 1e-4), ("1µs", 1e-6), (".5m", 30.0), (" 10s ", 10.0),
])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "-5s", "5 s", "1d", "s", "1.5", "five", "-3", "1h-5m"])
def test_parse_duration_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration: expected a Go duration such as"):
        parse_duration(text)


def test_retry_delays_with_argo_cd_defaults() -> None:
    assert list(retry_delays(limit=5)) == [5, 10, 20, 40, 80]
    assert list(retry_delays(5, 2, 180, 7)) == [5, 10, 20, 40, 80, 160, 180]


def test_retry_limit_zero_means_none_and_negative_means_unlimited() -> None:
    assert list(retry_delays(limit=0)) == []
    endless = list(islice(retry_delays(limit=-1), 1000))
    assert len(endless) == 1000 and endless[:3] == [5, 10, 20] and endless[-1] == 180


def test_retry_max_duration_zero_means_no_cap() -> None:
    assert list(retry_delays(1, 10, 0, 4)) == [1, 10, 100, 1000]


def test_retry_factor_one_waits_the_same() -> None:
    assert list(retry_delays(30, 1, 180, 3)) == [30, 30, 30]


@pytest.mark.parametrize("args", [(-1, 2, 180, 1), (5, 2, -1, 1), (5, 0, 180, 1), (5, 0.5, 180, 1)])
def test_retry_delays_refuse_nonsense(args: tuple) -> None:
    with pytest.raises(ValueError):
        next(retry_delays(*args))


def test_self_heal_delays() -> None:
    assert [self_heal_delay(n) for n in range(9)] == [0, 2, 6, 18, 54, 162, 300, 300, 300]
    assert self_heal_delay(10_000) == 300
    with pytest.raises(ValueError):
        self_heal_delay(-1)


def test_retry_policy_from_the_wire() -> None:
    assert RetryPolicy.from_wire(fleet_pb2.SyncPolicy()) == RetryPolicy(limit=0)
    assert list(RetryPolicy.from_wire(fleet_pb2.SyncPolicy()).delays()) == []
    hub = fleet_pb2.SyncPolicy(retry=fleet_pb2.Retry(limit=3, backoff=fleet_pb2.Backoff(
        duration="10s", factor=3, max_duration="1m")))
    assert list(RetryPolicy.from_wire(hub).delays()) == [10, 30, 60]
    bare = fleet_pb2.SyncPolicy(retry=fleet_pb2.Retry(limit=-1, backoff=fleet_pb2.Backoff(duration="30")))
    policy = RetryPolicy.from_wire(bare)
    assert policy == RetryPolicy(limit=-1, duration_s=30, factor=2, max_duration_s=180)


def test_retry_policy_with_empty_backoff_uses_defaults() -> None:
    empty = fleet_pb2.SyncPolicy(retry=fleet_pb2.Retry(limit=5))
    assert list(RetryPolicy.from_wire(empty).delays()) == [5, 10, 20, 40, 80]


def test_retry_policy_names_the_bad_field() -> None:
    bad = fleet_pb2.SyncPolicy(retry=fleet_pb2.Retry(limit=1, backoff=fleet_pb2.Backoff(max_duration="soon")))
    with pytest.raises(ValueError, match=r'syncPolicy.retry.backoff.maxDuration: "soon" is not a duration'):
        RetryPolicy.from_wire(bad)
