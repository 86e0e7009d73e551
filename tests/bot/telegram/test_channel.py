"""Telegram customers through python-telegram-bot's real Application and HTTP client,
against a local Bot API server (tests/telegram_server.py) and a fake Rasa."""

from __future__ import annotations

import asyncio

import pytest

from tests.bot.telegram.conftest import SECRET, WEBHOOK, deliver, settled
from tests.telegram_server import (
    callback_update,
    edited_text_update,
    group_text_update,
    location_update,
    photo_update,
    sticker_update,
    text_update,
)
from tests.texts import first_contact, said


async def test_the_webhook_is_registered_with_the_secret(tg_client, telegram):
    for _ in range(100):
        if telegram.webhooks:
            break
        await asyncio.sleep(0.02)
    assert telegram.webhooks[-1]["url"] == WEBHOOK
    assert telegram.webhooks[-1]["secret_token"] == SECRET


@pytest.mark.parametrize("secret", [None, "wrong"])
async def test_updates_without_the_secret_are_refused(tg_client, telegram, fake_rasa, secret):
    assert await deliver(tg_client, text_update(1, 501, "سلام"), secret=secret) == 401
    await asyncio.sleep(0.2)
    assert fake_rasa.received == [] and telegram.sent == []


async def test_a_persian_customer_is_answered_in_the_chat(tg_client, telegram, fake_rasa):
    fake_rasa.replies = [{"text": "پاسخ"}]
    assert await deliver(tg_client, text_update(10, 501, "سلام، سفارشم کجاست؟")) == 200
    sent = await settled(telegram, 2)
    # The first reply also says what is stored and that a translator is used (masked).
    assert [m["text"] for m in sent] == [
        first_contact("utter_disclosure", "fa", translator=True),
        "پاسخ",
    ]
    assert {m["chat_id"] for m in sent} == {501}
    assert all(m["parse_mode"] is None for m in sent)
    metadata = fake_rasa.received[0]["metadata"]
    assert metadata["language"] == "fa" and metadata["channel"] == "telegram"
    assert metadata["customer"] == {"name": "Sara"}  # first name from the update


async def test_a_redelivered_update_is_handled_once(tg_client, telegram, fake_rasa):
    update = text_update(20, 502, "hello there", language_code="en")
    assert await deliver(tg_client, update) == 200
    assert await deliver(tg_client, update) == 200
    await settled(telegram, 2)
    await asyncio.sleep(0.2)
    assert len(fake_rasa.received) == 1 and len(telegram.sent) == 2


async def test_updates_overtaking_each_other_are_handled_in_order(tg_client, telegram, fake_rasa):
    await deliver(tg_client, text_update(31, 503, "second message", language_code="en"))
    await deliver(tg_client, text_update(30, 503, "first message", language_code="en"))
    await deliver(tg_client, text_update(32, 503, "third message", language_code="en"))
    await settled(telegram, 4)
    assert [m["message"] for m in fake_rasa.received] == [
        "first message",
        "second message",
        "third message",
    ]


async def test_a_flood_limit_is_waited_out_and_the_order_kept(tg_client, telegram, fake_rasa):
    fake_rasa.replies = [{"text": "one"}, {"text": "two"}, {"text": "three"}]
    telegram.fail_next.append(
        {
            "method": "sendMessage",
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "retry_after": 1,
        }
    )
    await deliver(tg_client, text_update(40, 504, "hello", language_code="en"))
    sent = await settled(telegram, 4, timeout=10)
    assert [m["text"] for m in sent][-3:] == ["one", "two", "three"]
    refused = [r for r in telegram.requests if r["method"].lower() == "sendmessage"]
    assert len(refused) == 5  # one refused with 429, then all four in order


async def test_a_long_answer_is_split_at_sentence_ends(tg_client, telegram, fake_rasa):
    sentence = "Your order left our warehouse and is on its way to you. "
    long_text = (sentence * 120).strip()
    fake_rasa.replies = [{"text": long_text}]
    await deliver(tg_client, text_update(50, 505, "where is my order", language_code="en"))
    sent = await settled(telegram, 3)
    pieces = [m["text"] for m in sent[1:]]
    assert all(len(piece) <= 4096 for piece in pieces)
    assert all(piece.endswith("you.") for piece in pieces)
    assert " ".join(pieces) == long_text


async def test_buttons_become_an_inline_keyboard_and_a_press_is_a_message(
    tg_client, telegram, fake_rasa
):
    fake_rasa.replies = [
        {
            "text": "Pick one",
            "buttons": [{"title": "Talk to a person", "payload": "/request_human"}],
        }
    ]
    await deliver(tg_client, text_update(60, 506, "help", language_code="en"))
    sent = await settled(telegram, 2)
    keyboard = sent[-1]["reply_markup"]["inline_keyboard"]
    assert keyboard == [[{"text": "Talk to a person", "callback_data": "/request_human"}]]

    fake_rasa.replies = [{"text": "ok"}]
    await deliver(tg_client, callback_update(61, 506, "/csat 4", language_code="en"))
    for _ in range(100):
        if telegram.answered:
            break
        await asyncio.sleep(0.02)
    assert telegram.answered, "the button's spinner is stopped"


async def test_text_that_looks_like_markup_arrives_as_written(tg_client, telegram, fake_rasa):
    tricky = "*not bold* _x_ <b>tag</b> [link](http://x) `code`"
    fake_rasa.replies = [{"text": tricky}]
    await deliver(tg_client, text_update(70, 507, "hi", language_code="en"))
    sent = await settled(telegram, 2)
    assert sent[-1]["text"] == tricky and sent[-1]["parse_mode"] is None


async def test_start_greets_with_the_disclosure(tg_client, telegram, fake_rasa):
    fake_rasa.replies = [{"text": "Hoi!"}]
    await deliver(tg_client, text_update(80, 508, "/start", language_code="nl"))
    sent = await settled(telegram, 2)
    assert sent[0]["text"] == first_contact("utter_disclosure", "nl", translator=True)
    assert fake_rasa.received[0]["message"] == "/greet"


async def test_privacy_and_delete_my_data_with_confirmation(tg_client, telegram, fake_rasa):
    await deliver(tg_client, text_update(90, 509, "שלום", language_code="he"))
    await settled(telegram, 2)
    await deliver(tg_client, text_update(91, 509, "/privacy", language_code="he"))
    sent = await settled(telegram, 3)
    assert sent[-1]["text"] == said("utter_privacy", "he")

    await deliver(tg_client, text_update(92, 509, "/delete_my_data", language_code="he"))
    sent = await settled(telegram, 4)
    assert sent[-1]["text"] == said("utter_delete_confirm", "he")
    payloads = [row[0]["callback_data"] for row in sent[-1]["reply_markup"]["inline_keyboard"]]
    assert payloads == ["/delete_my_data confirm", "/delete_my_data cancel"]

    await deliver(
        tg_client, callback_update(93, 509, "/delete_my_data confirm", language_code="he")
    )
    sent = await settled(telegram, 5)
    assert sent[-1]["text"] == said("utter_deleted", "he")
    history = await tg_client.get("/api/v1/conversations/telegram-509/messages")
    assert history.status == 404, "nothing stored about the customer any more"


@pytest.mark.parametrize(
    "update",
    [
        photo_update(100, 510, language_code="vi"),
        sticker_update(100, 510, language_code="vi"),
        location_update(100, 510, language_code="vi"),
    ],
)
async def test_what_the_bot_cannot_read_gets_a_clear_answer(tg_client, telegram, update):
    await deliver(tg_client, update)
    sent = await settled(telegram, 1)
    assert sent[-1]["text"] == first_contact("utter_unsupported_media", "vi", translator=True)


async def test_an_edited_message_is_not_silently_ignored(tg_client, telegram):
    await deliver(tg_client, edited_text_update(110, 511, "fixed text", language_code="en"))
    sent = await settled(telegram, 1)
    assert sent[-1]["text"] == first_contact("utter_edited_message", "en", translator=True)


async def test_group_chats_are_told_once_to_write_privately(tg_client, telegram, fake_rasa):
    await deliver(tg_client, group_text_update(120, -900, "hello bot", language_code="en"))
    await deliver(tg_client, group_text_update(121, -900, "hello again", language_code="en"))
    await settled(telegram, 1)
    await asyncio.sleep(0.3)
    assert [m["text"] for m in telegram.sent] == [
        first_contact("utter_private_chat_only", "en", translator=True)
    ]
    assert fake_rasa.received == []


async def test_the_webhook_takes_json_only(tg_client, telegram, fake_rasa):
    """Telegram posts application/json; anything else is refused before it is stored."""
    raw = '{"update_id": 901, "message": {"message_id": 1, "text": "hi"}}'
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "text/plain"}
    response = await tg_client.post("/telegram/webhook", data=raw, headers=headers)
    assert response.status == 415 and "application/json" in (await response.json())["error"]
    charset = {**headers, "Content-Type": "application/json; charset=utf-8"}
    update = text_update(11, 902, "hello there", language_code="en")
    response = await tg_client.post("/telegram/webhook", json=update, headers=charset)
    assert response.status == 200


async def test_a_broken_update_is_refused_with_a_clear_error(tg_client):
    response = await tg_client.post(
        "/telegram/webhook",
        data="{not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status == 400 and "JSON" in (await response.json())["error"]
    response = await tg_client.post(
        "/telegram/webhook",
        json={"message": {}},
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status == 400


async def test_a_hebrew_chat_reads_the_english_agent_in_hebrew(tg_client, telegram, settings):
    from tests.bot.handoff.conftest import Team

    team = Team(tg_client, settings)
    emma = await team.add("Emma", "en")
    await team.online(emma)
    await deliver(tg_client, text_update(130, 512, "שלום", language_code="he"))
    await deliver(tg_client, text_update(131, 512, "/human", language_code="he"))
    sent = await settled(telegram, 4)
    assert sent[-1]["text"] == said("utter_handoff_assigned", "he", agent_name="Emma")
    ticket = (await team.call("GET", "/tickets?status=assigned", emma))[1]["tickets"][0]["id"]

    status, _ = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "I will check your order now."}
    )
    assert status == 201
    sent = await settled(telegram, 5)
    assert sent[-1] == {
        "chat_id": 512,
        "text": "[he] I will check your order now.",
        "reply_markup": None,
        "parse_mode": None,
    }

    # A photo during the handoff reaches the agent as a link to the file.
    await deliver(tg_client, photo_update(132, 512, file_id="receipt-7", language_code="he"))
    sent = await settled(telegram, 6)
    assert sent[-1]["text"] == said("utter_media_sent_to_agent", "he")
    _, detail = await team.call("GET", f"/tickets/{ticket}", emma)
    link = next(m["text"] for m in detail["transcript"] if m["text"].startswith("[photo]"))
    path = link.split()[1]
    assert path == "/api/v1/agent/files/telegram/receipt-7"
    response = await tg_client.get(path, headers=emma.auth)
    assert response.status == 200 and response.content_type == "image/jpeg"
    assert await response.read() == telegram.file_bytes
    assert (await tg_client.get(path)).status == 401, "files only for agents"
