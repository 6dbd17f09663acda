"""Waiting between attempts: the application's retry backoff and the self-heal backoff (§A3.4). Pure arithmetic.

- Retry of a failed sync (`syncPolicy.retry`): the n-th retry (n = 0, 1, ...) waits `duration * factor**n`,
  capped at `maxDuration` (no cap when it is 0); defaults 5 s, 2, 3 min. `limit` retries: 0 none, -1 unlimited.
  (An automated application without a retry block gets `limit: 5` from the hub, as Argo CD does.)
- Self-heal: the n-th re-apply of the same drift waits 0 s, then 2, 6, 18, 54, 162 s, then 300 s for ever
  (Argo CD's `wait.Backoff{2s, x3, cap 300s}` stepped n times).

Durations arrive as the hub writes them in the wire's `Backoff`: a Go duration ("5s", "1m30s", "500ms"), a bare
integer meaning seconds ("30", Argo CD's reading), or "" for the default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fleetline.wire import fleet_pb2

DEFAULT_RETRY_DURATION_S = 5.0
DEFAULT_RETRY_FACTOR = 2.0
DEFAULT_RETRY_MAX_DURATION_S = 180.0
SELF_HEAL_BASE_S = 2.0
SELF_HEAL_FACTOR = 3.0
SELF_HEAL_CAP_S = 300.0

_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_DURATION = re.compile(r"^\+?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_BARE_SECONDS = re.compile(r"^\+?[0-9]+$")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration ("5s", "3m", "1h30m", "500ms", "0") or a bare integer of seconds ("30").
    Raises ValueError for anything else, negative durations included."""
    text = text.strip()
    if _BARE_SECONDS.match(text):
        return float(int(text))
    if not _GO_DURATION.match(text):
        raise ValueError(f'"{text}" is not a duration: expected a Go duration such as "5s", "3m" or "1h30m" '
                         f"(units h, m, s, ms, us, ns) or a whole number of seconds")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(text))


def retry_delays(duration_s: float = DEFAULT_RETRY_DURATION_S, factor: float = DEFAULT_RETRY_FACTOR,
                 max_duration_s: float = DEFAULT_RETRY_MAX_DURATION_S, limit: int = 0) -> Iterator[float]:
    """The wait before each retry of a failed sync, in order: `limit` of them, none for 0, endless for -1
    (any negative limit). `max_duration_s` 0 means no cap."""
    if duration_s < 0 or max_duration_s < 0:
        raise ValueError(f"retry backoff durations must not be negative (duration {duration_s}s, "
                         f"maxDuration {max_duration_s}s)")
    if factor < 1:
        raise ValueError(f"retry backoff factor must be at least 1, not {factor}")
    delay, count = float(duration_s), 0
    while limit < 0 or count < limit:
        yield min(delay, max_duration_s) if max_duration_s > 0 else delay
        if max_duration_s <= 0 or delay < max_duration_s:
            delay *= factor  # stop growing once capped: an endless retry must not overflow
        count += 1


def self_heal_delay(attempt: int, base: float = SELF_HEAL_BASE_S, factor: float = SELF_HEAL_FACTOR,
                    cap: float = SELF_HEAL_CAP_S) -> float:
    """Seconds to wait before the `attempt`-th self-heal of the same drift (0 for the first): 0, 2, 6, 18, ...
    capped at 300 (Argo CD's defaults; its --self-heal-backoff-timeout-seconds, -factor and -cap-seconds are
    `base`, `factor` and `cap`)."""
    if attempt < 0:
        raise ValueError(f"self-heal attempt must be 0 or more, not {attempt}")
    if attempt == 0:
        return 0.0
    delay = base
    for _ in range(attempt - 1):
        if delay >= cap:
            break
        delay *= factor
    return min(delay, cap)


@dataclass(frozen=True)
class RetryPolicy:
    """An application's retry settings, with Argo CD's defaults."""

    limit: int = 0
    duration_s: float = DEFAULT_RETRY_DURATION_S
    factor: float = DEFAULT_RETRY_FACTOR
    max_duration_s: float = DEFAULT_RETRY_MAX_DURATION_S

    @classmethod
    def from_wire(cls, policy: fleet_pb2.SyncPolicy) -> RetryPolicy:
        """From a bundle's SyncPolicy: no `retry` means no retries; an empty duration or a factor of 0 means
        the default (proto3 cannot tell "unset" from 0). Raises ValueError naming the bad field."""
        if not policy.HasField("retry"):
            return cls()
        backoff = policy.retry.backoff
        return cls(limit=policy.retry.limit,
                   duration_s=_wire_duration(backoff.duration, "retry.backoff.duration", DEFAULT_RETRY_DURATION_S),
                   factor=float(backoff.factor) if backoff.factor else DEFAULT_RETRY_FACTOR,
                   max_duration_s=_wire_duration(backoff.max_duration, "retry.backoff.maxDuration",
                                                 DEFAULT_RETRY_MAX_DURATION_S))

    def delays(self) -> Iterator[float]:
        """The wait before each retry, as `retry_delays`."""
        return retry_delays(self.duration_s, self.factor, self.max_duration_s, self.limit)


def _wire_duration(text: str, field: str, default: float) -> float:
    if not text:
        return default
    try:
        return parse_duration(text)
    except ValueError as error:
        raise ValueError(f"syncPolicy.{field}: {error}") from None
