"""The bot service with WhatsApp, Messenger and Instagram on, against the local Graph API
stand-in (tests/graph_server.py), a fake Rasa and the test translator."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import aiohttp
from sqlalchemy import update

from bot.app import create_app
from bot.appkeys import ENGINE
from bot.db import meta_inbound, meta_outbound
from tests.gateway_fixtures import settled as settled_on
from tests.graph_server import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    TOKEN,
    VERIFY_TOKEN,
    FakeGraph,
    serve,
    signed,
)
from tests.translation_server import FakeLibreTranslate
from tests.translation_server import serve as serve_translator


async def meta_client(aiohttp_client, aiohttp_server, settings, graph: FakeGraph):
    url = await serve(aiohttp_server, graph)
    translator_url = await serve_translator(aiohttp_server, FakeLibreTranslate())
    configured = replace(
        settings,
        whatsapp_token=TOKEN,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_api_base_url=url,
        whatsapp_template_name="tolk_follow_up",
        whatsapp_template_language="en",
        messenger_page_token=TOKEN,
        messenger_app_secret=APP_SECRET,
        messenger_verify_token=VERIFY_TOKEN,
        messenger_api_base_url=url,
        meta_reorder_seconds=0.05,
        translator="libre",
        translator_url=translator_url,
        translator_timeout=2,
    )
    return await aiohttp_client(create_app(configured))


async def post(client, path: str, body: dict, secret: str | None = APP_SECRET, **header) -> int:
    """A delivery as Meta posts it: the raw body, signed (or not, or wrongly)."""
    raw, headers = signed(body, secret or "unused")
    if secret is None:
        del headers["X-Hub-Signature-256"]
    headers.update(header)
    response = await client.post(path, data=raw, headers=headers)
    return response.status


async def settled(graph: FakeGraph, count: int, timeout: float = 8.0) -> list[dict]:
    """Wait until the stand-in took `count` messages (handling follows the 200)."""
    return await settled_on(graph.sent, count, timeout)


async def quiet(graph: FakeGraph, seconds: float = 0.3, timeout: float = 8.0) -> int:
    """How many messages the stand-in took, once none came for `seconds` (the bot's
    notices after a handoff go out in the background)."""
    seen, still = len(graph.sent), 0.0
    for _ in range(int(timeout / 0.02)):
        await asyncio.sleep(0.02)
        still = still + 0.02 if len(graph.sent) == seen else 0.0
        seen = len(graph.sent)
        if still >= seconds:
            return seen
    raise AssertionError(f"the bot kept sending: {graph.sent}")


async def age_window(client, sender: str, hours: float) -> None:
    """As if the customer last wrote `hours` ago (the 24-hour window's start)."""
    engine = client.app[ENGINE]
    async with engine.begin() as connection:
        rows = await connection.execute(
            meta_inbound.select().where(meta_inbound.c.sender == sender)
        )
        for row in rows.fetchall():
            await connection.execute(
                update(meta_inbound)
                .where(meta_inbound.c.id == row.id)
                .values(sent_at=row.sent_at - timedelta(hours=hours))
            )


async def rows(client, table, sender: str) -> list:
    engine = client.app[ENGINE]
    async with engine.connect() as connection:
        result = await connection.execute(table.select().where(table.c.sender == sender))
        return list(result.fetchall())


__all__ = ["meta_inbound", "meta_outbound"]


async def transcript(client, sender: str) -> list[str] | None:
    """The texts stored for the conversation `sender` (None: nothing stored)."""
    from bot.appkeys import STORE

    stored = await client.app[STORE].messages(sender)
    return None if stored is None else [message.text for message in stored]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def send_file(client, agent, ticket, content: bytes, name: str, caption: str = ""):
    """An agent's file as the console uploads it; (status, JSON answer)."""
    form = aiohttp.FormData(quote_fields=False)  # the name as a browser sends it
    form.add_field("file", content, filename=name, content_type="application/octet-stream")
    if caption:
        form.add_field("caption", caption)
    response = await client.post(
        f"/api/v1/agent/tickets/{ticket}/files", data=form, headers=agent.auth
    )
    return response.status, await response.json()
