"""The fake Telegram server, driven by the real python-telegram-bot client.

If PTB accepts what the fake answers and the fake records what PTB sent, tests of our
Telegram channel against the fake say something about the real Bot API.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import ClientSession
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.telegram_server import (
    FILE_BYTES,
    GROUP_USER_ID,
    FakeTelegram,
    callback_update,
    document_update,
    edited_text_update,
    group_text_update,
    location_update,
    photo_update,
    serve,
    sticker_update,
    text_update,
    voice_update,
)

CHAT = 777001


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def url(aiohttp_server, fake: FakeTelegram) -> str:
    return await serve(aiohttp_server, fake)


@pytest.fixture
async def bot(url: str, fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(fake.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
    async with bot:
        yield bot


async def test_get_me_describes_the_bot(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()

    assert me.id == fake.bot_id == 123456
    assert me.is_bot
    assert me.first_name == "Tolk"
    assert me.username == "tolk_test_bot"
    assert me.can_join_groups
    assert bot.username == "tolk_test_bot"  # `async with` already asked getMe
    assert fake.requests[0]["method"] == "getMe"


async def test_send_message_records_decoded_inline_keyboard(bot: Bot, fake: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("فارسی", callback_data="lang:fa")],
            [InlineKeyboardButton("English", callback_data="lang:en")],
        ]
    )

    first = await bot.send_message(CHAT, "hi", reply_markup=markup)
    second = await bot.send_message(CHAT, "again", parse_mode="HTML")

    assert fake.sent == [
        {
            "chat_id": CHAT,
            "text": "hi",
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": "فارسی", "callback_data": "lang:fa"}],
                    [{"text": "English", "callback_data": "lang:en"}],
                ]
            },
            "parse_mode": None,
        },
        {"chat_id": CHAT, "text": "again", "reply_markup": None, "parse_mode": "HTML"},
    ]
    assert first.text == "hi"
    assert first.chat.id == CHAT
    assert first.chat.type == "private"
    assert first.from_user.id == fake.bot_id
    assert first.reply_markup == markup
    assert second.message_id > first.message_id
    assert second.reply_markup is None


async def test_send_message_keeps_strings_that_look_like_json(bot: Bot, fake: FakeTelegram) -> None:
    # PTB sends strings unencoded: a text "42" must not come out as the number 42.
    await bot.send_message(CHAT, "42")
    await bot.send_message(CHAT, "true")

    assert [sent["text"] for sent in fake.sent] == ["42", "true"]


async def test_reply_keyboards_are_recorded_but_not_echoed(bot: Bot, fake: FakeTelegram) -> None:
    markup = ReplyKeyboardMarkup([[KeyboardButton("Yes"), KeyboardButton("No")]])

    message = await bot.send_message(CHAT, "Sure?", reply_markup=markup)

    assert fake.sent[0]["reply_markup"]["keyboard"] == [[{"text": "Yes"}, {"text": "No"}]]
    assert message.reply_markup is None


async def test_send_message_rejects_what_telegram_rejects(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message("@nobody", "hi")

    assert fake.sent == []


async def test_get_updates_honours_offsets(bot: Bot, fake: FakeTelegram) -> None:
    fake.pending.extend(
        [text_update(12, CHAT, "three"), text_update(10, CHAT, "one"), text_update(11, CHAT, "two")]
    )

    everything = await bot.get_updates()
    rest = await bot.get_updates(offset=12)
    after = await bot.get_updates(offset=13)

    assert [update.update_id for update in everything] == [10, 11, 12]
    assert [update.message.text for update in rest] == ["three"]
    assert after == ()
    assert fake.pending == []
    assert [call.get("offset") for call in fake.get_updates_calls] == [None, 12, 13]


async def test_get_updates_negative_offset_and_limit(bot: Bot, fake: FakeTelegram) -> None:
    fake.pending.extend(text_update(update_id, CHAT, str(update_id)) for update_id in range(1, 6))

    first_two = await bot.get_updates(limit=2)
    last = await bot.get_updates(offset=-1)

    assert [update.update_id for update in first_two] == [1, 2]
    assert [update.update_id for update in last] == [5]
    assert [update["update_id"] for update in fake.pending] == [5]


async def test_get_updates_filters_by_allowed_updates(bot: Bot, fake: FakeTelegram) -> None:
    fake.pending.extend([text_update(1, CHAT, "hi"), callback_update(2, CHAT, "lang:fa")])

    updates = await bot.get_updates(allowed_updates=["callback_query"])

    assert [update.update_id for update in updates] == [2]
    assert fake.get_updates_calls[0]["allowed_updates"] == ["callback_query"]


async def test_long_poll_returns_as_soon_as_an_update_arrives(bot: Bot, fake: FakeTelegram) -> None:
    async def later() -> None:
        await asyncio.sleep(0.1)
        fake.pending.append(text_update(1, CHAT, "hello"))

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=30)
    await task

    assert [update.message.text for update in updates] == ["hello"]
    assert time.monotonic() - started < 1
    assert fake.get_updates_calls[0]["timeout"] == 30


async def test_long_poll_waits_at_most_max_poll_wait(bot: Bot, fake: FakeTelegram) -> None:
    fake.max_poll_wait = 0.2
    started = time.monotonic()

    updates = await bot.get_updates(timeout=30)

    assert updates == ()
    assert 0.2 <= time.monotonic() - started < 2


async def test_set_webhook_is_recorded_and_blocks_polling(bot: Bot, fake: FakeTelegram) -> None:
    fake.pending.append(text_update(1, CHAT, "old"))

    assert await bot.set_webhook(
        "https://tolk.example/telegram", secret_token="s3cret-Token_1", drop_pending_updates=True
    )

    assert fake.webhooks == [
        {
            "url": "https://tolk.example/telegram",
            "secret_token": "s3cret-Token_1",
            "drop_pending_updates": True,
        }
    ]
    assert fake.pending == []
    assert (await bot.get_webhook_info()).url == "https://tolk.example/telegram"
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()

    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_set_webhook_rejects_plain_http_and_bad_secrets(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url"):
        await bot.set_webhook("http://127.0.0.1:5005/telegram")
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await bot.set_webhook("https://tolk.example/telegram", secret_token="has spaces")

    assert fake.webhooks == []


async def test_answer_callback_query_and_chat_action(bot: Bot, fake: FakeTelegram) -> None:
    assert await bot.answer_callback_query("cbq-7", text="Saved")
    assert await bot.send_chat_action(CHAT, "typing")

    assert fake.answered == [{"callback_query_id": "cbq-7", "text": "Saved"}]
    assert fake.requests[-1] == {
        "method": "sendChatAction",
        "params": {"chat_id": CHAT, "action": "typing"},
    }


async def test_get_file_and_download(bot: Bot, fake: FakeTelegram, url: str) -> None:
    file = await bot.get_file("photo-1")
    content = await file.download_as_bytearray()

    assert file.file_id == "photo-1"
    assert file.file_size == len(FILE_BYTES)
    assert file.file_path == f"{url}/file/bot{fake.token}/photos/photo-1.jpg"
    assert bytes(content) == FILE_BYTES
    assert fake.downloads == ["photos/photo-1.jpg"]

    fake.files["doc-1"] = ("documents/page.html", b"<html></html>")
    document = await bot.get_file("doc-1")
    assert document.file_path.endswith("/documents/page.html")
    assert document.file_size == 13
    assert bytes(await document.download_as_bytearray()) == b"<html></html>"


async def test_injected_429_raises_retry_after(
    bot: Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Opt in to PTB 22's timedelta retry_after; the int form is deprecated and warns.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.fail_next.append(
        {
            "method": "sendMessage",
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "retry_after": 1,
        }
    )

    await bot.send_chat_action(CHAT, "typing")  # another method leaves the failure queued
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "hi")
    await bot.send_message(CHAT, "hi")

    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert fake.fail_next == []
    assert [sent["text"] for sent in fake.sent] == ["hi"]
    assert [request["method"] for request in fake.requests[-3:]] == [
        "sendChatAction",
        "sendMessage",
        "sendMessage",
    ]


@pytest.mark.parametrize(
    "failure",
    [
        {"method": "sendMessage", "error_code": 500, "description": "Internal Server Error"},
        {"method": "sendMessage", "error_code": 502},
        {"method": "sendMessage", "error_code": 502, "body": "<html>Bad Gateway</html>"},
    ],
)
async def test_injected_server_errors_raise_network_error(
    bot: Bot, fake: FakeTelegram, failure: dict
) -> None:
    fake.fail_next.append(failure)

    with pytest.raises(NetworkError):
        await bot.send_message(CHAT, "hi")

    assert fake.sent == []


async def test_unknown_token_and_method_answer_telegram_envelopes(
    url: str, fake: FakeTelegram
) -> None:
    wrong = Bot("999:WRONG", base_url=f"{url}/bot")
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()
    finally:
        await wrong.shutdown()  # initialize() opened the HTTP clients before getMe failed

    async with ClientSession() as session:
        async with session.post(f"{url}/bot999:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with session.post(f"{url}/bot{fake.token}/sendPigeon") as response:
            assert response.status == 404
            assert (await response.json())["error_code"] == 404


async def test_json_and_query_parameters(url: str, fake: FakeTelegram) -> None:
    async with ClientSession() as session:
        body = {"chat_id": CHAT, "text": "json", "reply_markup": {"inline_keyboard": []}}
        async with session.post(f"{url}/bot{fake.token}/sendMessage", json=body) as response:
            assert (await response.json())["ok"] is True
        query = {"chat_id": str(CHAT), "text": "query"}
        async with session.get(f"{url}/bot{fake.token}/sendMessage", params=query) as response:
            assert (await response.json())["result"]["text"] == "query"

    assert fake.sent[0]["reply_markup"] == {"inline_keyboard": []}
    assert [(sent["chat_id"], sent["text"]) for sent in fake.sent] == [
        (CHAT, "json"),
        (CHAT, "query"),
    ]


async def test_helpers_arrive_through_get_updates(bot: Bot, fake: FakeTelegram) -> None:
    fake.pending.extend(
        [
            text_update(1, CHAT, "salam"),
            photo_update(2, CHAT),
            callback_update(3, CHAT, "lang:fa"),
            group_text_update(4, -4001, "hello all"),
        ]
    )

    updates = await bot.get_updates()

    assert [update.effective_chat.id for update in updates] == [CHAT, CHAT, CHAT, -4001]
    assert updates[2].callback_query.data == "lang:fa"


def _check_text(update: Update) -> None:
    assert update.message.text == "salam"
    assert update.effective_chat.type == "private"
    assert update.effective_user.first_name == "Sara"


def _check_photo(update: Update) -> None:
    assert update.message.photo[-1].file_id == "photo-1"
    assert update.message.caption == "my receipt"


def _check_sticker(update: Update) -> None:
    assert update.message.sticker.file_id == "sticker-1"
    assert update.message.sticker.emoji == "👍"


def _check_voice(update: Update) -> None:
    assert update.message.voice.file_id == "voice-1"
    assert update.message.voice.duration == dtm.timedelta(seconds=3) or (
        update.message.voice.duration == 3
    )


def _check_document(update: Update) -> None:
    assert update.message.document.file_name == "invoice.pdf"
    assert update.message.document.mime_type == "application/pdf"


def _check_location(update: Update) -> None:
    assert update.message.location.latitude == pytest.approx(52.3676)
    assert update.message.location.longitude == pytest.approx(4.9041)


def _check_edited(update: Update) -> None:
    assert update.message is None
    assert update.edited_message.text == "salam!"
    assert update.edited_message.message_id == 55
    assert update.edited_message.edit_date is not None


def _check_callback(update: Update) -> None:
    assert update.callback_query.data == "lang:fa"
    assert update.callback_query.message.from_user.id == 123456
    assert update.callback_query.message.chat.id == CHAT


HELPERS: list[tuple[str, dict, Callable[[Update], None]]] = [
    ("text", text_update(1, CHAT, "salam"), _check_text),
    ("photo", photo_update(2, CHAT, caption="my receipt"), _check_photo),
    ("sticker", sticker_update(3, CHAT), _check_sticker),
    ("voice", voice_update(4, CHAT), _check_voice),
    ("document", document_update(5, CHAT), _check_document),
    ("location", location_update(6, CHAT), _check_location),
    ("edited", edited_text_update(7, CHAT, "salam!", message_id=55), _check_edited),
    ("callback", callback_update(8, CHAT, "lang:fa"), _check_callback),
]


@pytest.mark.parametrize(
    ("update", "check"),
    [(update, check) for _, update, check in HELPERS],
    ids=[h[0] for h in HELPERS],
)
async def test_update_helpers_parse(
    bot: Bot, update: dict, check: Callable[[Update], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # durations as timedelta, without warnings

    parsed = Update.de_json(update, bot)

    assert parsed.update_id == update["update_id"]
    assert parsed.effective_chat.id == CHAT
    assert parsed.effective_user.id == CHAT
    assert parsed.effective_user.language_code == "fa"
    check(parsed)


async def test_group_text_update_parses(bot: Bot) -> None:
    parsed = Update.de_json(group_text_update(9, -4001, "hello all", language_code="de"), bot)

    assert parsed.effective_chat.id == -4001
    assert parsed.effective_chat.type == "group"
    assert parsed.effective_chat.title
    assert parsed.effective_user.id == GROUP_USER_ID
    assert parsed.effective_user.language_code == "de"
    assert parsed.message.text == "hello all"


async def test_commands_carry_their_entity(bot: Bot) -> None:
    parsed = Update.de_json(text_update(1, CHAT, "/start"), bot)
    in_group = Update.de_json(group_text_update(2, -4001, "/help@tolk_test_bot please"), bot)
    plain = Update.de_json(text_update(3, CHAT, "start"), bot)

    assert filters.COMMAND.check_update(parsed)
    assert in_group.message.entities[0].length == len("/help@tolk_test_bot")
    assert not filters.COMMAND.check_update(plain)


async def test_language_code_can_be_missing(bot: Bot) -> None:
    parsed = Update.de_json(text_update(1, CHAT, "hi", language_code=None), bot)

    assert parsed.effective_user.language_code is None


async def test_message_ids_differ_between_helpers() -> None:
    first = text_update(1, CHAT, "a")["message"]["message_id"]
    second = photo_update(2, CHAT)["message"]["message_id"]

    assert first != second


async def test_ptb_application_polls_the_fake(url: str, fake: FakeTelegram) -> None:
    # The whole PTB polling loop (deleteWebhook, long-polled getUpdates with offsets) works.
    received: asyncio.Queue[str] = asyncio.Queue()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await received.put(update.message.text)
        await update.message.reply_text(f"echo: {update.message.text}")

    application = (
        Application.builder()
        .token(fake.token)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    fake.pending.append(text_update(1, CHAT, "salam"))
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0)
        assert await asyncio.wait_for(received.get(), 5) == "salam"
        fake.pending.append(text_update(2, CHAT, "again"))
        assert await asyncio.wait_for(received.get(), 5) == "again"
        await application.updater.stop()
        await application.stop()

    assert [sent["text"] for sent in fake.sent] == ["echo: salam", "echo: again"]
    assert fake.pending == []
    assert "deleteWebhook" in [request["method"] for request in fake.requests]
