"""Health codes, their order and the `Health` record (Argo CD's `health.go`, §A1.1 of the reference).

The order from most to least healthy is Healthy < Suspended < Progressing < Missing < Degraded < Unknown;
`is_worse` and `worst` compare by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class HealthStatus(StrEnum):
    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    SUSPENDED = "Suspended"
    MISSING = "Missing"
    UNKNOWN = "Unknown"


ORDER: tuple[HealthStatus, ...] = (
    HealthStatus.HEALTHY,
    HealthStatus.SUSPENDED,
    HealthStatus.PROGRESSING,
    HealthStatus.MISSING,
    HealthStatus.DEGRADED,
    HealthStatus.UNKNOWN,
)


@dataclass(frozen=True)
class Health:
    """One resource's (or one application's) health: a code and a message saying what is wrong."""

    status: HealthStatus
    message: str = ""


def severity(status: HealthStatus) -> int:
    """The position of `status` in Argo CD's order: 0 for Healthy up to 5 for Unknown."""
    return ORDER.index(status)


def is_worse(current: HealthStatus, new: HealthStatus) -> bool:
    """True when `new` is less healthy than `current` (Argo CD's `IsWorse`)."""
    return severity(new) > severity(current)


def worst(statuses: Iterable[HealthStatus]) -> HealthStatus:
    """The least healthy of `statuses`; Healthy when there are none."""
    result = HealthStatus.HEALTHY
    for status in statuses:
        if is_worse(result, status):
            result = status
    return result
