"""Every route of the bot service, in one place."""

from __future__ import annotations

from aiohttp import web

from bot.channels import rest, webchat
from bot.console import views as console
from bot.content_reload import reload_content
from bot.handoff import api as agent_api
from bot.health import healthz, livez, readyz
from bot.nlg import nlg
from bot.telegram.channel import webhook as telegram_webhook


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", webchat.page)
    app.router.add_post("/chat/messages", webchat.post_message)
    app.router.add_get("/chat/messages", webchat.get_messages)
    app.router.add_post("/api/v1/messages", rest.post_message)
    app.router.add_get("/api/v1/conversations/{sender}/messages", rest.get_messages)
    app.router.add_post("/api/v1/content/reload", reload_content)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/livez", livez)
    app.router.add_post("/nlg", nlg)
    agent_api.setup(app)
    app.router.add_post("/telegram/webhook", telegram_webhook)
    console.setup(app)
