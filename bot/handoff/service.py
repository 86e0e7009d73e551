"""The human handoff: opening tickets, routing them, and carrying messages both ways.

While a ticket is open the bot is silent: what the customer writes goes to the agent
(translated for the agent on reading, the original beside it), what the agent writes
reaches the customer in the customer's language (human-approved memory first). Resolving
hands the conversation back to the bot, which asks for a rating (bot/surveys/).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.attachments import OutgoingFile
from bot.changes import LocalChanges
from bot.db import utcnow
from bot.delivery import Delivery
from bot.errors import Conflict, Gone, NotFound, Unavailable
from bot.handoff.agents import Agent, AgentStore
from bot.handoff.hours import local_time
from bot.handoff.routing import pick_agent, team_at_work, team_opening, wait_minutes
from bot.handoff.sla import SlaPolicy
from bot.handoff.tickets import Ticket, TicketStore
from bot.rasa_client import BotMessage
from bot.speaker import Speaker
from bot.store import Conversation, Store
from bot.surveys.service import Surveys
from bot.translation.backends import TranslatorError
from bot.translation.service import TranslationService

log = logging.getLogger(__name__)

HOT_REASONS = {
    "anger": "angry customer",
    "legal": "legal threat",
    "fraud": "possible fraud",
    "chargeback": "chargeback",
    "safety": "safety",
}
COMPLAINT_REASONS = ("complaint", "anger")
# Intents that say nothing about *which* problem many customers might share.
_GENERIC_INTENTS = {None, "nlu_fallback", "request_human", "complain", "out_of_scope", "greet"}
_INTRO = {
    "request": "utter_handoff_request",
    "stuck": "utter_handoff_not_understood",
}
# Starts only where a run of address characters starts: tried from inside every run, a
# long word without "@" cost a pass over the rest of it per character (0.7 s for 4096).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SUMMARY_LENGTH = 280


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _shown(
    method: Callable[Concatenate[HandoffService, _P], Awaitable[_R]],
) -> Callable[Concatenate[HandoffService, _P], Awaitable[_R]]:
    """Marks an operation that changes what the console shows (a ticket's state, its
    transcript or notes): the consoles are told (bot/changes.py) once it is done, or
    failed half-way, since a needless wake costs a read and a missed one a stale screen."""

    @functools.wraps(method)
    async def changing(service: HandoffService, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await method(service, *args, **kwargs)
        finally:
            service.changes.notify()

    return changing


@dataclass(frozen=True)
class HandoffPolicy:
    presence: timedelta = timedelta(seconds=60)
    sla: SlaPolicy = field(default_factory=SlaPolicy)  # first-response targets
    surge_window: timedelta = timedelta(minutes=10)
    surge_count: int = 3
    repeat_window: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Load:
    """What the team has on its plate now (/metrics)."""

    queued: dict[str, int]
    assigned: int
    breached: int
    agents_online: int


@dataclass
class Placement:
    ticket: Ticket
    position: int | None = None
    eta_minutes: int | None = None
    messages: list[BotMessage] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "ticket": self.ticket.id,
            "status": self.ticket.status,
            "position": self.position,
            "eta_minutes": self.eta_minutes,
        }


class HandoffService:
    def __init__(
        self,
        engine: AsyncEngine,
        store: Store,
        speaker: Speaker,
        translation: TranslationService,
        policy: HandoffPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        *,
        delivery: Delivery | None = None,
        surveys: Surveys | None = None,
        changes: LocalChanges | None = None,
    ) -> None:
        self.store = store
        self.tickets = TicketStore(engine)
        self.agents = AgentStore(engine)
        self.speaker = speaker
        self.translation = translation
        self.policy = policy or HandoffPolicy()
        self.clock = clock
        # What an agent or a notice says reaches the customer's channel through the one
        # delivery port (bot/delivery.py); without one it is stored only.
        self.delivery = delivery
        # Asks for a rating once a ticket is resolved (bot/surveys/).
        self.surveys = surveys
        # Told after every change the console shows (`_shown`), on every replica.
        self.changes = changes or LocalChanges()

    # Customer side ------------------------------------------------------------------

    @_shown
    async def open(
        self, conversation: Conversation, language: str, reason: str, intent: str | None
    ) -> Placement:
        """A ticket for this conversation (the open one if there is one) and what to say."""
        existing = await self.tickets.open_for(conversation.id)
        if existing is not None:
            return await self.placement(existing)
        now = self.clock()
        priority, why = await self._priority(conversation, reason, intent, now)
        team = await self.agents.all()
        after_hours = not team_at_work(team, now)
        opening = team_opening(team, now) if after_hours else None
        start = opening[0].replace(tzinfo=None) if opening else now
        warn_at, due_at = self.policy.sla.times(priority, conversation.channel, start)
        ticket, new = await self.tickets.create(
            conversation_id=conversation.id,
            status="queued",
            reason=reason,
            intent=intent,
            priority=priority,
            priority_why=why,
            language=language,
            channel=conversation.channel,
            summary=await self._summary(conversation, reason, intent),
            after_hours=int(after_hours),
            sla_due_at=due_at,
            sla_warn_at=warn_at,
            created_at=now,
        )
        if not new:  # opened by another request at the same moment
            return await self.placement(ticket)
        log.info("ticket %s opened (%s, %s)", ticket.id, reason, priority)
        intro = await self.speaker.say(_INTRO.get(reason, "utter_handoff_sorry"), language)
        if after_hours:
            messages = [intro, await self._after_hours(conversation, language, opening)]
            return Placement(ticket, messages=messages)
        agent = await self._route(ticket)
        if agent is not None:
            ticket = await self.tickets.get(ticket.id)
            joined = await self.speaker.say(
                "utter_handoff_assigned", language, agent_name=agent.name
            )
            return Placement(ticket, messages=[intro, joined])
        placement = await self.placement(ticket)
        queued = await self.speaker.say(
            "utter_handoff_queued",
            language,
            position=placement.position,
            eta_minutes=placement.eta_minutes,
        )
        placement.messages = [intro, queued]
        return placement

    async def placement(self, ticket: Ticket) -> Placement:
        if ticket.status != "queued":
            return Placement(ticket)
        position = await self.tickets.position(ticket)
        return Placement(ticket, position, (await self._waits())(position))

    async def active(self, conversation_id: int) -> Ticket | None:
        return await self.tickets.open_for(conversation_id)

    @_shown  # the customer's message is in the agent's transcript now
    async def from_customer(self, ticket: Ticket, text: str, language: str) -> list[BotMessage]:
        """A customer message during the handoff. Only an e-mail address gets an answer."""
        found = _EMAIL.search(text)
        if ticket.after_hours and found and not ticket.follow_up_email:
            await self.tickets.set_follow_up(ticket.id, found.group())
            return [
                await self.speaker.say("utter_handoff_email_noted", language, email=found.group())
            ]
        return []

    # Agent side ---------------------------------------------------------------------

    async def authenticate(self, token: str) -> Agent | None:
        agent = await self.agents.by_token(token)
        if agent is not None:
            await self.seen(agent)
        return agent

    async def seen(self, agent: Agent) -> None:
        """An agent showed signs of life; one coming online may take queued tickets."""
        was_online = agent.online(self.clock(), self.policy.presence)
        await self.agents.touch(agent.id, self.clock())
        if not was_online:
            await self.dispatch()

    async def load(self) -> Load:
        now = self.clock()
        figures = await self.tickets.open_figures(now)
        online = sum(agent.online(now, self.policy.presence) for agent in await self.agents.all())
        return Load(figures.queued, figures.assigned, figures.breached, online)

    async def listed(self, status: str | None) -> list[dict]:
        """Tickets as JSON; queued ones with their position and wait. The store lists the
        queue in order, so positions are read off the list (the console asks every second)."""
        tickets = await self.tickets.listed(status)
        positions = {
            ticket.id: number
            for number, ticket in enumerate((t for t in tickets if t.status == "queued"), 1)
        }
        wait = await self._waits() if positions else None
        return [
            {
                **ticket.as_json(),
                "position": positions.get(ticket.id),
                "eta_minutes": wait(positions[ticket.id]) if ticket.id in positions else None,
            }
            for ticket in tickets
        ]

    async def detail(self, agent: Agent, ticket_id: int) -> dict:
        ticket = await self._ticket(ticket_id)
        placement = await self.placement(ticket)
        conversation = await self.store.conversation(ticket.sender)
        earlier = [
            other.as_json()
            for other in await self.tickets.of_conversation(ticket.conversation_id)
            if other.id != ticket.id
        ]
        return {
            **ticket.as_json(),
            "position": placement.position,
            "eta_minutes": placement.eta_minutes,
            "customer_language": conversation.language if conversation else ticket.language,
            "agent_language": agent.language,
            "transcript": await self._transcript(ticket, agent, conversation),
            "notes": await self.tickets.notes(ticket.id),
            "earlier_tickets": earlier,
        }

    @_shown
    async def claim(self, agent: Agent, ticket_id: int) -> Ticket:
        ticket = await self._ticket(ticket_id)
        if ticket.status == "resolved":
            raise Conflict(f"ticket {ticket_id} is resolved already")
        if ticket.status == "assigned" and ticket.agent_id != agent.id:
            raise Conflict(f"ticket {ticket_id} is held by {ticket.agent_name}")
        if not await self.tickets.assign(ticket.id, agent.id):
            raise Conflict(f"ticket {ticket_id} was just taken by someone else")
        if ticket.status == "queued":
            await self._tell(ticket, "utter_handoff_agent_joined", agent_name=agent.name)
        return await self.tickets.get(ticket.id)

    @_shown
    async def reply(
        self,
        agent: Agent,
        ticket_id: int,
        text: str | None = None,
        canned: str | None = None,
        language: str | None = None,
    ) -> dict:
        """Send the agent's words to the customer, in the customer's language."""
        ticket = await self._held(agent, ticket_id)
        conversation = await self._conversation(ticket)
        if self.delivery is not None:
            # A channel that cannot reach the customer now (WhatsApp's 24-hour window)
            # refuses before anything is stored, so the agent sees why at once.
            await self.delivery.check_reachable(conversation)
        target = conversation.language or ticket.language
        if canned is not None:
            key = f"canned/{canned}"
            try:
                message = await self.speaker.say(key, target, agent_name=agent.name)
            except KeyError:
                raise NotFound(f"no canned reply {canned!r}") from None
            source, source_text = target, message.text
            delivered = message.text
        else:
            source = language or agent.language
            source_text = text or ""
            delivered = await self._translate_for_customer(
                source_text, source, target, agent, conversation
            )
        seq = await self.store.add_agent_message(
            conversation.id, agent.id, delivered, target, source_text, source
        )
        await self.tickets.responded(ticket.id)
        await self._notify(conversation, [BotMessage(delivered)])
        return {
            "seq": seq,
            "text": delivered,
            "language": target,
            "original": source_text,
            "original_language": source,
        }

    @_shown
    async def send_file(self, agent: Agent, ticket_id: int, file: OutgoingFile) -> dict:
        """The agent's file to the customer. Sent first, then stored: a channel that
        refuses it (no files there, a closed window, Meta's error) leaves no trace in the
        transcript, and the agent reads why."""
        ticket = await self._held(agent, ticket_id)
        conversation = await self._conversation(ticket)
        if self.delivery is None:
            raise Conflict("files cannot be sent from here (no channels)")
        await self.delivery.check_reachable(conversation)
        await self.delivery.send_file(conversation, file)
        language = conversation.language or ticket.language
        text = file.described()
        seq = await self.store.add_agent_message(
            conversation.id, agent.id, text, language, text, agent.language
        )
        await self.tickets.responded(ticket.id)
        return {"seq": seq, "text": text, "name": file.name, "type": file.kind}

    @_shown
    async def note(self, agent: Agent, ticket_id: int, text: str) -> dict:
        ticket = await self._ticket(ticket_id)
        return await self.tickets.add_note(ticket.id, agent.id, text)

    @_shown
    async def resolve(self, agent: Agent, ticket_id: int) -> Ticket:
        ticket = await self._held(agent, ticket_id)
        if not await self.tickets.resolve(ticket.id, agent.id):
            raise Conflict(f"ticket {ticket_id} changed meanwhile; reload it")
        await self._back_with_the_bot(ticket)
        await self.dispatch()
        return await self.tickets.get(ticket.id)

    async def canned_replies(self, agent: Agent) -> list[dict]:
        catalogue = self.speaker.renderer.catalogue
        found = []
        for key in sorted(k for k in catalogue.keys() if k.startswith("canned/")):
            response, _ = catalogue.get(key, agent.language)
            found.append({"name": key.removeprefix("canned/"), "text": response.text})
        return found

    # Housekeeping -------------------------------------------------------------------

    async def sweep(self) -> None:
        """Give tickets of agents who went away back to the queue, then route the queue."""
        now = self.clock()
        team = {agent.id: agent for agent in await self.agents.all()}
        for ticket in await self.tickets.listed("assigned"):
            agent = team.get(ticket.agent_id)
            gone = agent is None or agent.last_seen_at is None
            if not gone and now - agent.last_seen_at <= self.policy.presence:
                continue
            if await self.tickets.requeue(ticket.id, ticket.agent_id):
                log.info(
                    "ticket %s back in the queue: agent %s went away", ticket.id, ticket.agent_id
                )
                placement = await self.placement(await self.tickets.get(ticket.id))
                await self._tell(
                    ticket,
                    "utter_handoff_requeued",
                    position=placement.position,
                    eta_minutes=placement.eta_minutes,
                )
                self.changes.notify()  # with the notice in the transcript
        await self.dispatch()

    async def dispatch(self) -> None:
        """Route queued tickets, best first, to agents who are online and have room."""
        # Not `_shown`: it runs on every sweep and every agent's comeback, and most
        # often routes nothing.
        for ticket in await self.tickets.listed("queued"):
            agent = await self._route(ticket)
            if agent is not None:
                await self._tell(ticket, "utter_handoff_agent_joined", agent_name=agent.name)
                self.changes.notify()

    # Inside -------------------------------------------------------------------------

    async def _route(self, ticket: Ticket) -> Agent | None:
        now = self.clock()
        agent = pick_agent(
            ticket.language,
            await self.agents.all(),
            await self.tickets.open_counts(),
            now,
            self.policy.presence,
        )
        if agent is not None and await self.tickets.assign(ticket.id, agent.id):
            log.info("ticket %s routed to agent %s", ticket.id, agent.id)
            return agent
        return None

    async def _waits(self) -> Callable[[int], int]:
        """Minutes of wait by queue position, from the team online and recent handling."""
        now = self.clock()
        online = sum(agent.online(now, self.policy.presence) for agent in await self.agents.all())
        handling = await self.tickets.recent_handling_times()
        return lambda position: wait_minutes(position, handling, online)

    async def _priority(
        self, conversation: Conversation, reason: str, intent: str | None, now: datetime
    ) -> tuple[str, str | None]:
        if reason in HOT_REASONS:
            return "hot", HOT_REASONS[reason]
        for earlier in await self.tickets.of_conversation(conversation.id):
            recent = earlier.open or (
                earlier.resolved_at and now - earlier.resolved_at <= self.policy.repeat_window
            )
            if earlier.reason in COMPLAINT_REASONS and recent:
                return "hot", "repeat customer with an open complaint"
        if intent not in _GENERIC_INTENTS:
            since = now - self.policy.surge_window
            others = await self.tickets.count_recent(intent, since)
            if others + 1 >= self.policy.surge_count:
                minutes = int(self.policy.surge_window.total_seconds() // 60)
                return "hot", f"{others + 1} customers about {intent} within {minutes} minutes"
        return "cold", None

    async def _summary(self, conversation: Conversation, reason: str, intent: str | None) -> str:
        said = [
            message.pivot_text or message.text
            for message in await self.store.recent_customer_messages(conversation.id, 5)
            if not message.text.startswith("/")  # buttons and commands say nothing
        ][-3:]
        topic = f" about {intent.replace('_', ' ')}" if intent not in _GENERIC_INTENTS else ""
        quoted = " / ".join(f"“{text.strip()}”" for text in said)
        summary = f"{reason.capitalize()}{topic}." + (f" Customer wrote: {quoted}" if said else "")
        return summary if len(summary) <= _SUMMARY_LENGTH else summary[: _SUMMARY_LENGTH - 1] + "…"

    async def _after_hours(
        self, conversation: Conversation, language: str, opening: tuple[datetime, Agent] | None
    ) -> BotMessage:
        if opening is None:
            return await self.speaker.say("utter_handoff_no_team", language)
        moment, agent = opening
        weekdays = await self.speaker.weekdays(language)
        if conversation.timezone:
            back_at = local_time(moment, conversation.timezone, weekdays)
            return await self.speaker.say("utter_handoff_after_hours", language, back_at=back_at)
        back_at = local_time(moment, agent.timezone, weekdays)
        return await self.speaker.say(
            "utter_handoff_after_hours_zone", language, back_at=back_at, zone=agent.timezone
        )

    async def _transcript(
        self, ticket: Ticket, agent: Agent, conversation: Conversation | None
    ) -> list[dict]:
        messages = await self.store.transcript(ticket.conversation_id)
        names = _names(conversation, agent)
        wanted = {
            message.language
            for message in messages
            if message.author != "agent"
            and message.language
            and message.language not in agent.languages
        }
        translations: dict[tuple[str, str], str] = {}
        for language in wanted:
            texts = [m.text for m in messages if m.language == language and m.author != "agent"]
            try:
                results = await self.translation.translate(
                    texts,
                    language,
                    agent.language,
                    names=names,
                    conversation_id=ticket.conversation_id,
                )
            except TranslatorError as error:
                log.warning("transcript left untranslated from %s: %s", language, error)
                continue
            translations.update(
                {(language, text): result.text for text, result in zip(texts, results, strict=True)}
            )
        return [
            {
                **message.as_json(),
                "translation": translations.get((message.language, message.text))
                if message.author != "agent"
                else None,
                "original": message.source_text,
                "original_language": message.source_language,
            }
            for message in messages
        ]

    async def _translate_for_customer(
        self, text: str, source: str, target: str, agent: Agent, conversation: Conversation
    ) -> str:
        if source == target:
            return text
        if not self.translation.available:
            raise Unavailable(
                f"no translator configured: write to this customer in {target}, "
                "or use a canned reply",
            )
        try:
            result = await self.translation.translate_one(
                text,
                source,
                target,
                names=_names(conversation, agent),
                conversation_id=conversation.id,
            )
        except TranslatorError as error:
            log.warning("agent %s reply not translated: %s", agent.id, error)
            raise Unavailable(
                f"the translator is unavailable, so nothing was sent: write in {target}, "
                "use a canned reply, or try again",
            ) from None
        return result.text

    async def _back_with_the_bot(self, ticket: Ticket) -> None:
        """Tell the customer the ticket is closed, with the survey question if one is due
        (bot/surveys/)."""
        conversation = await self._conversation(ticket)
        language = conversation.language or ticket.language
        messages = [await self.speaker.say("utter_handoff_resolved", language)]
        if self.surveys is not None:
            question = await self.surveys.after_ticket(conversation, ticket.id, language)
            if question is not None:
                messages.append(question)
        await self.store.add_bot_messages(conversation.id, [m.text for m in messages], language)
        await self._notify(conversation, messages)

    async def _tell(self, ticket: Ticket, *keys: str, **values: object) -> None:
        """Say something to the customer outside a reply to their own message."""
        conversation = await self._conversation(ticket)
        language = conversation.language or ticket.language
        messages = [await self.speaker.say(key, language, **values) for key in keys]
        await self.store.add_bot_messages(conversation.id, [m.text for m in messages], language)
        await self._notify(conversation, messages)

    async def _notify(self, conversation: Conversation, messages: list[BotMessage]) -> None:
        # Stored already; the port logs a channel's failure, so the agent's request stands.
        if self.delivery is not None:
            await self.delivery.deliver(conversation, messages)

    async def _ticket(self, ticket_id: int) -> Ticket:
        ticket = await self.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        return ticket

    async def _held(self, agent: Agent, ticket_id: int) -> Ticket:
        ticket = await self._ticket(ticket_id)
        if ticket.status == "resolved":
            raise Conflict(f"ticket {ticket_id} is resolved; the customer is back with the bot")
        if ticket.agent_id != agent.id:
            holder = f"held by {ticket.agent_name}" if ticket.agent_id else "not claimed yet"
            raise Conflict(f"ticket {ticket_id} is {holder}; claim it first")
        return ticket

    async def _conversation(self, ticket: Ticket) -> Conversation:
        conversation = await self.store.conversation(ticket.sender)
        if conversation is None:  # erased meanwhile
            raise Gone(f"the customer of ticket {ticket.id} was erased")
        return conversation


def _names(conversation: Conversation | None, agent: Agent) -> list[str]:
    """Names masked before a text of the handoff goes to the translator: the customer's
    (as the channel gave it) and the agent's, whom customers greet by name."""
    return [name for name in (conversation and conversation.customer_name, agent.name) if name]
