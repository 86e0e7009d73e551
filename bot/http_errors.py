"""JSON errors for every failure a client can cause or meet: never an HTML page or a traceback.

The web layer's half of the error hierarchy (bot/errors.py): the one place where a kind of
failure becomes an HTTP status and a JSON body (`status_for`, `error_response`, applied by
the `errors_as_json` middleware to whatever a handler or a service raises). BadRequest is
for what only the web layer can tell (a body that is not JSON, a missing header).
"""

from __future__ import annotations

import json
import logging
import math
import re

from aiohttp import web

from bot.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    RateLimited,
    Rejected,
    StoreUnavailable,
    TolkError,
    Unavailable,
    UpstreamFailed,
)

log = logging.getLogger(__name__)


# Each kind of domain error and its status; a kind not listed takes its nearest listed
# base's (AgentError is a Rejected: 422).
_STATUSES: dict[type[TolkError], int] = {
    NotFound: 404,
    Gone: 410,
    Forbidden: 403,
    Conflict: 409,
    Rejected: 422,
    RateLimited: 429,
    Unavailable: 503,
    UpstreamFailed: 502,
}


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def status_for(error: TolkError) -> int:
    """The HTTP status of a domain error (the console's live feed sends it along too)."""
    for kind in type(error).__mro__:
        if kind in _STATUSES:
            return _STATUSES[kind]
    return 500  # a kind added to bot/errors.py without a status here: a bug, say so


def error_response(error: TolkError) -> web.Response:
    """`{"error": message}` with the error's status; 429s also say when to come back."""
    if isinstance(error, RateLimited):
        return too_many(error)
    return json_error(status_for(error), error.message)


def too_many(limited: RateLimited) -> web.Response:
    """429 with the wait in whole seconds, in the body and in Retry-After."""
    seconds = max(1, math.ceil(limited.wait))
    response = web.json_response(
        {"error": f"{limited.message}; try again in {seconds} s", "retry_after": seconds},
        status=429,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


class BadRequest(Exception):
    """An answer only the web layer can give (bad JSON, 401 without the right header, 413):
    its status and message, as JSON."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_json(request: web.Request, max_bytes: int | None = None) -> dict:
    """The request body as a JSON object, or BadRequest with a clear message.

    Only as `Content-Type: application/json` (a charset parameter is fine): a web page
    can send a "simple" text/plain or form POST to any origin without a CORS preflight,
    but not a JSON one, so no other site can make a visitor's browser post to us.
    `max_bytes` replaces the application's body limit for an authenticated caller that
    sends more (Rasa posts the whole session's tracker to /nlg).
    """
    if request.content_type != "application/json":
        raise BadRequest(
            415, "send the body as JSON, with the header Content-Type: application/json"
        )
    try:
        raw = await request.read() if max_bytes is None else await _read_up_to(request, max_bytes)
    except web.HTTPRequestEntityTooLarge:
        raise BadRequest(413, "request body too large") from None
    try:
        text = raw.decode("utf-8")
        body = json.loads(text, parse_constant=_not_json)
    except UnicodeDecodeError:
        raise BadRequest(400, "request body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise BadRequest(
            400, f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:  # [[[[... deeper than the parser's stack
        raise BadRequest(400, "invalid JSON: nested too deeply") from None
    except ValueError as error:  # NaN, or an integer of more than 4300 digits
        raise BadRequest(400, f"invalid JSON: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest(400, "expected a JSON object")
    problem = _unstorable(body, strings=_may_hold_unstorable(text))
    if problem:
        raise BadRequest(400, problem)
    return body


async def _read_up_to(request: web.Request, max_bytes: int) -> bytes:
    """The body, read past the application's client_max_size but never past `max_bytes`."""
    if (request.content_length or 0) > max_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=request.content_length)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value")


# A lone surrogate ("\ud800" in JSON) is not a character: it cannot be encoded as UTF-8
# to store, log or send on. NUL cannot be stored in a PostgreSQL text column.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


# Deeper documents are refused whatever the interpreter's parser manages (Python 3.10's
# gives up near 1,000 levels, 3.13's goes further): none of ours nests beyond a few.
MAX_DEPTH = 64


def _unstorable(body: dict, strings: bool = True) -> str | None:
    """Why `body` cannot be stored (a string in it, or its depth), or None. With
    `strings=False` only the depth is looked at (see `_may_hold_unstorable`)."""
    too_deep = f"invalid JSON: nested too deeply (more than {MAX_DEPTH} levels)"
    pending: list[tuple[dict | list, int]] = [(body, 1)]
    while pending:  # no recursion: the depth is whatever the client sent
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return too_deep
        members = value.values() if isinstance(value, dict) else value
        if strings and isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and (problem := _bad_string(key)):
                    return problem  # in a key
        for item in members:
            if depth + 1 > MAX_DEPTH:  # even a number that deep
                return too_deep
            if isinstance(item, dict | list):
                pending.append((item, depth + 1))
            elif strings and isinstance(item, str) and (problem := _bad_string(item)):
                return problem
    return None


def _bad_string(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "strings must not contain NUL (\\u0000)"
    return f"strings must be valid Unicode: a lone surrogate \\u{ord(found.group()):04x}"


def _may_hold_unstorable(raw: str) -> bool:
    """Whether a JSON text can decode to a NUL or a lone surrogate: only through a \\u
    escape, since the parser refuses raw control characters and UTF-8 has no surrogates.
    Most bodies have none, and then no string needs a look (Rasa's /nlg body is the whole
    tracker: walking every string of it was a tenth of the gateway's CPU). An escaped
    backslash before "u0000" matches too; the walk then decides."""
    return _UNSTORABLE_ESCAPE.search(raw) is not None


@web.middleware
async def errors_as_json(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as error:
        return json_error(error.status, error.message)
    except TolkError as error:
        if isinstance(error, StoreUnavailable):
            log.error("database unavailable: %s", error.detail)
        elif error.detail:  # what the client is not told: the driver's text, say
            log.warning("%s %s: %s", request.method, request.path, error)
        return error_response(error)
    except web.HTTPException as error:
        if error.status < 400 or not _is_api(request):
            raise
        return json_error(error.status, error.reason)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_error(500, "internal error; the message, if any, was stored")


def _is_api(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/nlg", "/chat/", "/console/"))


async def close_if_body_unread(request: web.Request, response: web.StreamResponse) -> None:
    """Close the connection after an answer given before the body was read (401, 413, 415).

    aiohttp 3.9 otherwise keeps the connection for the client's next request, which then
    waits seconds for an answer while the unread body is drained (tests/fuzz found this)."""
    if request.can_read_body:  # some of the body is still unread
        response.force_close()
        response.headers["Connection"] = "close"  # so that the client does not reuse it
