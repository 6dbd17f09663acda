"""Sync-loop detection: none of Argo CD, Flux or Fleet has it (issue 5, scope 6).

Every self-heal that reverts a field records (object, field, the manager that had changed it). When the same
field of the same object has been reverted more than `threshold` times (default 3) within `window` seconds
(default 10 minutes), each time changed back by the same manager that is not ours, the agent is fighting
another controller (an HPA over `/spec/replicas`, a webhook over a container): `record` returns a `SyncLoop`
once, and the caller stops reverting that field and suggests the `ignoreDifferences` entry. Reverts of
different fields, or by different managers, are counted apart; old reverts fall out of the window.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_THRESHOLD = 3
DEFAULT_WINDOW = 600.0


@dataclass(frozen=True)
class SyncLoop:
    """A field that keeps being changed back by another manager."""

    object: str  # "Deployment ml/inference"
    field: str  # the diff's readable path, e.g. /spec/replicas
    manager: str  # the other field manager, e.g. kube-controller-manager
    reverts: int  # reverts counted within the window
    window: float  # seconds


class SyncLoopDetector:
    """Counts reverts per (object, field, manager) within a sliding window."""

    def __init__(self, threshold: int = DEFAULT_THRESHOLD, window: float = DEFAULT_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if threshold < 1 or window <= 0:
            raise ValueError("sync-loop detection needs a threshold >= 1 and a window > 0 seconds")
        self.threshold = threshold
        self.window = window
        self.clock = clock
        self._reverts: dict[tuple[str, str, str], collections.deque[float]] = {}
        self._reported: set[tuple[str, str]] = set()

    def record(self, obj: str, field: str, manager: str | None) -> SyncLoop | None:
        """Record one revert of `field` of `obj` that `manager` had changed; a SyncLoop the first time the
        count within the window exceeds the threshold (None otherwise, and for our own or unknown managers)."""
        if not manager or (obj, field) in self._reported:
            return None
        now = self.clock()
        times = self._reverts.setdefault((obj, field, manager), collections.deque())
        times.append(now)
        while times and times[0] < now - self.window:
            times.popleft()
        if len(times) <= self.threshold:
            return None
        self._reported.add((obj, field))
        return SyncLoop(obj, field, manager, len(times), self.window)

    def is_looping(self, obj: str, field: str) -> bool:
        return (obj, field) in self._reported

    def forget(self, obj: str) -> None:
        """The object left the desired state (or its desired state changed): start counting afresh."""
        self._reverts = {k: v for k, v in self._reverts.items() if k[0] != obj}
        self._reported = {k for k in self._reported if k[0] != obj}
