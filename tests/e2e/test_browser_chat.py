"""The web chat in a real browser (Debian's chromium driven by Playwright) on the real stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import answer, chromium_page
from tests.texts import first_contact

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def page():
    with chromium_page(locale="fa-IR") as page:
        yield page


def send(page, text: str, expect_bot_messages: int) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.msg.from-bot').length >= n", arg=expect_bot_messages
    )


def test_persian_customer_chats_right_to_left(stack, page, tmp_path_factory):
    page.goto(f"{stack.bot_url}/")
    send(page, "سلام، ارسال چند روز طول میکشه؟", expect_bot_messages=2)

    bot_texts = page.locator(".msg.from-bot .text").all_inner_texts()
    assert bot_texts[0] == first_contact("utter_disclosure", "fa", translator=True)
    assert bot_texts[1] == answer("utter_faq/shipping_time", "fa")
    directions = page.eval_on_selector_all(
        ".msg .text", "nodes => nodes.map(n => getComputedStyle(n).direction)"
    )
    assert set(directions) == {"rtl"}
    assert page.locator(".msg.from-bot").first.get_attribute("lang") == "fa"

    screenshot = Path(tmp_path_factory.mktemp("screens")) / "webchat-fa.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0


def test_customer_markup_is_shown_as_text(stack, page):
    send(page, "<script>window.pwned = 1</script><b>bold?</b>", expect_bot_messages=3)
    customer = page.locator(".msg.from-customer .text").last.inner_text()
    assert customer == "<script>window.pwned = 1</script><b>bold?</b>"
    assert page.evaluate("window.pwned") is None
    assert page.locator(".msg b").count() == 0


def test_the_talk_to_a_person_button_hands_over(stack, page):
    page.goto(f"{stack.bot_url}/")  # same browser cookie: the conversation continues
    page.wait_for_selector(".msg.from-customer")
    before = page.locator(".msg.from-bot").count()
    page.click("#human")
    page.wait_for_function("n => document.querySelectorAll('.msg.from-bot').length > n", arg=before)
    assert (
        answer("utter_handoff_request", "fa")
        in page.locator(".msg.from-bot .text").all_inner_texts()
    )


def test_the_page_keeps_to_its_content_security_policy(stack, page):
    """The strict policy (bot/page_policy.py) lets the page's own script and style run and
    refuses everything else: chromium reports no violation, and the style is applied."""
    # A fresh page in the module's browser: Playwright's sync API runs one driver per thread.
    fresh = page.context.browser.new_page(color_scheme="light")
    try:
        refused: list[str] = []
        fresh.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        fresh.goto(f"{stack.bot_url}/")
        send(fresh, "hello", expect_bot_messages=2)  # the script runs
        accent = fresh.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
        assert accent == "#0b57d0"  # the style applies
        assert refused == []
    finally:
        fresh.close()
