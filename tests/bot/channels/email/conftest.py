"""The e-mail tests' SMTP server (aiosmtpd on loopback, receiving what Tolk sends) and the
handoff team fixtures (tests/bot/handoff/conftest.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from tests.bot.handoff.conftest import team, translator  # noqa: F401
from tests.mail_server import Inbox, smtp_inbox

PORT = 17301
TOKEN = "inbound-token-0123456789"


@pytest.fixture
def inbox():
    with smtp_inbox(PORT) as box:
        yield box


@pytest.fixture
def handoff_settings(settings):
    return replace(
        settings,
        smtp_url=f"smtp://127.0.0.1:{PORT}?starttls=0",
        email_from="support@shop.example",
        email_inbound_token=TOKEN,
    )


async def wait_for(inbox: Inbox, count: int) -> None:
    for _ in range(200):  # bounded by count; the SMTP server runs in its own thread
        if len(inbox.mails) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} mails, got {len(inbox.mails)}")
