"""The live objects of one application, kept current by watches, and the cluster's Pods for health.

`Inventory.track(kinds)` lists each new kind (objects labelled `fleetline.io/app=<app>`) and then watches it;
every change reaches `on_change(event_type, obj)` as it happens, so drift is seen at once, not on a timer.
Kinds stay watched for the application's lifetime: an object of a kind that left the desired state must still
be seen to be pruned. `objects()` is the current view; `ours()` keeps only the objects whose tracking
annotation names this application (an object with our label but not our tracking id is never ours).
`PodCache` is one cluster-wide watch of Pods that the health rules read a workload's pods from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from agent.cluster import ClusterAccess, ClusterError, UnknownKind, Watch
from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION, group_of, parse_tracking_id

log = logging.getLogger(__name__)

Key = tuple[str, str, str, str]  # (group, kind, namespace, name)
ChangeCallback = Callable[[str, dict], None]


def object_key(obj: dict) -> Key:
    meta = obj.get("metadata") or {}
    return (group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", "")), meta.get("namespace") or "",
            str(meta.get("name", "")))


def owned_by(obj: dict, app: str) -> bool:
    """True when the object's tracking annotation names `app` (the label alone is not enough)."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(TRACKING_ANNOTATION)
    parsed = parse_tracking_id(value) if isinstance(value, str) else None
    return parsed is not None and parsed[0] == app


class _Followed:
    """One watch feeding a dict of objects, with its consumer task."""

    def __init__(self, watch: Watch, objects: dict[Key, dict], on_change: ChangeCallback | None,
                 on_restart: Callable[[], None] | None = None) -> None:
        self.watch = watch
        self.objects = objects
        self.on_change = on_change
        self.on_restart = on_restart
        self.restarts = 0
        self.task = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        async for event in self.watch:
            key = object_key(event.object)
            known = self.objects.get(key)
            if known is not None and not _newer(event.object, known) and not _same_version(event.object, known):
                continue  # older than what a write of ours already returned: the watch is catching up
            if event.type == "DELETED":
                self.objects.pop(key, None)
            else:
                self.objects[key] = event.object
            if self.watch.restarts != self.restarts:
                self.restarts = self.watch.restarts
                if self.on_restart is not None:
                    self.on_restart()
            if self.on_change is not None:
                try:
                    self.on_change(event.type, event.object)
                except Exception:  # a consumer bug must not end the watch
                    log.exception("event=watch_consumer_failed kind=%s", self.watch.ref.kind)

    async def close(self) -> None:
        await self.watch.aclose()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class Inventory:
    """Live objects carrying the application's label, by kind; see the module docstring."""

    def __init__(self, access: ClusterAccess, app: str, on_change: ChangeCallback | None = None,
                 on_restart: Callable[[], None] | None = None) -> None:
        self.access = access
        self.app = app
        self.on_change = on_change
        self.on_restart = on_restart
        self._objects: dict[Key, dict] = {}
        self._followed: dict[tuple[str, str], _Followed] = {}
        self._kinds: set[tuple[str, str]] = set()  # every kind listed once (refresh lists them all again)

    @property
    def selector(self) -> str:
        return f"{APP_LABEL}={self.app}"

    async def track(self, kinds: set[tuple[str, str]]) -> list[str]:
        """Start following each (apiVersion, kind) not yet followed; returns problems (an unknown kind) as
        messages instead of raising, so one missing CRD does not blind the application to its other kinds."""
        problems: list[str] = []
        for api_version, kind in sorted(kinds - set(self._followed)):
            try:
                items, _ = await self.access.list(api_version, kind, label_selector=self.selector)
            except (ClusterError, UnknownKind) as exc:
                problems.append(str(exc))
                continue
            for obj in items:
                self._objects[object_key(obj)] = obj
            self._kinds.add((api_version, kind))
            watch = self.access.watch(api_version, kind, label_selector=self.selector)
            self._followed[(api_version, kind)] = _Followed(watch, self._objects, self.on_change, self.on_restart)
        return problems

    def objects(self) -> dict[Key, dict]:
        return self._objects

    async def refresh(self) -> list[str]:
        """List every followed kind again and correct the view (the safety net behind the watches): objects
        the watch missed are added or updated, objects gone from the cluster are dropped. Returns problems."""
        problems: list[str] = []
        for api_version, kind in sorted(self._kinds):
            try:
                items, _ = await self.access.list(api_version, kind, label_selector=self.selector)
            except (ClusterError, UnknownKind) as exc:
                problems.append(str(exc))
                continue
            fresh = {object_key(obj): obj for obj in items}
            for key in [k for k, o in self._objects.items() if (o.get("apiVersion"), k[1]) == (api_version, kind)
                        and k not in fresh]:
                del self._objects[key]
            for key, obj in fresh.items():
                known = self._objects.get(key)
                if known is None or _newer(obj, known):
                    self._objects[key] = obj
        return problems

    def remember(self, obj: dict) -> None:
        """An object as a write just returned it: kept unless the watch already delivered a newer version (so a
        check right after our own write does not see the object missing or stale while the watch catches up)."""
        key = object_key(obj)
        known = self._objects.get(key)
        if known is None or _newer(obj, known):
            self._objects[key] = obj

    def get(self, key: Key) -> dict | None:
        return self._objects.get(key)

    def ours(self) -> list[dict]:
        return [obj for obj in self._objects.values() if owned_by(obj, self.app)]

    @property
    def restarts(self) -> int:
        return sum(f.watch.restarts for f in self._followed.values())

    async def close(self) -> None:
        for followed in self._followed.values():
            await followed.close()
        self._followed.clear()


class PodCache:
    """Every Pod of the cluster, kept current by one watch and indexed by namespace; `on_change` hears each
    change."""

    def __init__(self, access: ClusterAccess, on_change: ChangeCallback | None = None) -> None:
        self.access = access
        self.on_change = on_change
        self._pods: dict[Key, dict] = {}
        self._by_namespace: dict[str, dict[Key, dict]] = {}
        self._followed: _Followed | None = None

    async def start(self) -> None:
        items, _ = await self.access.list("v1", "Pod")
        for pod in items:
            self._index("ADDED", pod)
        self._followed = _Followed(self.access.watch("v1", "Pod"), self._pods, self._changed)

    def _index(self, event_type: str, pod: dict) -> None:
        key = object_key(pod)
        (pod.get("metadata") or {}).pop("managedFields", None)  # health never reads it; it is half a pod's size
        if event_type == "DELETED":
            self._pods.pop(key, None)
            self._by_namespace.get(key[2], {}).pop(key, None)
        else:
            self._pods[key] = pod
            self._by_namespace.setdefault(key[2], {})[key] = pod

    def _changed(self, event_type: str, pod: dict) -> None:
        self._index(event_type, pod)
        if self.on_change is not None:
            self.on_change(event_type, pod)

    def in_namespace(self, namespace: str) -> list[dict]:
        return list(self._by_namespace.get(namespace, {}).values())

    @property
    def restarts(self) -> int:
        return self._followed.watch.restarts if self._followed is not None else 0

    async def close(self) -> None:
        if self._followed is not None:
            await self._followed.close()


def _newer(candidate: dict, known: dict) -> bool:
    """Whether `candidate` is a later version than `known` (resourceVersions compared as numbers when they are,
    as every etcd-backed API server issues them; otherwise the candidate wins)."""
    a = str((candidate.get("metadata") or {}).get("resourceVersion", ""))
    b = str((known.get("metadata") or {}).get("resourceVersion", ""))
    if a.isdigit() and b.isdigit():
        return int(a) > int(b)
    return True


def _same_version(a: dict, b: dict) -> bool:
    return (a.get("metadata") or {}).get("resourceVersion") == (b.get("metadata") or {}).get("resourceVersion")
