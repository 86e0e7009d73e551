"""The agent console in a real browser (Debian's chromium) on the real stack: a customer
asks for a person over REST, an agent answers from the console, the customer reads it."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import add_agent, answer, chromium_page, messages_of, post

pytestmark = pytest.mark.e2e

MARKUP = "<script>alert(1)</script><b>hi</b>"
HEBREW = "שלום, החבילה שלי עדיין לא הגיעה ואני מחכה כבר שבועיים"
REPLY = "Thanks, looking into it"


@pytest.fixture(scope="module")
def agent(stack) -> tuple[str, str]:
    """A console agent of its own (other modules add agents to the same database)."""
    name = f"Console {uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(18)
    add_agent(stack, name, "en", password=password)
    return name, password


@pytest.fixture(scope="module")
def browser_page():
    with chromium_page(locale="en-US", viewport={"width": 1400, "height": 1000}) as page:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.dialogs = dialogs
        yield page


def test_agent_answers_a_customer_from_the_console(
    stack, translator, inbox, agent, browser_page, tmp_path_factory
):
    page = browser_page
    name, password = agent
    page.goto(f"{stack.bot_url}/console")
    page.fill("#login-name", name)
    page.fill("#login-password", "not the password")
    page.click("#login-submit")
    # (No wait_for_function: the page's Content-Security-Policy forbids eval, as it should.)
    expect(page.locator("#login-error")).to_have_text("wrong name or password")

    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_selector('#conn[data-state="live"]')
    assert name in page.inner_text("#whoami")

    # A customer asks for a person over REST, then writes markup and Hebrew.
    sender = f"console-{uuid.uuid4().hex[:10]}"
    ticket = post(stack.bot_url, {"sender": sender, "text": "/human"})["handoff"]["ticket"]
    post(stack.bot_url, {"sender": sender, "text": MARKUP})
    assert post(stack.bot_url, {"sender": sender, "text": HEBREW})["language"] == "he"

    # It shows up without a reload.
    card = page.locator(f'#queue .ticket[data-id="{ticket}"]')
    card.wait_for(timeout=15_000)
    assert sender in card.inner_text()
    card.click()
    expect(page.locator("#transcript .msg .text", has_text=HEBREW)).to_have_count(1)
    if page.is_enabled("#claim"):  # else the queue already routed it to this online agent
        page.click("#claim")
    page.wait_for_selector('#ticket-status[data-mine="true"]')
    assert page.inner_text("#claim") == "Yours"

    # Customer text is text: no element, no script, no dialog.
    customer_texts = page.locator("#transcript .msg.from-customer .text").all_inner_texts()
    assert MARKUP in customer_texts
    assert page.locator("#transcript script, #transcript b").count() == 0
    assert page.dialogs == []

    # Hebrew runs right to left, with the translation for the agent beside it.
    hebrew = page.locator("#transcript .msg.from-customer", has_text=HEBREW)
    expect(hebrew.locator(".text")).to_have_css("direction", "rtl")
    assert hebrew.get_attribute("lang") == "he" and hebrew.get_attribute("dir") == "auto"
    assert hebrew.locator(".translation").inner_text() == f"[en] {HEBREW}"

    # The translator is down: nothing is sent, the agent reads why, the text stays.
    translator.mode, translator.fail_n = "fail_n", 100
    try:
        page.fill("#reply-input", REPLY)
        page.press("#reply-input", "Enter")
        expect(page.locator("#reply-error")).to_contain_text("translator is unavailable")
        assert page.input_value("#reply-input") == REPLY
    finally:
        translator.mode, translator.fail_n = "ok", 0
    earlier = hebrew.locator(".text").element_handle()
    page.press("#reply-input", "Enter")
    page.wait_for_selector("#transcript .msg.from-agent")
    assert earlier.evaluate("n => n.isConnected"), "a new message leaves the others in place"
    assert page.input_value("#reply-input") == ""
    assert page.inner_text("#reply-error") == ""
    sent = page.locator("#transcript .msg.from-agent")
    assert sent.locator(".original").inner_text() == REPLY
    assert sent.locator(".text").inner_text() == f"[he] {REPLY}"

    # The customer receives it in Hebrew.
    from_agent = [m for m in messages_of(stack, sender) if m["from"] == "agent"]
    assert [m["text"] for m in from_agent] == [f"[he] {REPLY}"]
    assert from_agent[0]["language"] == "he"

    # A private note, and the canned replies are there to pick from. The ticket is drawn
    # again, the transcript's nodes stay (an agent's text selection with them).
    shown = page.locator("#transcript .msg.from-agent .text").element_handle()
    page.fill("#note-input", "Carrier says the parcel left Haifa on Monday.")
    page.click("#note-add")
    expect(page.locator("#notes .note-text")).to_have_text(
        ["Carrier says the parcel left Haifa on Monday."]
    )
    assert shown.evaluate("n => n.isConnected")
    assert page.locator("#canned option").count() > 1
    assert all(m["from"] != "agent" or REPLY in m["text"] for m in messages_of(stack, sender))

    # The conversation moves to e-mail: the customer gets a mail that carries its reference.
    expect(page.locator("#email-form")).to_be_visible()
    before = len(inbox.mails)
    page.fill("#email-address", "dana@example.co.il")
    page.click("#email-continue")
    expect(page.locator("#email-done")).to_contain_text("dana@example.co.il")
    assert page.inner_text("#email-error") == ""
    for _ in range(100):  # the SMTP server runs in its own thread
        if len(inbox.mails) > before:
            break
        page.wait_for_timeout(100)
    mail = inbox.mails[before]
    assert mail["To"] == "dana@example.co.il" and mail["Reply-To"], mail

    screenshot = Path(tmp_path_factory.mktemp("screens")) / "console.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0
    print(f"console screenshot: {screenshot}")

    page.click("#resolve")
    page.wait_for_selector('#ticket-status[data-status="resolved"]')
    page.wait_for_selector(  # under "Recently resolved", collapsed
        f'#queue .ticket[data-id="{ticket}"][data-status="resolved"]', state="attached"
    )
    assert page.is_disabled("#reply-input")

    # Back with the bot, which asks for a rating.
    last = messages_of(stack, sender)[-1]
    assert last["from"] == "bot"
    assert last["text"] == answer("utter_csat_ask", "he")
    assert page.dialogs == []
