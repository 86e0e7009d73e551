"""Typed keys for what the application holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.console.sessions import Sessions
    from bot.inbound import Gateway
    from bot.limits import CustomerLimits
    from bot.telegram.channel import TelegramChannel

SETTINGS = web.AppKey("settings", Settings)
GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway")
SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions")
TELEGRAM: web.AppKey[TelegramChannel] = web.AppKey("telegram")
LIMITS: web.AppKey[CustomerLimits] = web.AppKey("limits")
