"""The pipeline's HTTP side on the hub: the Git webhook and a read-only view of the pipeline's state.

`GET /api/v1/pipeline` answers the source (URL, staleness, revisions), refused commits, environments (revision,
bad applications with their errors), rollouts (step, phase, what they wait on, why they halted), releases held
by sync windows and approvals pending. Acting on the pipeline (approvals, resume, rollback, promotion) comes
with the operator API and its scoped tokens; until then those are in-process calls only.
"""

from __future__ import annotations

from aiohttp import web

from hub.pipeline.runner import SourcePipeline


def pipeline_routes(source: SourcePipeline) -> list[web.RouteDef]:
    async def state(_request: web.Request) -> web.Response:
        return web.json_response(source.describe())

    return [web.get("/api/v1/pipeline", state), *source.routes()]


async def serve_http(source: SourcePipeline, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `pipeline_routes` on host:port (0: a free port); the runner (for cleanup) and the bound port."""
    app = web.Application()
    app.add_routes(pipeline_routes(source))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
    return runner, sockets[0].getsockname()[1] if sockets else port
