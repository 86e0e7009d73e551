"""The agent API's view of what the bot did not understand (agent token or console login):

`GET /api/v1/agent/unanswered?since=7d&language=fa&channel=web&limit=20` the groups;
`POST /api/v1/agent/unanswered/drafts {"text", "language", "intent"}` a training-example
draft for the content team's review file (bot/unanswered/drafts.py).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict

from aiohttp import web

from bot.appkeys import ENGINE, SETTINGS
from bot.db import utcnow
from bot.handoff.api import authenticate
from bot.http_errors import BadRequest, read_json
from bot.metrics.query import Query, QueryError, since
from bot.unanswered.drafts import MAX_TEXT, Drafts
from bot.unanswered.grouping import Group, group, shown
from bot.unanswered.items import LOW_CONFIDENCE, MAX_ITEMS, Item, load_unanswered
from bot.unanswered.report import DEFAULT_LIMIT

# Rasa intent names as domain.yml spells them, retrieval intents included ("faq/warranty").
INTENT = re.compile(r"[a-z_/]{1,64}")
MAX_LIMIT = 100
_MAX_FILTER = 32  # a language or channel name longer than this names nothing


def _filter(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    if len(value) > _MAX_FILTER:
        raise BadRequest(400, f"`{name}` is longer than {_MAX_FILTER} characters")
    return value or None


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "").strip()
    if not raw:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3 or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(400, f"`limit` must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _example(item: Item) -> dict:
    return {
        "seq": item.id,
        "text": shown(item.text),
        "pivot_text": shown(item.pivot_text),
        "channel": item.channel,
        "ts": item.when.isoformat() + "Z",
        "why": item.why,
        "intent": item.intent,
        "confidence": item.confidence,
    }


def _group(found: Group) -> dict:
    return {
        "language": found.language,
        "count": found.count,
        "representative": shown(found.representative.text),
        "why": found.whys,
        "intents": [{"intent": name, "count": count} for name, count in found.intents],
        "channels": found.channels,
        "examples": [_example(item) for item in found.examples],
    }


async def list_unanswered(request: web.Request) -> web.Response:
    await authenticate(request)
    language, channel = _filter(request, "language"), _filter(request, "channel")
    limit = _limit(request)
    try:
        start, end = since(request.query.get("since", "7d"))
        query = Query(start, end, language=language, channel=channel)
    except QueryError as error:
        raise BadRequest(400, str(error).replace("--since", "`since`")) from None
    settings = request.app[SETTINGS]
    found = await load_unanswered(request.app[ENGINE], query, settings.session_minutes)
    # Seconds of pure Python at worst (5,000 hostile texts): off the event loop, so that
    # customers' messages keep being answered meanwhile.
    groups = await asyncio.to_thread(group, found.items)
    shown_groups: list[dict] = []
    per_language: dict[str, int] = {}
    for each in groups:
        per_language[each.language] = per_language.get(each.language, 0) + 1
        if per_language[each.language] <= limit:
            shown_groups.append(_group(each))
    return web.json_response(
        {
            "start": start.isoformat() + "Z",
            "end": end.isoformat() + "Z",
            "language": language,
            "channel": channel,
            "messages": len(found.items),
            "truncated": found.truncated,
            "max_messages": MAX_ITEMS,
            "low_confidence_below": LOW_CONFIDENCE,
            "groups_total": len(groups),
            "groups": shown_groups,
        }
    )


async def post_draft(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    body = await read_json(request)
    settings = request.app[SETTINGS]
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(400, "`text` must be a non-empty string: the example to learn")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise BadRequest(
            400, f"`text` is longer than {MAX_TEXT} characters; a training example is a sentence"
        )
    language = body.get("language")
    if not isinstance(language, str) or language not in settings.languages:
        raise BadRequest(
            400,
            "`language` must be one the bot is trained in: " + ", ".join(settings.languages),
        )
    intent = body.get("intent")
    if not isinstance(intent, str) or not INTENT.fullmatch(intent):
        raise BadRequest(
            400,
            "`intent` must be an intent name: 1-64 of a-z, _ and / (e.g. track_order, "
            "faq/shipping_time)",
        )
    draft = await Drafts(settings.nlu_drafts).add(agent.name, language, intent, text, utcnow())
    return web.json_response({"draft": asdict(draft)}, status=201)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent/unanswered", list_unanswered)
    app.router.add_post("/api/v1/agent/unanswered/drafts", post_draft)
