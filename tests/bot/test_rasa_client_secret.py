"""The gateway sends Rasa the secret its REST channel wants (rasa_channels/gateway.py)."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.rasa_client import RasaClient


async def test_every_message_to_rasa_carries_the_secret(aiohttp_server):
    seen: list[str | None] = []

    async def webhook(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response([{"text": "hi"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, [url], url, 5, secret="rasa-secret-0123456789")
        assert [m.text for m in await client.send("rest-a", "hello", {})] == ["hi"]
        await client.send("rest-a", "again", {})
    assert seen == ["Bearer rasa-secret-0123456789"] * 2
