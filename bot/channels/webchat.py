"""The customer web chat at `/`: a page plus two JSON routes of its own.

The page does not use /api/v1, which may need a server-to-server token. Each browser gets
a random conversation id in an HttpOnly cookie, so one customer cannot read another's
conversation by guessing a sender name.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from aiohttp import web

from bot.appkeys import GATEWAY, LIMITS, STORE
from bot.channels.base import Capabilities, Channel
from bot.channels.rest import MAX_TEXT, parse_after, parse_timezone
from bot.http_errors import BadRequest, json_error, read_json
from bot.page_policy import PAGE_HEADERS, CachedPage
from bot.tls import came_over_tls
from tolk_core.language_names import base_language

STATIC = Path(__file__).resolve().parent.parent / "static"
COOKIE = "tolk_chat"


_PAGE = CachedPage(STATIC / "chat.html")


class WebChatChannel(Channel):
    """The browser polls its conversation (GET /chat/messages), so nothing is pushed."""

    name = "web"
    capabilities = Capabilities(buttons=True, max_text=MAX_TEXT)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/", self.page),
            web.post("/chat/messages", self.post_message),
            web.get("/chat/messages", self.get_messages),
        ]

    async def page(self, request: web.Request) -> web.Response:
        body, policy = await _PAGE.get()
        return web.Response(
            body=body,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Cache-Control": "no-cache",
                "Content-Security-Policy": policy,
                **PAGE_HEADERS,
            },
        )

    async def post_message(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest(400, "`text` must be a non-empty string")
        if len(text) > MAX_TEXT:
            raise BadRequest(413, f"`text` is longer than {MAX_TEXT} characters")
        hint = body.get("language")
        hint = base_language(hint) if isinstance(hint, str) else None
        chat_id = _chat_id(request)
        inbound = self.inbound(
            chat_id, text, language_hint=hint, timezone=parse_timezone(body.get("timezone"))
        )
        # A forged or fresh cookie is a new conversation: counted for the address.
        await request.app[LIMITS].message(request, inbound, request.app[STORE])
        outcome = await request.app[GATEWAY].handle(inbound)
        body = outcome.as_json("web")
        for message, seq in zip(body["messages"], outcome.seqs, strict=False):
            message["seq"] = seq
        response = web.json_response(body)
        _remember(request, response, chat_id)
        return response

    async def get_messages(self, request: web.Request) -> web.Response:
        chat_id = request.cookies.get(COOKIE)
        if not _valid(chat_id):
            return web.json_response({"messages": []})
        found = await request.app[STORE].messages(self.key(chat_id), parse_after(request))
        if found is None:
            return web.json_response({"messages": []})
        return web.json_response({"messages": [message.as_json() for message in found]})


def _chat_id(request: web.Request) -> str:
    chat_id = request.cookies.get(COOKIE)
    return chat_id if _valid(chat_id) else secrets.token_urlsafe(18)


def _valid(chat_id: str | None) -> bool:
    return (
        bool(chat_id) and len(chat_id) == 24 and chat_id.replace("-", "").replace("_", "").isalnum()
    )


def _remember(request: web.Request, response: web.Response, chat_id: str) -> None:
    response.set_cookie(
        COOKIE,
        chat_id,
        max_age=30 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=came_over_tls(request),
        path="/",
    )


__all__ = ["WebChatChannel", "json_error"]
