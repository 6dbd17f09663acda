"""The scheduler: binds each Pod without `spec.nodeName` to the node `kubesim.scheduling.choose_node` picks,
or keeps it Pending with kube-scheduler's `PodScheduled=False/Unschedulable` condition and a
`FailedScheduling` event (written again only when the message changes). Unschedulable pods wait in an
unschedulable queue and are retried when a Node changes, or a bound pod goes away or finishes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass

from fleetline.jsoncopy import clone
from kubesim.api import ClusterAPI
from kubesim.controllers.base import Controller, Key, log
from kubesim.controllers.events import record_event
from kubesim.controllers.pods import (
    NODES,
    PODS,
    TERMINAL,
    condition,
    set_condition,
)
from kubesim.errors import ApiError
from kubesim.scheduling import choose_node
from kubesim.store import WatchEvent

# kube-scheduler's per-pod back-off (podInitialBackoffSeconds, podMaxBackoffSeconds), in simulated seconds.
SCHEDULE_BACKOFF_START, SCHEDULE_BACKOFF_CAP = 1.0, 10.0
SCHEDULE_BATCH = 50  # scheduling attempts per pass before the scheduler yields to the event loop
# The key of the scheduler's queue: reconciling it tries the pods that arrived or that a cluster change moved.
SCHEDULING_QUEUE: Key = (("kubesim.fleetline.io", "scheduling-queue"), "", "")


@dataclass
class Waiting:
    """An unschedulable pod in the scheduler's unschedulable queue."""

    attempts: int = 0
    retry_at: float = 0.0  # time.monotonic() when its back-off ends
    moved: bool = False  # a cluster change since its last attempt may have made room


def _node_changed(event: WatchEvent) -> bool:
    """Whether a Node event can change a scheduling verdict (what the default filters look at)."""
    if event.type != "MODIFIED" or event.old is None:
        return True
    new, old = event.object, event.old
    return (new.get("spec") != old.get("spec")
            or new["metadata"].get("labels") != old["metadata"].get("labels")
            or (new.get("status") or {}).get("allocatable") != (old.get("status") or {}).get("allocatable"))


def _pod_changed(event: WatchEvent) -> bool:
    """Whether a pending pod's event is worth another scheduling attempt (not a status-only write)."""
    if event.type != "MODIFIED" or event.old is None:
        return True
    new, old = event.object, event.old
    return (new.get("spec") != old.get("spec")
            or new["metadata"].get("labels") != old["metadata"].get("labels")
            or new["metadata"].get("deletionTimestamp") != old["metadata"].get("deletionTimestamp"))


class Scheduler(Controller):
    """Binds pending pods to nodes (kube-scheduler with the default profile, see `kubesim.scheduling`).

    Like kube-scheduler, it keeps unschedulable pods in an unschedulable queue: a cluster change that may
    make room (a Node added or changed, a bound pod deleted or finished) moves them back, and they are retried
    once their per-pod back-off (1 s doubling to 10 s after each failed attempt) has passed — Node changes
    skip the back-off, so new capacity is used at once. Attempts run in batches of `SCHEDULE_BATCH`,
    yielding to the event loop in between, so a burst of new pods never stalls the API. The pods bound to
    each node are indexed from the store's Pod writes as they happen, so an attempt costs what `choose_node`
    costs, not a scan of every pod.
    """

    name = "default-scheduler"
    watches = (PODS, NODES)

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self._waiting: dict[tuple[str, str], Waiting] = {}
        self._active: dict[tuple[str, str], None] = {}  # pods to try at once, in arrival order
        # The bound pods by node, kept in step with the store (the scheduler cache of kube-scheduler).
        self._bound: dict[str, dict[tuple[str, str], dict]] = {}
        self._grouped: dict[str, list[dict]] | None = None  # `_bound` in `choose_node`'s shape; None: stale
        for pod in api.store.list(PODS):
            self._track(None, pod)
        api.store.observe(PODS, self._observe)  # inside every Pod write, so the index never lags the store

    def stop(self) -> None:
        self.api.store.unobserve(PODS, self._observe)

    def _observe(self, event: WatchEvent) -> None:
        self._track(event.old, None if event.type == "DELETED" else event.object)

    def _track(self, old: dict | None, new: dict | None) -> None:
        for pod, add in ((old, False), (new, True)):
            node = ((pod or {}).get("spec") or {}).get("nodeName")
            if node:
                meta = pod["metadata"]
                pods = self._bound.setdefault(node, {})
                if add:
                    pods[(meta.get("namespace") or "", meta["name"])] = pod
                else:
                    pods.pop((meta.get("namespace") or "", meta["name"]), None)
                    if not pods:
                        del self._bound[node]
                self._grouped = None

    def _move_waiting(self, skip_backoff: bool) -> list[Key]:
        if not self._waiting:
            return []
        now = time.monotonic()
        for entry in self._waiting.values():
            entry.moved = True
            if skip_backoff:
                entry.retry_at = min(entry.retry_at, now)
        return [SCHEDULING_QUEUE]

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == NODES:
            return self._move_waiting(skip_backoff=True) if _node_changed(event) else []
        meta, spec = event.object["metadata"], event.object.get("spec") or {}
        if not spec.get("nodeName"):
            if event.type == "DELETED":
                self._waiting.pop((meta.get("namespace") or "", meta["name"]), None)
                self._active.pop((meta.get("namespace") or "", meta["name"]), None)
                return []
            if not _pod_changed(event):
                return []
            self._active[(meta.get("namespace") or "", meta["name"])] = None
            return [SCHEDULING_QUEUE]
        if event.type == "DELETED":
            return self._move_waiting(skip_backoff=False)
        phase = (event.object.get("status") or {}).get("phase")
        old_phase = ((event.old or {}).get("status") or {}).get("phase")
        if phase in TERMINAL and old_phase not in TERMINAL:
            return self._move_waiting(skip_backoff=False)
        return []

    def initial_keys(self) -> Iterable[Key]:
        for pod in self.api.store.list(PODS):
            if not (pod.get("spec") or {}).get("nodeName"):
                yield PODS, pod["metadata"].get("namespace") or "", pod["metadata"]["name"]

    def reconcile(self, key: Key) -> float | None:
        if key == SCHEDULING_QUEUE:
            return self._run_queue()
        _, namespace, name = key
        self._schedule(namespace, name)
        return None

    def _run_queue(self) -> float | None:
        """Try the arrived pods, then the moved ones whose back-off has passed, a batch at a time."""
        now = time.monotonic()
        due = list(itertools.islice(self._active, SCHEDULE_BATCH))
        if len(due) < SCHEDULE_BATCH:
            due += sorted(k for k, entry in self._waiting.items()
                          if entry.moved and entry.retry_at <= now and k not in self._active)
        for namespace, name in due[:SCHEDULE_BATCH]:
            self._active.pop((namespace, name), None)
            try:
                self._schedule(namespace, name)
            except Exception as exc:  # one pod's failure must not hold up the rest of the batch
                if isinstance(exc, ApiError) and exc.code == 404:
                    self._waiting.pop((namespace, name), None)
                elif isinstance(exc, ApiError) and exc.code == 409:
                    self._active[(namespace, name)] = None  # raced with another writer: look again now
                else:
                    log.warning("controller=%s pod=%s/%s error=%r", self.name, namespace, name, exc,
                                exc_info=not isinstance(exc, ApiError))
                    entry = self._waiting.setdefault((namespace, name), Waiting())
                    entry.moved, entry.retry_at = True, now + self.api.clock.scaled(SCHEDULE_BACKOFF_START)
        if len(due) > SCHEDULE_BATCH or self._active:
            return 0.0  # more are due: the worker yields to the event loop, then runs the next batch
        later = [entry.retry_at for entry in self._waiting.values() if entry.moved]
        if not later:
            return None
        return max(min(later) - now, 0.001) * self.api.clock.speed  # simulated seconds

    def _pods_by_node(self) -> dict[str, list[dict]]:
        """The bound pods grouped by node name, rebuilt only after a bound pod changed."""
        if self._grouped is None:
            self._grouped = {node: [pods[key] for key in sorted(pods)] for node, pods in self._bound.items()}
        return self._grouped

    def _schedule(self, namespace: str, name: str) -> None:
        pod = self.api.store.get(PODS, namespace, name)
        spec = (pod or {}).get("spec") or {}
        if pod is None or spec.get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            self._waiting.pop((namespace, name), None)
            return
        if (spec.get("schedulerName") or self.name) != self.name:
            self._waiting.pop((namespace, name), None)
            return  # another scheduler's pod
        try:
            placement = choose_node(pod, self.api.store.list(NODES), self._pods_by_node())
            node, message = placement.node, placement.message
        except ValueError as exc:  # a malformed quantity on the pod or a node
            node, message = None, str(exc)
        if node is None:
            entry = self._waiting.setdefault((namespace, name), Waiting())
            entry.attempts += 1
            backoff_seconds = min(SCHEDULE_BACKOFF_START * 2 ** (entry.attempts - 1), SCHEDULE_BACKOFF_CAP)
            entry.retry_at = time.monotonic() + self.api.clock.scaled(backoff_seconds)
            entry.moved = False
            self._mark_unschedulable(pod, message)
        else:
            self._waiting.pop((namespace, name), None)
            self._bind(pod, node)

    def _bind(self, pod: dict, node: str) -> None:
        rt = self.api.type("", "Pod")
        meta = pod["metadata"]
        new = clone(pod)
        new["spec"]["nodeName"] = node
        bound = self.api.update(rt, meta["namespace"], meta["name"], new, self.write_options())
        record_event(self.api, bound, "Normal", "Scheduled",
                     f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}", self.name)
        status = clone(bound.get("status") or {})
        scheduled = {"type": "PodScheduled", "status": "True"}
        now = self.api.clock.timestamp()
        status["conditions"] = set_condition(status.get("conditions") or [], scheduled, now)
        self.api.update(rt, meta["namespace"], meta["name"], {**bound, "status": status},
                        self.write_options(), subresource="status")

    def _mark_unschedulable(self, pod: dict, message: str) -> None:
        status = clone(pod.get("status") or {})
        old = condition(status.get("conditions"), "PodScheduled")
        if old and old.get("status") == "False" and old.get("reason") == "Unschedulable" and \
                old.get("message") == message:
            return  # already said; kube-scheduler's repeats would only bump the event count
        status.setdefault("phase", "Pending")
        status["conditions"] = set_condition(status.get("conditions") or [], {
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message},
            self.api.clock.timestamp())
        meta = pod["metadata"]
        updated = self.api.update(self.api.type("", "Pod"), meta["namespace"], meta["name"],
                                  {**pod, "status": status}, self.write_options(), subresource="status")
        record_event(self.api, updated, "Warning", "FailedScheduling", message, self.name)


# ---------------------------------------------------------------------------------------- kubelet script
