"""`GET /api/v1/agent/files/telegram/{file_id}`: a file a Telegram customer sent during a
handoff, for the agent holding the ticket (files.py records which conversation it came from).

Served through the bot so that the agent never sees the bot token in a file URL; always as a
download whose type is read from its bytes (bot/attachments.py).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from aiohttp import web
from telegram.error import TelegramError

from bot.attachments import attachment_name, download_headers, sniff
from bot.channels.telegram.connection import TelegramConnection
from bot.errors import Forbidden, NotFound, UpstreamFailed
from bot.handoff.api import authenticate

PATH = "/api/v1/agent/files/telegram/{file_id}"


async def agent_file(request: web.Request, connection: TelegramConnection | None) -> web.Response:
    agent = await authenticate(request)
    if connection is None:
        raise NotFound("Telegram is not connected")
    file_id = request.match_info["file_id"]
    shared = await connection.files.for_agent(file_id, agent.id)
    if shared is None:
        if await connection.files.known(file_id):
            raise Forbidden("only the agent holding this customer's ticket can open their files")
        raise NotFound("no customer sent a file with that id")
    try:
        content, path = await connection.file(file_id)
    except TelegramError as error:
        raise UpstreamFailed(f"Telegram did not give the file: {error}") from None
    kind = sniff(content)
    name = attachment_name(shared.file_name or PurePosixPath(path).name, kind, "file")
    return web.Response(body=content, headers=download_headers(kind, name))
