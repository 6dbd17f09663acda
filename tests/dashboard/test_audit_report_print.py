"""The HTML compliance report (`fleetline audit report -o html`) as an auditor sees it: opened in Chromium it
reads top down with its summary first, and printed to PDF it keeps every section, on A4, with no content cut
at the right edge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hub.store.report import report
from hub.store.report_html import render_html
from hub.store.sqlite import SqliteStore
from tests.hub.store.conftest import at, two_regions

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


async def test_the_html_report_reads_in_a_browser_and_prints_whole(
        tmp_path: Path, open_page: Callable[..., Awaitable[Any]], screenshot: Callable[..., Awaitable[Path]],
        page_errors: list[str]) -> None:
    store = SqliteStore.open(tmp_path)
    try:
        two_regions(store)
        eu = report(store, "eu", at(1, 0), at(31, 0))
    finally:
        store.close()
    page_file = tmp_path / "eu-report.html"
    page_file.write_text(render_html(eu), encoding="utf-8")

    page = await open_page()
    await page.goto(page_file.as_uri())
    await screenshot(page, "audit-report-html")
    headings = await page.locator("h1, h2").all_inner_texts()
    assert headings[0] == "Compliance report: region eu", headings
    assert "Summary" in headings[1], headings  # the answer first, then the evidence
    body = await page.locator("body").inner_text()
    assert "The audit log is intact." in body and "eu-1" in body and "kubectl-edit" in body
    # nothing wider than the window at 1280 px: a reader never scrolls sideways
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")

    await page.emulate_media(media="print")
    for heading in headings:  # the print stylesheet hides no section
        assert await page.get_by_role("heading", name=heading, exact=True).first.is_visible(), heading
    pdf = await page.pdf(format="A4", print_background=False)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pdf.startswith(b"%PDF") and pages >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "audit-report.pdf").write_bytes(pdf)
    # at A4's printable width (about 718 CSS px at 96 dpi with Chromium's default margins) nothing overflows
    await page.set_viewport_size({"width": 718, "height": 1000})
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert not page_errors, page_errors
