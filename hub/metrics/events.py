"""What an agent's sync event means for the metrics: the sync's phase, in Argo CD's vocabulary, and its duration.

`details_json` comes from the agent (docs/agent.md §7); a missing or malformed field never raises, it only
leaves the duration unknown.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from fleetline.wire import fleet_pb2

SUCCEEDED, FAILED, ERROR = "Succeeded", "Failed", "Error"


@dataclass(frozen=True)
class SyncOutcome:
    """A finished sync: `phase` is Succeeded, Failed (the sync ran and failed) or Error (it could not run: a
    refused sync request, or a crash); `duration_seconds` is None when the agent sent no usable duration."""

    phase: str
    duration_seconds: float | None


def details(event: fleet_pb2.Event) -> dict:
    """The event's `details_json` as a dict ({} when it is empty, not JSON, or not a JSON object)."""
    if not event.details_json:
        return {}
    try:
        value = json.loads(event.details_json)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def sync_outcome(event: fleet_pb2.Event) -> SyncOutcome:
    """The outcome of a SYNC_SUCCEEDED or SYNC_FAILED event (ValueError for any other type).

    The event type decides success. A SYNC_FAILED carrying a sync result is Failed (or Error when the result
    says so); one without a result is a sync request the agent refused before running anything, which Argo CD
    would report as Error."""
    if event.type not in (fleet_pb2.SYNC_SUCCEEDED, fleet_pb2.SYNC_FAILED):
        raise ValueError(f"event {event.sequence} is {fleet_pb2.EventType.Name(event.type)}, not a sync result "
                         "(SYNC_SUCCEEDED or SYNC_FAILED)")
    result = details(event).get("result")
    result = result if isinstance(result, dict) else None
    if event.type == fleet_pb2.SYNC_SUCCEEDED:
        phase = SUCCEEDED
    elif result is None:
        phase = ERROR
    else:
        phase = ERROR if result.get("phase") == ERROR else FAILED
    return SyncOutcome(phase, _duration_seconds(result))


def _duration_seconds(result: dict | None) -> float | None:
    value = result.get("duration_ms") if result is not None else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return value / 1000.0
