"""`build_app`: the aiohttp application of the REST API, with its middlewares (metrics, errors, authentication).

The error middleware renders every failure as `{"error", "reason"}` with its status, reports every 401 and 403
to `facade.audit_refused`, and turns an unexpected exception into a 500 whose details go to the log only. On
shutdown, open event streams end so that the server can close.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry

from hub.api.auth import CALLER, REFUSED_ACTOR, Handler, auth_middleware
from hub.api.errors import ApiError
from hub.api.facade import HubFacade
from hub.api.handlers import Handlers
from hub.api.metrics import ApiMetrics
from hub.api.openapi import openapi_bytes
from hub.api.tokens import ApiTokenStore
from hub.dashboard import PUBLIC_PATHS as DASHBOARD_PATHS
from hub.dashboard import dashboard_routes

log = logging.getLogger(__name__)

STOPPING = web.AppKey("fleetline_api_stopping", asyncio.Event)
DEFAULT_KEEPALIVE = 15.0
_HTTP_REASONS = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def build_app(facade: HubFacade, tokens: ApiTokenStore, *, metrics_registries: Iterable[CollectorRegistry] = (),
              extra_routes: Iterable[web.RouteDef] = (), sse_keepalive: float = DEFAULT_KEEPALIVE,
              api_metrics: ApiMetrics | None = None) -> web.Application:
    """The API over `facade` and `tokens`. `/metrics` renders `metrics_registries` then the API's own registry;
    `extra_routes` (e.g. the Git webhook) are mounted as they are, behind the same authentication (the webhook's
    path is public: it checks its own HMAC). The web dashboard (`/` and `/ui/...`, hub.dashboard) is mounted too,
    public: the page holds no data and reads the API with the user's token."""
    metrics = api_metrics or ApiMetrics()
    stopping = asyncio.Event()
    handlers = Handlers(facade, tokens, openapi=openapi_bytes(),
                        registries=(*metrics_registries, metrics.registry), keepalive=sse_keepalive,
                        stopping=stopping)
    routes = handlers.routes()
    roles = {(route.method, route.path): route.role for route in routes}
    roles.update({("GET", path): None for path in DASHBOARD_PATHS})  # the web page holds no data: no token
    app = web.Application(middlewares=[_metrics_middleware(metrics), _error_middleware(facade, metrics),
                                       auth_middleware(tokens, roles)])
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
    app.add_routes(list(extra_routes))
    app.add_routes(dashboard_routes())
    app[STOPPING] = stopping

    async def end_streams(_app: web.Application) -> None:
        stopping.set()

    app.on_shutdown.append(end_streams)
    return app


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _metrics_middleware(metrics: ApiMetrics) -> web.middleware:
    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        route = _route_name(request)
        metrics.requests.labels(request.method, route, str(response.status)).inc()
        if isinstance(response, web.Response):
            metrics.latency.labels(route).observe(time.perf_counter() - started)
        return response

    return measure


def _error_middleware(facade: HubFacade, metrics: ApiMetrics) -> web.middleware:
    @web.middleware
    async def render_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            if exc.status in (401, 403):
                await _audit_refusal(facade, metrics, request, exc)
            return web.json_response(exc.body(), status=exc.status)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return web.json_response({"error": _http_message(request, exc),
                                      "reason": _HTTP_REASONS.get(exc.status, "http_error")}, status=exc.status)
        except Exception:
            log.exception("event=api_internal_error method=%s path=%s", request.method, request.path)
            return web.json_response({"error": "internal error: the hub's log has the details", "reason": "internal"},
                                     status=500)

    return render_errors


async def _audit_refusal(facade: HubFacade, metrics: ApiMetrics, request: web.Request, exc: ApiError) -> None:
    caller = request.get(CALLER)
    actor = caller.name if caller is not None else request.get(REFUSED_ACTOR)
    metrics.refused.labels(exc.reason).inc()
    log.info("event=api_refused actor=%s method=%s path=%s status=%d reason=%s", actor, request.method,
             request.path, exc.status, exc.reason)
    try:
        await facade.audit_refused(actor, request.method, request.path, exc.status, exc.reason)
    except Exception:
        log.exception("event=api_refusal_not_audited method=%s path=%s", request.method, request.path)


def _http_message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"no route {request.method} {request.path}: /api/v1/openapi.json lists the routes"
    if exc.status == 405:
        allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ()) or ()))
        return f"{request.path} does not take {request.method}; it takes {allowed}"
    if exc.status == 413:
        return "the request body is too large"
    return exc.text or exc.reason
