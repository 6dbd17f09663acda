"""The pipeline's HTTP routes, mounted on the hub's REST API (hub.api.build_app's extra routes): the Git
webhook (its own HMAC, no token) and `GET /api/v1/pipeline` (a viewer token): the source (URL, staleness,
revisions), refused commits, environments (revision, bad applications with their errors), rollouts (step, phase,
what they wait on, why they halted), releases held by sync windows and approvals pending.
"""

from __future__ import annotations

from aiohttp import web

from hub.pipeline.runner import SourcePipeline


def pipeline_routes(source: SourcePipeline) -> list[web.RouteDef]:
    async def state(_request: web.Request) -> web.Response:
        return web.json_response(source.describe())

    return [web.get("/api/v1/pipeline", state), *source.routes()]
