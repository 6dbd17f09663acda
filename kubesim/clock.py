"""Simulated time: wall-clock timestamps for objects, and controller delays scaled by `--speed`.

Timestamps stay real (so kubectl's AGE column is right); only how long the simulated kubelet,
controllers and schedules wait is divided by `speed` (speed 10 makes a 30 s readiness delay take 3 s).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """Kubernetes' metav1.Time encoding: RFC 3339, UTC, second precision."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Clock:
    speed: float = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> str:
        return rfc3339(self.now())

    def scaled(self, seconds: float) -> float:
        """Real seconds that `seconds` of simulated time take."""
        return seconds / self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(self.scaled(seconds))

    def elapsed_since(self, text: str | None) -> float:
        """Simulated seconds elapsed since an RFC 3339 timestamp (0 when unset)."""
        then = parse_time(text)
        if then is None:
            return 0.0
        return (self.now() - then).total_seconds() * self.speed
