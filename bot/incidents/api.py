"""The agent HTTP API for incidents: publish a notice, list them, close one.

Same authentication as the other agent routes (bot/handoff/api.py): a bearer agent token,
or the console's session cookie with its CSRF header. Any agent may publish and close:
the team has no roles yet, and leads are the agents who watch the alerts.
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.appkeys import INCIDENTS
from bot.errors import NotFound
from bot.handoff.api import _text, authenticate
from bot.http_errors import BadRequest, read_json
from bot.incidents.store import STATUSES
from bot.incidents.surge import counts
from tolk_core.language_names import NAMES

# Rasa's intent names, and a FAQ's retrieval intent: "order_status", "faq/payment_methods".
_INTENT = re.compile(r"[a-z][a-z0-9_]{0,40}(?:/[a-z0-9_]{1,40})?")


def _incident_id(request: web.Request) -> int:
    raw = request.match_info["incident"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound(f"no incident {raw[:40]!r}")
    return int(raw)


def _intent(body: dict) -> str:
    intent = body.get("intent")
    if not isinstance(intent, str) or not _INTENT.fullmatch(intent.strip()):
        raise BadRequest(
            400, "`intent` must be an intent name, such as order_status or faq/payment_methods"
        )
    intent = intent.strip()
    if not counts(intent):
        raise BadRequest(400, f"`intent` {intent} names no problem (a greeting, thanks, ...)")
    return intent


def _versions(body: dict) -> dict[str, str]:
    versions = body.get("texts", {})
    if not isinstance(versions, dict):
        raise BadRequest(400, "`texts` must map language codes to your own versions")
    unknown = [code for code in versions if code not in NAMES]
    if unknown:
        raise BadRequest(400, f"`texts`: {str(unknown[0])[:20]!r} is not a language code")
    return {code: _text(versions, code) for code in versions}


async def publish(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    body = await read_json(request)
    intent = _intent(body)
    text = _text(body)
    language = body.get("language", agent.language)
    if language not in agent.languages:
        raise BadRequest(400, f"`language` must be one of yours: {', '.join(agent.languages)}")
    push = body.get("push", False)
    if not isinstance(push, bool):
        raise BadRequest(400, "`push` must be true or false")
    published = await request.app[INCIDENTS].publish(
        agent, intent, text, language, _versions(body), push=push
    )
    return web.json_response(published.as_json(), status=201)


async def listed(request: web.Request) -> web.Response:
    await authenticate(request)
    status = request.query.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(400, f"`status` must be one of {', '.join(STATUSES)}")
    return web.json_response({"incidents": await request.app[INCIDENTS].listed(status)})


async def close(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    body = await read_json(request) if request.can_read_body else {}
    text = _text(body) if body.get("text") is not None else None
    closed = await request.app[INCIDENTS].close(agent, _incident_id(request), text)
    return web.json_response(closed.as_json())


def setup(app: web.Application) -> None:
    prefix = "/api/v1/agent/incidents"
    app.router.add_post(prefix, publish)
    app.router.add_get(prefix, listed)
    app.router.add_post(f"{prefix}/{{incident}}/close", close)
