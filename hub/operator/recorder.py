"""What the hub hears, told to those who keep it: the audit log and store, the metrics, the notifications and
the API's live stream.

The `Recorder` follows the session layer (every event once, every status report, sessions opening and closing)
and the pipeline's listeners (revisions seen, desired states pushed, approvals, rollout changes, rollbacks,
promotions) and turns each into: store records (events de-duplicated on (cluster, sequence), sync history), an
audit entry where the audit log keeps that kind, metric updates, notifications, and an item on the API's
stream. It never blocks the session layer: appends are queued to the store's writer thread, notifications to
the notifier's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from google.protobuf.json_format import MessageToDict

from fleetline.wire import fleet_pb2
from hub.fleet.model import Fleet
from hub.metrics import FleetMetrics
from hub.notify import Notifier
from hub.pipeline import Pipeline
from hub.sessions.service import SessionHub
from hub.sessions.subscriptions import SubscriptionOverflow
from hub.store import AsyncStore, AuditDraft
from hub.store import kinds as audit
from hub.store.events import audit_draft, event_record, sync_record
from hub.store.timefmt import rfc3339

log = logging.getLogger(__name__)


class Broadcast:
    """Fan-out of (kind, data) items to the API's stream subscribers (bounded: a slow one loses items, never the
    hub its pace)."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._queues: set[asyncio.Queue[tuple[str, dict]]] = set()

    @property
    def subscribers(self) -> int:
        """How many streams are subscribed now."""
        return len(self._queues)

    def publish(self, kind: str, data: dict) -> None:
        for queue in list(self._queues):
            if queue.qsize() >= self.capacity:
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait((kind, data))

    async def subscribe(self) -> AsyncIterator[tuple[str, dict]]:
        queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)


class Recorder:
    """See the module docstring."""

    def __init__(self, sessions: SessionHub, pipeline: Pipeline, store: AsyncStore, metrics: FleetMetrics,
                 notifier: Notifier | None = None, broadcast: Broadcast | None = None) -> None:
        self.sessions = sessions
        self.pipeline = pipeline
        self.store = store
        self.metrics = metrics
        self.notifier = notifier
        self.broadcast = broadcast if broadcast is not None else Broadcast()
        self._connected: dict[str, str] = {}  # cluster -> session id
        self._tasks: list[asyncio.Task[None]] = []

    def fleet(self) -> Fleet | None:
        fleets = [env.fleet for env in self.pipeline.environments.values() if env.fleet is not None]
        return fleets[0] if fleets else None

    def place(self, cluster: str) -> tuple[str, str]:
        """The cluster's (region, environment) by fleet.yaml ("" when unknown)."""
        return self.pipeline.place(cluster)

    async def start(self) -> None:
        self.pipeline.listeners.append(self._pipeline_changed)
        self._tasks = [asyncio.create_task(self._follow_events()), asyncio.create_task(self._follow_status()),
                       asyncio.create_task(self._follow_sessions())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(ValueError):
            self.pipeline.listeners.remove(self._pipeline_changed)

    # ---- the session layer ----------------------------------------------------------------------------------

    async def _follow_events(self) -> None:
        while True:
            subscription = self.sessions.subscribe_events()
            try:
                async for cluster, event in subscription:
                    await self._event(cluster, event)
            except SubscriptionOverflow:
                log.warning("event=recorder_fell_behind stream=events action=resubscribed")

    async def _event(self, cluster: str, event: fleet_pb2.Event) -> None:
        region, environment = self.place(cluster)
        record = event_record(cluster, event)
        try:
            await self.store.add_events([record])
            draft = audit_draft(record, region, environment)
            if draft is not None:
                self.store.append_nowait(draft)
            sync = sync_record(record)
            if sync is not None:
                await self.store.record_sync(sync)
        except Exception:  # the store must not stop the hub hearing its agents
            log.exception("event=recorder_store_failed cluster=%s sequence=%d", cluster, event.sequence)
        self.metrics.event(cluster, event.application, event)
        if self.notifier is not None:
            self.notifier.event(cluster, region, environment, event)
        # the agent's details first: what the hub knows itself (cluster, region, type...) is never overwritten by
        # them, since the stream's scope filter and its readers trust those fields
        self.broadcast.publish("event", {**record.details, "cluster": cluster, "region": region,
                                         "environment": environment, "application": event.application,
                                         "type": fleet_pb2.EventType.Name(event.type), "message": event.message,
                                         "revision": event.revision, "sequence": event.sequence})

    async def _follow_status(self) -> None:
        while True:
            subscription = self.sessions.subscribe_status()
            try:
                async for cluster, report in subscription:
                    self._status(cluster, report)
            except SubscriptionOverflow:
                log.warning("event=recorder_fell_behind stream=status action=resubscribed")

    def _status(self, cluster: str, report: fleet_pb2.StatusReport) -> None:
        region, environment = self.place(cluster)
        fleet = self.fleet()
        autosync: dict[str, bool] = {}
        for app in report.applications:
            with contextlib.suppress(KeyError):
                if fleet is not None:
                    autosync[app.name] = fleet.automated_sync(fleet.application(app.name, cluster), cluster)
        self.metrics.status(cluster, region, report, autosync)
        self.broadcast.publish("status", {"cluster": cluster, "region": region, "environment": environment,
                                          "generation": report.generation,
                                          "applications": [_app(a) for a in report.applications]})

    async def _follow_sessions(self) -> None:
        """Sessions opening and closing (the registry, checked every half second): audit, metrics, alerts, and a
        `session` item on the API's stream ({cluster, region, environment, connected, ...})."""
        started = False
        while True:
            now = {info.cluster: info for info in self.sessions.registry()}
            fleet = self.fleet()
            if fleet is not None and not started:
                started = True
                for cluster in fleet.clusters:
                    if cluster.name not in now:
                        self.metrics.cluster_connected(cluster.name, cluster.region, False)
                        if self.notifier is not None:
                            self.notifier.agent_disconnected(cluster.name, region=cluster.region,
                                                             environment=cluster.environment)
            for cluster, info in now.items():
                if self._connected.get(cluster) != info.session_id:
                    self._connected[cluster] = info.session_id
                    region, environment = self.place(cluster)
                    self.metrics.cluster_connected(cluster, region, True)
                    if self.notifier is not None:
                        self.notifier.agent_connected(cluster)
                    self.store.append_nowait(AuditDraft(
                        audit.AGENT_CONNECTED, region=region, environment=environment, cluster=cluster,
                        data={"peer": info.peer, "agent_version": info.agent_version, "session": info.session_id}))
                    self.broadcast.publish("session", {
                        "cluster": cluster, "region": region, "environment": environment, "connected": True,
                        "session_id": info.session_id, "peer": info.peer, "agent_version": info.agent_version,
                        "at": _now()})
            for cluster in [c for c in self._connected if c not in now]:
                del self._connected[cluster]
                region, environment = self.place(cluster)
                self.metrics.cluster_connected(cluster, region, False)
                if self.notifier is not None:
                    self.notifier.agent_disconnected(cluster, region=region, environment=environment)
                self.store.append_nowait(AuditDraft(audit.AGENT_DISCONNECTED, region=region,
                                                    environment=environment, cluster=cluster,
                                                    data={"reason": "session closed"}))
                self.broadcast.publish("session", {"cluster": cluster, "region": region, "environment": environment,
                                                   "connected": False, "reason": "session closed", "at": _now()})
            await asyncio.sleep(0.5)  # a poll of the in-memory registry (the session layer has no hook)

    # ---- the pipeline ---------------------------------------------------------------------------------------

    def fetched(self, result: str, seconds: float) -> None:
        """The Git source fetched (the watcher's hook): Argo CD-named Git metrics."""
        self.metrics.git_request("fetch", result)
        self.metrics.git_fetch(seconds)

    def _pipeline_changed(self, kind: str, data: dict) -> None:
        draft: AuditDraft | None = None
        if kind == "rendered":
            self.metrics.render(float(data.get("seconds", 0.0)))
            return
        if kind == "revision":
            draft = audit.revision_seen(data["environment"], data["revision"], author=data.get("author", ""),
                                        committer=data.get("committer", ""),
                                        signature_state=data.get("signature", ""), ref=data.get("ref", ""),
                                        subject=data.get("subject", ""))
            committed = data.get("committed_at")
            if isinstance(committed, int | float):
                self.metrics.revision(data["environment"], float(committed))
        elif kind == "pushed":
            draft = audit.desired_state_pushed(data["cluster"], region=data["region"],
                                               environment=data["environment"], revision=data["revision"],
                                               generation=data["generation"], content_hash=data["content_hash"],
                                               applications=data["applications"])
        elif kind == "approval":
            draft = audit.approval(data["environment"], data["application"], data["revision"], data["approver"],
                                   required=data["required"], approvals=data["approvals"], region=data["region"])
        elif kind == "rollout":
            halted = data.get("phase") == "Halted"
            draft = AuditDraft(audit.ROLLOUT_HALTED if halted else audit.ROLLOUT_STEP,
                               environment=data["environment"], application=data["application"],
                               revision=data["revision"], data={"step": data.get("step"),
                                                                "phase": data.get("phase"),
                                                                "clusters": data.get("released", []),
                                                                "reason": data.get("halted_reason", "")})
            self.metrics.rollout_step(data["application"], int(data.get("step") or 0),
                                      environment=data["environment"], halted=halted)
            if halted and self.notifier is not None:
                self.notifier.rollout_halted(data["environment"], data["application"], data["revision"],
                                             data.get("halted_reason", ""), at=datetime.now(UTC).timestamp())
        elif kind in ("rollback", "promotion"):
            draft = AuditDraft(audit.ROLLBACK if kind == "rollback" else audit.PROMOTION,
                               environment=data.get("environment", ""), application=data.get("application", ""),
                               revision=data.get("commit", ""), actor=data.get("actor", ""), data=data)
        elif kind == "approval_required" and self.notifier is not None:
            self.notifier.approval_required(data["environment"], data["application"], data["revision"],
                                            at=datetime.now(UTC).timestamp(), required=data.get("required", 1),
                                            approvers=data.get("approvers", []), clusters=data.get("clusters", []),
                                            regions=data.get("regions", []))
        if draft is not None:
            self.store.append_nowait(draft)
        self.broadcast.publish("pipeline", {"kind": kind, **data})

    async def refused(self, actor: str | None, method: str, path: str, status: int, reason: str,
                      cluster: str = "") -> None:
        region, environment = self.place(cluster) if cluster else ("", "")
        await self.store.append(AuditDraft(audit.API_REFUSED, region=region, environment=environment, cluster=cluster,
                                           actor=actor or "anonymous",
                                           data={"method": method, "path": path, "status": status,
                                                 "reason": reason}))


def _now() -> str:
    return rfc3339(datetime.now(UTC))


def _app(status: fleet_pb2.ApplicationStatus) -> dict:
    return MessageToDict(status, preserving_proto_field_name=True)
