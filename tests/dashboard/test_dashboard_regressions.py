"""Regressions of the dashboard's review findings, in Debian's Chromium against the real page and REST API
(`hub.api.app.build_app`) over the API tests' fake facade (tests/hub/api/fakes.py), which publishes stream items
on demand: approvals read once per pipeline change (not forever), the skip link, a fleet filter keeping focus,
agent drift data that is not what it should be, a malformed address at login, what logout forgets, Resume/Abort
and audit reports only where the hub allows them. Every wait is a condition with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import expect

from hub.api.app import build_app
from hub.api.tokens import ApiTokenStore
from tests.hub.api.fakes import FakeFacade

# name -> (role, regions, environments)
TOKENS = {"operator": ("operator", (), ()), "eu-operator": ("operator", ("eu",), ()),
          "staging-operator": ("operator", (), ("staging",))}
WAIT = 10_000  # ms


class RegressionFacade(FakeFacade):
    """The fake fleet with one halted prod rollout whose steps name only eu's cluster (prod also has us-east)."""

    async def rollouts(self) -> list[dict]:
        return [{"environment": "prod", "application": "inference", "revision": "4f2a9c1",
                 "previous_revision": "1b2c3d4", "phase": "Halted", "step": 0, "waiting_on": "",
                 "halted_reason": "eu-1 Degraded", "released": ["eu-1"], "rolled_back": [], "steps": [["eu-1"]]}]


@dataclass
class LightHub:
    url: str
    facade: RegressionFacade
    tokens: dict[str, str]


@pytest.fixture
async def light_hub(tmp_path: Path) -> AsyncIterator[LightHub]:
    store = ApiTokenStore.in_data_dir(tmp_path, fsync=False)
    tokens = {name: store.create(name, role, regions, envs) for name, (role, regions, envs) in TOKENS.items()}
    facade = RegressionFacade()
    runner = web.AppRunner(build_app(facade, store, sse_keepalive=0.2))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield LightHub(f"http://127.0.0.1:{port}", facade, tokens)
    finally:
        facade.end_streams()
        await runner.cleanup()


async def wait_until(predicate: Callable[[], Any], message: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(0.05)


async def log_in(page: Any, hub: LightHub, name: str, address: str = "/") -> None:
    await page.goto(hub.url + address)
    await page.get_by_test_id("login-token").fill(hub.tokens[name])
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("nav-fleet").wait_for(state="visible", timeout=WAIT)


async def fleet_shown(page: Any) -> None:
    await expect(page.locator("main h1")).to_have_text("Fleet", timeout=WAIT)
    await expect(page.get_by_test_id("cluster-card-eu-1")).to_be_visible(timeout=WAIT)


def no_page_errors(page_errors: list[str]) -> None:
    assert not [e for e in page_errors if e.startswith("pageerror")], page_errors


async def test_one_pipeline_change_reads_the_approvals_a_bounded_number_of_times(light_hub: LightHub,
                                                                                   browser_page: Any) -> None:
    page = browser_page
    reads: list[float] = []
    page.on("request", lambda request: reads.append(time.monotonic())
            if request.url.endswith("/api/v1/approvals") and request.method == "GET" else None)
    await log_in(page, light_hub, "operator")
    await fleet_shown(page)
    await wait_until(lambda: light_hub.facade.subscribers >= 1, "the page's event stream")
    before = len(reads)
    light_hub.facade.publish("pipeline", {"kind": "approved", "environment": "prod", "application": "inference"})
    await wait_until(lambda: len(reads) > before, "the approvals read again after the pipeline change")
    # watch a few seconds: the read must not schedule itself again (it did every ~300 ms)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        assert len(reads) - before <= 2, f"{len(reads) - before} reads of /api/v1/approvals after one change"
        await asyncio.sleep(0.1)


async def test_the_skip_link_focuses_main_and_keeps_the_view(light_hub: LightHub, browser_page: Any) -> None:
    page = browser_page
    await log_in(page, light_hub, "operator")
    await fleet_shown(page)
    await page.get_by_test_id("nav-drift").click()
    await expect(page.locator("main h1")).to_have_text("Drift", timeout=WAIT)
    await page.evaluate("document.querySelector('main h1').dataset.mark = 'kept'")
    await page.locator("a.skip").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'main'", timeout=WAIT)
    await expect(page.locator("main h1")).to_have_attribute("data-mark", "kept")
    assert await page.evaluate("location.hash") == "#/drift"


async def test_a_fleet_filter_keeps_the_focus_on_its_select(light_hub: LightHub, browser_page: Any) -> None:
    page = browser_page
    await log_in(page, light_hub, "operator")
    await fleet_shown(page)
    region = page.locator("#f-region")
    await region.focus()
    await page.evaluate("document.getElementById('f-region').dataset.mark = 'same'")
    await region.select_option("eu")
    await expect(page.get_by_test_id("region-us-east")).to_have_count(0, timeout=WAIT)
    await expect(page.get_by_test_id("cluster-card-eu-1")).to_be_visible()
    focused = await page.evaluate("[document.activeElement.id, document.activeElement.dataset.mark || '']")
    assert focused == ["f-region", "same"], focused
    assert "region=eu" in page.url


async def test_odd_drift_data_from_an_agent_is_neither_markup_nor_a_crash(light_hub: LightHub, browser_page: Any,
                                                                          page_errors: list[str]) -> None:
    page = browser_page
    await log_in(page, light_hub, "operator")
    await fleet_shown(page)
    await wait_until(lambda: light_hub.facade.subscribers >= 1, "the page's event stream")
    light_hub.facade.publish("event", {
        "type": "DRIFT_DETECTED", "cluster": "eu-1", "application": "inference", "object": "Deployment ml/inference",
        "fields": [None, "spec.replicas", {"path": "spec.replicas", "desired": 3, "live": 5, "manager": "kubectl"}],
        "more_fields": '<img id="injected" src="/ui/favicon.svg">', "managers": ["kubectl"], "self_heal": False})
    drift = page.get_by_test_id("cluster-card-eu-1").get_by_test_id("card-drift")
    await expect(drift).to_contain_text("spec.replicas", timeout=WAIT)
    await page.get_by_test_id("nav-drift").click()
    item = page.get_by_test_id("drift-item").filter(has_text="Deployment ml/inference")
    await expect(item).to_contain_text("kubectl", timeout=WAIT)
    await expect(page.locator("#injected")).to_have_count(0)
    await expect(item).not_to_contain_text("more fields")
    no_page_errors(page_errors)


async def test_a_malformed_address_at_login_shows_the_fleet_and_one_stream(light_hub: LightHub, browser_page: Any,
                                                                          page_errors: list[str]) -> None:
    page = browser_page
    await log_in(page, light_hub, "operator", "/#/cluster/%E0%A4%A")
    await fleet_shown(page)
    assert await page.evaluate("location.hash") == "#/fleet"
    await wait_until(lambda: light_hub.facade.subscribers == 1, "exactly one event stream")
    await page.get_by_test_id("logout").click()
    await expect(page.get_by_test_id("login-token")).to_be_visible(timeout=WAIT)
    await page.get_by_test_id("login-token").fill(light_hub.tokens["operator"])
    await page.get_by_test_id("login-submit").click()
    await fleet_shown(page)
    await wait_until(lambda: light_hub.facade.subscribers == 1, "one event stream after logging in again")
    no_page_errors(page_errors)


async def test_logout_forgets_what_was_approved_here(light_hub: LightHub, browser_page: Any) -> None:
    page = browser_page
    await log_in(page, light_hub, "operator")
    await page.get_by_test_id("nav-approvals").click()
    first = page.locator('[data-testid="approval-item"][data-cluster="eu-1"]')
    await expect(first.get_by_test_id("approve-button")).to_be_visible(timeout=WAIT)
    await first.get_by_test_id("approve-button").click()
    await expect(page.locator("#approved-section")).to_be_visible(timeout=WAIT)
    await expect(page.get_by_test_id("approved-item")).to_have_count(1)
    await page.get_by_test_id("logout").click()
    await page.get_by_test_id("login-token").fill(light_hub.tokens["operator"])
    await page.get_by_test_id("login-submit").click()
    await expect(page.locator("main h1")).to_have_text("Approvals", timeout=WAIT)  # the address kept the view
    await expect(page.get_by_test_id("approval-item").first).to_be_visible(timeout=WAIT)
    await expect(page.locator("#approved-section")).to_be_hidden()
    await expect(page.get_by_test_id("approved-item")).to_have_count(0)


async def test_resume_is_offered_only_to_tokens_without_a_region_scope(light_hub: LightHub, open_page: Any) -> None:
    scoped = await open_page()
    await log_in(scoped, light_hub, "eu-operator")
    await scoped.get_by_test_id("nav-rollouts").click()
    rollout = scoped.get_by_test_id("rollout-item")
    await expect(rollout).to_have_attribute("data-state", "Halted", timeout=WAIT)
    await expect(rollout.get_by_test_id("rollout-scope-note")).to_be_visible()
    await expect(rollout.get_by_test_id("resume-button")).to_have_count(0)
    whole = await open_page()
    await log_in(whole, light_hub, "operator")
    await whole.get_by_test_id("nav-rollouts").click()
    await expect(whole.get_by_test_id("rollout-item").get_by_test_id("resume-button")).to_be_visible(timeout=WAIT)


async def test_an_environment_scoped_token_is_told_why_it_gets_no_report(light_hub: LightHub,
                                                                         browser_page: Any) -> None:
    page = browser_page
    await log_in(page, light_hub, "staging-operator")
    await page.get_by_test_id("nav-audit").click()
    await expect(page.get_by_test_id("audit-report-unavailable")).to_contain_text("staging", timeout=WAIT)
    await expect(page.get_by_test_id("audit-verify-state")).to_have_attribute("data-ok", "true", timeout=WAIT)
    await expect(page.get_by_test_id("audit-show")).to_have_count(0)
    await expect(page.get_by_test_id("audit-export-json")).to_have_count(0)
