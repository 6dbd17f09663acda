"""The hub's fleet metrics, named after Argo CD's so that existing dashboards and alerts translate:
application info by sync and health status, syncs by phase, sync durations, Git requests, render time, revision
age, cluster connections, drift events, sync loops and rollout steps.

Owns `FleetMetrics` (the metrics, on a registry it owns or is given; never the process-global one) and the reading
of agents' sync and drift events into metric values (`events`). It keeps no state beyond what the metrics need to
replace or remove their series, reads no files and does no I/O: the hub's wiring calls it with what the sessions,
the source and the pipeline report. The session layer's own metrics stay in `hub.sessions.metrics`, the Git
source's in `hub.source.metrics`; all three can share one registry (no names collide).
"""

from hub.metrics.events import SyncOutcome, sync_outcome
from hub.metrics.fleet import FleetMetrics

__all__ = ["FleetMetrics", "SyncOutcome", "sync_outcome"]
