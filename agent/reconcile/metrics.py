"""The reconciler's Prometheus metrics, on the registry the agent serves (the session's, never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ReconcileMetrics:
    """Syncs by phase and result, apply duration, drift events by action, self-heals, sync loops, watch restarts,
    managed objects."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = registry if registry is not None else CollectorRegistry()
        self.registry = r
        self.syncs = Counter("fleetline_agent_syncs", "Sync operations by result (Succeeded, Failed) and trigger "
                             "(automated, request, retry)", ["result", "trigger"], registry=r)
        self.sync_duration = Histogram(
            "fleetline_agent_sync_duration_seconds", "Duration of a sync operation (apply, waves, hooks, prune)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900), registry=r)
        self.apply_duration = Histogram(
            "fleetline_agent_apply_duration_seconds", "Duration of one object's server-side apply (self-heal)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5), registry=r)
        self.drift_events = Counter("fleetline_agent_drift_events", "Drift events by action (detected, healed)",
                                    ["action"], registry=r)
        self.self_heals = Counter("fleetline_agent_self_heals", "Objects re-applied by self-heal", registry=r)
        self.sync_loops = Counter("fleetline_agent_sync_loops", "Sync loops detected (a field given up)", registry=r)
        self.watch_restarts = Gauge("fleetline_agent_watch_restarts", "Watch restarts (re-watch or re-list) since "
                                    "the agent started", registry=r)
        self.managed_objects = Gauge("fleetline_agent_managed_objects", "Objects in the desired state of all "
                                     "applications", registry=r)
