"""Messages stored but not answered get their answer once the parts are back.

A customer message is stored first (DESIGN "Message flow"); if Rasa, the action server or
the translator is down, it is marked `failed` and the customer told we will answer when we
are back. A crash between storing and answering leaves it `received`. Both are answered
later, exactly once:

- whoever answers a message first *claims* it in the database (`Store.claim`: one UPDATE
  that only succeeds while nobody else holds it), for a lease long enough for one attempt,
  so two sweeps, two replicas or a sweep and a live request never answer it both;
- a conversation's messages are answered oldest first: a new message waits behind an older
  unanswered one (the live request answers the older one first, `Gateway.handle`), and the
  sweep stops at the first message of a conversation that stays unanswered;
- attempts are counted and spaced out (doubling from `TOLK_RETRY_SECONDS`); after
  `TOLK_RETRY_ATTEMPTS`, or for a message older than a day, a person takes over (handoff).

Answers found by the sweep reach customers the way agent replies do: stored (REST clients
and the web chat read the conversation) and pushed to channels that push (Telegram) through
the delivery port (bot/delivery.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.db import utcnow

if TYPE_CHECKING:
    from bot.delivery import Delivery
    from bot.inbound import Gateway
    from bot.settings import Settings
    from bot.store import Store

log = logging.getLogger(__name__)

# Doubling stops here: a long outage is retried every quarter of an hour at most.
_MAX_BACKOFF = timedelta(minutes=15)
# Older than this, an answer from the bot would come out of the blue: a person reads it.
_TOO_OLD = timedelta(days=1)
# Conversations a sweep answers side by side (each one oldest message first).
_CONVERSATIONS_AT_ONCE = 8


@dataclass(frozen=True)
class RetryPolicy:
    # Tries with Rasa per message, the first (live) one included.
    attempts: int = 6
    # The wait after the first failed try; it doubles after each further one.
    first_backoff: timedelta = timedelta(seconds=30)
    # How long one try may hold a message before others may take it over (the holder died).
    lease: timedelta = timedelta(seconds=90)
    too_old: timedelta = _TOO_OLD

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        # One try is at most a translation (two calls) and a Rasa call, plus room for the
        # database and /nlg: a lease shorter than that would let a second try start.
        seconds = settings.rasa_timeout + 2 * settings.translator_timeout + 30
        return cls(
            attempts=settings.retry_attempts,
            first_backoff=timedelta(seconds=settings.retry_seconds),
            lease=timedelta(seconds=seconds),
        )

    def backoff(self, attempts: int) -> timedelta:
        """How long to wait after `attempts` failed tries; none once they are used up, so
        that the next sweep hands the message to a person at once."""
        if attempts >= self.attempts:
            return timedelta(0)
        return min(self.first_backoff * 2 ** max(attempts - 1, 0), _MAX_BACKOFF)

    def exhausted(self, attempts: int, stored_at: datetime, now: datetime) -> bool:
        """Whether the try about to be made (number `attempts`) should be a person instead."""
        return attempts > self.attempts or now - stored_at > self.too_old


class Retrier:
    """The periodic sweep (bot/app.py runs it at start and every TOLK_RETRY_SECONDS)."""

    def __init__(self, gateway: Gateway, store: Store, delivery: Delivery) -> None:
        self.gateway = gateway
        self.store = store
        self.delivery = delivery

    async def sweep(self) -> int:
        """Answer what is due, conversation by conversation, oldest message first; the
        number of messages answered."""
        # Several conversations at once, each in its own order: after an outage the
        # backlog is every waiting customer's, and one at a time it drained at one Rasa
        # round trip per message (about 150 messages took minutes under load). Bounded,
        # so that live messages still get Rasa's time.
        room = asyncio.Semaphore(_CONVERSATIONS_AT_ONCE)

        async def one(conversation_id: int) -> int:
            async with room:
                return await self._answer_conversation(conversation_id)

        due = await self.store.with_unanswered(utcnow())
        results = await asyncio.gather(*(one(c) for c in due), return_exceptions=True)
        answered = 0
        for conversation_id, result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                # The others went on; this one is tried again at the next sweep.
                log.error("retry of conversation %s failed", conversation_id, exc_info=result)
            else:
                answered += result
        if answered:
            log.info("answered %d stored message(s) that were waiting", answered)
        return answered

    async def _answer_conversation(self, conversation_id: int) -> int:
        retried = await self.gateway.answer_unanswered(conversation_id, due_only=True)
        if retried.conversation is not None and retried.outcome.messages:
            # Nobody is waiting on a request for these: push them like agent replies.
            await self.delivery.deliver(retried.conversation, retried.outcome.messages)
        return retried.answered
