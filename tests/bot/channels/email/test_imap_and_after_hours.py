"""Replies read by IMAP polling (a stand-in IMAP4rev1 server on a real socket) and the
after-hours address put to use when a person writes back."""

from __future__ import annotations

import time
from dataclasses import replace
from email.message import EmailMessage

import pytest

from bot.appkeys import CHANNELS
from bot.channels.email.channel import EmailChannel
from bot.channels.email.imap import ImapPoller
from bot.channels.email.urls import parse_imap_url
from tests.bot.channels.email.conftest import PORT, wait_for
from tests.bot.channels.email.imap_server import ImapStandIn
from tests.bot.handoff.conftest import escalate


@pytest.fixture
async def imap():
    server = ImapStandIn("support@shop.example", "s3cret pass")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def handoff_settings(settings):
    return replace(
        settings,
        smtp_url=f"smtp://127.0.0.1:{PORT}?starttls=0",
        email_from="Shop <support@shop.example>",
    )


def _channel(team) -> EmailChannel:
    return next(c for c in team.client.app[CHANNELS] if isinstance(c, EmailChannel))


def _reply(to_mail, sender: str, text: str, message_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to_mail["Reply-To"]
    mail["Subject"] = f"Re: {to_mail['Subject']}"
    mail["Message-ID"] = message_id
    mail["In-Reply-To"] = to_mail["Message-ID"]
    mail["References"] = to_mail["Message-ID"]
    mail.set_content(text)
    return mail.as_bytes()


async def test_a_hebrew_reply_read_by_imap_lands_in_the_conversation(team, fake_rasa, inbox, imap):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    escalate(fake_rasa, "request", "request_human")
    ticket_id = (await team.say("he1", "אני רוצה לדבר עם נציג"))["handoff"]["ticket"]
    status, _ = await team.call(
        "POST", f"/tickets/{ticket_id}/email", emma, json={"address": "dana@example.org"}
    )
    assert status == 201
    await wait_for(inbox, 1)
    first = inbox.mails[0]

    started = time.perf_counter()
    text = "החבילה שלי לא הגיעה"
    uid = imap.add(
        _reply(first, "Dana <dana@example.org>", f"{text}\n\nOn Tue, Tolk wrote:\n> old", "<d1@x>")
    )
    stranger = imap.add(_reply(first, "eve@example.net", "let me in", "<e1@x>"))
    url = f"imap://support%40shop.example:s3cret%20pass@127.0.0.1:{imap.port}/INBOX"
    poller = ImapPoller(parse_imap_url(url), _channel(team).threads, _channel(team).receive_raw)
    assert await poller.poll() == 2
    print(f"IMAP poll to stored: {(time.perf_counter() - started) * 1000:.0f} ms")

    status, ticket = await team.call("GET", f"/tickets/{ticket_id}", emma)
    last = ticket["transcript"][-1]
    assert last["from"] == "customer" and last["text"] == text
    assert last["translation"] == f"[en] {text}"
    assert imap.seen(uid) and imap.seen(stranger)  # seen once handled (stored or refused)
    assert any("BODY.PEEK[]" in c for c in imap.commands), "fetching must not mark it read"
    # The UIDs are remembered: nothing is read twice.
    assert await poller.poll() == 0

    status, _ = await team.call(
        "POST", f"/tickets/{ticket_id}/messages", emma, json={"text": "It ships today."}
    )
    assert status == 201
    await wait_for(inbox, 2)
    assert "[he] It ships today." in inbox.mails[1].get_content()
    assert inbox.mails[1]["In-Reply-To"] == "<d1@x>"


async def test_a_failed_store_leaves_the_mail_unread_for_the_next_poll(team, imap):
    imap.add(b"From: a@b.org\r\nSubject: x\r\n\r\nhi\r\n")
    url = f"imap://support%40shop.example:s3cret%20pass@127.0.0.1:{imap.port}/INBOX"
    calls = []

    async def failing(raw: bytes):
        calls.append(raw)
        raise RuntimeError("database down")

    poller = ImapPoller(parse_imap_url(url), _channel(team).threads, failing)
    with pytest.raises(RuntimeError):
        await poller.poll()
    assert not imap.seen(1)
    poller.handle = _channel(team).receive_raw
    assert await poller.poll() == 1 and imap.seen(1)
    assert len(calls) == 1


async def test_the_after_hours_address_gets_the_agents_reply(team, fake_rasa, inbox):
    body = await team.say("fa2", "/human", language="fa")
    ticket_id = body["handoff"]["ticket"]
    await team.say("fa2", "ایمیل من sara@example.org است")
    assert not inbox.mails, "nothing is sent before a person writes"

    emma = await team.add("Emma", "en")
    await team.online(emma)
    status, _ = await team.call("POST", f"/tickets/{ticket_id}/claim", emma)
    assert status == 200
    status, _ = await team.call(
        "POST", f"/tickets/{ticket_id}/messages", emma, json={"text": "Good morning!"}
    )
    assert status == 201
    await wait_for(inbox, 1)
    assert all(mail["To"] == "sara@example.org" for mail in inbox.mails)
    assert any("[fa] Good morning!" in mail.get_content() for mail in inbox.mails)
    assert "[Tolk #" in inbox.mails[-1]["Subject"]
