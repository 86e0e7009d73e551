"""Rasa's NLG server protocol: render each response in the conversation's language.

Rasa posts {"response": name, "arguments": {...}, "tracker": {...}, "channel": {...}}
and shows the returned {"text", "buttons"}. The language comes from the metadata the
gateway sent with the message, else from the stored conversation.

Only Rasa may ask: it sends `Authorization: Bearer <TOLK_NLG_SECRET>` (endpoints.yml);
anything else gets 401, since the tracker it posts decides what an answer reveals.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.appkeys import GATEWAY, OUTCOMES, RENDERER, SETTINGS, SPEAKER, STORE
from bot.errors import StoreUnavailable
from bot.http_errors import json_error, read_json
from tolk_core.internal_secrets import bearer_matches

log = logging.getLogger(__name__)

# Rasa posts the tracker of the whole session with every response it asks for: a session
# of long messages is megabytes, far above the customer routes' body limit (bot/app.py).
# Only a caller holding the secret gets this far.
MAX_NLG_BODY = 16 * 1024 * 1024


async def nlg(request: web.Request) -> web.Response:
    if not bearer_matches(request.headers.get("Authorization"), request.app[SETTINGS].nlg_secret):
        return json_error(401, "/nlg answers Rasa only (Authorization: Bearer <TOLK_NLG_SECRET>)")
    body = await read_json(request, max_bytes=MAX_NLG_BODY)
    name = body.get("response") or body.get("template")
    if not isinstance(name, str) or not name:
        return json_error(400, "`response` (the response name) is required")
    tracker = body.get("tracker") if isinstance(body.get("tracker"), dict) else {}
    language = await _language(request.app, tracker)
    variables = {**request.app[SPEAKER].variables(language), **_slots(tracker), **_arguments(body)}
    message = await request.app[RENDERER].render(name, language, variables)
    if message is None:
        log.error("Rasa asked for %r, which no locale file has", name)
        return json_error(404, f"no response named {name!r} in locales/")
    message.pop("language")
    try:
        await request.app[OUTCOMES].record(tracker, name)
    except StoreUnavailable as error:  # the figures lose a note; the customer their answer not
        log.warning("outcome of %r not recorded: %s", name, error)
    return web.json_response(message)


async def _language(app: web.Application, tracker: dict) -> str:
    latest = _object(tracker.get("latest_message"))
    language = _object(latest.get("metadata")).get("language")
    if isinstance(language, str) and app[GATEWAY].reachable(language):
        return language
    sender = tracker.get("sender_id")
    if isinstance(sender, str):
        conversation = await app[STORE].conversation(sender)
        if conversation and conversation.language:
            return conversation.language
    return app[RENDERER].catalogue.fallback


def _object(value: object) -> dict:
    """A JSON object from the tracker, or {} for anything else a caller put there."""
    return value if isinstance(value, dict) else {}


def _slots(tracker: dict) -> dict:
    slots = tracker.get("slots")
    return (
        {key: value for key, value in slots.items() if value is not None}
        if isinstance(slots, dict)
        else {}
    )


def _arguments(body: dict) -> dict:
    arguments = body.get("arguments")
    return arguments if isinstance(arguments, dict) else {}
