"""WhatsApp's webhook: Meta's handshake, signatures over the raw body, messages stored once
and handled in the order the customer sent them, statuses recorded."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.settings import Settings
from tests.bot.channels.meta_fixtures import meta_inbound, meta_outbound, post, rows, settled
from tests.graph_server import (
    VERIFY_TOKEN,
    signed,
    wa_button_reply,
    wa_delivery,
    wa_list_reply,
    wa_status,
    wa_text,
)
from tests.texts import first_contact
from tolk_core.config import SettingsError

HOOK = "/whatsapp/webhook"


async def test_the_handshake_answers_the_challenge_for_our_token_only(wa_client):
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "8412"}
    response = await wa_client.get(HOOK, params=query)
    assert response.status == 200 and await response.text() == "8412"
    response = await wa_client.get(HOOK, params={**query, "hub.verify_token": "guess"})
    assert response.status == 403
    response = await wa_client.get(HOOK, params={"hub.mode": "unsubscribe"})
    assert response.status == 400


@pytest.mark.parametrize("secret", [None, "not-the-app-secret"])
async def test_unsigned_or_wrongly_signed_deliveries_are_refused(
    wa_client, graph, fake_rasa, secret
):
    body = wa_delivery(wa_text("wamid.A1", "989121111111", "سلام"))
    assert await post(wa_client, HOOK, body, secret=secret) == 401
    await asyncio.sleep(0.2)
    assert fake_rasa.received == [] and graph.sent == []
    assert await rows(wa_client, meta_inbound, "whatsapp-989121111111") == []


async def test_a_signature_of_other_bytes_is_refused(wa_client, fake_rasa):
    """The signature covers the bytes as sent: the same JSON spaced differently fails."""
    body = wa_delivery(wa_text("wamid.A2", "989121111111", "hi there"))
    raw, headers = signed(body)
    response = await wa_client.post(HOOK, data=raw.replace(b", ", b","), headers=headers)
    assert response.status == 401


async def test_a_persian_customer_is_answered_with_the_disclosure(wa_client, graph, fake_rasa):
    fake_rasa.replies = [{"text": "پاسخ"}]
    body = wa_delivery(wa_text("wamid.B1", "989121234567", "سلام، سفارشم کجاست؟"))
    assert await post(wa_client, HOOK, body) == 200
    sent = await settled(graph, 2)
    assert [m["body"]["text"]["body"] for m in sent] == [
        first_contact("utter_disclosure", "fa", translator=True),
        "پاسخ",
    ]
    assert {m["body"]["to"] for m in sent} == {"989121234567"}
    assert sent[0]["path"].endswith("/1098765432/messages")
    metadata = fake_rasa.received[0]["metadata"]
    assert metadata["channel"] == "whatsapp" and metadata["customer"] == {"name": "Sara"}
    assert fake_rasa.received[0]["sender"] == "whatsapp-989121234567"


async def test_duplicates_and_retried_deliveries_are_handled_once(wa_client, graph, fake_rasa):
    message = wa_text("wamid.C1", "31611111111", "hello there")
    assert await post(wa_client, HOOK, wa_delivery(message)) == 200
    assert await post(wa_client, HOOK, wa_delivery(message)) == 200  # Meta's retry
    # And once more inside a later batch, next to a new message.
    later = wa_delivery(message, wa_text("wamid.C2", "31611111111", "and another thing"))
    assert await post(wa_client, HOOK, later) == 200
    await settled(graph, 3)
    await asyncio.sleep(0.3)
    assert [m["message"] for m in fake_rasa.received] == ["hello there", "and another thing"]
    assert len(await rows(wa_client, meta_inbound, "whatsapp-31611111111")) == 2


async def test_messages_overtaking_each_other_are_handled_in_the_order_sent(
    wa_client, graph, fake_rasa
):
    now = int(time.time())
    wa_id = "31622222222"
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.D2", wa_id, "second", now - 20)))
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.D1", wa_id, "first", now - 30)))
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.D3", wa_id, "third", now - 10)))
    await settled(graph, 5)  # "first" alone leaves its language open: the others are offered
    assert [m["message"] for m in fake_rasa.received] == ["first", "second", "third"]


async def test_a_pressed_button_or_list_row_comes_back_as_its_payload(wa_client, graph, fake_rasa):
    # "help" alone could be English or Dutch: disclosure, the other languages, the answer.
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.E1", "31633333333", "help")))
    assert (await settled(graph, 3))[1]["body"]["type"] == "interactive"
    await post(wa_client, HOOK, wa_delivery(wa_button_reply("wamid.E2", "31633333333", "/affirm")))
    await settled(graph, 4)
    await post(wa_client, HOOK, wa_delivery(wa_list_reply("wamid.E3", "31633333333", "/deny")))
    await settled(graph, 5)
    assert [m["message"] for m in fake_rasa.received] == ["help", "/affirm", "/deny"]


async def test_status_callbacks_are_recorded_and_never_answered(wa_client, graph, fake_rasa):
    wa_id = "31644444444"
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.F1", wa_id, "hi there")))
    sent = await settled(graph, 2)
    received = len(fake_rasa.received)
    ours = [m for m in await rows(wa_client, meta_outbound, f"whatsapp-{wa_id}")]
    assert [r.status for r in ours] == ["sent", "sent"]
    first, second = ours[0].message_id, ours[1].message_id
    statuses = [
        wa_status(first, wa_id, "delivered"),
        wa_status(first, wa_id, "read"),
        wa_status(first, wa_id, "delivered"),  # late: never moves a message back
        wa_status(second, wa_id, "failed", error_code=131026),
    ]
    assert await post(wa_client, HOOK, wa_delivery(statuses=statuses)) == 200
    recorded = {r.message_id: r for r in await rows(wa_client, meta_outbound, f"whatsapp-{wa_id}")}
    assert recorded[first].status == "read"
    assert recorded[second].status == "failed" and "131026" in recorded[second].error
    await asyncio.sleep(0.2)
    assert len(fake_rasa.received) == received and len(graph.sent) == len(sent)


async def test_another_phone_numbers_messages_are_not_ours(wa_client, graph, fake_rasa):
    body = wa_delivery(wa_text("wamid.G1", "31655555555", "hi there"), phone_number_id="999")
    assert await post(wa_client, HOOK, body) == 200
    await asyncio.sleep(0.3)
    assert fake_rasa.received == [] and graph.sent == []


async def test_the_channel_is_off_without_a_token(client):
    assert (await client.get(HOOK, params={"hub.mode": "subscribe"})).status == 404
    assert (await client.post(HOOK, data=b"{}")).status == 404


def test_a_token_without_the_app_secret_refuses_to_start():
    base = {
        "TOLK_ADMIN_TOKEN": "x" * 32,
        "WHATSAPP_TOKEN": "t",
        "WHATSAPP_VERIFY_TOKEN": "v",
        "WHATSAPP_PHONE_NUMBER_ID": "123",
    }
    with pytest.raises(SettingsError, match="WHATSAPP_APP_SECRET"):
        Settings.from_env(base)
    settings = Settings.from_env({**base, "WHATSAPP_APP_SECRET": "s"})
    assert settings.whatsapp_app_secret == "s"
    assert settings.whatsapp_api_base_url == "https://graph.facebook.com"
    with pytest.raises(SettingsError, match="MESSENGER_APP_SECRET"):
        Settings.from_env({"MESSENGER_PAGE_TOKEN": "t", "MESSENGER_VERIFY_TOKEN": "v"})
