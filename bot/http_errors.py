"""JSON errors for every failure a client can cause or meet: never an HTML page or a traceback."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from sqlalchemy.exc import OperationalError

from bot.handoff.service import HandoffError
from bot.store import StoreUnavailable

log = logging.getLogger(__name__)


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_json(request: web.Request) -> dict:
    """The request body as a JSON object, or BadRequest with a clear message."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise BadRequest(413, "request body too large") from None
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest(400, "request body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise BadRequest(
            400, f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not isinstance(body, dict):
        raise BadRequest(400, "expected a JSON object")
    return body


@web.middleware
async def errors_as_json(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as error:
        return json_error(error.status, error.message)
    except HandoffError as error:
        return json_error(error.status, str(error))
    except (StoreUnavailable, OperationalError) as error:
        log.error("database unavailable: %s", error)
        return json_error(503, "the message store is busy or unavailable; please retry shortly")
    except web.HTTPException as error:
        if error.status < 400 or not _is_api(request):
            raise
        return json_error(error.status, error.reason)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_error(500, "internal error; the message, if any, was stored")


def _is_api(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/nlg", "/chat/", "/console/"))
