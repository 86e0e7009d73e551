"""Talking to `rasa run` over its REST channel, and to the action server's health check."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Sequence
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
    """Rasa's REST channel, over one replica or several (TOLK_RASA_URL, comma-separated).

    A conversation goes to the same replica each time (a hash of its key), so replicas
    share the work evenly and rarely wait on each other's tracker locks (Rasa's Redis
    lock store orders them anyway). When that replica cannot be connected to, the next
    one takes the message: a refused connection means the message never reached Rasa,
    so nothing is processed twice. A replica that took the message and then failed or
    timed out is not asked again elsewhere: the message is kept for the retry instead.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        rasa_urls: Sequence[str],
        actions_url: str,
        timeout: float,
        secret: str | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._session = session
        self._telemetry = telemetry
        # Rasa's channel answers the gateway only (rasa_channels/gateway.py).
        self._headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self.replicas = tuple(rasa_urls)  # Settings.rasa_urls
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

    def replicas_for(self, sender: str) -> list[str]:
        """The replicas in the order this conversation tries them."""
        start = int(hashlib.sha256(sender.encode()).hexdigest()[:8], 16) % len(self.replicas)
        return [*self.replicas[start:], *self.replicas[:start]]

    async def _send(self, sender: str, text: str, metadata: dict) -> list[BotMessage]:
        payload = {"sender": sender, "message": text, "metadata": metadata}
        refused: list[str] = []
        for url in self.replicas_for(sender):
            try:
                return self._messages(await self._post(url, payload))
            except aiohttp.ClientConnectorError as error:  # never reached it: the next one
                refused.append(f"{url}: {error.os_error or error}")
                log.warning("Rasa replica %s refused the connection; trying the next", url)
        raise RasaUnavailable(f"Rasa not reachable: {'; '.join(refused)}")

    async def _post(self, url: str, payload: dict) -> object:
        try:
            async with self._session.post(
                f"{url}/webhooks/rest/webhook",
                json=payload,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
                return await response.json(content_type=None)
        except aiohttp.ClientConnectorError:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as error:
            raise RasaUnavailable(f"Rasa not reachable: {error!r}") from error

    def _messages(self, body: object) -> list[BotMessage]:
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
        """None when Rasa answers (one replica is enough to serve), else why not."""
        found = await asyncio.gather(*(self._probe(f"{url}/") for url in self.replicas))
        if any(reason is None for reason in found):
            return None
        if len(found) == 1:
            return found[0]
        return "; ".join(
            f"{url}: {reason}" for url, reason in zip(self.replicas, found, strict=True)
        )

    async def actions_health(self) -> str | None:
        return await self._probe(f"{self._actions_url}/health")

    async def _probe(self, url: str) -> str | None:
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=3)) as response:
                return None if response.status == 200 else f"HTTP {response.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return f"not reachable ({type(error).__name__})"
