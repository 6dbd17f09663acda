"""The object store of one simulated cluster: objects, one global resourceVersion counter, and watch fan-out.

Like etcd behind kube-apiserver: every write gets the next revision, a bounded history of events lets a
watch resume from a resourceVersion (older ones are `Expired`, 410), and subscribers receive events in
revision order. Stored objects are never mutated in place: every write stores a new dict, so a reader may
hold a reference without copying (and must not modify it).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

ResourceKey = tuple[str, str]  # (group, plural); all versions of a kind share storage
ObjectKey = tuple[str, str]  # (namespace or "", name)


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED
    resource: ResourceKey
    object: dict
    old: dict | None  # the previous state (None for ADDED), to turn selector transitions into ADDED/DELETED
    revision: int


class TooOld(Exception):
    """A watch asked for a resourceVersion older than the retained history."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested, self.oldest = requested, oldest


@dataclass(eq=False)
class Subscription:
    """A queue of events for one watcher; `resource` None receives every resource (controllers)."""

    resource: ResourceKey | None
    accept: Callable[[WatchEvent], bool] | None = None
    queue: asyncio.Queue[WatchEvent] = field(default_factory=asyncio.Queue)


def object_key(obj: dict) -> ObjectKey:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta["name"]


class Store:
    def __init__(self, history_size: int = 20_000) -> None:
        self._objects: dict[ResourceKey, dict[ObjectKey, dict]] = {}
        self._history: deque[WatchEvent] = deque(maxlen=history_size)
        self._compacted = 0  # the newest revision that has left the history
        self._subscriptions: dict[ResourceKey | None, list[Subscription]] = {}
        self._observers: dict[ResourceKey, list[Callable[[WatchEvent], None]]] = {}
        self._uids: set[str] = set()
        self._dependents: dict[str, set[tuple[ResourceKey, ObjectKey]]] = {}  # owner uid -> dependents
        self.revision = 1

    # reads
    def get(self, resource: ResourceKey, namespace: str, name: str) -> dict | None:
        return self._objects.get(resource, {}).get((namespace, name))

    def list(self, resource: ResourceKey, namespace: str | None = None) -> list[dict]:
        """Objects in storage-key order (namespace, name), optionally of one namespace."""
        bucket = self._objects.get(resource, {})
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        return [bucket[k] for k in keys]

    def count(self, resource: ResourceKey | None = None) -> int:
        if resource is not None:
            return len(self._objects.get(resource, {}))
        return sum(len(b) for b in self._objects.values())

    def exists_uid(self, uid: str) -> bool:
        return uid in self._uids

    def dependents(self, owner_uid: str) -> list[tuple[ResourceKey, dict]]:
        """Objects whose ownerReferences name `owner_uid`."""
        out = []
        for resource, key in sorted(self._dependents.get(owner_uid, ())):
            obj = self._objects.get(resource, {}).get(key)
            if obj is not None:
                out.append((resource, obj))
        return out

    def _index(self, resource: ResourceKey, obj: dict | None, add: bool) -> None:
        if obj is None:
            return
        meta = obj["metadata"]
        key = object_key(obj)
        if add:
            self._uids.add(meta.get("uid", ""))
        else:
            self._uids.discard(meta.get("uid", ""))
        for ref in meta.get("ownerReferences") or ():
            deps = self._dependents.setdefault(ref.get("uid", ""), set())
            if add:
                deps.add((resource, key))
            else:
                deps.discard((resource, key))
                if not deps:
                    del self._dependents[ref.get("uid", "")]

    def resources(self) -> list[ResourceKey]:
        return [key for key, bucket in self._objects.items() if bucket]

    # writes: the caller has already set metadata.resourceVersion to `self.next_revision()`
    def next_revision(self) -> int:
        self.revision += 1
        return self.revision

    def put(self, resource: ResourceKey, obj: dict, revision: int) -> WatchEvent:
        bucket = self._objects.setdefault(resource, {})
        key = object_key(obj)
        old = bucket.get(key)
        bucket[key] = obj
        self._index(resource, old, add=False)
        self._index(resource, obj, add=True)
        return self._publish(WatchEvent("MODIFIED" if old is not None else "ADDED", resource, obj, old, revision))

    def remove(self, resource: ResourceKey, obj: dict, revision: int) -> WatchEvent:
        """Delete; `obj` is the final state to report (its resourceVersion is the deletion revision)."""
        bucket = self._objects.get(resource, {})
        old = bucket.pop(object_key(obj), None)
        self._index(resource, old, add=False)
        return self._publish(WatchEvent("DELETED", resource, obj, old, revision))

    def drop_resource(self, resource: ResourceKey) -> None:
        for obj in self._objects.pop(resource, {}).values():
            self._index(resource, obj, add=False)

    # watch
    def _publish(self, event: WatchEvent) -> WatchEvent:
        if len(self._history) == self._history.maxlen:
            self._compacted = self._history[0].revision
        self._history.append(event)
        for observe in self._observers.get(event.resource, ()):
            observe(event)
        for sub in self._subscriptions.get(event.resource, ()):
            if sub.accept is None or sub.accept(event):
                sub.queue.put_nowait(event)
        for sub in self._subscriptions.get(None, ()):
            sub.queue.put_nowait(event)
        return event

    def events_since(self, resource: ResourceKey, revision: int) -> list[WatchEvent]:
        """Retained events of `resource` newer than `revision`; TooOld when some may have been dropped."""
        if revision < self._compacted:
            oldest = self._history[0].revision if self._history else self.revision
            raise TooOld(revision, oldest)
        return [e for e in self._history if e.revision > revision and e.resource == resource]

    def subscribe(self, resource: ResourceKey | None, accept: Callable[[WatchEvent], bool] | None = None
                  ) -> Subscription:
        sub = Subscription(resource, accept)
        self._subscriptions.setdefault(resource, []).append(sub)
        return sub

    def observe(self, resource: ResourceKey, callback: Callable[[WatchEvent], None]) -> None:
        """Call `callback` synchronously inside every write of `resource`, before any subscriber hears of it
        (for indexes that must never lag the store)."""
        self._observers.setdefault(resource, []).append(callback)

    def unobserve(self, resource: ResourceKey, callback: Callable[[WatchEvent], None]) -> None:
        callbacks = self._observers.get(resource, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscriptions.get(sub.resource, [])
        if sub in subs:
            subs.remove(sub)
