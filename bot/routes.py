"""Every route of the bot service, in one place; each channel adds its own (its `routes`)."""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import CHANNELS
from bot.console import views as console
from bot.content_reload import reload_content
from bot.handoff import api as agent_api
from bot.health import healthz, livez, readyz
from bot.incidents import api as incidents_api
from bot.metrics import api as dashboard_api
from bot.nlg import nlg
from bot.telemetry import metrics
from bot.unanswered import api as unanswered_api


def setup_routes(app: web.Application) -> None:
    for channel in app[CHANNELS]:
        app.router.add_routes(channel.routes())
    app.router.add_post("/api/v1/content/reload", reload_content)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/nlg", nlg)
    agent_api.setup(app)
    unanswered_api.setup(app)
    incidents_api.setup(app)
    dashboard_api.setup(app)
    console.setup(app)
