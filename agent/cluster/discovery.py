"""What the cluster serves: (apiVersion, kind) -> `ResourceKind`, read from the legacy discovery documents
(`/api/v1`, `/apis`, `/apis/<group>/<version>`) and cached in memory, per `ClusterAccess`, never on disk.

`KindCache` refreshes when invalidated (the CRD watch of `ClusterAccess` calls `invalidate()` whenever a
CustomResourceDefinition changes) and, on a miss, at most once per `miss_refresh_interval` before answering
`UnknownKind`; concurrent lookups share one refresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from agent.cluster.errors import ClusterError, UnknownKind
from agent.cluster.refs import ResourceKind, split_api_version

log = logging.getLogger(__name__)

Kinds = dict[tuple[str, str], ResourceKind]  # (apiVersion, kind) -> ResourceKind


def kinds_of(resource_list: dict) -> list[ResourceKind]:
    """The kinds of one APIResourceList document (subresources such as `deployments/scale` skipped)."""
    group, version = split_api_version(str(resource_list.get("groupVersion", "")))
    out = []
    for resource in resource_list.get("resources") or ():
        name = resource.get("name", "")
        if not name or "/" in name or not resource.get("kind"):
            continue
        out.append(ResourceKind(group, version, resource["kind"], name, bool(resource.get("namespaced"))))
    return out


def fetch_kinds(get: Callable[[str], dict]) -> Kinds:
    """Read every served group version with `get(path) -> dict`; a group version that fails to answer (an
    aggregated API that is down) is skipped with a warning, as kubectl does, so one broken API service does
    not hide the rest."""
    paths = ["/api/v1"]
    for group in get("/apis").get("groups") or ():
        paths += [f"/apis/{v['groupVersion']}" for v in group.get("versions") or () if v.get("groupVersion")]
    kinds: Kinds = {}
    for path in paths:
        try:
            doc = get(path)
        except ClusterError as exc:
            if path == "/api/v1" or exc.status == 0:
                raise
            log.warning("discovery skipped %s: %s", path, exc)
            continue
        for rk in kinds_of(doc):
            kinds.setdefault((rk.api_version, rk.kind), rk)
    return kinds


class KindCache:
    def __init__(self, load: Callable[[], Awaitable[Kinds]], *, miss_refresh_interval: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._clock = clock
        self.miss_refresh_interval = miss_refresh_interval
        self._kinds: Kinds = {}
        self._stale = True
        self._refreshed_at = float("-inf")
        self._lock = asyncio.Lock()
        self.refreshes = 0  # for tests and metrics

    def invalidate(self) -> None:
        """The next lookup reads discovery again."""
        self._stale = True

    async def refresh(self) -> None:
        async with self._lock:
            await self._refresh_locked()

    async def _refresh_locked(self) -> None:
        self._stale = False  # before loading: an invalidation during the load must trigger another
        try:
            self._kinds = await self._load()
        except BaseException:
            self._stale = True
            raise
        self._refreshed_at = self._clock()
        self.refreshes += 1
        log.debug("discovery refreshed: %d kinds", len(self._kinds))

    async def resolve(self, api_version: str, kind: str) -> ResourceKind:
        """The served kind, or UnknownKind after at most one (rate-limited) refresh."""
        key = (api_version, kind)
        if not self._stale and key in self._kinds:
            return self._kinds[key]
        seen = self.refreshes
        async with self._lock:
            if self._stale or (self.refreshes == seen
                               and self._clock() - self._refreshed_at >= self.miss_refresh_interval):
                await self._refresh_locked()
            found = self._kinds.get(key)
        if found is None:
            raise UnknownKind(api_version, kind, self._hint(api_version, kind))
        return found

    def _hint(self, api_version: str, kind: str) -> str:
        group, _ = split_api_version(api_version)
        served = sorted(rk.api_version for rk in self._kinds.values() if rk.kind == kind and rk.group == group)
        if served:
            return f"it is served as {', '.join(served)}: change the apiVersion"
        return ""
