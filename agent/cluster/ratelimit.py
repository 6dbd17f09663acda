"""Client-side request rate limiting: one token bucket (QPS and burst, as client-go's) shared by every request
of a `ClusterAccess`, whether it is made from the event loop or from a watch thread.

The bucket hands out reservations: `reserve()` takes a token now, possibly going into debt, and returns how long
the caller must wait before sending. Callers wait in turn, in the order they reserved, without holding a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, qps: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"rate limit needs qps > 0 and burst >= 1 (got qps={qps}, burst={burst})")
        self.qps, self.burst, self._clock = float(qps), int(burst), clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; returns the seconds to wait before using it (0 when a token was available)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.qps)
            self._at = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.qps
