"""The agent HTTP API (DESIGN "HTTP"): list, read, claim, reply to and resolve tickets.

Agents authenticate with `Authorization: Bearer <agent token>`; the console uses the same
routes with its session cookie and CSRF header.
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from bot.appkeys import CHANNELS, HANDOFF, SESSIONS, SETTINGS
from bot.attachments import MAX_OUTGOING, OutgoingFile
from bot.channels.rest import MAX_TEXT
from bot.errors import NotFound
from bot.handoff.agents import Agent
from bot.handoff.tickets import STATUSES
from bot.http_errors import BadRequest, read_json


async def authenticate(request: web.Request) -> Agent:
    handoff = request.app[HANDOFF]
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        agent = await handoff.authenticate(token.strip()) if scheme == "Bearer" else None
        if agent is None:
            raise BadRequest(401, "wrong agent token (Authorization: Bearer <agent token>)")
        return agent
    session = await request.app[SESSIONS].for_request(request)
    agent = await handoff.agents.by_id(session.agent_id) if session else None
    if agent is None:
        raise BadRequest(
            401, "agent token required (Authorization: Bearer <agent token>) or console login"
        )
    await handoff.seen(agent)
    return agent


def _ticket_id(request: web.Request) -> int:
    raw = request.match_info["ticket"]
    # ASCII digits only ("²" and "١" are digits to str.isdigit), and a number the
    # database can hold.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound(f"no ticket {raw[:40]!r}")
    return int(raw)


def _text(body: dict, field: str = "text") -> str:
    text = body.get(field)
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(400, f"`{field}` must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise BadRequest(413, f"`{field}` is longer than {MAX_TEXT} characters")
    return text.strip()


async def me(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    canned = await request.app[HANDOFF].canned_replies(agent)
    settings = request.app[SETTINGS]
    # The console offers "continue by e-mail" only where Tolk can send mail.
    email = bool(settings.smtp_url and settings.email_from)
    # Where the console offers "Send a file" (POST /api/v1/agent/tickets/{id}/files).
    files = [c.name for c in request.app[CHANNELS] if c.capabilities.files_out]
    return web.json_response(
        {**agent.as_json(), "canned": canned, "email": email, "files_to": files}
    )


async def list_tickets(request: web.Request) -> web.Response:
    await authenticate(request)
    status = request.query.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(400, f"`status` must be one of {', '.join(STATUSES)}")
    tickets = await request.app[HANDOFF].listed(status)
    return web.json_response({"tickets": tickets})


async def get_ticket(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    detail = await request.app[HANDOFF].detail(agent, _ticket_id(request))
    return web.json_response(detail)


async def claim(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    ticket = await request.app[HANDOFF].claim(agent, _ticket_id(request))
    return web.json_response(ticket.as_json())


async def post_message(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    body = await read_json(request)
    canned = body.get("canned")
    if canned is not None and not isinstance(canned, str):
        raise BadRequest(400, "`canned` must be the name of a canned reply")
    language = body.get("language")
    if language is not None and language not in agent.languages:
        raise BadRequest(400, f"`language` must be one of yours: {', '.join(agent.languages)}")
    text = None if canned else _text(body)
    sent = await request.app[HANDOFF].reply(
        agent, _ticket_id(request), text=text, canned=canned, language=language
    )
    return web.json_response(sent, status=201)


async def post_file(request: web.Request) -> web.Response:
    """multipart/form-data: `file` (the file) and an optional `caption`."""
    agent = await authenticate(request)
    ticket_id = _ticket_id(request)
    file = await _read_file(request)
    sent = await request.app[HANDOFF].send_file(agent, ticket_id, file)
    return web.json_response(sent, status=201)


async def _read_file(request: web.Request) -> OutgoingFile:
    if not request.content_type.startswith("multipart/form-data"):
        raise BadRequest(415, "send the file as multipart/form-data, in a part named `file`")
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, HttpProcessingError):
        raise BadRequest(400, "the multipart body cannot be read") from None
    content, name, caption = None, None, ""
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise BadRequest(400, "nested multipart bodies are not accepted")
            if part.name == "file" and content is None:
                name = part.filename
                content = await _read_part(part, MAX_OUTGOING, "the file")
            elif part.name == "caption":
                raw = await _read_part(part, 4 * MAX_TEXT, "`caption`")
                caption = raw.decode("utf-8", "replace")
            else:
                await part.release()  # unknown parts are skipped, not kept
    except (ValueError, AssertionError, HttpProcessingError):  # a part's headers too
        raise BadRequest(400, "the multipart body is malformed") from None
    if content is None:
        raise BadRequest(400, "no part named `file`")
    if len(caption) > MAX_TEXT:
        raise BadRequest(400, f"`caption` is longer than {MAX_TEXT} characters")
    try:
        return OutgoingFile.checked(content, name, caption)
    except ValueError as error:
        status = 413 if len(content) > MAX_OUTGOING else 415 if content else 400
        raise BadRequest(status, str(error)) from None


async def _read_part(part: BodyPartReader, limit: int, what: str) -> bytes:
    """A part's bytes, refused past `limit` without reading the rest into memory."""
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise BadRequest(413, f"{what} is larger than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def post_note(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    text = _text(await read_json(request))
    note = await request.app[HANDOFF].note(agent, _ticket_id(request), text)
    return web.json_response(note, status=201)


async def resolve(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    ticket = await request.app[HANDOFF].resolve(agent, _ticket_id(request))
    return web.json_response(ticket.as_json())


def setup(app: web.Application) -> None:
    prefix = "/api/v1/agent"
    app.router.add_get(f"{prefix}/me", me)
    app.router.add_get(f"{prefix}/tickets", list_tickets)
    app.router.add_get(f"{prefix}/tickets/{{ticket}}", get_ticket)
    app.router.add_post(f"{prefix}/tickets/{{ticket}}/claim", claim)
    app.router.add_post(f"{prefix}/tickets/{{ticket}}/messages", post_message)
    app.router.add_post(f"{prefix}/tickets/{{ticket}}/files", post_file)
    app.router.add_post(f"{prefix}/tickets/{{ticket}}/notes", post_note)
    app.router.add_post(f"{prefix}/tickets/{{ticket}}/resolve", resolve)
