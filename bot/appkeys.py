"""Typed keys for what the application holds: each service under its own key, so that a
module asks for the service it uses (the store, the handoff service) and not for the
`Gateway` that happens to hold it too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.alerts import Alerts
    from bot.changes import LocalChanges
    from bot.channels.base import Channel
    from bot.console.sessions import Sessions
    from bot.delivery import Delivery
    from bot.erase import Eraser
    from bot.handoff.service import HandoffService
    from bot.inbound import Gateway
    from bot.incidents.service import Incidents
    from bot.limits import CustomerLimits
    from bot.outcomes import Outcomes
    from bot.rasa_client import RasaClient
    from bot.ratelimit import RateLimiter
    from bot.render import Renderer
    from bot.speaker import Speaker
    from bot.store import Store
    from bot.surveys.service import Surveys
    from bot.telemetry import Telemetry

SETTINGS = web.AppKey("settings", Settings)
# Set by create_app (routes need them before anything runs).
LIMITS: web.AppKey[CustomerLimits] = web.AppKey("limits")
# Console login failures (bot/console/views.py): shared, and never a per-replica fallback.
LOGIN_LIMITER: web.AppKey[RateLimiter] = web.AppKey("login_limiter")
CHANNELS: web.AppKey[tuple[Channel, ...]] = web.AppKey("channels")
DELIVERY: web.AppKey[Delivery] = web.AppKey("delivery")
TELEMETRY: web.AppKey[Telemetry] = web.AppKey("telemetry")
# What the console shows changed (bot/changes.py): in this process or through Redis.
CHANGES: web.AppKey[LocalChanges] = web.AppKey("changes")
# Set at start (bot/app.py `_resources`).
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine")
STORE: web.AppKey[Store] = web.AppKey("store")
SPEAKER: web.AppKey[Speaker] = web.AppKey("speaker")
RENDERER: web.AppKey[Renderer] = web.AppKey("renderer")
HANDOFF: web.AppKey[HandoffService] = web.AppKey("handoff")
RASA: web.AppKey[RasaClient] = web.AppKey("rasa")
ERASER: web.AppKey[Eraser] = web.AppKey("eraser")
GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway")
SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions")
SURVEYS: web.AppKey[Surveys] = web.AppKey("surveys")
OUTCOMES: web.AppKey[Outcomes] = web.AppKey("outcomes")
ALERTS: web.AppKey[Alerts] = web.AppKey("alerts")
INCIDENTS: web.AppKey[Incidents] = web.AppKey("incidents")
