"""The agent's HTTP port (`fleetline agent --metrics-port`): `/metrics`, `/healthz` and `/readyz`.

Owns what the probes mean; the Helm chart points its liveness probe at `/healthz` and its readiness probe at
`/readyz`.

- `/healthz` (liveness) answers 200 whenever the process and its event loop are alive: the handler itself runs
  on the loop that runs the session, the watches' consumers and the reconciler, so a wedged loop makes the
  probe time out. It checks nothing else, so that a slow API server or an absent hub never gets the agent
  restarted (a restart would only lose its in-memory backoffs).
- `/readyz` (readiness) answers 200 when the agent can do its job in this cluster: it has connected to the
  cluster's API (discovery read, the CRD watch and the cluster-wide Pod watch listed: its caches are loaded)
  and the API server answers `GET /version` now (checked at most every `api_check_interval` seconds, a
  `api_timeout` each). Otherwise 503 with the reason. **The hub is deliberately not part of readiness**: an
  agent keeps applying its cached desired state, healing drift and queueing events while the hub is away, so
  it is doing its job; the hub session's state is reported in the body (`hub`) for people, not for the probe.

Bodies are JSON: `/healthz` `{"status": "ok"}`; `/readyz` `{"status": "ok"|"unready", "reason": "...", "hub":
"connected"|"connecting"|"disconnected"|"stopped"}`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from agent.cluster import ClusterError


@dataclass
class Verdict:
    """One readiness answer."""

    ready: bool
    reason: str


class Readiness:
    """Decides `/readyz` (see the module docstring). `connected` says whether the agent has connected to the
    cluster's API; `ping` asks the API server now (raises ClusterError or OSError when it does not answer);
    `hub_state` names the hub session's state for the body."""

    def __init__(self, connected: Callable[[], bool], ping: Callable[[float], Awaitable[object]],
                 hub_state: Callable[[], str], *, api_check_interval: float = 5.0, api_timeout: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._connected = connected
        self._ping = ping
        self.hub_state = hub_state
        self.api_check_interval = api_check_interval
        self.api_timeout = api_timeout
        self._clock = clock
        self._last: tuple[float, Verdict] | None = None
        self._lock = asyncio.Lock()  # concurrent probes share one API request

    async def check(self) -> Verdict:
        if not self._connected():
            return Verdict(False, "connecting to the cluster's API (discovery, CRD and Pod watches not ready yet)")
        async with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last[0] < self.api_check_interval:
                return self._last[1]
            verdict = await self._ask_api()
            self._last = (self._clock(), verdict)
            return verdict

    async def _ask_api(self) -> Verdict:
        try:
            await asyncio.wait_for(self._ping(self.api_timeout), self.api_timeout + 1.0)
        except (ClusterError, OSError) as exc:
            return Verdict(False, f"the cluster's API does not answer: {exc}")
        except TimeoutError:
            return Verdict(False, f"the cluster's API did not answer GET /version within {self.api_timeout:g}s")
        return Verdict(True, "connected to the cluster's API")


def build_app(registry: CollectorRegistry, readiness: Readiness | None = None) -> web.Application:
    """`/metrics` from `registry`; `/healthz` always; `/readyz` when `readiness` is given."""

    async def metrics(_request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        assert readiness is not None
        verdict = await readiness.check()
        body = {"status": "ok" if verdict.ready else "unready", "reason": verdict.reason,
                "hub": readiness.hub_state()}
        return web.json_response(body, status=200 if verdict.ready else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    if readiness is not None:
        app.router.add_get("/readyz", readyz)
    return app


async def serve(app: web.Application, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """Start `app` on `host:port` (port 0 picks a free one: `runner.addresses` says which)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
