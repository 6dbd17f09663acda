"""The agent as one object: the hub session, the cluster access and the reconciler, wired together.

`Agent.run()` starts the session at once (so the hub sees the cluster and the cached desired state is handed
over before any dial) and connects to the Kubernetes API beside it, retrying with backoff while the API server
is unreachable; desired states wait for the cluster, then go to the reconciler (latest wins, as the session
hands them over). A sync request waits (30 s at most) for the reconciler to hold the revision it names:
the hub sends a release's desired state and, when it is already approved, its sync request right after, and the
two may arrive in either order. Events go into the session's durable outbox, status reports to the session
(latest wins). Both share one Prometheus registry, which `fleetline agent --metrics-port` serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from pathlib import Path

from prometheus_client import CollectorRegistry

from agent.cluster import ClusterAccess, ClusterError
from agent.reconcile import Reconciler, Settings
from agent.session.client import AgentSession, Credentials
from fleetline import protocol
from fleetline.wire import fleet_pb2

log = logging.getLogger(__name__)

SYNC_REQUEST_GRACE = 30.0  # seconds a sync request waits for the desired state it names (a loaded agent is slow)


class Agent:
    """See the module docstring."""

    def __init__(self, access: ClusterAccess, hub_address: str, cluster: str, region: str,
                 cache_dir: str | os.PathLike[str], credentials: Credentials = None, *, insecure: bool = False,
                 settings: Settings | None = None, outbox_capacity: int = 10_000,
                 status_interval: float = 0.25, resync_interval: float = 600.0, unsettled_refresh: float = 5.0,
                 registry: CollectorRegistry | None = None, sync_request_grace: float = SYNC_REQUEST_GRACE,
                 **session_options: object) -> None:
        self.access = access
        self.sync_request_grace = sync_request_grace
        self.registry = registry if registry is not None else CollectorRegistry()
        self.reconciler = Reconciler(access, self._emit, self._report, state_dir=Path(cache_dir),
                                     settings=settings, registry=self.registry, status_interval=status_interval,
                                     resync_interval=resync_interval, unsettled_refresh=unsettled_refresh)
        self.session = AgentSession(hub_address, cluster, region, cache_dir, credentials, insecure=insecure,
                                    on_desired_state=self._desired_state,
                                    on_sync_request=self._sync_request,
                                    outbox_capacity=outbox_capacity, registry=self.registry,
                                    **session_options)  # type: ignore[arg-type]
        self.cluster_ready = asyncio.Event()
        self._applied = asyncio.Condition()
        self._requests: set[asyncio.Task[None]] = set()

    def _emit(self, event: fleet_pb2.Event) -> None:
        self.session.emit(event)

    def _report(self, status: fleet_pb2.StatusReport) -> None:
        self.session.report_status(status)

    async def _desired_state(self, state: fleet_pb2.DesiredState) -> None:
        await self.cluster_ready.wait()
        try:
            await self.reconciler.apply_desired_state(state)
        finally:
            async with self._applied:
                self._applied.notify_all()

    def _holds(self, request: fleet_pb2.SyncRequest) -> bool:
        """Whether the reconciler holds the application at the revision `request` names."""
        app = self.reconciler.apps.get(request.application)
        desired = app.desired if app is not None else None
        return desired is not None and (not request.revision or desired.revision == request.revision)

    async def _sync_request(self, request: fleet_pb2.SyncRequest) -> None:
        """Hand `request` to the reconciler once it holds the application at the request's revision, or
        `sync_request_grace` seconds after the cluster is reachable (the reconciler then refuses it, saying why);
        the session's reader is not held up meanwhile. The hub sends a release's desired state and its sync
        request one right after the other, and either may arrive first."""
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            await self.cluster_ready.wait()
            deadline = loop.time() + self.sync_request_grace
            async with self._applied:
                while not self._holds(request) and (remaining := deadline - loop.time()) > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._applied.wait(), remaining)
            await self.reconciler.sync_request(request)

        task = asyncio.create_task(deliver())
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def _connect_cluster(self) -> None:
        attempt = 0
        while True:
            try:
                await self.access.start()
                await self.reconciler.start()
            except (ClusterError, OSError) as exc:
                delay = protocol.full_jitter_delay(attempt, 1.0, 30.0, random.Random())
                log.warning("event=cluster_unreachable error=%r retry_in_s=%.1f", str(exc), delay)
                attempt += 1
                await asyncio.sleep(delay)  # full-jitter backoff while the API server is unreachable
                continue
            self.cluster_ready.set()
            log.info("event=cluster_connected")
            return

    async def run(self) -> None:
        """Until `stop()` (or a refusal from the hub, raised as SessionRefused)."""
        connecting = asyncio.create_task(self._connect_cluster())
        try:
            await self.session.run()
        finally:
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
            waiting = list(self._requests)
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)  # ended before the reconciler closes
            await self.reconciler.close()
            await self.access.close()

    def stop(self) -> None:
        self.session.stop()
