"""Telegram as a `Channel`: its routes (the webhook, customers' files for agents), its
connection while TELEGRAM_TOKEN is set, and pushes to chats.

The webhook route is always there (routes are fixed when the application is built) and
answers 404 while the webhook is off; the connection itself is connection.py.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from aiohttp import web

from bot.appkeys import ENGINE, GATEWAY, HANDOFF, LIMITS, SPEAKER, STORE
from bot.channels.base import Capabilities, Channel
from bot.channels.telegram import agent_files
from bot.channels.telegram.connection import TelegramConnection
from bot.channels.telegram.files import FileLog
from bot.channels.telegram.outbound import MAX_TEXT
from bot.channels.telegram.updates import UpdateLog, is_int64
from bot.http_errors import json_error, read_json
from bot.rasa_client import BotMessage
from bot.settings import Settings
from bot.store import Conversation

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The running connection, while there is one (tests and tools wait for it to be ready).
TELEGRAM: web.AppKey[TelegramConnection] = web.AppKey("telegram")


class TelegramChannel(Channel):
    name = "telegram"
    capabilities = Capabilities(buttons=True, max_text=MAX_TEXT, files=True, pushes=True)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # Only while TELEGRAM_TOKEN is set and the service runs.
        self.connection: TelegramConnection | None = None

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.post("/telegram/webhook", self.webhook),
            web.get(agent_files.PATH, self.agent_file),
        ]

    async def start(self, app: web.Application) -> None:
        if not self.settings.telegram_token:
            return
        engine = app[ENGINE]
        self.connection = app[TELEGRAM] = TelegramConnection(
            self.settings,
            app[GATEWAY],
            UpdateLog(engine),
            store=app[STORE],
            handoff=app[HANDOFF],
            speaker=app[SPEAKER],
            files=FileLog(engine),
            limits=app[LIMITS],
        )
        await self.connection.start()

    async def stop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.stop()

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        if self.connection is not None:
            await self.connection.deliver(conversation, list(messages))

    async def agent_file(self, request: web.Request) -> web.Response:
        return await agent_files.agent_file(request, self.connection)

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram posts updates here; 200 once stored, so a redelivery is never lost."""
        connection = self.connection
        if connection is None or not self.settings.telegram_webhook_url:
            return json_error(404, "the Telegram webhook is not enabled (TELEGRAM_WEBHOOK_URL)")
        given = request.headers.get(SECRET_HEADER, "")
        expected = self.settings.telegram_secret_token or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return json_error(401, f"missing or wrong {SECRET_HEADER}")
        body = await read_json(request)
        if not is_int64(body.get("update_id")):
            return json_error(400, "an update needs an integer update_id")
        await connection.receive(body)
        return web.json_response({"ok": True})
