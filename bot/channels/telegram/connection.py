"""The connection to Telegram: python-telegram-bot's Application, running while the
service runs (channel.py starts it when TELEGRAM_TOKEN is set).

Updates arrive by webhook (`POST /telegram/webhook`, signed with the secret token) or by
polling; either way each is stored first (`updates.py`), acknowledged, and then handled
per chat in update_id order by the Application's handlers, which pass the customer's
words to the same gateway as every other channel and send the replies back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Update, User
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.files import FileLog
from bot.channels.telegram.outbound import Sender
from bot.channels.telegram.updates import StoredUpdate, UpdateLog, chat_of_sender, sender_for
from bot.db import utcnow
from bot.handoff.service import HandoffService
from bot.inbound import Gateway, Inbound, Outcome
from bot.limits import CustomerLimits
from bot.rasa_client import BotMessage
from bot.settings import Settings
from bot.speaker import Speaker
from bot.store import Conversation, Store, StoreUnavailable, session_expired
from tolk_core.language_names import base_language

log = logging.getLogger(__name__)

# Worth trying the update again later; anything else would only fail again. The engine
# raises it for a locked or unreachable database (bot/db_errors.py).
_DATABASE_DOWN = StoreUnavailable
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
POLL_TIMEOUT = 25
# What a file is called in the agent's transcript.
_MEDIA = (
    ("photo", "photo"),
    ("sticker", "sticker"),
    ("voice", "voice message"),
    ("audio", "audio"),
    ("video", "video"),
    ("video_note", "video message"),
    ("animation", "animation"),
    ("document", "document"),
)


def build_application(settings: Settings) -> Application:
    """No network here: the Application connects in `TelegramConnection.start`."""
    base = settings.telegram_api_base_url
    return (
        Application.builder()
        .token(settings.telegram_token or "")
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=3))
        .updater(None)
        .build()
    )


class TelegramConnection:
    def __init__(
        self,
        settings: Settings,
        gateway: Gateway,
        updates: UpdateLog,
        application: Application | None = None,
        *,
        store: Store,
        handoff: HandoffService,
        speaker: Speaker,
        files: FileLog,
        limits: CustomerLimits,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.store = store
        self.handoff = handoff
        self.speaker = speaker
        self.updates = updates
        self.files = files
        self.limits = limits
        self.application = application or build_application(settings)
        self.sender = Sender(self.application.bot)
        self.ready = asyncio.Event()
        self._drains: dict[int | None, asyncio.Task] = {}
        self._dirty: set[int | None] = set()
        self._tasks: set[asyncio.Task] = set()
        # Database errors the handlers of an update in progress ran into (see on_error).
        self._unavailable: dict[int, list[BaseException]] = {}
        self._add_handlers()

    # Lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._spawn(self._run())

    async def stop(self) -> None:
        for task in [*self._tasks, *self._drains.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._drains.values(), return_exceptions=True)
        if self.application._initialized:
            await self.application.shutdown()

    async def _run(self) -> None:
        await self._retrying("connect to Telegram", self.application.initialize)
        self.ready.set()
        log.info("Telegram bot @%s connected", self.application.bot.username)
        for chat in await self.updates.chats_with_pending():
            self._schedule(chat)
        if self.settings.telegram_webhook_url:
            await self._retrying(
                "set the webhook",
                lambda: self.application.bot.set_webhook(
                    self.settings.telegram_webhook_url,
                    secret_token=self.settings.telegram_secret_token,
                    allowed_updates=ALLOWED_UPDATES,
                ),
            )
        else:
            await self._poll()

    async def _retrying(self, what: str, call: Callable[[], Awaitable[object]]) -> None:
        delay = 1.0
        while True:
            try:
                await call()
                return
            except (InvalidToken, Forbidden):
                log.error("Telegram refused the token: check TELEGRAM_TOKEN")
                raise
            except TelegramError as error:
                log.warning("could not %s (%s); trying again in %.0f s", what, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)

    async def _poll(self) -> None:
        """getUpdates in a loop; the offset moves on only after the updates are stored."""
        bot = self.application.bot
        await self._retrying("switch to polling", bot.delete_webhook)
        offset: int | None = None
        delay = 1.0
        while True:
            try:
                batch = await bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
                for update in batch:
                    await self.receive(update.to_dict())
                    offset = update.update_id + 1
                delay = 1.0
            except (TelegramError, StoreUnavailable) as error:
                # RetryAfter included: its wait is at most the backoff's minute.
                log.warning("polling Telegram failed (%s); again in %.0f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)

    # Intake -------------------------------------------------------------------------

    async def receive(self, payload: dict) -> bool:
        """Store an update (once) and have its chat handle it; False for a repeat."""
        stored = await self.updates.store(payload)
        if stored is None:
            return False
        self._schedule(stored.chat_id)
        return True

    def _schedule(self, chat: int | None) -> None:
        self._dirty.add(chat)
        running = self._drains.get(chat)
        if running is None or running.done():
            self._drains[chat] = asyncio.create_task(self._drain(chat))

    async def _drain(self, chat: int | None) -> None:
        """Handle a chat's stored updates one by one, oldest update_id first."""
        # Updates that arrive close together (a redelivery overtaking a newer one) are
        # all stored before the first is handled, so they are handled in order.
        await asyncio.sleep(self.settings.telegram_reorder_seconds)
        await self.ready.wait()
        while chat in self._dirty:
            self._dirty.discard(chat)
            for stored in await self.updates.pending(chat):
                # Over the chat's rate the updates wait here, stored: a 429 would make
                # Telegram retry and finally drop them, and block other chats meanwhile.
                await self.limits.pace(sender_for(chat))
                try:
                    handled = await self._handle(stored)
                except Exception:
                    # An update we cannot read would block its chat for good: log, move on.
                    log.exception("Telegram update %s skipped", stored.update_id)
                    handled = True
                if not handled:
                    self._retry_later(chat)
                    return
                await self.updates.done(stored.update_id)
        self._drains.pop(chat, None)

    async def _handle(self, stored: StoredUpdate) -> bool:
        """Run the handlers; False when the database was unavailable, so that the update
        stays stored and is tried again (any other failure is logged, not retried)."""
        update = Update.de_json(stored.payload, self.application.bot)
        unavailable = self._unavailable[update.update_id] = []
        try:
            await self.application.process_update(update)
        except _DATABASE_DOWN as error:
            unavailable.append(error)
        finally:
            del self._unavailable[update.update_id]
        if unavailable:
            log.warning("update %s kept for a retry: %s", stored.update_id, unavailable[0])
        return not unavailable

    def _retry_later(self, chat: int | None) -> None:
        async def again() -> None:
            await asyncio.sleep(5)
            self._schedule(chat)

        self._drains.pop(chat, None)
        self._spawn(again())

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Handlers -----------------------------------------------------------------------

    def _add_handlers(self) -> None:
        add = self.application.add_handler
        add(MessageHandler(filters.ChatType.GROUPS | filters.ChatType.CHANNEL, self.on_group))
        add(MessageHandler(filters.UpdateType.EDITED, self.on_edited))
        add(CommandHandler("start", self.on_start))
        add(CommandHandler("human", self.on_human))
        add(CommandHandler("language", self.on_language))
        add(CommandHandler("privacy", self.on_privacy))
        add(CommandHandler("delete_my_data", self.on_delete))
        add(CallbackQueryHandler(self.on_button))
        add(MessageHandler(filters.TEXT, self.on_text))
        add(MessageHandler(filters.ALL, self.on_media))
        self.application.add_error_handler(self.on_error)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._converse(update, update.effective_message.text)

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The gateway adds the bot disclosure to the first reply of a conversation.
        await self._converse(update, "/greet")

    async def on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._converse(update, "/human")

    async def on_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._converse(update, " ".join(["/language", *(context.args or [])]))

    # /privacy and /delete_my_data are the gateway's, as on every channel (bot/privacy.py):
    # /delete_my_data asks, its "confirm" button erases.
    async def on_privacy(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._converse(update, "/privacy")

    async def on_delete(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._converse(update, " ".join(["/delete_my_data", *(context.args or [])[:1]]))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        try:
            await query.answer()  # stops the button's spinner; harmless if it fails
        except TelegramError as error:
            log.info("callback not answered: %s", error)
        data = query.data or ""
        if data:
            await self._converse(update, data, external_id=f"c{query.id}")

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = update.edited_message.text or update.edited_message.caption or ""
        await self._answer(update, f"[edited] {text}".strip(), "utter_edited_message")

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        described = _describe(message)
        conversation = await self.store.conversation(sender_for(update.effective_chat.id))
        ticket = conversation and await self.handoff.active(conversation.id)
        if not ticket:
            await self._answer(update, f"[{described.split(':')[0]}]", "utter_unsupported_media")
            return
        # A person is helping: the file reaches them as a link in the transcript, which
        # opens only for the agent holding this conversation's ticket (files.py).
        inbound = self._inbound(update, described)
        outcome = await self.gateway.handle(inbound)
        shared = _file_of(message)
        if shared is not None:
            await self.files.record(conversation.id, inbound.external_id or "", *shared)
        thanks = await self.speaker.say("utter_media_sent_to_agent", outcome.language)
        await self.store.add_bot_messages(conversation.id, [thanks.text], outcome.language)
        await self.sender.send(update.effective_chat.id, [*outcome.messages, thanks])

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Customers' details stay out of group chats: say so, at most once an hour."""
        if update.effective_message is None or update.edited_message is not None:
            return
        conversation = await self.store.conversation(sender_for(update.effective_chat.id))
        if conversation is not None:
            last = await self.store.last_bot_message_at(conversation.id)
            if not session_expired(last, utcnow(), self.settings.session_minutes):
                return
        await self._answer(update, "[group message]", "utter_private_chat_only")

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, _DATABASE_DOWN) and isinstance(update, Update):
            self._unavailable.get(update.update_id, []).append(error)
        else:
            log.error("handling a Telegram update failed", exc_info=error)

    # Inside -------------------------------------------------------------------------

    def _inbound(self, update: Update, text: str, external_id: str | None = None) -> Inbound:
        user: User | None = update.effective_user
        return Inbound(
            sender=sender_for(update.effective_chat.id),
            channel="telegram",
            text=text,
            language_hint=_language(user.language_code if user else None),
            customer_name=user.first_name if user else None,
            external_id=external_id or f"u{update.update_id}",
        )

    async def _converse(self, update: Update, text: str, external_id: str | None = None) -> None:
        outcome = await self.gateway.handle(self._inbound(update, text, external_id))
        await self._reply(update, outcome)

    async def _answer(self, update: Update, text: str, key: str) -> None:
        outcome = await self.gateway.answer_directly(self._inbound(update, text), key)
        await self._reply(update, outcome)

    async def _reply(self, update: Update, outcome: Outcome) -> None:
        if outcome.messages:
            await self.sender.send(update.effective_chat.id, outcome.messages)

    async def deliver(self, conversation: Conversation, messages: list[BotMessage]) -> None:
        """Agent replies and handoff news for Telegram customers, sent in the background
        so that the agent's request does not wait for Telegram."""
        chat = chat_of_sender(conversation.sender)
        if chat is not None:
            self._spawn(self._send_when_connected(chat, messages))

    async def _send_when_connected(self, chat: int, messages: list[BotMessage]) -> None:
        # Late answers (bot/retry.py) are looked for at start, maybe before Telegram is.
        await self.ready.wait()
        await self.sender.send(chat, messages)

    async def file(self, file_id: str) -> tuple[bytes, str]:
        """A customer's file, for the agent: (content, Telegram's path for it). What the
        content is, is for the caller to find out from the bytes (bot/attachments.py)."""
        found = await self.application.bot.get_file(file_id)
        content = bytes(await found.download_as_bytearray())
        return content, found.file_path or ""


def _describe(message) -> str:
    """What the agent reads for a file or place: "[photo] <link>"."""
    if message.location is not None:
        where = message.location
        return f"[location] https://www.openstreetmap.org/?mlat={where.latitude}&mlon={where.longitude}"
    for attribute, name in _MEDIA:
        value = getattr(message, attribute, None)
        if value:
            item = value[-1] if isinstance(value, (list, tuple)) else value
            caption = f" {message.caption}" if message.caption else ""
            return f"[{name}] /api/v1/agent/files/telegram/{item.file_id}{caption}"
    return "[attachment]"


def _file_of(message) -> tuple[str, str | None] | None:
    """(file id, file name) of the file `_describe` links to, if any."""
    for attribute, _ in _MEDIA:
        value = getattr(message, attribute, None)
        if value:
            item = value[-1] if isinstance(value, (list, tuple)) else value
            return item.file_id, getattr(item, "file_name", None)
    return None


def _language(code: str | None) -> str | None:
    return base_language(code) if code else None
