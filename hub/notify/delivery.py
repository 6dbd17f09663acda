"""The `Notifier`: what the hub calls when something happens, and the delivery of what it calls for.

The hub's side is synchronous and never waits: `event`, `rollout_halted`, `approval_required`,
`agent_disconnected`, `agent_connected` and `notify` turn their input into a notification (`hub.notify.triggers`),
find the sinks its subscriptions name, and append it to a bounded intake queue. Everything else runs in the
notifier's own tasks:

- the intake renders one body per sink and records the deliveries in the notifier's SQLite file
  (`hub.notify.outbox`), whose uniqueness per (once-per key, sink) drops a repeat, also after a restart;
- one worker per sink sends its queue in order, one request at a time, retrying a failed attempt with
  exponential backoff and jitter (or the sink's Retry-After) until the delivery is `max_age` old, then giving up
  (counted as expired); a rejection (4xx) is not retried. A sink that is down delays only its own queue;
- a queue holding `max_queue` notifications drops its oldest on overflow, with a warning and a metric;
- a ticker fires on-agent-disconnected once an agent has been away for the grace period, and prunes old
  de-duplication records.

Delivery is at least once to each sink (a crash between the sink's answer and the record of it sends again
after the restart, with the same `X-Fleetline-Delivery` id) and once per key otherwise.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import json
import logging
import random
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp

from fleetline.wire import fleet_pb2
from hub.notify import triggers
from hub.notify.config import NotificationsConfig
from hub.notify.metrics import NotifyMetrics
from hub.notify.outbox import DROPPED, EXPIRED, REJECTED, SENT, Delivery, DeliveryStore
from hub.notify.sinks import RETRY, post, render_body
from hub.notify.triggers import DisconnectTracker, Notification

log = logging.getLogger(__name__)
T = TypeVar("T")

_BATCH = 500  # notifications recorded per transaction
_PRUNE_EVERY = 3600.0  # seconds between prunes of old de-duplication records
_RECENT_KEYS = 10_000  # keys remembered in memory, so that a repeat costs no write (the file has them all)


@dataclass
class _SinkQueue:
    waiting: collections.deque[Delivery] = field(default_factory=collections.deque)
    current: Delivery | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def depth(self) -> int:
        return len(self.waiting) + (self.current is not None)


class Notifier:
    """See the module docstring. `clock` gives unix seconds (ages, the disconnection grace); `tick` is how
    often disconnections are checked. Call it from the event loop's thread (it is not thread-safe)."""

    def __init__(self, config: NotificationsConfig, data_dir: str | Path, *, metrics: NotifyMetrics | None = None,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None, tick: float = 1.0) -> None:
        self.config = config
        self.metrics = metrics if metrics is not None else NotifyMetrics()
        self.clock = clock
        self.tick = tick
        self._rng = rng if rng is not None else random.Random()
        self._data_dir = Path(data_dir)
        self._store: DeliveryStore | None = None
        self._db_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify-store")
        self._incoming: collections.deque[tuple[Notification, list[str], float]] = collections.deque()
        self._recent: collections.OrderedDict[tuple[str, ...], None] = collections.OrderedDict()
        self._intake_wake = asyncio.Event()
        self._intake_busy = False
        self._queues = {name: _SinkQueue() for name in config.sinks}
        for name, queue in self._queues.items():
            self.metrics.queue_depth.labels(name).set_function(queue.depth)
        self._wanted = {t for s in config.subscriptions for t in s.triggers}
        self._disconnects = DisconnectTracker(config.disconnect_grace)
        self._http: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ---- what the hub calls (synchronous, never waits) -------------------------------------------------------

    def notify(self, notification: Notification) -> list[str]:
        """Queue `notification` for the sinks its subscriptions name; returns their names ([] for none, or for a
        key this process has queued recently: a caller may report the same state again and again)."""
        sinks = self.config.sinks_for(notification)
        if not sinks:
            return []
        key = notification.key
        if key in self._recent:
            self._recent.move_to_end(key)
            for name in sinks:
                self.metrics.count(notification.trigger, name, "duplicate")
            return []
        self._recent[key] = None
        if len(self._recent) > _RECENT_KEYS:
            self._recent.popitem(last=False)
        if len(self._incoming) >= self.config.delivery.max_queue:
            dropped, names, _ = self._incoming.popleft()
            for name in names:
                self.metrics.count(dropped.trigger, name, DROPPED)
            log.warning("event=notification_dropped trigger=%s app=%s cluster=%s reason=intake_queue_full limit=%d",
                        dropped.trigger, dropped.application, dropped.cluster, self.config.delivery.max_queue)
        self._incoming.append((notification, sinks, self.clock()))
        self._intake_wake.set()
        return sinks

    def event(self, cluster: str, region: str, environment: str, event: fleet_pb2.Event) -> Notification | None:
        """An agent event (as `SessionHub.subscribe_events` yields it); returns the notification it made."""
        if triggers.EVENT_TRIGGERS.get(event.type) not in self._wanted:
            return None  # nobody subscribes: do not even parse its details
        notification = triggers.from_event(cluster, region, environment, event)
        if notification is not None:
            self.notify(notification)
        return notification

    def rollout_halted(self, environment: str, application: str, revision: str, reason: str, *,
                       regions: tuple[str, ...] = (), failed: dict[str, str] | None = None, step: str = "",
                       previous_revision: str = "", at: float | None = None) -> Notification:
        """A rollout halted (see `triggers.rollout_halted`)."""
        notification = triggers.rollout_halted(environment, application, revision, reason,
                                               at=self.clock() if at is None else at, regions=regions, failed=failed,
                                               step=step, previous_revision=previous_revision)
        self.notify(notification)
        return notification

    def approval_required(self, environment: str, application: str, revision: str, *, required: int = 1,
                          approvers: tuple[str, ...] = (), clusters: tuple[str, ...] = (),
                          regions: tuple[str, ...] = (), at: float | None = None) -> Notification:
        """A revision waits for approval (see `triggers.approval_required`)."""
        notification = triggers.approval_required(environment, application, revision,
                                                  at=self.clock() if at is None else at, required=required,
                                                  approvers=approvers, clusters=clusters, regions=regions)
        self.notify(notification)
        return notification

    def agent_disconnected(self, cluster: str, at: float | None = None, *, region: str = "",
                           environment: str = "") -> None:
        """The cluster's session ended (at `at`, unix seconds; now by default). on-agent-disconnected fires if
        no `agent_connected` comes within the grace period."""
        self._disconnects.disconnected(cluster, self.clock() if at is None else at, region, environment)

    def agent_connected(self, cluster: str) -> None:
        """The cluster has a session (again)."""
        self._disconnects.connected(cluster)

    def check_disconnects(self, now: float | None = None) -> list[Notification]:
        """Fire on-agent-disconnected for agents away longer than the grace (the ticker calls this)."""
        due = self._disconnects.due(self.clock() if now is None else now)
        for notification in due:
            self.notify(notification)
        return due

    # ---- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the record, queue what a previous run left pending, and start the intake, workers and ticker."""
        self._store = await self._db(DeliveryStore, self._data_dir)
        now = self.clock()
        pruned = await self._db(self._store.prune, now - self.config.delivery.retention)
        resumed = 0
        for delivery in await self._db(self._store.pending):
            if delivery.sink in self._queues:
                self._enqueue(delivery)
                resumed += 1
            else:
                log.warning("event=notification_dropped sink=%s trigger=%s id=%s reason=sink_no_longer_configured",
                            delivery.sink, delivery.trigger, delivery.id)
                self._finish(delivery, DROPPED)
        log.info("event=notifier_started sinks=%d subscriptions=%d resumed=%d pruned=%d", len(self._queues),
                 len(self.config.subscriptions), resumed, pruned)
        self._http = aiohttp.ClientSession()
        self._tasks = [asyncio.create_task(self._intake(), name="notify-intake"),
                       asyncio.create_task(self._ticker(), name="notify-ticker")]
        self._tasks += [asyncio.create_task(self._work(name), name=f"notify-{name}") for name in self._queues]

    async def stop(self) -> None:
        """Record what is still in the intake (it is sent after the next start), then stop everything."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._store is not None and self._incoming:
            with contextlib.suppress(sqlite3.Error):
                await self._record(self._take_incoming(len(self._incoming)))
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._store is not None:
            await self._db(self._store.close)
            self._store = None
        self._db_thread.shutdown(wait=True)

    async def drain(self, timeout: float) -> None:
        """Wait until nothing is queued or in flight (TimeoutError after `timeout` seconds); for tests and
        tools, the hub never needs it."""
        async with asyncio.timeout(timeout):
            while self._incoming or self._intake_busy or any(q.depth() for q in self._queues.values()):
                await asyncio.sleep(0.01)

    def depth(self) -> int:
        """Notifications queued or in flight, over every sink (plus the intake)."""
        return len(self._incoming) + sum(q.depth() for q in self._queues.values())

    # ---- intake ----------------------------------------------------------------------------------------------

    async def _db(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, function, *args)

    def _take_incoming(self, count: int) -> list[tuple[Notification, list[str], float]]:
        return [self._incoming.popleft() for _ in range(min(count, len(self._incoming)))]

    async def _intake(self) -> None:
        while True:
            await self._intake_wake.wait()
            self._intake_wake.clear()
            while self._incoming:
                batch = self._take_incoming(_BATCH)
                self._intake_busy = True
                try:
                    for delivery in await self._record(batch):
                        self._enqueue(delivery)
                except Exception:  # the notifier must outlive a bug in one batch
                    log.exception("event=notification_intake_failed notifications=%d", len(batch))
                finally:
                    self._intake_busy = False

    async def _record(self, batch: list[tuple[Notification, list[str], float]]) -> list[Delivery]:
        """Render and record a batch; returns the deliveries to send (the duplicates are counted and dropped)."""
        deliveries = []
        for notification, sinks, at in batch:
            key = json.dumps(notification.key)
            template = self.config.templates[notification.trigger]
            for name in sinks:
                delivery_id = uuid.uuid4().hex
                body = render_body(self.config.sinks[name], notification, template, self.config.link, delivery_id)
                deliveries.append(Delivery(delivery_id, name, notification.trigger, key, at, body))
        assert self._store is not None
        try:
            added = await self._db(self._store.add, deliveries)
        except sqlite3.Error as exc:  # a full disk: send anyway (at least once), without de-duplication
            log.error("event=notify_store_failed error=%r action=sending_without_record", str(exc))
            return deliveries
        new = {delivery.id for delivery in added}
        for delivery in deliveries:
            if delivery.id not in new:
                self.metrics.count(delivery.trigger, delivery.sink, "duplicate")
                log.debug("event=notification_duplicate sink=%s key=%s", delivery.sink, delivery.key)
        return added

    def _enqueue(self, delivery: Delivery) -> None:
        queue = self._queues[delivery.sink]
        if len(queue.waiting) >= self.config.delivery.max_queue:
            oldest = queue.waiting.popleft()
            log.warning("event=notification_dropped sink=%s trigger=%s id=%s reason=queue_full limit=%d",
                        oldest.sink, oldest.trigger, oldest.id, self.config.delivery.max_queue)
            self._finish(oldest, DROPPED)
        queue.waiting.append(delivery)
        queue.wake.set()

    def _finish(self, delivery: Delivery, state: str) -> None:
        """Count the final state and record it (off the loop, not awaited)."""
        self.metrics.count(delivery.trigger, delivery.sink, state)
        if self._store is not None:
            future = asyncio.get_running_loop().run_in_executor(self._db_thread, self._store.finish, delivery.id,
                                                                state, self.clock())
            future.add_done_callback(_log_failure)

    # ---- delivery --------------------------------------------------------------------------------------------

    async def _work(self, name: str) -> None:
        queue = self._queues[name]
        while True:
            if not queue.waiting:
                queue.wake.clear()
                await queue.wake.wait()
                continue
            queue.current = queue.waiting.popleft()
            try:
                await self._deliver(queue.current)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the sink: the delivery stays pending until the next start
                log.exception("event=notification_delivery_failed sink=%s id=%s", name, queue.current.id)
            finally:
                queue.current = None

    async def _deliver(self, delivery: Delivery) -> None:
        settings = self.config.delivery
        sink = self.config.sinks[delivery.sink]
        backoff = settings.initial_backoff
        while True:
            age = self.clock() - delivery.created_at
            if age >= settings.max_age:
                log.warning("event=notification_expired sink=%s trigger=%s id=%s attempts=%d age_s=%.0f",
                            sink.name, delivery.trigger, delivery.id, delivery.attempts, age)
                self._finish(delivery, EXPIRED)
                return
            assert self._http is not None
            delivery.attempts += 1
            outcome = await post(self._http, sink, delivery.body, delivery.id, settings.timeout)
            if outcome.result == SENT:
                log.info("event=notification_sent sink=%s trigger=%s id=%s attempts=%d", sink.name, delivery.trigger,
                         delivery.id, delivery.attempts)
                self._finish(delivery, SENT)
                return
            if outcome.result != RETRY:
                log.error("event=notification_rejected sink=%s trigger=%s id=%s reason=%r", sink.name,
                          delivery.trigger, delivery.id, outcome.reason)
                self._finish(delivery, REJECTED)
                return
            self.metrics.retries.labels(sink.name).inc()
            wait = outcome.retry_after if outcome.retry_after is not None else backoff * self._rng.uniform(0.5, 1.0)
            wait = min(wait, settings.max_backoff, max(0.0, settings.max_age - age))
            backoff = min(backoff * 2, settings.max_backoff)
            log.warning("event=notification_retry sink=%s trigger=%s id=%s attempt=%d reason=%r retry_in_s=%.2f",
                        sink.name, delivery.trigger, delivery.id, delivery.attempts, outcome.reason, wait)
            await asyncio.sleep(wait)

    async def _ticker(self) -> None:
        last_prune = self.clock()
        while True:
            await asyncio.sleep(self.tick)
            self.check_disconnects()
            now = self.clock()
            if now - last_prune >= _PRUNE_EVERY and self._store is not None:
                last_prune = now
                try:
                    await self._db(self._store.prune, now - self.config.delivery.retention)
                except sqlite3.Error as exc:
                    log.error("event=notify_store_failed operation=prune error=%r", str(exc))


def _log_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("event=notify_store_failed operation=finish error=%r", str(future.exception()))
