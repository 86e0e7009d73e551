"""The customer's own "send me this by e-mail" (actions/email.py's signal): the gateway
mails the bot's latest answers through a real SMTP server on loopback (aiosmtpd), tells
the customer in their language, threads the reply back, and refuses to be a relay."""

from __future__ import annotations

from dataclasses import replace

from bot.app import create_app
from tests.bot.channels.email.conftest import TOKEN, wait_for
from tests.mail_server import smtp_inbox

ANSWER = "ارسال به ایران ۵ تا ۷ روز کاری طول می‌کشد."


def asks(fake_rasa, address: str) -> None:
    """The next Rasa answer is action_continue_by_email's custom payload."""
    fake_rasa.replies = [{"custom": {"continue_by_email": address}}]


def answers(fake_rasa, text: str) -> None:
    fake_rasa.replies = [{"text": text}]


async def test_a_persian_customer_gets_the_answers_by_mail_and_replies(team, fake_rasa, inbox):
    answers(fake_rasa, ANSWER)
    await team.say("fa-mail", "ارسال به ایران چقدر طول میکشه؟")
    asks(fake_rasa, "Reza@Example.com")
    body = await team.say("fa-mail", "اینو برام ایمیل کن به Reza@Example.com")

    # Told in Persian, in the same reply, where the conversation went.
    said = body["messages"][-1]["text"]
    assert "reza@example.com" in said and "این گفتگو را" in said
    await wait_for(inbox, 1)
    mail = inbox.mails[0]
    assert mail["To"] == "reza@example.com"
    assert "گفتگوی شما" in mail["Subject"]
    content = mail.get_content()
    assert ANSWER in content
    # Only what the bot wrote: the customer's own words are never mailed out (a stranger
    # naming someone else's address cannot make Tolk carry their text).
    assert "ارسال به ایران چقدر" not in content and "ایمیل کن" not in content

    answers(fake_rasa, "سفارش شما در راه است.")
    reply = await team.client.post(
        "/email/inbound",
        json={
            "from": "reza@example.com",
            "to": mail["Reply-To"],
            "subject": f"Re: {mail['Subject']}",
            "text": "سفارشم کجاست؟",
            "headers": {"Message-ID": "<r1@example.com>", "In-Reply-To": mail["Message-ID"]},
        },
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert (await reply.json())["status"] == "stored"
    transcript = await team.transcript("fa-mail")
    assert [m["text"] for m in transcript if m["from"] == "customer"][-1] == "سفارشم کجاست؟"
    # The bot's answer to the mail goes back by mail.
    await wait_for(inbox, 2)
    assert "سفارش شما در راه است." in inbox.mails[1].get_content()
    assert inbox.mails[1]["In-Reply-To"] == "<r1@example.com>"


async def test_the_bot_does_not_move_a_conversation_to_address_after_address(
    team, fake_rasa, inbox
):
    answers(fake_rasa, "Our shop ships to 30 countries.")
    await team.say("en-mail", "do you ship abroad?")
    asks(fake_rasa, "sam@example.com")
    await team.say("en-mail", "email me this at sam@example.com")
    await wait_for(inbox, 1)

    asks(fake_rasa, "victim@example.net")
    body = await team.say("en-mail", "now send it to victim@example.net")
    said = body["messages"][-1]["text"]
    assert "already continues by e-mail at sam@example.com" in said
    # The same address again is fine: the customer lost the first mail.
    asks(fake_rasa, "sam@example.com")
    again = await team.say("en-mail", "send it again please, sam@example.com")
    assert "sent this conversation to sam@example.com" in again["messages"][-1]["text"]
    await wait_for(inbox, 2)
    assert [m["To"] for m in inbox.mails] == ["sam@example.com", "sam@example.com"]


async def test_without_smtp_the_customer_hears_so_in_their_language(
    aiohttp_client, settings, fake_rasa
):
    client = await aiohttp_client(create_app(replace(settings, smtp_url="", email_from="")))
    asks(fake_rasa, "lotte@example.nl")
    response = await client.post(
        "/api/v1/messages",
        json={"sender": "nl-mail", "text": "kun je dit naar lotte@example.nl mailen?"},
    )
    body = await response.json()
    assert response.status == 200, body
    said = body["messages"][-1]["text"]
    assert "kan ik geen e-mail versturen" in said and "support@" in said


async def test_a_mail_server_that_is_down_is_a_clear_answer_and_loses_nothing(
    aiohttp_client, settings, fake_rasa
):
    # The SMTP port names a server nobody runs: the customer hears that it failed.
    down = replace(settings, smtp_url="smtp://127.0.0.1:17399?starttls=0", email_from="s@x.example")
    client = await aiohttp_client(create_app(down))
    asks(fake_rasa, "dana@example.co.il")
    response = await client.post(
        "/api/v1/messages",
        json={"sender": "he-mail", "text": "תשלחו לי את זה למייל dana@example.co.il"},
    )
    body = await response.json()
    assert response.status == 200, body
    assert "לא הצלחנו לשלוח את המייל" in body["messages"][-1]["text"]
    # Once the server is back, asking again sends it.
    with smtp_inbox(17399) as box:
        again = await client.post(
            "/api/v1/messages",
            json={"sender": "he-mail", "text": "תנסו שוב dana@example.co.il"},
        )
        assert "dana@example.co.il" in (await again.json())["messages"][-1]["text"]
        await wait_for(box, 1)
    stored = await client.get("/api/v1/conversations/he-mail/messages")
    customer = [m for m in (await stored.json())["messages"] if m["from"] == "customer"]
    assert len(customer) == 2
