"""Rasa's REST channel, answering the bot gateway only.

Rasa believes the sender id it is given, and the action server believes Rasa: a message
posted straight to Rasa as another customer's sender would run that customer's account
actions (a web page in a browser on this machine can post to 127.0.0.1 without a CORS
preflight). So the webhook wants `Authorization: Bearer <TOLK_RASA_SECRET>`, which only
the gateway sends (bot/rasa_client.py); `GET /webhooks/rest/` stays open for health checks.
Same URL and protocol as Rasa's `rest` channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from tolk_core.internal_secrets import bearer_matches


class GatewayInput(RestInput):
    def __init__(self, secret: str) -> None:
        self._secret = secret

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GatewayInput:
        secret = (credentials or {}).get("secret")
        if not isinstance(secret, str) or not secret:
            raise ValueError(
                "credentials.yml: the gateway channel needs `secret` (TOLK_RASA_SECRET)"
            )
        return cls(secret)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def only_the_gateway(request: Request):
            if request.method == "GET" or bearer_matches(
                request.headers.get("authorization"), self._secret
            ):
                return None
            return response.json(
                {"error": "Rasa answers the Tolk gateway only (Authorization: Bearer "
                 "<TOLK_RASA_SECRET>)"},
                status=401,
            )  # fmt: skip

        return blueprint
