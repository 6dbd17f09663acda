"""The hub's operator side, started beside the session server by `fleetline hub --repo`: store, pipeline and
Git source, recorder (audit log, metrics, notifications, live stream) and the REST API on one HTTP port.

`start_operator(handle, ...)` returns an `OperatorHub` whose `stop()` ends them in reverse order. Everything
shares one Prometheus registry (the session layer's) plus the Git source's, served at `/metrics` of the API
port with `/healthz`, `/readyz`, the webhook and `/api/v1/...`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from hub.api.app import build_app
from hub.api.tokens import ApiTokenStore
from hub.metrics import FleetMetrics
from hub.notify import Notifier, NotifyMetrics, load_config
from hub.operator.facade import LiveFacade
from hub.operator.recorder import Recorder
from hub.pipeline import Pipeline
from hub.pipeline.http import pipeline_routes
from hub.pipeline.runner import SourcePipeline
from hub.sessions.server import HubHandle
from hub.sessions.service import kv
from hub.source import Credentials, import_keys
from hub.store import AsyncStore

log = logging.getLogger(__name__)


@dataclass
class OperatorHub:
    """The running operator side; `port` is the HTTP port it serves the API on."""

    store: AsyncStore
    pipeline: Pipeline
    source: SourcePipeline
    recorder: Recorder
    facade: LiveFacade
    notifier: Notifier | None
    runner: web.AppRunner
    port: int

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.source.stop()
        await self.pipeline.stop()
        await self.recorder.stop()
        if self.notifier is not None:
            await self.notifier.stop()
        await self.store.close()


async def start_operator(handle: HubHandle, data_dir: str | Path, repo: str, *, http_host: str = "127.0.0.1",
                         http_port: int = 7080, credentials: Credentials | None = None, poll_interval: float = 60.0,
                         fleet_ref: str = "HEAD", webhook_secret: bytes | None = None,
                         trusted_keys: list[str] | None = None, config: str | Path | None = None,
                         fsync: bool = True, tick: float = 1.0) -> OperatorHub:
    data_dir = Path(data_dir)
    registry = handle.hub.metrics.registry
    store = await AsyncStore.open(data_dir)
    notifier = None
    if config is not None:
        notifier = Notifier(load_config(config), data_dir, metrics=NotifyMetrics(registry))
        await notifier.start()
    pipeline = Pipeline(handle.hub, data_dir / "source" / "mirror.git", data_dir, fsync=fsync, tick=tick,
                        store=store)
    source = SourcePipeline(pipeline, data_dir, repo, credentials=credentials, interval=poll_interval,
                            fleet_ref=fleet_ref, webhook_secret=webhook_secret)
    if trusted_keys:
        import_keys(source.keyring_dir, trusted_keys)
    recorder = Recorder(handle.hub, pipeline, store, FleetMetrics(registry), notifier)
    source.watcher.on_fetch = recorder.fetched
    facade = LiveFacade(handle.hub, source, recorder)
    app = build_app(facade, ApiTokenStore.in_data_dir(data_dir),
                    metrics_registries=[registry, source.watcher.metrics.registry],
                    extra_routes=pipeline_routes(source))
    await recorder.start()
    await pipeline.start()
    await source.start()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, http_host, http_port)
    await site.start()
    sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
    port = sockets[0].getsockname()[1] if sockets else http_port
    log.info(kv(event="operator_started", repo=source.mirror.display_url, http=f"{http_host}:{port}",
                webhook=webhook_secret is not None, notifications=notifier is not None))
    return OperatorHub(store, pipeline, source, recorder, facade, notifier, runner, port)
