"""A Persian customer's handoff continued by e-mail: Tolk sends through a real SMTP server
on loopback (aiosmtpd), the customer's reply comes back through POST /email/inbound and
reaches the English agent translated; strangers and auto-replies are kept out."""

from __future__ import annotations

import time

from tests.bot.channels.email.conftest import TOKEN, wait_for
from tests.bot.handoff.conftest import escalate


async def _inbound(team, **mail):
    response = await team.client.post(
        "/email/inbound", json=mail, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_persian_handoff_continues_by_email(team, fake_rasa, inbox):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    escalate(fake_rasa, "request", "request_human")
    body = await team.say("fa1", "می‌خواهم با یک انسان صحبت کنم")
    ticket_id = body["handoff"]["ticket"]

    status, moved = await team.call(
        "POST", f"/tickets/{ticket_id}/email", emma, json={"address": "Customer@Example.org"}
    )
    assert status == 201, moved
    reference = moved["reference"]
    await wait_for(inbox, 1)
    first = inbox.mails[0]
    assert first["To"] == "customer@example.org"
    assert f"[Tolk #{reference}]" in first["Subject"]
    assert "گفتگوی شما" in first["Subject"]  # the subject in the customer's language
    assert first["Reply-To"] == f"support+{reference}@shop.example"
    assert first["Message-ID"].startswith(f"<tolk.{reference}.")
    assert first["Auto-Submitted"] == "auto-generated"
    assert "برای ادامه، به همین ایمیل پاسخ دهید" in first.get_content()
    # The chat is told where the conversation went.
    assert "customer@example.org" in (await team.transcript("fa1"))[-1]["text"]

    reply = "سفارش من هنوز نرسیده است"
    quoted = f"{reply}\n\nدر تاریخ ۱ دسامبر ۲۰۲۶، Tolk نوشت:\n> {first.get_content()[:40]}\n"
    result = await _inbound(
        team,
        **{"from": "Customer <customer@example.org>"},
        to=first["Reply-To"],
        subject=f"Re: {first['Subject']}",
        text=quoted,
        headers={"Message-ID": "<c1@example.org>", "In-Reply-To": first["Message-ID"]},
    )
    assert result == {"status": "stored", "reason": None}
    status, ticket = await team.call("GET", f"/tickets/{ticket_id}", emma)
    last = ticket["transcript"][-1]
    assert last["from"] == "customer" and last["text"] == reply  # quoting stripped
    assert last["translation"] == f"[en] {reply}"

    # Redelivered by the provider: stored once.
    again = await _inbound(
        team,
        **{"from": "customer@example.org"},
        subject=first["Subject"],
        text=quoted,
        headers={"Message-ID": "<c1@example.org>"},
    )
    assert again["status"] == "ignored"

    started = time.perf_counter()
    status, _sent = await team.call(
        "POST", f"/tickets/{ticket_id}/messages", emma, json={"text": "I am checking it now."}
    )
    assert status == 201
    await wait_for(inbox, 2)
    latency = time.perf_counter() - started
    print(f"agent reply to SMTP delivery: {latency * 1000:.0f} ms")
    second = inbox.mails[1]
    assert "[fa] I am checking it now." in second.get_content()
    assert second["In-Reply-To"] == "<c1@example.org>"
    assert f"[Tolk #{reference}]" in second["Subject"]


async def test_strangers_and_auto_replies_are_kept_out(team, fake_rasa, inbox):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    escalate(fake_rasa, "request", "request_human")
    ticket_id = (await team.say("he1", "אני רוצה לדבר עם נציג"))["handoff"]["ticket"]
    status, _moved = await team.call(
        "POST", f"/tickets/{ticket_id}/email", emma, json={"address": "dana@example.org"}
    )
    assert status == 201
    await wait_for(inbox, 1)
    subject = inbox.mails[0]["Subject"]
    before = len(await team.transcript("he1"))

    stranger = await _inbound(
        team, **{"from": "mallory@example.net"}, subject=f"Re: {subject}", text="inject this"
    )
    assert stranger["status"] == "refused"
    vacation = await _inbound(
        team,
        **{"from": "dana@example.org"},
        subject=f"Re: {subject}",
        text="אני בחופשה",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert vacation["status"] == "ignored"
    listed = await _inbound(
        team,
        **{"from": "dana@example.org"},
        subject=f"Re: {subject}",
        text="digest",
        headers={"Precedence": "bulk"},
    )
    assert listed["status"] == "ignored"
    no_reference = await _inbound(team, **{"from": "dana@example.org"}, subject="Hi", text="hi")
    assert no_reference["status"] == "refused"
    assert len(await team.transcript("he1")) == before

    response = await team.client.post(
        "/email/inbound", json={"from": "dana@example.org"}, headers={"Authorization": "Bearer x"}
    )
    assert response.status == 401
