"""The asyncio facade: client-side QPS/burst limits hold, and a slow request never blocks the event loop."""

from __future__ import annotations

import asyncio
import time

from agent.cluster import ClusterAccess, ObjectRef
from agent.cluster.ratelimit import TokenBucket
from tests.agent.cluster.conftest import configmap, proxied_configuration
from tests.agent.cluster.proxy import Proxy
from tests.kubesim.conftest import ClusterThread

SETTINGS = ObjectRef("v1", "ConfigMap", "default", "settings")


async def test_qps_and_burst_limit_requests(sim: ClusterThread) -> None:
    async with ClusterAccess.from_kubeconfig(sim.kubeconfig_path, qps=10, burst=5) as access:
        access.limiter = TokenBucket(qps=10, burst=5)  # a full bucket: start()'s discovery spent the first one
        started = time.monotonic()
        results = await asyncio.gather(*(access.get(SETTINGS) for _ in range(20)))
        elapsed = time.monotonic() - started
    assert results == [None] * 20
    assert elapsed >= 1.4  # 5 at once, then 15 at 10 per second


async def test_requests_run_off_the_event_loop_and_in_parallel(proxy: Proxy, sim: ClusterThread) -> None:
    access = ClusterAccess.from_configuration(proxied_configuration(proxy, sim), threads=4)
    try:
        await access.start()
        await access.apply(configmap("settings", {"a": "1"}))
        proxy.delay = 0.5  # every request now takes half a second at the "server"
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        started = time.monotonic()
        objects = await asyncio.gather(*(access.get(SETTINGS) for _ in range(4)))
        elapsed = time.monotonic() - started
        ticking.cancel()
        assert all(o is not None and o["data"] == {"a": "1"} for o in objects)
        assert elapsed >= 0.5
        assert ticks >= 20  # the loop kept running while the requests waited in their threads
        assert proxy.most_delayed == 4  # the four ran side by side on the pool, not one after another
    finally:
        await access.close()
