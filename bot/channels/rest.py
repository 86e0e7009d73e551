"""The REST API (DESIGN "HTTP"): POST a message, GET a conversation's messages."""

from __future__ import annotations

import hmac

from aiohttp import web

from bot.appkeys import GATEWAY, LIMITS, SETTINGS, STORE
from bot.channels.base import Capabilities, Channel
from bot.handoff.hours import HoursError, zone
from bot.http_errors import BadRequest, json_error, read_json
from tolk_core.language_names import NAMES, base_language

MAX_TEXT = 4096
MAX_SENDER = 128
MAX_NAME = 200


def parse_message(body: dict, languages: tuple[str, ...]) -> dict:
    """Validated fields of a message body, or BadRequest naming what is wrong."""
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest(400, "`sender` must be a non-empty string")
    if len(sender) > MAX_SENDER:
        raise BadRequest(400, f"`sender` is longer than {MAX_SENDER} characters")
    if sender.strip() in (".", ".."):
        # No URL can name it: clients drop "." and ".." path segments, so the
        # conversation could never be read back with GET /api/v1/conversations/{sender}.
        raise BadRequest(400, '`sender` cannot be "." or ".."')
    text = body.get("text")
    if text is None:
        raise BadRequest(400, "`text` is required")
    if not isinstance(text, str):
        raise BadRequest(400, "`text` must be a string")
    if not text.strip():
        raise BadRequest(400, "`text` is empty")
    if len(text) > MAX_TEXT:
        raise BadRequest(413, f"`text` is longer than {MAX_TEXT} characters")
    language = body.get("language")
    if language is not None:
        if not isinstance(language, str):
            raise BadRequest(400, '`language` must be a string such as "nl"')
        language = base_language(language)
        if language not in languages:
            raise BadRequest(
                400, f"unknown language {body['language']!r}; supported: {', '.join(languages)}"
            )
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise BadRequest(400, "`name` must be a string")
    message_id = body.get("message_id")
    if message_id is not None and not isinstance(message_id, (str, int)):
        raise BadRequest(400, "`message_id` must be a string or a number")
    return {
        "timezone": parse_timezone(body.get("timezone")),
        "sender": sender.strip(),
        "text": text,
        "language": language,
        "name": name.strip()[:MAX_NAME] if name else None,
        "message_id": str(message_id) if message_id is not None else None,
    }


def parse_timezone(value: object) -> str | None:
    """The customer's IANA time zone (e.g. from the browser), for times we tell them."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(400, '`timezone` must be an IANA name such as "Asia/Tehran"')
    try:
        zone(value)
    except HoursError as error:
        raise BadRequest(400, f"`timezone`: {error}") from None
    return value


class RestChannel(Channel):
    """Server-to-server clients: the answer is the response; later messages (an agent's)
    are read with GET, so nothing is pushed."""

    name = "rest"
    capabilities = Capabilities(buttons=True, max_text=MAX_TEXT)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.post("/api/v1/messages", self.post_message),
            # Any sender but "/": aiohttp's default pattern leaves out { and }, so a
            # sender "{x}" could post but never read its conversation back.
            web.get("/api/v1/conversations/{sender:[^/]+}/messages", self.get_messages),
        ]

    async def post_message(self, request: web.Request) -> web.Response:
        fields = parse_message(await read_json(request), tuple(NAMES))
        # The client's sender names a REST conversation only (bot/senders.py); the answer
        # names it as the client did.
        inbound = self.inbound(
            fields["sender"],
            fields["text"],
            language_hint=fields["language"],
            customer_name=fields["name"],
            external_id=fields["message_id"],
            timezone=fields["timezone"],
        )
        await request.app[LIMITS].message(request, inbound, request.app[STORE])
        outcome = await request.app[GATEWAY].handle(inbound)
        return web.json_response(outcome.as_json(fields["sender"]))

    async def get_messages(self, request: web.Request) -> web.Response:
        after = parse_after(request)
        found = await request.app[STORE].messages(self.key(request.match_info["sender"]), after)
        if found is None:
            return json_error(404, "no conversation with that sender")
        return web.json_response({"messages": [message.as_json() for message in found]})


def parse_after(request: web.Request) -> int:
    raw = request.query.get("after", "0")
    try:
        after = int(raw)
    except ValueError:
        raise BadRequest(400, "`after` must be a whole number") from None
    if after < 0:
        raise BadRequest(400, "`after` must not be negative")
    # Beyond any message number, and beyond what the database compares with.
    return min(after, 2**63 - 1)


@web.middleware
async def require_api_token(request: web.Request, handler) -> web.StreamResponse:
    """With TOLK_API_TOKEN set, /api/v1/* needs the bearer token, but the agent routes and
    content reload, which check their own (an agent's token, TOLK_ADMIN_TOKEN)."""
    token = request.app[SETTINGS].api_token
    path = request.path
    if (
        token
        and path.startswith("/api/v1/")
        and not path.startswith(("/api/v1/agent/", "/api/v1/content/"))
    ):
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return json_error(401, "missing or wrong API token (Authorization: Bearer <token>)")
    return await handler(request)
