"""Publishing an incident notice, telling customers who ask, and telling them it is fixed.

A lead writes the notice once, in their language, and may give their own version for any
language; every other language the bot speaks is machine-translated (translation memory
first, like agent replies) before anything is stored, so a translator that is down stops
the publication with a reason for the lead and no customer reads half of it. Customers
who later ask about the incident's intent get the notice in their language, once per
conversation, before the bot's own answer (bot/inbound.py). With `push`, customers who
asked about it in the last hours are told at once, on their own channel. Closing tells
every customer who was told that it is fixed, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import utcnow
from bot.delivery import Delivery
from bot.errors import Conflict, NotFound, Unavailable
from bot.handoff.agents import Agent, require_lead
from bot.incidents.store import LEAD, MACHINE, NOTICE, Incident, IncidentStore
from bot.incidents.surge import SurgeWatch, counts
from bot.rasa_client import BotMessage
from bot.settings import PIVOT_LANGUAGE
from bot.speaker import Speaker
from bot.store import Conversation, Store
from bot.translation.backends import TranslatorError
from bot.translation.service import TranslationService

log = logging.getLogger(__name__)

FIXED_KEY = "utter_incident_fixed"


@dataclass(frozen=True)
class Published:
    incident: Incident
    languages: list[str]  # the languages the notice is in
    pushed: int  # customers told at once

    def as_json(self) -> dict:
        return {**self.incident.as_json(), "languages": self.languages, "pushed": self.pushed}


@dataclass(frozen=True)
class Closed:
    incident: Incident
    told_fixed: int

    def as_json(self) -> dict:
        return {**self.incident.as_json(), "told_fixed": self.told_fixed}


class Incidents:
    def __init__(
        self,
        engine: AsyncEngine,
        store: Store,
        speaker: Speaker,
        translation: TranslationService,
        surge: SurgeWatch,
        *,
        languages: Iterable[str],
        push_window: timedelta,
        delivery: Delivery | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self.incidents = IncidentStore(engine)
        self.store = store
        self.speaker = speaker
        self.translation = translation
        self.surge = surge
        # The bot's own languages: every notice is in all of them before it is published.
        self.languages = tuple(languages)
        self.push_window = push_window
        self.delivery = delivery
        self.clock = clock
        self._checks: set[asyncio.Task] = set()

    # The lead's side ----------------------------------------------------------------

    async def publish(
        self,
        agent: Agent,
        intent: str,
        text: str,
        language: str,
        versions: dict[str, str] | None = None,
        push: bool = False,
    ) -> Published:
        require_lead(agent, "publish incident notices")
        if await self.incidents.open_for(intent) is not None:
            raise Conflict(f"an incident about {intent} is open already; close it first")
        now = self.clock()
        recipients = (
            await self.incidents.asked_recently(intent, now - self.push_window) if push else []
        )
        wanted = [*self.languages, *(_language(c) for c in recipients)]
        texts = await self._versions(text, language, versions or {}, wanted, "published")
        incident = await self.incidents.create(intent, text, language, agent.id, texts, now)
        log.info("incident %s about %s published by agent %s", incident.id, intent, agent.id)
        pushed = 0
        for conversation in recipients:
            target = _language(conversation)
            if await self.incidents.claim_customer(incident.id, conversation.id, target, now):
                await self._send(conversation, texts[target][0], target)
                pushed += 1
        return Published(incident, sorted(texts), pushed)

    async def listed(self, status: str | None = None) -> list[dict]:
        found = await self.incidents.listed(status)
        told = await self.incidents.told_counts([incident.id for incident in found])
        return [
            {**incident.as_json(), "customers_told": told.get(incident.id, 0)} for incident in found
        ]

    async def close(self, agent: Agent, incident_id: int, text: str | None = None) -> Closed:
        require_lead(agent, "close incidents")
        incident = await self.incidents.get(incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        if incident.status != "open":
            raise Conflict(f"incident {incident_id} is closed already")
        told = await self.incidents.told(incident_id)
        words: dict[str, tuple[str, str]] = {}
        if text:  # the lead's closing words, in every language a told customer reads
            source = agent.language
            wanted = [*self.languages, *(t.conversation.language or t.language for t in told)]
            words = await self._versions(text, source, {}, wanted, "closed")
        if not await self.incidents.close(incident_id, agent.id, text, words, self.clock()):
            raise Conflict(f"incident {incident_id} was closed meanwhile")
        log.info("incident %s closed by agent %s", incident_id, agent.id)
        sent = 0
        # Read again: a customer told while the lead was closing is told it is fixed too.
        for customer in await self.incidents.told(incident_id):
            target = customer.conversation.language or customer.language
            if not await self.incidents.claim_fixed(
                incident_id, customer.conversation.id, self.clock()
            ):
                continue
            fixed = (await self.speaker.say(FIXED_KEY, target)).text
            if target in words:
                fixed = f"{fixed}\n\n{words[target][0]}"
            await self._send(customer.conversation, fixed, target)
            sent += 1
        return Closed(await self.incidents.get(incident_id), sent)

    # The customer's side ------------------------------------------------------------

    async def on_message(
        self, conversation: Conversation, intent: str | None, language: str
    ) -> list[BotMessage]:
        """After Rasa answered a customer message about `intent` (what /nlg noted): the
        notice of an open incident about it, if this customer was not told yet; and a
        surge check for the leads."""
        if not counts(intent):
            return []
        # Apart from the answer: the alert's webhook may take seconds, the customer must not.
        self._background(self.surge.check(intent))
        incident = await self.incidents.open_for(intent)
        if incident is None:
            return []
        text = await self._notice_in(incident, language)
        if text is None:
            return []
        if not await self.incidents.claim_customer(
            incident.id, conversation.id, language, self.clock()
        ):
            return []
        return [BotMessage(text)]

    async def settled(self) -> None:
        """Wait for the surge checks under way (tests, and a clean stop)."""
        # Not `while self._checks`: a finished task leaves the set in a done callback that
        # runs on a later loop turn, and gather() over finished tasks completes without
        # yielding (Python 3.12+), so that loop would spin forever. Checks started
        # meanwhile are waited for too.
        pending = list(self._checks)
        while pending:
            await asyncio.gather(*pending, return_exceptions=True)
            pending = [task for task in self._checks if not task.done()]

    # Inside -------------------------------------------------------------------------

    async def _notice_in(self, incident: Incident, language: str) -> str | None:
        """The notice in `language`: stored at publication for the bot's languages; for
        another (a customer through the English pivot) translated now and kept. None when
        the translator cannot: the customer gets the bot's answer, and the notice with a
        later message."""
        texts = await self.incidents.texts(incident.id, NOTICE)
        if language in texts:
            return texts[language]
        try:
            translated = await self._machine(incident.text, incident.language, language)
        except Unavailable as error:
            log.warning("incident %s notice not translated to %s: %s", incident.id, language, error)
            return None
        await self.incidents.add_texts(incident.id, NOTICE, {language: (translated, MACHINE)})
        return translated

    async def _versions(
        self,
        text: str,
        source: str,
        versions: dict[str, str],
        wanted: Iterable[str],
        done: str,
    ) -> dict[str, tuple[str, str]]:
        """{language: (text, origin)} for every wanted language, the lead's own versions
        first; Unavailable (naming the languages missing) when one cannot be translated."""
        texts = {source: (text, LEAD), **{code: (value, LEAD) for code, value in versions.items()}}
        missing = [code for code in dict.fromkeys(wanted) if code not in texts]
        if missing and not self.translation.available:
            raise Unavailable(
                f"no translator is configured, so nothing was {done} or sent: give your own "
                f"version in {', '.join(missing)} (`texts`)"
            )
        for code in missing:
            texts[code] = (await self._machine(text, source, code, missing, done), MACHINE)
        return texts

    async def _machine(
        self,
        text: str,
        source: str,
        target: str,
        missing: list[str] | None = None,
        done: str = "sent",
    ) -> str:
        try:
            return (await self.translation.translate_one(text, source, target)).text
        except TranslatorError as error:
            log.warning("incident text not translated to %s: %s", target, error)
            languages = ", ".join(missing or [target])
            raise Unavailable(
                f"the translator is unavailable, so nothing was {done} or sent: give your own "
                f"version in {languages} (`texts`), or try again shortly"
            ) from None

    async def _send(self, conversation: Conversation, text: str, language: str) -> None:
        """Stored first, then out on the customer's channel (bot/delivery.py)."""
        await self.store.add_bot_messages(conversation.id, [text], language)
        if self.delivery is not None:
            await self.delivery.deliver(conversation, [BotMessage(text)])

    def _background(self, work) -> None:
        task = asyncio.create_task(work)
        self._checks.add(task)
        task.add_done_callback(self._checked)

    def _checked(self, task: asyncio.Task) -> None:
        self._checks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("surge check failed", exc_info=task.exception())


def _language(conversation: Conversation) -> str:
    return conversation.language or PIVOT_LANGUAGE
