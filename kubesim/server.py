"""kubesim's HTTP front: the Kubernetes REST API over aiohttp, in front of one `ClusterAPI`.

Owns routing (`/api`, `/apis`, discovery, OpenAPI, `/version`, health), authentication, content negotiation
(JSON, YAML apply patches, Table responses), query parsing (booleans like Go's ParseBool) and watch streams.
All semantics live in `ClusterAPI`; this module only translates HTTP to calls and `ApiError` to Status bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from kubesim import discovery, errors
from kubesim.api import APPLY, ClusterAPI, WriteOptions
from kubesim.bodies import decode_json, decode_yaml, delete_options
from kubesim.errors import ApiError
from kubesim.protobuf import PROTOBUF, ProtobufError, decode_delete_options
from kubesim.resources import ResourceType
from kubesim.selectors import field_matcher, label_matcher
from kubesim.store import TooOld, WatchEvent
from kubesim.tables import to_table

MAX_BODY_BYTES = 3 * 1024 * 1024  # kube-apiserver's request body limit (3 MiB)
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4-sim",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.8", "compiler": "gc",
           "platform": "linux/amd64"}
PUBLIC_PATHS = ("/healthz", "/readyz", "/livez", "/version")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
JSON_TYPES = ("application/json", "application/yaml")

log = logging.getLogger("kubesim.server")


def parse_bool(value: str | None, name: str) -> bool:
    """Go's strconv.ParseBool, as kube-apiserver parses query booleans (Python client 36 sends `True`)."""
    if value is None or value == "":
        return False
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise errors.bad_request(f'invalid boolean value "{value}" for query parameter "{name}"')


def dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def json_response(obj: object, status: int = 200, content_type: str = "application/json",
                  warnings: list[str] | None = None) -> web.Response:
    response = web.Response(body=dumps(obj), status=status, content_type=content_type.split(";")[0])
    if ";" in content_type:
        response.headers["Content-Type"] = content_type
    for text in warnings or ():
        response.headers.add("Warning", '299 - "' + text.replace('"', '\\"') + '"')
    return response


def error_response(exc: ApiError) -> web.Response:
    response = json_response(exc.status(), exc.code)
    for key, value in exc.headers.items():
        response.headers[key] = value
    return response


def default_manager(user_agent: str) -> str:
    """kube-apiserver's prefixFromUserAgent: the User-Agent up to its first '/', printable, at most 128 chars."""
    prefix = user_agent.split("/", 1)[0]
    return "".join(ch for ch in prefix if ch.isprintable())[:128]


@dataclass
class Route:
    """A parsed resource URL."""

    rt: ResourceType
    namespace: str  # "" for cluster-scoped or all namespaces
    name: str
    subresource: str
    all_namespaces: bool


class ApiServer:
    def __init__(self, api: ClusterAPI, token: str | None, *, bookmark_interval: float = 10.0,
                 server_address: str = "127.0.0.1:6443") -> None:
        self.api = api
        self.token = token
        self.bookmark_interval = bookmark_interval
        self.server_address = server_address
        self._closing = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[self._middleware])
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._dispatch)  # any path, newlines included
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_shutdown(self, app: web.Application) -> None:
        self._closing.set()

    @web.middleware
    async def _middleware(self, request: web.Request,
                          handler: Callable[[web.Request], Awaitable]) -> web.StreamResponse:
        if self.token is not None and request.path not in PUBLIC_PATHS:
            header = request.headers.get("Authorization", "")
            if header != f"Bearer {self.token}":
                return error_response(errors.unauthorized())
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc)
        except web.HTTPRequestEntityTooLarge:
            return error_response(errors.too_large(MAX_BODY_BYTES))
        except Exception as exc:  # last resort: a kubesim bug answers 500 and the server keeps serving
            log.exception("internal error serving %s %s", request.method, request.rel_url)
            return error_response(errors.internal_error(_printable(f"{type(exc).__name__}: {exc}")))

    # -- routing -----------------------------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path in ("/healthz", "/readyz", "/livez"):
            return web.Response(text="ok")
        if path == "/version":
            return json_response(VERSION)
        if path == "/openapi/v2":
            raise errors.no_such_resource()
        if path == "/openapi/v3":
            return json_response(discovery.openapi_index(self.api.registry))
        if path.startswith("/openapi/v3/"):
            return self._openapi(path[len("/openapi/v3/"):])
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"]:
            if len(parts) == 1:
                return self._discovery_root(request, core=True)
            if parts[1] != "v1":
                raise errors.no_such_resource()
            return await self._resource(request, "", "v1", parts[2:])
        if parts[:1] == ["apis"]:
            if len(parts) == 1:
                return self._discovery_root(request, core=False)
            if len(parts) == 2:
                doc = discovery.api_group(self.api.registry, parts[1])
                if doc is None:
                    raise errors.no_such_resource()
                return json_response(doc)
            return await self._resource(request, parts[1], parts[2], parts[3:])
        raise errors.no_such_resource()

    def _openapi(self, key: str) -> web.Response:
        parts = key.split("/")
        if parts == ["api", "v1"]:
            doc = discovery.openapi_document(self.api.registry, "", "v1")
        elif len(parts) == 3 and parts[0] == "apis":
            doc = discovery.openapi_document(self.api.registry, parts[1], parts[2])
        else:
            doc = None
        if doc is None:
            raise errors.no_such_resource()
        return json_response(doc)

    def _discovery_root(self, request: web.Request, core: bool) -> web.Response:
        version = discovery.wants_aggregated(request.headers.get("Accept", ""))
        if version:
            content_type = discovery.AGGREGATED_CONTENT_TYPE if version == "v2" else \
                discovery.AGGREGATED_V2BETA1_CONTENT_TYPE
            return json_response(discovery.aggregated(self.api.registry, core, version), content_type=content_type)
        if core:
            return json_response(discovery.api_versions(self.server_address))
        return json_response(discovery.api_group_list(self.api.registry))

    def _parse_route(self, group: str, version: str, rest: list[str]) -> Route:
        registry = self.api.registry
        namespace, all_namespaces = "", True
        if len(rest) >= 3 and rest[0] == "namespaces" and not (group == "" and rest[2] in ("status", "finalize")
                                                                   and len(rest) == 3):
            namespace, rest, all_namespaces = rest[1], rest[2:], False
        rt = registry.lookup(group, version, rest[0])
        if rt is None or (not all_namespaces and not rt.namespaced) or len(rest) > 3:
            raise errors.no_such_resource()
        name = rest[1] if len(rest) > 1 else ""
        subresource = rest[2] if len(rest) > 2 else ""
        if subresource and not ((subresource == "status" and rt.has_status) or (subresource == "scale" and
                                rt.has_scale) or (subresource == "finalize" and rt.kind == "Namespace")):
            raise errors.no_such_resource()
        return Route(rt, namespace, name, subresource, all_namespaces and rt.namespaced)

    async def _resource(self, request: web.Request, group: str, version: str, rest: list[str]) -> web.StreamResponse:
        if not rest:
            doc = discovery.api_resource_list(self.api.registry, group, version)
            if doc is None:
                raise errors.no_such_resource()
            return json_response(doc)
        route = self._parse_route(group, version, rest)
        method = request.method
        if method == "GET":
            if route.name:
                return self._get(request, route)
            if parse_bool(request.query.get("watch"), "watch"):
                return await self._watch(request, route)
            return self._list(request, route)
        if route.all_namespaces and method in ("POST", "DELETE") and not route.name:
            raise errors.method_not_allowed(route.rt, "create" if method == "POST" else "deletecollection")
        if method == "POST" and not route.name:
            return await self._create(request, route)
        if method == "PUT" and route.name:
            return await self._update(request, route)
        if method == "PATCH" and route.name:
            return await self._patch(request, route)
        if method == "DELETE":
            return await self._delete(request, route)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                       {})

    # -- reads -------------------------------------------------------------------------------------------------------
    def _table_accept(self, request: web.Request) -> bool:
        accept = request.headers.get("Accept", "")
        return "as=Table" in accept

    def _table(self, request: web.Request, rt: ResourceType, items: list[dict], rv: str = "",
               cont: str = "", headers: bool = True) -> dict:
        include = request.query.get("includeObject", "Metadata")
        try:
            return to_table(rt, items, include_object=include, now=self.api.clock.now(), headers=headers,
                            resource_version=rv, continue_token=cont)
        except ValueError as exc:  # an unknown includeObject value
            raise errors.bad_request(str(exc)) from exc

    def _get(self, request: web.Request, route: Route) -> web.Response:
        rt = route.rt
        if route.subresource == "scale":
            return json_response(self.api.get_scale(rt, route.namespace, route.name))
        obj = self.api.get(rt, route.namespace, route.name)
        if self._table_accept(request):
            return json_response(self._table(request, rt, [obj]))
        return json_response(obj)

    def _list(self, request: web.Request, route: Route) -> web.Response:
        q = request.query
        limit = _int_param(q.get("limit"), "limit")
        result = self.api.list(route.rt, None if route.all_namespaces else route.namespace,
                               label_selector=q.get("labelSelector"), field_selector=q.get("fieldSelector"),
                               limit=limit, continue_token=q.get("continue", ""))
        if self._table_accept(request):
            return json_response(self._table(request, route.rt, result.items, result.resource_version,
                                             result.continue_token))
        meta: dict = {"resourceVersion": result.resource_version}
        if result.continue_token:
            meta["continue"] = result.continue_token
            meta["remainingItemCount"] = result.remaining
        return json_response({"kind": route.rt.list_kind, "apiVersion": route.rt.api_version, "metadata": meta,
                              "items": result.items})

    # -- writes ------------------------------------------------------------------------------------------------------
    def _options(self, request: web.Request) -> WriteOptions:
        q = request.query
        manager = q.get("fieldManager") or default_manager(request.headers.get("User-Agent", ""))
        dry_run = q.get("dryRun", "")
        if dry_run and dry_run != "All":
            raise errors.bad_request(f'Invalid dryRun: "{dry_run}": supported values: "All"')
        validation = q.get("fieldValidation") or "Warn"
        if validation not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(f'fieldValidation: Unsupported value: "{validation}": supported values: '
                                     f'"Ignore", "Strict", "Warn"')
        return WriteOptions(manager=manager, dry_run=bool(dry_run), field_validation=validation)

    async def _body(self, request: web.Request, allowed: tuple[str, ...] = JSON_TYPES) -> object:
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "":
            content_type = "application/json"
        if content_type not in allowed:
            raise errors.unsupported_media_type(content_type, allowed)
        raw = await request.read()
        if not raw.strip():
            raise errors.bad_request("the request body is empty: an object is required")
        if content_type in ("application/json",) or content_type.endswith("+json"):
            return decode_json(raw)
        return decode_yaml(raw)

    async def _object_body(self, request: web.Request) -> dict:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise errors.bad_request("Object 'Kind' is missing in the request body: expected a JSON object")
        return body

    async def _create(self, request: web.Request, route: Route) -> web.Response:
        opts = self._options(request)
        body = await self._object_body(request)
        obj = self.api.create(route.rt, route.namespace, body, opts)
        return json_response(obj, 200 if opts.dry_run else 201, warnings=opts.warnings)

    async def _update(self, request: web.Request, route: Route) -> web.Response:
        opts = self._options(request)
        body = await self._object_body(request)
        if route.subresource == "finalize":
            return json_response(self.api.update_namespace_finalizers(route.name, body))
        obj = self.api.update(route.rt, route.namespace, route.name, body, opts, route.subresource or None)
        return json_response(obj, warnings=opts.warnings)

    async def _patch(self, request: web.Request, route: Route) -> web.Response:
        opts = self._options(request)
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        patch = await self._body(request, (content_type,)) if content_type in (
            "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
            APPLY) else await self._body(request, ("application/json-patch+json", "application/merge-patch+json",
                                                   "application/strategic-merge-patch+json", APPLY))
        force = parse_bool(request.query.get("force"), "force")
        if force and content_type != APPLY:
            raise errors.bad_request("force: Forbidden: may not be specified for non-apply patch")
        obj, created = self.api.patch(route.rt, route.namespace, route.name, content_type, patch, opts,
                                      subresource=route.subresource or None, force=force)
        return json_response(obj, 201 if created and not opts.dry_run else 200, warnings=opts.warnings)

    async def _delete(self, request: web.Request, route: Route) -> web.Response:
        q = request.query
        options: dict = {}
        if request.can_read_body:
            raw = await request.read()
            content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type == PROTOBUF and raw:  # kubectl's typed clients (`kubectl drain`) send protobuf here
                try:
                    options = delete_options(decode_delete_options(raw))
                except ProtobufError as exc:
                    raise errors.bad_request(f"unable to decode the protobuf DeleteOptions body: {exc}") from exc
            elif raw.strip():
                options = delete_options(decode_json(raw))
        propagation = q.get("propagationPolicy") or options.get("propagationPolicy")
        orphan = options.get("orphanDependents")
        if q.get("orphanDependents") is not None:
            orphan = parse_bool(q.get("orphanDependents"), "orphanDependents")
        if propagation is None and orphan is not None:
            propagation = "Orphan" if orphan else "Background"
        if propagation not in (None, "Orphan", "Background", "Foreground"):
            raise errors.bad_request(f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                                     f'"Foreground", "Background", "Orphan"')
        dry_run = bool(q.get("dryRun") or options.get("dryRun"))
        if not route.name:
            return self._delete_collection(request, route, propagation, dry_run)
        result = self.api.delete(route.rt, route.namespace, route.name, propagation=propagation,
                                 preconditions=options.get("preconditions"), dry_run=dry_run)
        return json_response(result)

    def _delete_collection(self, request: web.Request, route: Route, propagation: str | None,
                           dry_run: bool) -> web.Response:
        q = request.query
        result = self.api.list(route.rt, route.namespace or None, label_selector=q.get("labelSelector"),
                               field_selector=q.get("fieldSelector"))
        deleted = []
        for obj in result.items:
            meta = obj["metadata"]
            with contextlib.suppress(ApiError):
                self.api.delete(route.rt, meta.get("namespace", ""), meta["name"], propagation=propagation,
                                dry_run=dry_run)
                deleted.append(obj)
        return json_response({"kind": route.rt.list_kind, "apiVersion": route.rt.api_version,
                              "metadata": {"resourceVersion": str(self.api.store.revision)}, "items": deleted})

    # -- watch -------------------------------------------------------------------------------------------------------
    async def _watch(self, request: web.Request, route: Route) -> web.StreamResponse:
        q = request.query
        rt = route.rt
        try:
            matchers = [m for m in (label_matcher(q.get("labelSelector")), field_matcher(q.get("fieldSelector"),
                                                                                            rt.kind)) if m]
        except ValueError as exc:
            raise errors.bad_request(str(exc)) from exc
        namespace = None if route.all_namespaces or not rt.namespaced else route.namespace
        if route.name:
            raise errors.bad_request("watch is not supported on a single resource: use a fieldSelector")
        timeout = _int_param(q.get("timeoutSeconds"), "timeoutSeconds") or random.randint(1800, 3600)
        bookmarks = parse_bool(q.get("allowWatchBookmarks"), "allowWatchBookmarks")
        initial_events = parse_bool(q.get("sendInitialEvents"), "sendInitialEvents")
        rv_text = q.get("resourceVersion", "")
        table = self._table_accept(request)
        if table:
            self._table(request, rt, [])  # an unknown includeObject is a 400 before the stream starts
        include = q.get("includeObject", "Metadata")

        def selected(obj: dict | None) -> bool:
            if obj is None:
                return False
            if namespace is not None and obj["metadata"].get("namespace") != namespace:
                return False
            return all(m(obj) for m in matchers)

        key = (rt.group, rt.plural)
        subscription = self.api.store.subscribe(key)
        response: web.StreamResponse | None = None
        try:
            if rv_text in ("", "0") or initial_events:
                initial = [WatchEvent("ADDED", key, o, None, int(o["metadata"]["resourceVersion"]))
                           for o in self.api.store.list(key, namespace) if selected(o)]
                start = self.api.store.revision
            else:
                try:
                    start = int(rv_text)
                except ValueError as exc:
                    raise errors.bad_request(f'invalid resource version "{rv_text}"') from exc
                initial = None
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            state = _WatchWriter(response, rt, table, include, self.api)
            if initial is None:
                try:
                    backlog = self.api.store.events_since(key, start)
                except TooOld as exc:
                    await state.send_raw({"type": "ERROR", "object": errors.expired(str(exc)).status()})
                    return response
            else:
                backlog = []
                for event in initial:
                    await state.send("ADDED", event.object)
                if initial_events and bookmarks:
                    await state.bookmark(start, initial_end=True)
            last = start
            for event in backlog:
                last = await self._deliver(state, event, selected, last)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            next_bookmark = loop.time() + self.bookmark_interval
            closing = asyncio.ensure_future(self._closing.wait())
            try:
                while not self._closing.is_set():
                    if request.transport is None or request.transport.is_closing():
                        break  # the client went away: stop now rather than at the next write
                    now = loop.time()
                    # wake at least once a second, to notice a client that went away
                    wait = min(deadline, next_bookmark if bookmarks else deadline, now + 1.0) - now
                    if now >= deadline:
                        break
                    getter = asyncio.ensure_future(subscription.queue.get())
                    await asyncio.wait({getter, closing}, timeout=max(wait, 0.001),
                                       return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        if bookmarks and loop.time() >= next_bookmark:
                            await state.bookmark(self.api.store.revision)
                            next_bookmark = loop.time() + self.bookmark_interval
                        continue
                    last = await self._deliver(state, getter.result(), selected, last)
            finally:
                closing.cancel()
            return response
        except (ConnectionResetError, asyncio.CancelledError):
            return web.Response(status=200)
        except Exception as exc:
            if response is None or not response.prepared:
                raise  # nothing sent yet: the middleware answers
            log.exception("internal error in the watch %s", request.rel_url)  # the stream ends with an ERROR
            status = errors.internal_error(_printable(f"{type(exc).__name__}: {exc}")).status()
            with contextlib.suppress(Exception):
                await response.write(dumps({"type": "ERROR", "object": status}))
            return response
        finally:
            self.api.store.unsubscribe(subscription)

    async def _deliver(self, state: _WatchWriter, event: WatchEvent, selected: Callable[[dict | None], bool],
                       last: int) -> int:
        if event.revision <= last:
            return last
        now_in, was_in = selected(event.object), selected(event.old)
        if event.type == "DELETED":
            if was_in or now_in:
                await state.send("DELETED", event.object)
        elif now_in and was_in:
            await state.send("MODIFIED", event.object)
        elif now_in:
            await state.send("ADDED", event.object)
        elif was_in:
            await state.send("DELETED", event.object)
        return event.revision


class _WatchWriter:
    """Writes watch events as JSON lines; Table watches carry column definitions only in the first event."""

    def __init__(self, response: web.StreamResponse, rt: ResourceType, table: bool, include: str,
                 api: ClusterAPI) -> None:
        self.response, self.rt, self.table, self.include, self.api = response, rt, table, include, api
        self.headers_sent = False

    async def send_raw(self, event: dict) -> None:
        await self.response.write(dumps(event))

    async def send(self, kind: str, obj: dict) -> None:
        obj = self.api._stamp(self.rt, obj)
        if self.table:
            obj = to_table(self.rt, [obj], include_object=self.include, now=self.api.clock.now(),
                           headers=not self.headers_sent)
            self.headers_sent = True
        await self.send_raw({"type": kind, "object": obj})

    async def bookmark(self, revision: int, initial_end: bool = False) -> None:
        meta: dict = {"resourceVersion": str(revision)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        await self.send_raw({"type": "BOOKMARK", "object": {"kind": self.rt.kind, "apiVersion": self.rt.api_version,
                                                            "metadata": meta}})


def _int_param(value: str | None, name: str) -> int:
    if not value:
        return 0
    try:
        number = int(value)
    except ValueError as exc:
        raise errors.bad_request(f'invalid value "{value}" for query parameter "{name}"') from exc
    if number < 0:
        raise errors.bad_request(f'{name}: Invalid value: {number}: must be greater than or equal to 0')
    return number


def _printable(text: str, limit: int = 1000) -> str:
    """`text` safe to put in a JSON response: lone surrogates replaced, at most `limit` characters."""
    return text.encode("utf-8", "replace").decode("utf-8")[:limit]
