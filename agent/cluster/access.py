"""`ClusterAccess`: the agent's only door to the Kubernetes API, an asyncio facade over the official client.

Requests run on a bounded thread pool (the client is synchronous), after a token from the shared QPS/burst
bucket; objects are plain JSON dicts in and out. Kinds are resolved through the in-memory discovery cache,
which a watch on CustomResourceDefinitions (started by `start()`) invalidates, so a CRD installed after start
is usable at once. Namespaced objects without a namespace go to "default", as kubectl does; a namespace on a
cluster-scoped kind is refused. Errors are `ClusterError`s naming the object; `get` answers None for 404 and
`delete` False.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client as k8s

from agent.cluster import config as cluster_config
from agent.cluster.discovery import KindCache, Kinds, fetch_kinds
from agent.cluster.errors import ClusterError, InvalidObject, UnknownKind
from agent.cluster.ratelimit import TokenBucket
from agent.cluster.refs import ObjectRef, ResourceKind
from agent.cluster.rest import Query, Transport
from agent.cluster.watch import PAGE_SIZE, Watch, with_kind

log = logging.getLogger(__name__)

USER_AGENT = "fleetline-agent/0.1.0"
FIELD_MANAGER = "fleetline"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = ("application/merge-patch+json", "application/json-patch+json",
               "application/strategic-merge-patch+json", APPLY_PATCH)
PROPAGATIONS = ("Background", "Foreground", "Orphan")
CRD_KIND = ResourceKind("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False)


class ClusterAccess:
    def __init__(self, api_client: k8s.ApiClient, *, qps: float = 100.0, burst: int = 300, threads: int = 8,
                 timeout: float = 30.0, watch_timeout: float = 300.0, miss_refresh_interval: float = 2.0,
                 close_client: bool = False) -> None:
        """`timeout`: seconds per request; `watch_timeout`: the server-side timeout of each watch request (the
        stream is then resumed), jittered up to twice as long; `close_client`: close `api_client` in `close()`."""
        if threads < 1:
            raise ValueError(f"threads must be at least 1 (got {threads})")
        if str(api_client.user_agent).startswith("OpenAPI-Generator"):
            api_client.user_agent = USER_AGENT
        self.api_client = api_client
        self.transport = Transport(api_client, timeout=timeout)
        self.limiter = TokenBucket(qps, burst)
        self.watch_timeout = watch_timeout
        self.kinds = KindCache(self._load_kinds, miss_refresh_interval=miss_refresh_interval)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="fleetline-kube")
        self._close_client = close_client
        self._closing = threading.Event()
        self._watches: set[Watch] = set()
        self._crd_watch: Watch | None = None
        self._crd_task: asyncio.Task | None = None

    # -- construction ------------------------------------------------------------------------------------------------
    @classmethod
    def from_configuration(cls, configuration: k8s.Configuration, **kw: Any) -> ClusterAccess:
        """Owns a new ApiClient whose connection pool fits the request threads plus the watch streams."""
        configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0,
                                                    kw.get("threads", 8) + 32)
        return cls(k8s.ApiClient(configuration), close_client=True, **kw)

    @classmethod
    def from_kubeconfig(cls, path: str | os.PathLike | None = None, context: str | None = None,
                        **kw: Any) -> ClusterAccess:
        """From a kubeconfig file (default: $KUBECONFIG, then ~/.kube/config) and optional context."""
        return cls.from_configuration(cluster_config.kubeconfig_configuration(path, context), **kw)

    @classmethod
    def in_cluster(cls, *, service_account_dir: str | os.PathLike = cluster_config.SERVICE_ACCOUNT_DIR,
                   environ: dict[str, str] | None = None, **kw: Any) -> ClusterAccess:
        """From the pod's service account (token, CA, KUBERNETES_SERVICE_HOST/PORT)."""
        configuration = cluster_config.in_cluster_configuration(environ, service_account_dir)
        return cls.from_configuration(configuration, **kw)

    @classmethod
    def auto(cls, kubeconfig: str | os.PathLike | None = None, context: str | None = None, *,
             environ: dict[str, str] | None = None,
             service_account_dir: str | os.PathLike = cluster_config.SERVICE_ACCOUNT_DIR,
             **kw: Any) -> ClusterAccess:
        """In-cluster when no kubeconfig is given and we run in a pod, else the kubeconfig loading rules."""
        configuration = cluster_config.auto_configuration(kubeconfig, context, environ, service_account_dir)
        return cls.from_configuration(configuration, **kw)

    # -- lifecycle ---------------------------------------------------------------------------------------------------
    async def start(self, sync_timeout: float = 10.0) -> None:
        """Initial discovery (raises ClusterError when the cluster cannot be reached), then the CRD watch."""
        await self.kinds.refresh()
        if self._crd_watch is not None:
            return

        async def crd_kind() -> ResourceKind:
            return CRD_KIND

        self._crd_watch = Watch(resolve=crd_kind, transport=self.transport, limiter=self.limiter,
                                ref=ObjectRef(CRD_KIND.api_version, CRD_KIND.kind, "", ""),
                                timeout_seconds=self.watch_timeout, emit_initial=False)
        await self._crd_watch.start()
        self._crd_task = asyncio.create_task(self._follow_crds(self._crd_watch), name="fleetline-crd-watch")
        try:
            await asyncio.wait_for(self._crd_watch.synced.wait(), sync_timeout)
        except TimeoutError:
            log.warning("CRD watch not synced after %.0fs: new custom kinds are found on a lookup miss only",
                        sync_timeout)

    async def _follow_crds(self, watch: Watch) -> None:
        async for event in watch:
            log.info("discovery invalidated: CustomResourceDefinition %s %s",
                     (event.object.get("metadata") or {}).get("name"), event.type)
            self.kinds.invalidate()

    async def close(self) -> None:
        """Stop every watch and the request threads (and the ApiClient when this object created it)."""
        self._closing.set()
        if self._crd_watch is not None:
            await self._crd_watch.aclose()
        if self._crd_task is not None:
            await self._crd_task
        await asyncio.gather(*(w.aclose() for w in list(self._watches)))
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._close_client:
            self.api_client.close()

    async def __aenter__(self) -> ClusterAccess:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- plumbing ----------------------------------------------------------------------------------------------------
    def _throttle_blocking(self) -> None:
        delay = self.limiter.reserve()
        if delay > 0:
            self._closing.wait(delay)

    async def _load_kinds(self) -> Kinds:
        def get(path: str) -> dict:
            self._throttle_blocking()
            return self.transport.request("GET", path)

        return await asyncio.get_running_loop().run_in_executor(self._pool, fetch_kinds, get)

    async def _call(self, method: str, path: str, *, ref: ObjectRef, query: Query | None = None,
                    body: Any = None, content_type: str | None = None) -> dict:
        if self._closing.is_set():
            raise ClusterError(0, "Closed", "the cluster access is closed", ref)
        delay = self.limiter.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
        call = functools.partial(self.transport.request, method, path, query=query, body=body,
                                 content_type=content_type, ref=ref)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def kind(self, api_version: str, kind: str) -> ResourceKind:
        """What the cluster serves for (apiVersion, kind); UnknownKind after one rate-limited refresh."""
        return await self.kinds.resolve(api_version, kind)

    async def _locate(self, ref: ObjectRef) -> tuple[ResourceKind, ObjectRef]:
        """The kind and the ref with its effective namespace ("default" for a namespaced kind without one)."""
        try:
            rk = await self.kind(ref.api_version, ref.kind)
        except UnknownKind as exc:
            raise exc.with_ref(ref) from None
        if rk.namespaced:
            return rk, ObjectRef(ref.api_version, ref.kind, ref.namespace or "default", ref.name)
        if ref.namespace:
            raise InvalidObject(f"{ref}: {ref.kind} is cluster-scoped, so it cannot be in namespace "
                                f"{ref.namespace!r}: remove metadata.namespace")
        return rk, ref

    async def _prepare(self, obj: dict, *, generate_name: bool = False) -> tuple[ResourceKind, ObjectRef, dict]:
        """Kind, ref and the body to send: a copy of `obj` with its effective namespace."""
        ref = ObjectRef.of(obj, generate_name=generate_name)
        rk, ref = await self._locate(ref)
        body = dict(obj)
        if rk.namespaced:
            body["metadata"] = {**obj["metadata"], "namespace": ref.namespace}
        return rk, ref, body

    @staticmethod
    def _path(rk: ResourceKind, ref: ObjectRef, *, collection: bool = False) -> str:
        try:
            return rk.collection_path(ref.namespace) if collection else rk.object_path(ref.namespace, ref.name)
        except InvalidObject as exc:
            raise InvalidObject(f"{ref}: {exc}") from None

    # -- reads -------------------------------------------------------------------------------------------------------
    async def ping(self, timeout: float = 3.0) -> dict:
        """`GET /version` with a short timeout, outside the QPS bucket and the request threads: whether the API
        server answers now (the agent's readiness probe asks). Raises ClusterError when it does not."""
        if self._closing.is_set():
            raise ClusterError(0, "Closed", "the cluster access is closed", None)
        return await asyncio.to_thread(self.transport.request, "GET", "/version", timeout=timeout)

    async def get(self, ref: ObjectRef) -> dict | None:
        """The live object, or None when it does not exist."""
        rk, ref = await self._locate(ref)
        try:
            return await self._call("GET", self._path(rk, ref), ref=ref)
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(self, api_version: str, kind: str, *, namespace: str | None = None,
                   label_selector: str | None = None) -> tuple[list[dict], str]:
        """Every object (of one namespace, or all), as full objects, and the list's resourceVersion."""
        ref = ObjectRef(api_version, kind, namespace or "", "")
        rk, ref = await self._list_target(ref, namespace)
        items: list[dict] = []
        resource_version, token = "", ""
        while True:
            query = [("limit", str(PAGE_SIZE))] + ([("labelSelector", label_selector)] if label_selector else []) \
                + ([("continue", token)] if token else [])
            page = await self._call("GET", self._path(rk, ref, collection=True), ref=ref, query=query)
            items += page.get("items") or []
            meta = page.get("metadata") or {}
            resource_version = resource_version or str(meta.get("resourceVersion") or "")
            token = meta.get("continue") or ""
            if not token:
                return with_kind(rk, items), resource_version

    async def _list_target(self, ref: ObjectRef, namespace: str | None) -> tuple[ResourceKind, ObjectRef]:
        try:
            rk = await self.kind(ref.api_version, ref.kind)
        except UnknownKind as exc:
            raise exc.with_ref(ref) from None
        if namespace and not rk.namespaced:
            raise InvalidObject(f"{ref}: {ref.kind} is cluster-scoped: list or watch it without a namespace")
        return rk, ref

    def watch(self, api_version: str, kind: str, *, namespace: str | None = None,
              label_selector: str | None = None) -> Watch:
        """A list-then-watch (see `Watch`), started on first iteration; closed by `close()` at the latest."""
        ref = ObjectRef(api_version, kind, namespace or "", "")

        async def resolve() -> ResourceKind:
            return (await self._list_target(ref, namespace))[0]

        watch = Watch(resolve=resolve, transport=self.transport, limiter=self.limiter, ref=ref,
                      namespace=namespace, label_selector=label_selector, timeout_seconds=self.watch_timeout,
                      on_close=self._watches.discard)
        self._watches.add(watch)
        return watch

    # -- writes ------------------------------------------------------------------------------------------------------
    async def apply(self, obj: dict, *, field_manager: str = FIELD_MANAGER, force: bool = True,
                    dry_run: bool = False) -> dict:
        """Server-side apply of `obj` (created when missing); `force` takes conflicting fields from other managers;
        `dry_run` asks the server what the result would be without persisting it."""
        rk, ref, body = await self._prepare(obj)
        query = [("fieldManager", field_manager), ("force", "true" if force else "false")]
        if dry_run:
            query.append(("dryRun", "All"))
        return await self._call("PATCH", self._path(rk, ref), ref=ref, query=query, body=body,
                                content_type=APPLY_PATCH)

    async def create(self, obj: dict, *, field_manager: str = FIELD_MANAGER) -> dict:
        """POST; `metadata.generateName` without a name is allowed. 409 AlreadyExists when it exists."""
        rk, ref, body = await self._prepare(obj, generate_name=True)
        return await self._call("POST", self._path(rk, ref, collection=True), ref=ref,
                                query=[("fieldManager", field_manager)], body=body)

    async def replace(self, obj: dict, *, field_manager: str = FIELD_MANAGER) -> dict:
        """PUT the whole object; without metadata.resourceVersion, the live one is used (so the last writer wins).
        A missing object is a 404 ClusterError: create it instead."""
        rk, ref, body = await self._prepare(obj)
        if not body["metadata"].get("resourceVersion"):
            live = await self.get(ref)
            if live is None:
                raise ClusterError(404, "NotFound", "cannot replace an object that does not exist: create it", ref)
            body["metadata"] = {**body["metadata"], "resourceVersion": live["metadata"]["resourceVersion"]}
        return await self._call("PUT", self._path(rk, ref), ref=ref, query=[("fieldManager", field_manager)],
                                body=body)

    async def patch(self, ref: ObjectRef, patch: dict | list, *, content_type: str,
                    field_manager: str = FIELD_MANAGER) -> dict:
        """PATCH with one of PATCH_TYPES; a JSON patch is a list of operations, the others are objects."""
        if content_type not in PATCH_TYPES:
            raise ValueError(f"{ref}: unsupported patch type {content_type!r}: use one of {', '.join(PATCH_TYPES)}")
        if isinstance(patch, list) != (content_type == "application/json-patch+json"):
            raise ValueError(f"{ref}: a {content_type} patch must be a "
                             f"{'list of operations' if isinstance(patch, dict) else 'mapping'}")
        rk, ref = await self._locate(ref)
        return await self._call("PATCH", self._path(rk, ref), ref=ref, query=[("fieldManager", field_manager)],
                                body=patch, content_type=content_type)

    async def delete(self, ref: ObjectRef, *, propagation: str = "Background") -> bool:
        """Ask for deletion (finalizers may keep the object a while); False when it was already gone."""
        if propagation not in PROPAGATIONS:
            raise ValueError(f"{ref}: propagation must be one of {', '.join(PROPAGATIONS)} (got {propagation!r})")
        rk, ref = await self._locate(ref)
        try:
            await self._call("DELETE", self._path(rk, ref), ref=ref, query=[("propagationPolicy", propagation)])
        except ClusterError as exc:
            if exc.status == 404:
                return False
            raise
        return True
