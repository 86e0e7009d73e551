"""Alerts for the support team: stored once, pushed to the console, POSTed to a webhook.

An alert says what needs a lead's attention now (an SLA about to break or broken, many
customers asking about the same thing: bot/incidents/surge.py) in English, with the
ticket's number, priority, channel and language or the topic, never what a customer
wrote: it goes to a chat room or a pager through `TOLK_ALERT_WEBHOOK_URL`.

The webhook gets `{"kind", "text", "ticket", "created_at", ...details}` as JSON, signed
like Meta signs its webhooks when `TOLK_ALERT_WEBHOOK_SECRET` is set:
`X-Tolk-Signature-256: sha256=<HMAC-SHA256 of the body>`. A failed POST is tried once
more and then logged; the alert stays in the console either way.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime

import aiohttp
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.changes import LocalChanges
from bot.db import alerts, reading, utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Tolk-Signature-256"
_WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=5)
_RETRY_AFTER = 1.0  # seconds before the one retry


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    ticket_id: int | None
    text: str
    created_at: datetime
    intent: str | None = None  # what a surge is about

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "ticket": self.ticket_id,
            "intent": self.intent,
            "text": self.text,
            "created_at": self.created_at.isoformat(timespec="seconds") + "Z",
        }


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class AlertWebhook:
    def __init__(self, session: aiohttp.ClientSession, url: str, secret: str | None) -> None:
        self._session = session
        self._url = url
        self._secret = secret

    async def send(self, payload: dict) -> bool:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        for attempt in (1, 2):
            try:
                async with self._session.post(
                    self._url, data=body, headers=headers, timeout=_WEBHOOK_TIMEOUT
                ) as response:
                    if response.status < 300:
                        return True
                    problem = f"HTTP {response.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                problem = type(error).__name__
            if attempt == 1:
                await asyncio.sleep(_RETRY_AFTER)
        log.warning("alert %s not delivered to the webhook: %s", payload.get("id"), problem)
        return False


class Alerts:
    def __init__(
        self,
        engine: AsyncEngine,
        webhook: AlertWebhook | None = None,
        changes: LocalChanges | None = None,
    ) -> None:
        self._engine = engine
        self._webhook = webhook
        # Consoles show a new alert at once, on every replica (bot/changes.py).
        self._changes = changes or LocalChanges()

    async def add(
        self,
        kind: str,
        text: str,
        ticket_id: int | None = None,
        *,
        intent: str | None = None,
        **details: object,
    ) -> Alert:
        now = utcnow()
        async with self._engine.begin() as connection:
            result = await connection.execute(
                insert(alerts).values(
                    kind=kind, ticket_id=ticket_id, text=text, created_at=now, intent=intent
                )
            )
        alert = Alert(result.inserted_primary_key[0], kind, ticket_id, text, now, intent)
        log.info("alert %s: %s", alert.id, text)
        self._changes.notify()  # before the webhook, which may take seconds
        if self._webhook is not None:
            await self._webhook.send({**details, **alert.as_json()})
        return alert

    async def after(self, alert_id: int, since: datetime, limit: int = 20) -> list[Alert]:
        """The newest `limit` alerts after `alert_id` and not older than `since`, oldest
        first: what a console that has seen up to `alert_id` has not shown yet."""
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(alerts)
                .where(alerts.c.id > alert_id, alerts.c.created_at >= since)
                .order_by(alerts.c.id.desc())
                .limit(limit)
            )
            found = [
                Alert(row.id, row.kind, row.ticket_id, row.text, row.created_at, row.intent)
                for row in rows
            ]
        return found[::-1]
