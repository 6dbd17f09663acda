"""The API's routes: one handler per route of docs/api.md, and the table of routes with the role each needs.

Handlers read and check the request (hub.api.validation), check the caller's scope (hub.api.scope), call the
facade, and wrap its answer in the documented envelope. They never touch the pipeline, sessions or store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from hub.api.auth import CALLER
from hub.api.errors import BadRequest, Conflict, Forbidden, NotFound
from hub.api.facade import AuditQuery, HubFacade, PromoteRequest
from hub.api.scope import Scope, describe_scope
from hub.api.stream import serve_events
from hub.api.tokens import ApiTokenStore, Token, TokenError, TokenNameTaken
from hub.api.validation import Field, check_query, query_choice, query_int, query_text, query_time, read_body

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
APP_PATH = "/api/v1/clusters/{cluster}/applications/{application}"
ROLLOUT_PATH = "/api/v1/rollouts/{environment}/{application}"
REPORT_FORMATS = ("json", "csv", "html")
REPORT_TYPES = {"csv": "text/csv", "html": "text/html"}
AUDIT_LIMIT_MAX = 10_000


@dataclass(frozen=True)
class Route:
    """A route: method, path template, handler, and the role it needs (None: public, no token)."""

    method: str
    path: str
    handler: Handler
    role: str | None


class Handlers:
    """The route handlers over one facade and token store."""

    def __init__(self, facade: HubFacade, tokens: ApiTokenStore, *, openapi: bytes,
                 registries: tuple[CollectorRegistry, ...], keepalive: float, stopping: asyncio.Event) -> None:
        self.facade = facade
        self.tokens = tokens
        self.openapi = openapi
        self.registries = registries
        self.keepalive = keepalive
        self.stopping = stopping

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/healthz", self.healthz, None),
            Route("GET", "/readyz", self.readyz, None),
            Route("GET", "/metrics", self.metrics, None),
            Route("GET", "/api/v1/openapi.json", self.openapi_document, None),
            Route("GET", "/api/v1/whoami", self.whoami, "viewer"),
            Route("GET", "/api/v1/fleet", self.fleet, "viewer"),
            Route("GET", "/api/v1/clusters/{cluster}", self.cluster, "viewer"),
            Route("GET", APP_PATH, self.application, "viewer"),
            Route("GET", APP_PATH + "/diff", self.diff, "viewer"),
            Route("POST", APP_PATH + "/sync", self.sync, "operator"),
            Route("GET", APP_PATH + "/history", self.history, "viewer"),
            Route("GET", "/api/v1/approvals", self.approvals, "viewer"),
            Route("POST", "/api/v1/approvals", self.approve, "operator"),
            Route("GET", "/api/v1/rollouts", self.rollouts, "viewer"),
            Route("POST", ROLLOUT_PATH + "/resume", self.resume, "operator"),
            Route("POST", ROLLOUT_PATH + "/abort", self.abort, "operator"),
            Route("POST", "/api/v1/rollback", self.rollback, "operator"),
            Route("POST", "/api/v1/promote", self.promote, "operator"),
            Route("GET", "/api/v1/audit", self.audit, "viewer"),
            Route("GET", "/api/v1/audit/verify", self.audit_verify, "viewer"),
            Route("GET", "/api/v1/audit/report", self.audit_report, "viewer"),
            Route("GET", "/api/v1/events", self.events, "viewer"),
            Route("POST", "/api/v1/tokens", self.create_token, "admin"),
            Route("GET", "/api/v1/tokens", self.list_tokens, "admin"),
            Route("DELETE", "/api/v1/tokens/{name}", self.revoke_token, "admin"),
        ]

    def _scope(self, request: web.Request) -> Scope:
        return Scope(self.facade, request[CALLER])

    # ---- public --------------------------------------------------------------------------------------------

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _request: web.Request) -> web.Response:
        missing = await self.facade.ready()
        if missing:
            return web.json_response({"error": "not ready: " + "; ".join(missing), "reason": "not_ready",
                                      "not_ready": missing}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics(self, _request: web.Request) -> web.Response:
        body = b"".join(generate_latest(registry) for registry in self.registries)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def openapi_document(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.openapi, content_type="application/json")

    # ---- fleet, clusters, applications ---------------------------------------------------------------------

    async def whoami(self, request: web.Request) -> web.Response:
        check_query(request, ())
        token: Token = request[CALLER]
        return web.json_response({"name": token.name, "role": token.role, "regions": list(token.regions),
                                  "environments": list(token.environments)})

    async def fleet(self, request: web.Request) -> web.Response:
        check_query(request, ())
        clusters = await self._scope(request).filter(await self.facade.fleet())
        regions: dict[str, list[dict]] = {}
        for summary in sorted(clusters, key=lambda c: (str(c.get("region")), str(c.get("name")))):
            regions.setdefault(summary.get("region"), []).append(summary)
        return web.json_response({"regions": [{"name": name, "clusters": members}
                                              for name, members in regions.items()]})

    async def cluster(self, request: web.Request) -> web.Response:
        cluster = request.match_info["cluster"]
        await self._scope(request).require_cluster(cluster)
        return web.json_response(await self.facade.cluster(cluster))

    async def application(self, request: web.Request) -> web.Response:
        cluster, application = await self._cluster_app(request)
        return web.json_response(await self.facade.application(cluster, application))

    async def diff(self, request: web.Request) -> web.Response:
        cluster, application = await self._cluster_app(request)
        return web.json_response(await self.facade.diff(cluster, application))

    async def history(self, request: web.Request) -> web.Response:
        cluster, application = await self._cluster_app(request)
        return web.json_response({"entries": await self.facade.history(cluster, application)})

    async def sync(self, request: web.Request) -> web.Response:
        cluster, application = await self._cluster_app(request)
        body = await read_body(request, [Field("revision", required=False), Field("prune", "boolean", False)])
        accepted = await self.facade.sync(cluster, application, body.get("revision"), body.get("prune"),
                                          request[CALLER].name)
        return web.json_response(accepted, status=202)

    async def _cluster_app(self, request: web.Request) -> tuple[str, str]:
        cluster = request.match_info["cluster"]
        await self._scope(request).require_cluster(cluster)
        return cluster, request.match_info["application"]

    # ---- approvals and rollouts ----------------------------------------------------------------------------

    async def approvals(self, request: web.Request) -> web.Response:
        check_query(request, ())
        return web.json_response({"pending": await self._scope(request).filter(await self.facade.pending_approvals())})

    async def approve(self, request: web.Request) -> web.Response:
        body = await read_body(request, [Field("environment"), Field("application"), Field("revision"),
                                         Field("region", required=False)])
        scope = self._scope(request)
        token = scope.token
        if not token.environment_in_scope(body["environment"]):
            raise Forbidden(f"{describe_scope(token)}; environment {body['environment']!r} is not in it: use a "
                            "token whose scope includes it", "out_of_scope")
        region = body.get("region")
        if token.regions and region is None:
            raise Forbidden(f"{describe_scope(token)}: a region-scoped approval counts for one region only; name "
                            f'it in the body ("region": "{token.regions[0]}")', "region_required")
        if region is not None:
            scope.require_region(region)
        result = await self.facade.approve(body["environment"], body["application"], body["revision"], token.name,
                                           region)
        return web.json_response(result)

    async def rollouts(self, request: web.Request) -> web.Response:
        check_query(request, ())
        return web.json_response({"rollouts": await self._scope(request).filter(await self.facade.rollouts())})

    async def resume(self, request: web.Request) -> web.Response:
        environment, application = await self._rollout(request)
        return web.json_response(await self.facade.resume(environment, application, request[CALLER].name))

    async def abort(self, request: web.Request) -> web.Response:
        environment, application = await self._rollout(request)
        return web.json_response(await self.facade.abort(environment, application, request[CALLER].name))

    async def _rollout(self, request: web.Request) -> tuple[str, str]:
        environment = request.match_info["environment"]
        await read_body(request, [])
        await self._scope(request).require_environment(environment)
        return environment, request.match_info["application"]

    # ---- Git operations ------------------------------------------------------------------------------------

    async def rollback(self, request: web.Request) -> web.Response:
        body = await read_body(request, [Field("application"), Field("cluster", required=False),
                                         Field("environment", required=False), Field("reason")])
        cluster, environment = body.get("cluster"), body.get("environment")
        if (cluster is None) == (environment is None):
            raise BadRequest('name exactly one of "cluster" (roll back one cluster) or "environment" (the whole '
                             "environment) in the request body", "invalid_field")
        scope = self._scope(request)
        if cluster is not None:
            await scope.require_cluster(cluster)
        else:
            await scope.require_environment(environment)
        result = await self.facade.rollback(body["application"], cluster=cluster, environment=environment,
                                            reason=body["reason"], actor=request[CALLER].name)
        return web.json_response(result)

    async def promote(self, request: web.Request) -> web.Response:
        body = await read_body(request, [Field("environment"), Field("overlay"), Field("image"), Field("tag"),
                                         Field("model_version"), Field("configmap", required=False),
                                         Field("key", required=False)])
        await self._scope(request).require_environment(body["environment"])
        result = await self.facade.promote(PromoteRequest(**body), request[CALLER].name)
        return web.json_response(result)

    # ---- audit ---------------------------------------------------------------------------------------------

    async def audit(self, request: web.Request) -> web.Response:
        check_query(request, ("region", "cluster", "kind", "since", "until", "limit"))
        scope = self._scope(request)
        region, cluster = query_text(request, "region"), query_text(request, "cluster")
        if region is not None:
            scope.require_region(region)
        elif len(scope.token.regions) == 1:
            region = scope.token.regions[0]
        if cluster is not None:
            await scope.require_cluster(cluster)
        since, until = _period(request, since_required=False)
        query = AuditQuery(region=region, cluster=cluster, kind=query_text(request, "kind"), since=since,
                           until=until, limit=query_int(request, "limit", 100, 1, AUDIT_LIMIT_MAX))
        return web.json_response({"entries": await scope.filter(await self.facade.audit_query(query))})

    async def audit_verify(self, request: web.Request) -> web.Response:
        check_query(request, ())
        return web.json_response(await self.facade.audit_verify())

    async def audit_report(self, request: web.Request) -> web.Response:
        check_query(request, ("region", "since", "until", "format"))
        scope = self._scope(request)
        if scope.token.environments:
            raise Forbidden(f"{describe_scope(scope.token)}: a report covers every environment of a region; it "
                            "needs a token without an environment scope", "out_of_scope")
        region = scope.default_region(query_text(request, "region"), "a report")
        if region is None:
            raise BadRequest("missing query parameter 'region': a report covers one region (region=eu)",
                             "missing_parameter")
        since, until = _period(request, since_required=True)
        assert since is not None  # required above
        fmt = query_choice(request, "format", REPORT_FORMATS, "json")
        report = await self.facade.audit_report(region, since, until, fmt)
        if fmt == "json":
            return web.json_response(report)
        name = f"fleetline-audit-{region}-{since:%Y-%m-%d}.{fmt}"
        return web.Response(text=str(report), content_type=REPORT_TYPES[fmt], charset="utf-8",
                            headers={"Content-Disposition": f'inline; filename="{name}"'})

    # ---- events --------------------------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        check_query(request, ())
        return await serve_events(request, self._scope(request), self.keepalive, self.stopping)

    # ---- tokens --------------------------------------------------------------------------------------------

    async def create_token(self, request: web.Request) -> web.Response:
        body = await read_body(request, [Field("name"), Field("role"), Field("regions", "strings", False),
                                         Field("environments", "strings", False)])
        caller: Token = request[CALLER]
        wanted = Token(body["name"], body["role"], tuple(body.get("regions", ())),
                       tuple(body.get("environments", ())))
        _require_within(caller, wanted, "create")
        try:
            secret = await asyncio.to_thread(self.tokens.create, wanted.name, wanted.role, wanted.regions,
                                             wanted.environments)
        except TokenNameTaken as exc:
            raise Conflict(str(exc), "name_taken") from None
        except TokenError as exc:
            raise BadRequest(str(exc), "invalid_field") from None
        listing = self.tokens.get(wanted.name).to_json()  # type: ignore[union-attr]
        await self.facade.audit_token(caller.name, "created", listing)
        return web.json_response({"token": secret, **listing}, status=201)

    async def list_tokens(self, request: web.Request) -> web.Response:
        check_query(request, ())
        caller: Token = request[CALLER]
        tokens = await asyncio.to_thread(self.tokens.all_tokens)
        return web.json_response({"tokens": [t.to_json() for t in tokens if _within(caller, t)]})

    async def revoke_token(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        caller: Token = request[CALLER]
        token = self.tokens.get(name)
        if token is None:
            raise NotFound(f"no token named {name!r}: GET /api/v1/tokens lists them", "unknown_token_name")
        _require_within(caller, token, "revoke")
        revoked = await asyncio.to_thread(self.tokens.revoke, name)
        await self.facade.audit_token(caller.name, "revoked", revoked.to_json())
        return web.json_response(revoked.to_json())


def _period(request: web.Request, *, since_required: bool) -> tuple[datetime | None, datetime | None]:
    since = query_time(request, "since", required=since_required)
    until = query_time(request, "until")
    if since is not None and until is not None and until <= since:
        raise BadRequest(f"until ({request.query['until']}) must be after since ({request.query['since']})",
                         "invalid_parameter")
    return since, until


def _within(caller: Token, token: Token) -> bool:
    """Whether `token`'s scope lies inside `caller`'s (a scoped admin manages only tokens as narrow as its own)."""
    regions_ok = not caller.regions or (bool(token.regions) and set(token.regions) <= set(caller.regions))
    environments_ok = not caller.environments or (bool(token.environments)
                                                  and set(token.environments) <= set(caller.environments))
    return regions_ok and environments_ok


def _require_within(caller: Token, token: Token, verb: str) -> None:
    if not _within(caller, token):
        raise Forbidden(f"{describe_scope(caller)}: it can {verb} only tokens whose regions and environments lie "
                        "inside its own scope", "out_of_scope")
