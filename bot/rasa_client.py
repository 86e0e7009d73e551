"""Talking to `rasa run` over its REST channel, and to the action server's health check."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp

from tolk_core.signals import Signal, SignalError, parse

if TYPE_CHECKING:
    from bot.telemetry import Telemetry

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer usably; the message says how."""


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: list[dict] = field(default_factory=list)
    # What an action asked the gateway to do (tolk_core/signals.py); such a message has
    # no text of its own.
    signal: Signal | None = None

    def as_json(self) -> dict:
        message: dict = {"text": self.text}
        if self.buttons:
            message["buttons"] = self.buttons
        return message


class RasaClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        rasa_url: str,
        actions_url: str,
        timeout: float,
        secret: str | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._session = session
        self._telemetry = telemetry
        # Rasa's channel answers the gateway only (rasa_channels/gateway.py).
        self._headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self._rasa_url = rasa_url
        self._actions_url = actions_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, text: str, metadata: dict) -> list[BotMessage]:
        start = time.perf_counter()
        outcome = "unavailable"
        try:
            messages = await self._send(sender, text, metadata)
            outcome = "ok"
            return messages
        finally:
            if self._telemetry is not None:
                self._telemetry.rasa_call(outcome, time.perf_counter() - start)

    async def _send(self, sender: str, text: str, metadata: dict) -> list[BotMessage]:
        payload = {"sender": sender, "message": text, "metadata": metadata}
        try:
            async with self._session.post(
                f"{self._rasa_url}/webhooks/rest/webhook",
                json=payload,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as error:
            raise RasaUnavailable(f"Rasa not reachable: {error!r}") from error
        if not isinstance(body, list):
            raise RasaUnavailable("Rasa answered something other than a list of messages")
        messages = []
        for item in body:
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("text"), str) and item["text"]:
                messages.append(BotMessage(item["text"], list(item.get("buttons") or [])))
            elif "custom" in item:
                try:
                    signal = parse(item["custom"])
                except SignalError as error:
                    # A bug in an action: no crash, no ticket nobody asked for.
                    log.warning("custom payload from Rasa ignored: %s", error)
                    continue
                if signal is not None:
                    messages.append(BotMessage("", signal=signal))
        return messages

    async def rasa_health(self) -> str | None:
        """None when Rasa answers, else why not."""
        return await self._probe(f"{self._rasa_url}/")

    async def actions_health(self) -> str | None:
        return await self._probe(f"{self._actions_url}/health")

    async def _probe(self, url: str) -> str | None:
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=3)) as response:
                return None if response.status == 200 else f"HTTP {response.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return f"not reachable ({type(error).__name__})"
