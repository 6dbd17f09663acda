"""The agent's reconciler: every application of the cluster's desired state, and what goes back to the hub.

`Reconciler.apply_desired_state(state)` is the session's desired-state callback: it starts a controller for
each new application, updates the others, and for an application that left the desired state stops its
controller (its objects stay: removing an application is not a prune of the cluster). `sync_request(request)`
is the session's SyncRequest callback. Events go out through `emit` (the session's durable outbox); status
goes out through `report_status` as one StatusReport of every application, at most every `status_interval`
seconds and only when something changed (latest wins). One Pod watch serves every application's health.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from agent.cluster import ClusterAccess
from agent.drift import PodCache
from agent.reconcile.app import AppController, Settings
from agent.reconcile.livehealth import LiveHealth
from agent.reconcile.marks import SyncMarks
from agent.reconcile.metrics import ReconcileMetrics
from fleetline.wire import fleet_pb2

log = logging.getLogger(__name__)


class Reconciler:
    """See the module docstring."""

    def __init__(self, access: ClusterAccess, emit: Callable[[fleet_pb2.Event], object],
                 report_status: Callable[[fleet_pb2.StatusReport], None], *, state_dir: str | Path | None = None,
                 settings: Settings | None = None, registry: CollectorRegistry | None = None,
                 status_interval: float = 0.25, resync_interval: float = 600.0,
                 unsettled_refresh: float = 5.0) -> None:
        self.access = access
        self.emit = emit
        self.report_status = report_status
        self.settings = settings or Settings()
        self.metrics = ReconcileMetrics(registry)
        self.marks = SyncMarks(state_dir)
        self.status_interval = status_interval
        self.resync_interval = resync_interval
        self.unsettled_refresh = unsettled_refresh
        self._health: dict[str, str] = {}  # application -> last reported health
        self._applied_generation = 0  # the last generation DESIRED_STATE_APPLIED was sent for
        self.apps: dict[str, AppController] = {}
        self.generation = 0
        self.pods = PodCache(access, on_change=self._on_pod_change)
        self.live_health = LiveHealth(self.pods, self.settings.gpu_grace_seconds)
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self.pods.start()
        self._tasks = [asyncio.create_task(self._status_loop()), asyncio.create_task(self._resync_loop())]

    async def apply_desired_state(self, state: fleet_pb2.DesiredState) -> None:
        async with self._lock:
            self.generation = state.generation
            names = {bundle.name for bundle in state.applications}
            for name in sorted(set(self.apps) - names):
                log.info("event=application_removed app=%s action=controller stopped, objects kept", name)
                await self.apps.pop(name).close()
            for bundle in state.applications:
                app = self.apps.get(bundle.name)
                if app is None:
                    app = self.apps[bundle.name] = AppController(
                        bundle.name, self.access, self.live_health, self.marks, self._emit, self._changed,
                        self.metrics, self.settings)
                await app.update(bundle, state.generation, state.revision)
            self.metrics.managed_objects.set(sum(len(a.desired.objects) for a in self.apps.values() if a.desired))
            log.info("event=desired_state_applied generation=%d revision=%s applications=%d", state.generation,
                     state.revision, len(state.applications))
        self._changed()

    async def sync_request(self, request: fleet_pb2.SyncRequest) -> None:
        app = self.apps.get(request.application)
        if app is None:
            self._emit(fleet_pb2.Event(type=fleet_pb2.SYNC_FAILED, application=request.application,
                                       message=f"sync request for unknown application {request.application}",
                                       details_json=json.dumps({"request_id": request.request_id})))
            return
        await app.sync_request(request)

    def _emit(self, event: fleet_pb2.Event) -> None:
        self.emit(event)

    def _changed(self) -> None:
        self._dirty.set()

    def _on_pod_change(self, event_type: str, pod: dict) -> None:
        namespace = (pod.get("metadata") or {}).get("namespace") or ""
        for app in self.apps.values():
            if namespace in app.namespaces:
                app.status_dirty = True
                self._dirty.set()

    def status(self) -> fleet_pb2.StatusReport:
        report = fleet_pb2.StatusReport(generation=self.generation, observed_at_ms=int(time.time() * 1000))
        for name in sorted(self.apps):
            report.applications.append(self.apps[name].status())
        return report

    async def _status_loop(self) -> None:
        """Report when something changed, at most once per `status_interval`; while an application is not
        Synced and Healthy, also every `unsettled_refresh` seconds, because health can change with time alone
        (a pod waiting for GPUs past its grace period becomes Degraded without any object changing)."""
        unsettled = False
        while True:
            if unsettled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._dirty.wait(), self.unsettled_refresh)
                for app in self.apps.values():  # their health may change with time alone
                    status = app.status()
                    if (status.sync_status, status.health) != ("Synced", "Healthy"):
                        app.status_dirty = True
            else:
                await self._dirty.wait()
            self._dirty.clear()
            try:
                report = self.status()
                self.report_status(report)
                self._health_events(report)
                self._applied_event()
                unsettled = any((a.sync_status, a.health) != ("Synced", "Healthy") for a in report.applications)
            except Exception:  # a status bug must not stop reporting for good
                log.exception("event=status_failed")
            self.metrics.watch_restarts.set(self.pods.restarts + sum(a.inventory.restarts for a in self.apps.values()))
            await asyncio.sleep(self.status_interval)  # at most one report per interval (latest wins)

    def _applied_event(self) -> None:
        """DESIRED_STATE_APPLIED once per generation, when every application of it has synced it and this
        process synced at least one of them (a restarted agent that finds everything in place sends none)."""
        if self.generation <= self._applied_generation or not self.apps:
            return
        apps = self.apps.values()
        if all(app.is_synced() and app.generation == self.generation for app in apps) and any(
                app.synced_generation == self.generation for app in apps):
            self._applied_generation = self.generation
            self._emit(fleet_pb2.Event(
                type=fleet_pb2.DESIRED_STATE_APPLIED, generation=self.generation,
                message=f"generation {self.generation}: all {len(self.apps)} application(s) synced",
                details_json=json.dumps({"applications": sorted(self.apps)})))

    def _health_events(self, report: fleet_pb2.StatusReport) -> None:
        """HEALTH_CHANGED when an application's health differs from the last report's (status-class events)."""
        for app in report.applications:
            before = self._health.get(app.name)
            if before == app.health:
                continue
            self._health[app.name] = app.health
            if before is None:
                continue  # the first report sets the baseline
            self._emit(fleet_pb2.Event(
                type=fleet_pb2.HEALTH_CHANGED, application=app.name, revision=app.revision,
                generation=report.generation,
                message=f"{app.name} is {app.health}" + (f" (was {before})" if before else "")
                        + (f": {app.message}" if app.message and app.health != "Healthy" else ""),
                details_json=json.dumps({"health": app.health, "previous": before or "", "message": app.message})))

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_interval)  # the periodic full resync
            await self.resync()

    async def resync(self) -> None:
        """The safety net behind the watches: list every application's objects again and diff them all."""
        for app in list(self.apps.values()):
            for problem in await app.inventory.refresh():
                log.warning("event=resync_list_failed app=%s problem=%r", app.name, problem)
            app.full_check()
        log.info("event=resync_done applications=%d", len(self.apps))
        self._changed()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for app in self.apps.values():
            await app.close()
        await self.pods.close()
