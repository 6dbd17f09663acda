"""`FleetMetrics`: the fleet as Prometheus sees it, on a registry the object owns (or is given), never the global one.

Every metric is documented in docs/metrics.md with the Argo CD metric it stands for. Call the methods from one
thread (the hub's event loop): the bookkeeping that replaces stale series is not locked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from fleetline.wire import fleet_pb2
from hub.metrics.events import sync_outcome

UNKNOWN = "Unknown"
DETECTED, HEALED = "detected", "healed"
# Argo CD's argocd_app_reconcile buckets (0.25 s to 16 s), then longer ones: a sync with waves and hooks waits for
# health between waves and can take minutes.
SYNC_BUCKETS = (0.25, 0.5, 1, 2, 4, 8, 16, 30, 60, 120, 300, 900)
GIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
RENDER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class FleetMetrics:
    """Applications, syncs, drift, connections, Git, rendering, revisions and rollouts across the fleet.

    `clock` (unix seconds) is read at scrape time for the revision age."""

    def __init__(self, registry: CollectorRegistry | None = None, clock: Callable[[], float] = time.time) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.clock = clock
        r = self.registry
        self.app_info = Gauge(
            "fleetline_app_info", "One series (value 1) per application on a cluster, labelled with its sync and "
            "health status and whether it syncs automatically", ["cluster", "region", "app", "sync_status",
                                                                "health_status", "autosync"], registry=r)
        self.app_syncs = Counter("fleetline_app_sync", "Finished syncs by phase (Succeeded, Failed, Error)",
                                 ["cluster", "app", "phase"], registry=r)
        self.sync_seconds = Histogram("fleetline_app_reconcile_seconds", "Duration of sync operations on the "
                                      "clusters (apply, waves, hooks, prune), as the agents report them",
                                      buckets=SYNC_BUCKETS, registry=r)
        self.git_requests = Counter("fleetline_git_request", "Requests to the fleet repository by type (fetch, "
                                    "ls-remote, push) and result (success, failure)", ["type", "result"], registry=r)
        self.git_fetch_seconds = Histogram("fleetline_git_fetch_seconds", "Duration of fetches of the fleet "
                                           "repository", buckets=GIT_BUCKETS, registry=r)
        self.render_seconds = Histogram("fleetline_render_seconds", "Duration of rendering desired states at a "
                                        "revision", buckets=RENDER_BUCKETS, registry=r)
        self.revision_age = Gauge("fleetline_revision_age_seconds", "Seconds since the commit each environment is "
                                  "on was committed", ["environment"], registry=r)
        self.connected = Gauge("fleetline_cluster_connected", "1 while the cluster's agent has a live session, "
                               "0 otherwise", ["cluster", "region"], registry=r)
        self.drift_events = Counter("fleetline_drift_events", "Drift events by action (detected, healed)",
                                    ["cluster", "app", "action"], registry=r)
        self.sync_loops = Counter("fleetline_sync_loops", "Sync loops the agents gave up on (a field that keeps "
                                  "drifting back)", ["cluster", "app"], registry=r)
        self.rollout_steps = Gauge("fleetline_rollout_step", "The step a rollout is on, from 0 (equal to the "
                                   "number of steps once it succeeded)", ["app", "environment"], registry=r)
        self.rollouts_halted = Gauge("fleetline_rollout_halted", "1 while a rollout is halted, waiting for a "
                                     "resume or a newer revision", ["app", "environment"], registry=r)
        self._apps: dict[str, dict[str, tuple[str, ...]]] = {}  # cluster -> app -> its fleetline_app_info labels
        self._regions: dict[str, str] = {}  # cluster -> the region of its fleetline_cluster_connected series

    # ---- status and events from the agents --------------------------------------------------------------------

    def status(self, cluster: str, region: str, report: fleet_pb2.StatusReport, autosync: Mapping[str, bool]) -> None:
        """Replace `cluster`'s fleetline_app_info series with one per application of `report`: series of
        applications whose status changed, or that the report no longer has, are removed. `autosync` says which
        applications sync automatically (an application missing from it: false); an empty status is Unknown."""
        current: dict[str, tuple[str, ...]] = {}
        for app in report.applications:
            current[app.name] = (cluster, region, app.name, app.sync_status or UNKNOWN, app.health or UNKNOWN,
                                 "true" if autosync.get(app.name, False) else "false")
        for labels in current.values():  # new series first: a scrape in between sees no gap
            self.app_info.labels(*labels).set(1)
        for name, labels in self._apps.get(cluster, {}).items():
            if current.get(name) != labels:
                self.app_info.remove(*labels)
        self._apps[cluster] = current

    def event(self, cluster: str, app: str, event: fleet_pb2.Event) -> None:
        """Count one event of `cluster` about application `app` (call it once per event: the hub de-duplicates).
        Sync results count in fleetline_app_sync_total and their duration in fleetline_app_reconcile_seconds;
        drift in fleetline_drift_events_total; sync loops in fleetline_sync_loops_total. Other types are
        ignored."""
        if event.type in (fleet_pb2.SYNC_SUCCEEDED, fleet_pb2.SYNC_FAILED):
            outcome = sync_outcome(event)
            self.app_syncs.labels(cluster, app, outcome.phase).inc()
            if outcome.duration_seconds is not None:
                self.sync_seconds.observe(outcome.duration_seconds)
        elif event.type == fleet_pb2.DRIFT_DETECTED:
            self.drift_events.labels(cluster, app, DETECTED).inc()
        elif event.type == fleet_pb2.DRIFT_HEALED:
            self.drift_events.labels(cluster, app, HEALED).inc()
        elif event.type == fleet_pb2.SYNC_LOOP:
            self.sync_loops.labels(cluster, app).inc()

    def cluster_connected(self, cluster: str, region: str, connected: bool) -> None:
        """Set whether `cluster`'s agent has a live session (call it with False for every cluster of the fleet at
        start, so that an agent that never connects shows). A new region replaces the old series."""
        previous = self._regions.get(cluster)
        self.connected.labels(cluster, region).set(1 if connected else 0)
        if previous is not None and previous != region:
            self.connected.remove(cluster, previous)
        self._regions[cluster] = region

    def forget_cluster(self, cluster: str) -> None:
        """Remove `cluster`'s gauges (application info, connection) when it leaves the fleet. Its counters stay
        until the hub restarts, as counters do."""
        for labels in self._apps.pop(cluster, {}).values():
            self.app_info.remove(*labels)
        region = self._regions.pop(cluster, None)
        if region is not None:
            self.connected.remove(cluster, region)

    # ---- Git and rendering ------------------------------------------------------------------------------------

    def git_request(self, type: str, result: str) -> None:
        """Count one request to the fleet repository: `type` fetch, ls-remote or push; `result` success or
        failure."""
        self.git_requests.labels(type, result).inc()

    def git_fetch(self, seconds: float) -> None:
        """Observe the duration of one fetch of the fleet repository (negative durations count as 0)."""
        self.git_fetch_seconds.observe(max(0.0, seconds))

    def render(self, seconds: float) -> None:
        """Observe the duration of one rendering of desired states at a revision (negative: 0)."""
        self.render_seconds.observe(max(0.0, seconds))

    def revision(self, environment: str, committed_at: datetime | float) -> None:
        """`environment` is now on a commit committed at `committed_at` (an aware datetime, or unix seconds): its
        fleetline_revision_age_seconds is computed from the clock at every scrape."""
        at = _unix_seconds(committed_at)
        clock = self.clock
        self.revision_age.labels(environment).set_function(lambda: clock() - at)

    def forget_environment(self, environment: str) -> None:
        """Remove `environment`'s revision age (when it leaves fleet.yaml)."""
        self.revision_age.remove(environment)

    # ---- rollouts ---------------------------------------------------------------------------------------------

    def rollout_step(self, app: str, step: int, *, environment: str = "", halted: bool = False) -> None:
        """Set the step `app`'s rollout in `environment` is on (`RolloutState.step`: from 0, the number of steps
        once it succeeded) and whether it is halted."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"rollout step of {app!r} must be an integer >= 0 (RolloutState.step), not {step!r}")
        self.rollout_steps.labels(app, environment).set(step)
        self.rollouts_halted.labels(app, environment).set(1 if halted else 0)

    def forget_rollout(self, app: str, *, environment: str = "") -> None:
        """Remove the series of `app`'s rollout in `environment` (when the pipeline drops the rollout)."""
        for gauge in (self.rollout_steps, self.rollouts_halted):
            gauge.remove(app, environment)


def _unix_seconds(moment: datetime | float) -> float:
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"committed_at {moment.isoformat()} has no time zone; pass an aware datetime (GitPython's "
                             "committed_datetime is one) or unix seconds")
        return moment.timestamp()
    if isinstance(moment, bool) or not isinstance(moment, int | float):
        raise ValueError(f"committed_at must be an aware datetime or unix seconds, not {type(moment).__name__}")
    return float(moment)
