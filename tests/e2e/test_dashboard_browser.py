"""The leads' dashboard in a real browser (Debian's chromium) on the real stack: it loads,
its charts are drawn, and a filter changes both the figures and the charts."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import add_agent, chromium_page, post

pytestmark = pytest.mark.e2e

VOLUME = "Volume: messages / sessions"


def volume_shown(page) -> str:
    row = page.locator("#dash-table tbody tr", has_text=VOLUME)
    return row.locator("td.value").inner_text()


def charts_drawn(page) -> list[int]:
    """The natural width of each chart image (0 for one that did not load)."""
    return page.locator("#dash-charts img").evaluate_all(
        "images => images.map(image => image.complete ? image.naturalWidth : 0)"
    )


def test_the_dashboard_shows_figures_and_charts_and_filters_them(stack, tmp_path_factory):
    name = f"Lead {uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(18)
    add_agent(stack, name, "en", password=password, lead=True)
    run = uuid.uuid4().hex[:8]
    post(stack.bot_url, {"sender": f"dash-en-{run}", "text": "where is my parcel?"})
    dutch = post(stack.bot_url, {"sender": f"dash-nl-{run}", "text": "waar blijft mijn pakket?"})
    assert dutch["language"] == "nl"

    with chromium_page(locale="en-US", viewport={"width": 1400, "height": 1000}) as page:
        page.goto(f"{stack.bot_url}/console")
        page.fill("#login-name", name)
        page.fill("#login-password", password)
        page.click("#login-submit")
        page.wait_for_selector('#conn[data-state="live"]')

        page.click("#dashboard-toggle")
        expect(page.locator("#dash-table tbody tr", has_text=VOLUME)).to_have_count(1)
        expect(page.locator("#dash-charts img")).to_have_count(4)
        page.locator("#dash-charts img").last.scroll_into_view_if_needed()
        expect(page.locator("#dash-period")).to_contain_text("UTC")
        everything = volume_shown(page)
        page.wait_for_timeout(1500)  # the charts are drawn by the server
        assert all(width > 0 for width in charts_drawn(page)), charts_drawn(page)
        first_chart = page.locator("#dash-charts img").nth(1).get_attribute("src")

        page.select_option("#dash-language", "nl")
        expect(page.locator("#dash-period")).to_contain_text("language nl")
        assert volume_shown(page) != everything
        assert "language=nl" in page.locator("#dash-charts img").nth(1).get_attribute("src")
        assert page.locator("#dash-charts img").nth(1).get_attribute("src") != first_chart
        assert "language=nl" in page.get_attribute("#dash-csv", "href")
        page.wait_for_timeout(1500)
        assert all(width > 0 for width in charts_drawn(page)), charts_drawn(page)

        screenshot = Path(tmp_path_factory.mktemp("screens")) / "dashboard.png"
        page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 0
        print(f"dashboard screenshot: {screenshot}")
