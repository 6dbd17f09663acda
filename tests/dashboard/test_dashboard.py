"""The dashboard's acceptance (issue 8) in Debian's Chromium against a real hub with agents on kubesim clusters in
three regions (tests/dashboard/conftest.py): logging in to a Synced and Healthy fleet, a kubectl drift seen live
on the card and in the feed (its field manager, then healed), the diff of an OutOfSync application and a Sync,
a production release approved by an operator (its diff with the values before and after; a viewer and an
out-of-scope operator get no button), an agent that stops shown disconnected at once, a rollout halted by a
crash-looping image, the page reconnecting by itself across a hub restart, the audit view, a phone
width and the keyboard. Every wait is a condition with a deadline (playwright's `expect`), every test saves a
screenshot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.dashboard.conftest import CLUSTERS, PROD, REGIONS, ThreeRegions, login

LIVE = 2_000  # ms: a change in a cluster shows on an open page within this, without a reload
SETTLE = 60_000  # ms: a commit's rollout step, a sync, the agents redialling after a restart


def short(revision: str) -> str:
    return revision[:7]


def card(page: Any, cluster: str) -> Any:
    return page.get_by_test_id(f"cluster-card-{cluster}")


async def expect_converged(page: Any, revision: str | None = None, timeout: float = SETTLE) -> None:
    for cluster in CLUSTERS:
        element = card(page, cluster)
        await expect(element).to_have_attribute("data-connected", "true", timeout=timeout)
        await expect(element).to_have_attribute("data-sync", "Synced", timeout=timeout)
        await expect(element).to_have_attribute("data-health", "Healthy", timeout=timeout)
        if revision is not None:
            await expect(element.locator(".rev")).to_contain_text(short(revision), timeout=timeout)


async def test_login_shows_the_three_regions_synced_and_healthy(three_regions: ThreeRegions, browser_page,
                                                                 screenshot, page_errors: list[str]) -> None:
    page = browser_page
    await page.goto(three_regions.url + "/")
    await page.get_by_test_id("login-token").fill("flt_not-a-real-token")
    await page.get_by_test_id("login-submit").click()
    await expect(page.locator("#login-error")).to_contain_text("refused", timeout=5_000)

    await login(page, three_regions.url, three_regions.tokens["viewer"])
    for region in REGIONS:
        await expect(page.get_by_test_id(f"region-{region}")).to_be_visible()
    for cluster, (region, _environment) in CLUSTERS.items():
        await expect(page.get_by_test_id(f"region-{region}").get_by_test_id(f"cluster-card-{cluster}")).to_be_visible()
    await expect_converged(page, three_regions.revision)
    # badges carry a word, not only a colour; the card names the commit
    first = card(page, "eu-west-1")
    await expect(first).to_contain_text("Connected")
    await expect(first).to_contain_text("Synced")
    await expect(first).to_contain_text("Healthy")
    await expect(first).to_contain_text("inference: model-server v1")
    await expect(page.locator("#app-matrix")).to_contain_text(short(three_regions.revision))
    await expect(page.get_by_test_id("connection-banner")).to_be_hidden()
    await screenshot(page, "dashboard-fleet")

    # a filter narrows the regions, and lives in the URL
    await page.locator("#f-region").select_option("eu")
    await expect(page.get_by_test_id("region-us-east")).to_have_count(0)
    await expect(card(page, "eu-west-1")).to_be_visible()
    assert "region=eu" in page.url
    await page.locator("#f-region").select_option("")

    await page.get_by_test_id("logout").click()
    await expect(page.get_by_test_id("login-token")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('fleetline.token')") is None
    assert not [e for e in page_errors if e.startswith("pageerror")], page_errors


async def test_a_kubectl_drift_shows_live_with_its_field_manager_then_healed(three_regions: ThreeRegions, open_page,
                                                                            screenshot) -> None:
    fleet, feed = await open_page(), await open_page()
    for page in (fleet, feed):
        await login(page, three_regions.url, three_regions.tokens["viewer"])
    await feed.get_by_test_id("nav-drift").click()
    await expect(feed.get_by_test_id("drift-feed")).to_be_visible()
    await expect_converged(fleet)

    await three_regions.kubectl("staging-1", "-n", "ml", "set", "image", "deployment/inference",
                                "server=model-server:hotfix")
    drift = card(fleet, "staging-1").get_by_test_id("card-drift")
    await expect(drift).to_contain_text("kubectl-set", timeout=LIVE)
    item = feed.get_by_test_id("drift-item").and_(feed.locator('[data-cluster="staging-1"]')).first
    await expect(item).to_contain_text("kubectl-set", timeout=LIVE)
    await expect(item).to_contain_text("model-server:hotfix")
    await expect(item).to_contain_text("image")
    assert "inference" in (await item.get_attribute("data-object") or "")
    # inference self-heals on staging: both pages show it healed, with the time it took
    await expect(item).to_have_attribute("data-state", "healed", timeout=10_000)
    await expect(item).to_contain_text(re.compile(r"Healed after \d+ ms"))
    await expect(drift).to_have_attribute("data-state", "healed", timeout=10_000)
    await expect(card(fleet, "staging-1")).to_have_attribute("data-sync", "Synced", timeout=10_000)
    await screenshot(feed, "dashboard-drift-feed")
    await screenshot(fleet, "dashboard-drift-card")


async def test_the_diff_of_an_out_of_sync_application_shows_the_field_and_sync_fixes_it(
        three_regions: ThreeRegions, open_page, screenshot) -> None:
    viewer, operator = await open_page(), await open_page()
    await login(viewer, three_regions.url, three_regions.tokens["viewer"])
    await login(operator, three_regions.url, three_regions.tokens["operator"])
    # model-registry is automated without selfHeal: the change stays, OutOfSync
    await three_regions.kubectl("staging-1", "-n", "registry", "set", "image", "deployment/model-registry",
                                "registry=registry-server:edited")
    await expect(card(operator, "staging-1")).to_have_attribute("data-sync", "OutOfSync", timeout=10_000)
    await operator.goto(three_regions.url + "/#/cluster/staging-1/app/model-registry")
    diff = operator.get_by_test_id("app-diff")
    row = diff.locator("tr", has_text="registry-server:edited")
    await expect(row).to_be_visible(timeout=10_000)
    await expect(row).to_contain_text("image")
    await expect(row).to_contain_text("registry-server:1.0")  # Git's value beside the live one
    await expect(row).to_contain_text("kubectl-set")
    await expect(operator.locator("#app-resources")).to_contain_text("Deployment")
    await expect(operator.locator("#app-timeline")).to_contain_text("Drift on")
    await screenshot(operator, "dashboard-app-diff")

    # a viewer reads the same diff but is offered no button
    await viewer.goto(three_regions.url + "/#/cluster/staging-1/app/model-registry")
    await expect(viewer.get_by_test_id("app-diff").locator("tr", has_text="registry-server:edited")).to_be_visible()
    await expect(viewer.get_by_test_id("sync-button")).to_have_count(0)
    await expect(viewer.get_by_test_id("rollback-button")).to_have_count(0)

    # the operator syncs: Git's value is back, the diff empties, the card is Synced
    await operator.get_by_test_id("sync-button").click()
    await expect(operator.locator("#action-result")).to_contain_text("Sync requested", timeout=10_000)
    await expect(diff).to_contain_text("No differences", timeout=30_000)
    await operator.get_by_test_id("nav-fleet").click()
    await expect(card(operator, "staging-1")).to_have_attribute("data-sync", "Synced", timeout=30_000)
    image = await three_regions.kubectl("staging-1", "-n", "registry", "get", "deployment", "model-registry", "-o",
                                        "jsonpath={.spec.template.spec.containers[0].image}")
    assert image.stdout == "registry-server:1.0"


async def test_a_production_change_waits_for_an_operator_approval(three_regions: ThreeRegions, open_page,
                                                                  screenshot) -> None:
    operator, viewer, eu_operator = await open_page(), await open_page(), await open_page()
    await login(operator, three_regions.url, three_regions.tokens["operator"])
    await login(viewer, three_regions.url, three_regions.tokens["viewer"])
    await login(eu_operator, three_regions.url, three_regions.tokens["eu-operator"])
    for page in (operator, viewer, eu_operator):
        await page.get_by_test_id("nav-approvals").click()

    revision = await three_regions.commit_image("v2", "inference: model-server v2")
    canary = PROD[0]
    item = operator.get_by_test_id("approval-item").and_(operator.locator(f'[data-cluster="{canary}"]'))
    await expect(item).to_be_visible(timeout=SETTLE)
    await expect(item).to_have_attribute("data-app", "inference")
    await expect(item).to_contain_text(short(revision))
    await expect(item).to_contain_text("inference: model-server v2")
    await expect(item).to_contain_text("0 of 1")
    # the agent holds v2 but waits: the diff shows each field the release changes, from what runs to what waits
    change = item.get_by_test_id("pending-diff").locator("tr", has_text="/image")
    await expect(change).to_be_visible(timeout=10_000)
    await expect(change.locator(".diff-val.live")).to_have_text("model-server:v1")
    await expect(change.locator(".diff-val.desired")).to_have_text("model-server:v2")
    await expect(item).to_contain_text(f"the cluster runs {short(three_regions.revision)}")
    await expect(operator.locator("#approvals-count")).to_have_text("1")

    # the viewer sees the release but no button; the eu operator does not see us-west's release at all
    viewer_item = viewer.get_by_test_id("approval-item").and_(viewer.locator(f'[data-cluster="{canary}"]'))
    await expect(viewer_item).to_be_visible(timeout=10_000)
    await expect(viewer.get_by_test_id("approve-button")).to_have_count(0)
    await expect(eu_operator.get_by_test_id("approvals-list")).to_contain_text("Nothing waits")
    await expect(eu_operator.get_by_test_id("approve-button")).to_have_count(0)
    await screenshot(operator, "dashboard-approvals")
    # the application's own diff view shows the same release with its values (the viewer, read-only)
    await viewer.goto(f"{three_regions.url}/#/cluster/{canary}/app/inference")
    pending = viewer.get_by_test_id("app-diff").get_by_test_id("pending-diff")
    await expect(pending).to_have_attribute("data-revision", revision, timeout=10_000)
    await expect(pending).to_contain_text("waiting for approval")
    await expect(pending.locator("tr", has_text="/image").locator(".diff-val.desired")).to_have_text(
        "model-server:v2")
    # the eu operator's token sees the commit subject of what eu runs (its audit reads are scoped to eu)
    await eu_operator.get_by_test_id("nav-fleet").click()
    await expect(card(eu_operator, "eu-west-1")).to_contain_text("inference: model-server v1", timeout=10_000)

    await item.get_by_test_id("approve-button").click()
    await expect(operator.get_by_test_id("approvals-list")).not_to_contain_text(canary, timeout=SETTLE)
    approved = operator.get_by_test_id("approved-item").and_(operator.locator(f'[data-cluster="{canary}"]'))
    await expect(approved).to_contain_text("synced to this revision", timeout=SETTLE)
    await operator.get_by_test_id("nav-fleet").click()
    canary_card = card(operator, canary)
    await expect(canary_card.locator(".rev")).to_contain_text(short(revision), timeout=SETTLE)
    await expect(canary_card).to_have_attribute("data-sync", "Synced", timeout=SETTLE)
    await expect(canary_card).to_have_attribute("data-health", "Healthy", timeout=SETTLE)
    await screenshot(operator, "dashboard-approved")
    status, body = await three_regions.api("GET", "/api/v1/audit?kind=approval")
    assert status == 200 and any(e["actor"] == "operator" and e["revision"] == revision for e in body["entries"])


async def test_a_rollout_halts_on_a_crash_looping_image_and_shows_why(three_regions: ThreeRegions, open_page,
                                                                     screenshot) -> None:
    operator, viewer = await open_page(), await open_page()
    await login(operator, three_regions.url, three_regions.tokens["operator"])
    await login(viewer, three_regions.url, three_regions.tokens["viewer"])
    for page in (operator, viewer):
        await page.get_by_test_id("nav-rollouts").click()
    revision = await three_regions.commit_image("v2-crash", "inference: model-server v2 (crashes)")

    # staging is the first step: its cluster crash-loops, so staging's rollout halts there and prod never starts
    rollout = operator.get_by_test_id("rollout-item").and_(
        operator.locator('[data-app="inference"][data-environment="staging"]'))
    await expect(rollout).to_contain_text(short(revision), timeout=SETTLE)
    await expect(rollout).to_have_attribute("data-state", "Halted", timeout=SETTLE)
    reason = rollout.get_by_test_id("rollout-halted-reason")
    await expect(reason).to_be_visible()
    await expect(reason).to_contain_text("staging-1")
    assert len((await reason.inner_text()).strip()) > len("Halted: staging-1")
    await expect(rollout.locator(".step").first).to_contain_text("staging-1")
    await expect(rollout.get_by_test_id("resume-button")).to_be_visible()
    # the viewer sees the same halt without buttons
    viewer_rollout = viewer.get_by_test_id("rollout-item").and_(
        viewer.locator('[data-app="inference"][data-environment="staging"]'))
    await expect(viewer_rollout).to_have_attribute("data-state", "Halted", timeout=10_000)
    await expect(viewer_rollout.get_by_test_id("rollout-halted-reason")).to_be_visible()
    await expect(viewer.get_by_test_id("resume-button")).to_have_count(0)
    await expect(viewer.get_by_test_id("abort-button")).to_have_count(0)
    await operator.get_by_test_id("nav-fleet").click()
    await expect(card(operator, "staging-1")).to_have_attribute("data-health", "Degraded", timeout=10_000)
    await operator.get_by_test_id("nav-rollouts").click()
    await expect(rollout.get_by_test_id("rollout-halted-reason")).to_be_visible()
    await screenshot(operator, "dashboard-rollout-halted")


async def test_the_page_reconnects_by_itself_after_the_hub_restarts(three_regions: ThreeRegions, browser_page,
                                                                   screenshot) -> None:
    page = browser_page
    await login(page, three_regions.url, three_regions.tokens["viewer"])
    await expect_converged(page)
    banner = page.get_by_test_id("connection-banner")
    await expect(banner).to_be_hidden()

    await three_regions.stop_hub()
    await expect(banner).to_be_visible(timeout=10_000)
    await expect(banner).to_contain_text("Reconnecting")
    await screenshot(page, "dashboard-reconnecting")
    await three_regions.start_hub()
    await expect(banner).to_be_hidden(timeout=30_000)
    await expect_converged(page)
    # the stream is live again: a new drift shows without a reload
    await three_regions.wait_for(lambda: three_regions.converged(), timeout=30, message="agents back")
    await three_regions.kubectl("staging-1", "-n", "ml", "set", "image", "deployment/inference",
                                "server=model-server:after-restart")
    await expect(card(page, "staging-1").get_by_test_id("card-drift")).to_contain_text("kubectl-set", timeout=10_000)
    assert await page.evaluate("sessionStorage.getItem('fleetline.token')") == three_regions.tokens["viewer"]
    await screenshot(page, "dashboard-reconnected")


async def test_a_stopped_agent_shows_disconnected_on_its_card_at_once(three_regions: ThreeRegions, browser_page,
                                                                     screenshot) -> None:
    page = browser_page
    await login(page, three_regions.url, three_regions.tokens["viewer"])
    await expect_converged(page)
    # the recorder has seen every session (it looks at the registry every half second): wait for its audit entries
    await three_regions.wait_for(lambda: _connected_in_audit(three_regions), timeout=10,
                                 message="every agent_connected in the audit log")
    three_regions.stack.agents["eu-west-1"].stop()
    eu = card(page, "eu-west-1")
    # well before the page's 30 s fleet refresh: the stream says so
    await expect(eu).to_have_attribute("data-connected", "false", timeout=5_000)
    await expect(eu).to_contain_text("Disconnected")
    await expect(card(page, "us-east-1")).to_have_attribute("data-connected", "true")
    await screenshot(page, "dashboard-agent-disconnected")


async def _connected_in_audit(three_regions: ThreeRegions) -> bool:
    status, body = await three_regions.api("GET", "/api/v1/audit?kind=agent_connected&limit=100")
    assert status == 200, body
    return set(CLUSTERS) <= {e["cluster"] for e in body["entries"]}


async def test_the_audit_view_verifies_the_chain_and_exports_the_region_report(three_regions: ThreeRegions,
                                                                              browser_page, screenshot) -> None:
    page = browser_page
    await login(page, three_regions.url, three_regions.tokens["viewer"])
    await page.get_by_test_id("nav-audit").click()
    state = page.get_by_test_id("audit-verify-state")
    await expect(state).to_have_attribute("data-ok", "true", timeout=10_000)
    await expect(state).to_contain_text("verified")
    await page.locator("#a-region").select_option("eu")
    await page.get_by_test_id("audit-show").click()
    report = page.get_by_test_id("audit-report")
    await expect(report).to_contain_text("Region eu", timeout=10_000)
    await expect(report).to_contain_text(short(three_regions.revision))
    approved = report.locator("tr", has_text=short(three_regions.revision)).filter(has_text="admin")  # prod's approver
    await expect(approved.first).to_be_visible()
    async with page.expect_download() as download_info:
        await page.get_by_test_id("audit-export-csv").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("fleetline-audit-eu-") and download.suggested_filename.endswith(
        ".csv")
    text = Path(await download.path()).read_text(encoding="utf-8")
    assert three_regions.revision[:12] in text or short(three_regions.revision) in text
    await screenshot(page, "dashboard-audit", full_page=True)


async def test_phone_width_and_keyboard(three_regions: ThreeRegions, open_page, screenshot) -> None:
    page = await open_page(width=390, height=844)
    await login(page, three_regions.url, three_regions.tokens["operator"])
    await expect_converged(page)
    # regions stack in one column, and nothing but the wide tables' own boxes scrolls sideways
    boxes = [await page.get_by_test_id(f"region-{region}").bounding_box() for region in REGIONS]
    assert len({round(box["x"]) for box in boxes}) == 1, boxes
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await screenshot(page, "dashboard-phone")

    # the keyboard reaches the views through real links, with a visible focus
    desk = await open_page()
    await login(desk, three_regions.url, three_regions.tokens["operator"])
    for _ in range(20):
        await desk.keyboard.press("Tab")
        if await desk.evaluate("document.activeElement.dataset.testid") == "nav-drift":
            break
    else:
        raise AssertionError("Tab never reached the Drift link")
    outline = await desk.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    await desk.keyboard.press("Enter")
    await expect(desk.get_by_test_id("drift-feed")).to_be_visible()
    assert desk.url.endswith("#/drift")
