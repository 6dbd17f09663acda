"""The controller runtime: level-triggered reconcilers fed by the store's event stream, like kube-controller-manager.

Each `Controller` names the resources it watches, maps every event to the keys it must reconcile, and
reconciles one key at a time (synchronously: `ClusterAPI` is synchronous). A reconcile may ask to be run
again after some simulated seconds. Conflicts are retried at once; other errors are logged and retried
with backoff. Nothing runs while nothing changes, so idle clusters cost only their sleeping tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable

from kubesim.api import ClusterAPI, WriteOptions
from kubesim.errors import ApiError
from kubesim.store import ResourceKey, WatchEvent

log = logging.getLogger("kubesim.controllers")

Key = tuple[ResourceKey, str, str]  # (resource, namespace, name)


def key_of(event_or_obj: WatchEvent | dict, resource: ResourceKey | None = None) -> Key:
    obj = event_or_obj.object if isinstance(event_or_obj, WatchEvent) else event_or_obj
    res = event_or_obj.resource if isinstance(event_or_obj, WatchEvent) else resource
    meta = obj["metadata"]
    return res, meta.get("namespace") or "", meta["name"]


def owner_uids(obj: dict) -> list[str]:
    return [ref.get("uid") for ref in obj["metadata"].get("ownerReferences") or []]


def controller_ref(obj: dict) -> dict | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owner_reference(owner: dict, block: bool = True) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": block}


class Controller(ABC):
    """Subclasses set `name` and `watches`, and implement `keys_for` and `reconcile`."""

    name = "controller"
    watches: tuple[ResourceKey, ...] = ()
    watches_all = False  # every resource, CRDs included (the garbage collector)

    def __init__(self, api: ClusterAPI) -> None:
        self.api = api
        self.opts = WriteOptions(manager=self.name)

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        """The keys an event makes dirty; by default the object itself."""
        return [key_of(event)]

    @abstractmethod
    def reconcile(self, key: Key) -> float | None:
        """Bring one object toward its desired state. Return simulated seconds until it should run again."""

    def initial_keys(self) -> Iterable[Key]:
        for resource in self.watches:
            for obj in self.api.store.list(resource):
                yield key_of(obj, resource)

    def write_options(self) -> WriteOptions:
        return WriteOptions(manager=self.name)

    def stop(self) -> None:
        """Release what the controller registered outside its own state (the manager calls it on stop)."""
        return None


class ControllerManager:
    """Runs controllers against one cluster: one dispatcher task and one worker task per controller."""

    def __init__(self, api: ClusterAPI, controllers: list[Controller]) -> None:
        self.api = api
        self.controllers = controllers
        self._queues: dict[Controller, asyncio.Queue[Key]] = {c: asyncio.Queue() for c in controllers}
        self._pending: dict[Controller, set[Key]] = {c: set() for c in controllers}
        self._tasks: list[asyncio.Task] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._subscription = api.store.subscribe(None)
        self.errors = 0

    def start(self) -> None:
        for controller in self.controllers:
            for key in controller.initial_keys():
                self.enqueue(controller, key)
            self._tasks.append(asyncio.create_task(self._work(controller), name=f"kubesim:{controller.name}"))
        self._tasks.append(asyncio.create_task(self._dispatch(), name="kubesim:dispatch"))

    async def stop(self) -> None:
        self.api.store.unsubscribe(self._subscription)
        for controller in self.controllers:
            controller.stop()
        for timer in self._timers:
            timer.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def enqueue(self, controller: Controller, key: Key) -> None:
        if key not in self._pending[controller]:
            self._pending[controller].add(key)
            self._queues[controller].put_nowait(key)

    def _enqueue_later(self, controller: Controller, key: Key, delay: float) -> None:
        loop = asyncio.get_running_loop()
        holder: list[asyncio.TimerHandle] = []

        def fire() -> None:
            self._timers.discard(holder[0])
            self.enqueue(controller, key)

        handle = loop.call_later(max(delay, 0.0), fire)
        holder.append(handle)
        self._timers.add(handle)

    async def _dispatch(self) -> None:
        while True:
            event = await self._subscription.queue.get()
            for controller in self.controllers:
                if controller.watches_all or event.resource in controller.watches:
                    for key in controller.keys_for(event):
                        self.enqueue(controller, key)

    async def _work(self, controller: Controller) -> None:
        queue = self._queues[controller]
        failures: dict[Key, int] = {}
        while True:
            key = await queue.get()
            self._pending[controller].discard(key)
            try:
                again = controller.reconcile(key)
                failures.pop(key, None)
            except ApiError as exc:
                if exc.code in (404, 409):  # gone, or raced with another writer: look again now
                    again = 0.0 if exc.code == 409 else None
                else:
                    again = self._backoff(controller, key, failures, exc)
            except Exception as exc:  # a controller bug must not stop the cluster; it is logged and retried
                again = self._backoff(controller, key, failures, exc)
            if again is not None:
                if again <= 0:
                    self.enqueue(controller, key)
                else:
                    self._enqueue_later(controller, key, self.api.clock.scaled(again))
            # Yield after every reconcile: a long queue must not keep API requests and other controllers
            # waiting (Queue.get on a non-empty queue returns without giving the loop a turn).
            await asyncio.sleep(0)

    def _backoff(self, controller: Controller, key: Key, failures: dict[Key, int], exc: Exception) -> float:
        """Simulated seconds until the retry: doubling from 50 ms up to 1,000 s of *real* time (client-go's
        rate limiter caps near there). The traceback is logged once per key; later retries log one line."""
        self.errors += 1
        count = failures[key] = failures.get(key, 0) + 1
        if count == 1:
            log.warning("controller=%s key=%s error=%r", controller.name, key, exc,
                        exc_info=not isinstance(exc, ApiError))
        else:
            log.warning("controller=%s key=%s attempt=%d error=%r", controller.name, key, count, exc)
        real_seconds = min(0.05 * 2 ** min(count, 30), 1000.0)
        return real_seconds * self.api.clock.speed
