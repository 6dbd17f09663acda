"""Dashboard performance (issue 8): the fleet view with 1,000 clusters in Debian's Chromium, and its
responsiveness under 100 events per second on the stream.

The real dashboard and REST API (`hub.api.app.build_app`, which mounts hub/dashboard) are served on loopback
over a synthetic hub (`bench/dashboard_fleet.py`: N clusters in three regions, three applications each, audit
entries naming the commits, an event stream at a set rate). Chromium is driven by playwright's async API from
/usr/bin/chromium (playwright never downloads a browser), at 1280x800, in the same process as the server.

(a) Render: each load opens a fresh context, logs in with an admin token through the form, and takes the time
from the login click to the first `performance.mark('fleetline:fleet-rendered')` after which the page holds N
cluster cards; then reloads the page (the token stays in sessionStorage) and takes the time from navigation
start to that mark. The fetch of `GET /api/v1/fleet` is reported beside (resource timing). Target: < 1 s.
(b) Live: one logged-in page on the fleet view; 5 s idle, then `--seconds` at `--rate` events/s (status reports
and drift/sync events of random clusters). Measured in the page: long tasks and long animation frames
(PerformanceObserver), gaps between animation frames, timer lateness (a 50 ms interval), and the input latency
of a click every 200 ms on a region heading (from the event's timestamp to the next animation frame after it was
handled, and Event Timing's duration). Then the stream stops and the cards of up to 200 changed clusters are
compared with the last state sent (`data-sync`/`data-health`): events must be applied, not dropped. Target:
stays responsive, taken as input latency p99 < 100 ms and no frame gap over 200 ms (RAIL's response budget),
with every sampled card current.

Prints the figures and appends them to bench/RESULTS.md (not with --quick or --no-record).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from bench.dashboard_fleet import BenchFacade  # noqa: E402
from bench.record import append, commit, ok  # noqa: E402
from hub.api.app import build_app  # noqa: E402
from hub.api.tokens import ApiTokenStore  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HEALTH_ORDER = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"]  # html.js's worstHealth

# Installed before the page's own scripts: records the marks the dashboard sets (with the number of cluster cards
# at a fleet-rendered mark), long tasks, Event Timing entries, frame gaps, timer lateness and click latency.
PROBE = """
(() => {
  const b = window.__bench = {marks: [], longtasks: [], loafs: [], eventTimings: [], gaps: [], lags: [],
                              clicks: [], recording: false, loginAt: null};
  const mark = performance.mark.bind(performance);
  performance.mark = (name, options) => {
    const entry = {name, t: performance.now(), cards: -1};
    if (name === 'fleetline:fleet-rendered')
      entry.cards = document.querySelectorAll('[data-testid^="cluster-card-"]').length;
    b.marks.push(entry);
    return mark(name, options);
  };
  const observe = (type, into, options = {}) => {
    try {
      new PerformanceObserver((list) => { if (b.recording) for (const e of list.getEntries()) into(e); })
        .observe({type, buffered: false, ...options});
    } catch (error) { /* the entry type is not supported: the figure stays empty */ }
  };
  observe('longtask', (e) => b.longtasks.push(e.duration));
  observe('long-animation-frame', (e) => b.loafs.push(e.blockingDuration));
  observe('event', (e) => { if (e.name === 'pointerdown' || e.name === 'click')
    b.eventTimings.push(e.duration); }, {durationThreshold: 16});
  let last = 0;
  const frame = (t) => { if (b.recording && last) b.gaps.push(t - last); last = t; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  let expected = performance.now() + 50;
  setInterval(() => { const now = performance.now(); if (b.recording) b.lags.push(Math.max(0, now - expected));
                      expected = now + 50; }, 50);
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('[data-testid="login-submit"]')) b.loginAt = e.timeStamp;
  }, true);
  document.addEventListener('pointerdown', (e) => {
    if (!b.recording) return;
    const at = e.timeStamp;
    requestAnimationFrame(() => b.clicks.push(performance.now() - at));
  }, true);
  b.start = () => { for (const k of ['longtasks', 'loafs', 'eventTimings', 'gaps', 'lags', 'clicks']) b[k] = [];
                    b.marks = b.marks.filter((m) => m.name !== 'fleetline:events-applied'); b.recording = true; };
  b.stop = () => { b.recording = false; };
})();
"""


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def overall_sync(values: list[str]) -> str:
    if "OutOfSync" in values:
        return "OutOfSync"
    return "Synced" if values and all(v == "Synced" for v in values) else "Unknown"


def worst_health(values: list[str]) -> str:
    return max(values, key=HEALTH_ORDER.index) if values else "Unknown"


async def serve(facade: BenchFacade, data_dir: Path) -> tuple[web.AppRunner, str, str]:
    token = ApiTokenStore.in_data_dir(data_dir).create("bench", "admin")
    runner = web.AppRunner(build_app(facade, ApiTokenStore.in_data_dir(data_dir)))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}", token


async def rendered_at(page: Any, clusters: int, after: float, timeout_ms: float = 30_000) -> float:
    """The time (page clock) of the first fleet-rendered mark after `after` with every cluster's card."""
    return await page.wait_for_function(
        """([n, after]) => { const m = window.__bench.marks.find((m) => m.name === 'fleetline:fleet-rendered'
                             && m.cards >= n && m.t >= after); return m ? m.t : null; }""",
        arg=[clusters, after], timeout=timeout_ms, polling=20)


async def login(page: Any, url: str, token: str) -> None:
    await page.goto(url + "/#/fleet")
    await page.get_by_test_id("login-token").fill(token)
    await page.get_by_test_id("login-submit").click()


async def measure_loads(browser: Any, url: str, token: str, clusters: int, loads: int) -> dict:
    login_ms: list[float] = []
    reload_ms: list[float] = []
    fetch_ms: list[float] = []
    for _ in range(loads):
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        await context.add_init_script(PROBE)
        page = await context.new_page()
        await login(page, url, token)
        clicked = await page.wait_for_function("() => window.__bench.loginAt", polling=20)
        done = await rendered_at(page, clusters, 0)
        login_ms.append(await done.json_value() - await clicked.json_value())
        await page.reload()
        done = await rendered_at(page, clusters, 0)
        reload_ms.append(await done.json_value())
        fetched = await page.evaluate("""() => performance.getEntriesByType('resource')
            .filter((e) => e.name.endsWith('/api/v1/fleet')).map((e) => e.responseEnd - e.startTime)""")
        fetch_ms.extend(fetched)
        await context.close()
    return {"login_ms": login_ms, "reload_ms": reload_ms, "fetch_ms": fetch_ms}


async def record_window(page: Any, seconds: float, click_at: tuple[float, float]) -> dict:
    """Record the probe's figures for `seconds`, clicking at `click_at` every 200 ms."""
    await page.evaluate("() => window.__bench.start()")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await page.mouse.click(*click_at)
        await asyncio.sleep(0.2)
    await page.evaluate("() => window.__bench.stop()")
    return await page.evaluate("""() => { const b = window.__bench;
        return {longtasks: b.longtasks, loafs: b.loafs, eventTimings: b.eventTimings, gaps: b.gaps, lags: b.lags,
                clicks: b.clicks,
                batches: b.marks.filter((m) => m.name === 'fleetline:events-applied').length}; }""")


async def measure_live(browser: Any, url: str, token: str, facade: BenchFacade, clusters: int, rate: float,
                       seconds: float) -> dict:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.add_init_script(PROBE)
    page = await context.new_page()
    await login(page, url, token)
    await rendered_at(page, clusters, 0)
    heading = await page.get_by_test_id("region-eu").bounding_box()
    assert heading is not None, "the fleet view shows region eu"
    click_at = (heading["x"] + 6, heading["y"] + 6)
    idle = await record_window(page, 5.0, click_at)
    sent_before = facade.sent
    facade.last_status.clear()
    facade.rate = rate
    started = time.monotonic()
    live = await record_window(page, seconds, click_at)
    facade.rate = 0
    elapsed = time.monotonic() - started
    sent = facade.sent - sent_before
    # let the last items arrive and be applied: until no batch for a second (a benchmark's settle, not a test)
    count, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < 1.0 and time.monotonic() - started < seconds + 15:
        now_count = await page.evaluate("() => window.__bench.marks.length")
        if now_count != count:
            count, quiet_since = now_count, time.monotonic()
        await asyncio.sleep(0.1)
    changed = sorted(facade.last_status)
    sample = random.Random(8).sample(changed, min(200, len(changed)))
    shown = await page.evaluate("""(names) => names.map((n) => {
        const card = document.querySelector(`[data-testid="cluster-card-${n}"]`);
        return card ? [card.dataset.sync, card.dataset.health] : null; })""", sample)
    current = sum(1 for name, got in zip(sample, shown, strict=True) if got == [
        overall_sync([s for s, _ in facade.last_status[name].values()]),
        worst_health([h for _, h in facade.last_status[name].values()])])
    await context.close()
    return {"idle": idle, "live": live, "sent": sent, "elapsed": elapsed, "sampled": len(sample),
            "current": current}


async def run(clusters: int, loads: int, rate: float, seconds: float) -> dict:
    from playwright.async_api import async_playwright

    facade = BenchFacade(clusters)
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        runner, url, token = await serve(facade, Path(tmp))
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                           headless=True)
                version = browser.version
                try:
                    loads_figures = await measure_loads(browser, url, token, clusters, loads)
                    live_figures = await measure_live(browser, url, token, facade, clusters, rate, seconds)
                finally:
                    await browser.close()
        finally:
            await runner.cleanup()
    return {"clusters": clusters, "loads": loads, "rate": rate, "seconds": seconds, "chromium": version,
            **loads_figures, **live_figures}


def summarize(f: dict) -> dict:
    live, idle = f["live"], f["idle"]
    return {
        "login_p50": statistics.median(f["login_ms"]), "login_p99": percentile(f["login_ms"], 0.99),
        "reload_p50": statistics.median(f["reload_ms"]), "reload_p99": percentile(f["reload_ms"], 0.99),
        "fetch_p50": statistics.median(f["fetch_ms"]) if f["fetch_ms"] else 0.0,
        "rate_sent": f["sent"] / f["elapsed"] if f["elapsed"] else 0.0,
        "batches": live["batches"],
        "click_p50": percentile(live["clicks"], 0.5), "click_p99": percentile(live["clicks"], 0.99),
        "clicks": len(live["clicks"]),
        "et_p99": percentile(live["eventTimings"], 0.99), "et_n": len(live["eventTimings"]),
        "gap_p99": percentile(live["gaps"], 0.99), "gap_max": max(live["gaps"], default=0.0),
        "lag_p99": percentile(live["lags"], 0.99),
        "long_n": len(live["longtasks"]), "long_ms": sum(live["longtasks"]), "long_max": max(live["longtasks"],
                                                                                               default=0.0),
        "idle_click_p99": percentile(idle["clicks"], 0.99), "idle_gap_max": max(idle["gaps"], default=0.0),
        "idle_long_n": len(idle["longtasks"]), "idle_lag_p99": percentile(idle["lags"], 0.99),
        "loaf_n": len(live["loafs"]), "loaf_blocking": sum(live["loafs"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=10, help="page loads for the render figures")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second on the stream")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the stream runs at --rate")
    parser.add_argument("--quick", action="store_true", help="100 clusters, 3 loads, 5 s of events, not recorded")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.clusters, args.loads, args.seconds, args.no_record = 100, 3, 5.0, True
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium chromium-driver)",
              file=sys.stderr)
        return 2
    load = os.getloadavg()
    figures = asyncio.run(run(args.clusters, args.loads, args.rate, args.seconds))
    s = summarize(figures)
    print({k: round(v, 1) if isinstance(v, float) else v for k, v in s.items()})
    render_ok = s["login_p99"] < 1000 and s["reload_p99"] < 1000
    responsive = s["click_p99"] < 100 and s["gap_max"] < 200
    applied = figures["current"] == figures["sampled"] and s["batches"] > 0
    n = f"{figures['clusters']:,}"
    report = (
        f"\n## dashboard: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}\n"
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, Chromium {figures['chromium']} "
        f"(Debian, headless, playwright), load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}. The real "
        f"dashboard and REST API on loopback over a synthetic hub (bench/dashboard_fleet.py: {n} clusters in 3 "
        f"regions x 3 applications), server and browser driver in one process; 1280x800. See bench/dashboard.py.\n\n"
        "| measure | figure | target |\n|---|---|---|\n"
        f"| fleet view, {n} clusters: login click -> `fleetline:fleet-rendered` with every card, "
        f"{figures['loads']} loads | p50 {s['login_p50']:.0f} ms, p99 {s['login_p99']:.0f} ms "
        f"| < 1 s ({ok(s['login_p99'] < 1000)}) |\n"
        f"| the same, page reload (navigation start -> rendered) | p50 {s['reload_p50']:.0f} ms, "
        f"p99 {s['reload_p99']:.0f} ms (GET /api/v1/fleet: p50 {s['fetch_p50']:.0f} ms of it) "
        f"| < 1 s ({ok(s['reload_p99'] < 1000)}) |\n"
        f"| {figures['rate']:.0f} events/s for {figures['seconds']:.0f} s ({figures['sent']:,} sent, "
        f"{s['rate_sent']:.0f}/s): click -> next frame, {s['clicks']} clicks | p50 {s['click_p50']:.0f} ms, "
        f"p99 {s['click_p99']:.0f} ms (idle p99 {s['idle_click_p99']:.0f} ms; Event Timing p99 "
        f"{s['et_p99']:.0f} ms over {s['et_n']} entries >= 16 ms) | p99 < 100 ms ({ok(s['click_p99'] < 100)}) |\n"
        f"| the same: main thread | frame gaps p99 {s['gap_p99']:.0f} ms, max {s['gap_max']:.0f} ms "
        f"(idle max {s['idle_gap_max']:.0f} ms); long tasks {s['long_n']} ({s['long_ms']:.0f} ms in all, "
        f"longest {s['long_max']:.0f} ms; idle {s['idle_long_n']}); long animation frames {s['loaf_n']} "
        f"(blocking {s['loaf_blocking']:.0f} ms in all); a 50 ms timer late p99 {s['lag_p99']:.0f} ms "
        f"(idle {s['idle_lag_p99']:.0f} ms) "
        f"| no gap > 200 ms ({ok(s['gap_max'] < 200)}) |\n"
        f"| the same: events applied | {s['batches']} batches (`fleetline:events-applied`); "
        f"{figures['current']}/{figures['sampled']} sampled changed cards show the last state sent "
        f"| all ({ok(applied)}) |\n"
        f"\nVerdict: render {ok(render_ok)}, responsive {ok(responsive)}, applied {ok(applied)}.\n")
    print(report)
    if not args.no_record:
        append(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
