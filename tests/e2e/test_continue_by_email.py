""" "Send me this by e-mail" end to end: the real NLU reads the request, the form asks for
an address when the message has none, the action signals the gateway, and the mail
reaches the SMTP server on loopback with the bot's answers (tests/e2e/conftest.py inbox)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.conftest import post
from tests.texts import said

pytestmark = pytest.mark.e2e


def texts(body: dict) -> list[str]:
    return [m["text"] for m in body["messages"]]


def mail_to(inbox, address: str, before: int):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for mail in inbox.mails[before:]:
            if mail["To"] == address:
                return mail
        time.sleep(0.05)
    raise AssertionError(f"no mail to {address} among {len(inbox.mails) - before} new mails")


def test_a_persian_customer_is_asked_for_the_address_and_gets_the_answer_by_mail(stack, inbox):
    sender = f"mail-fa-{uuid.uuid4().hex[:6]}"
    faq = post(stack.bot_url, {"sender": sender, "text": "هزینه‌ی ارسال چقدره؟"})
    answer = texts(faq)[-1]
    asked = post(stack.bot_url, {"sender": sender, "text": "میشه این جواب رو برام ایمیل کنی؟"})
    assert texts(asked)[-1] == said("utter_ask_continue_by_email_form_email", "fa")
    before = len(inbox.mails)
    done = post(stack.bot_url, {"sender": sender, "text": "ایمیلم sara.k@example.com هست"})
    assert texts(done)[-1] == said("utter_email_continued", "fa", email="sara.k@example.com")
    mail = mail_to(inbox, "sara.k@example.com", before)
    assert answer in mail.get_content()
    assert "گفتگوی شما" in mail["Subject"]


def test_a_dutch_customer_names_the_address_in_the_request(stack, inbox):
    sender = f"mail-nl-{uuid.uuid4().hex[:6]}"
    post(stack.bot_url, {"sender": sender, "text": "hoe lang duurt de levering?"})
    before = len(inbox.mails)
    done = post(
        stack.bot_url,
        {"sender": sender, "text": "mail dit even naar noor.bakker@example.nl, ik lees het later"},
    )
    assert texts(done)[-1] == said("utter_email_continued", "nl", email="noor.bakker@example.nl")
    assert "Uw gesprek" in mail_to(inbox, "noor.bakker@example.nl", before)["Subject"]


def test_an_invoice_by_mail_is_still_the_invoice_request(stack):
    sender = f"mail-inv-{uuid.uuid4().hex[:6]}"
    body = post(stack.bot_url, {"sender": sender, "text": "can you email me the invoice please"})
    assert texts(body)[-1] == said("utter_ask_order_number", "en")
