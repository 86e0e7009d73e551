"""The message flow every channel shares: store, choose the language, ask Rasa, reply.

See DESIGN "Message flow". Storing comes first so that nothing a customer sends is lost,
whatever is down after it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from bot.db import utcnow
from bot.erase import Eraser
from bot.handoff.service import HandoffService
from bot.language import LanguageChooser
from bot.language_names import NAMES, named_languages
from bot.rasa_client import BotMessage, RasaClient, RasaUnavailable
from bot.settings import PIVOT_LANGUAGE, Settings
from bot.speaker import Speaker
from bot.store import Conversation, Received, Store, session_expired
from bot.translation.backends import TranslatorError
from bot.translation.service import TranslationService

log = logging.getLogger(__name__)

# Button payloads ("/request_human") go to Rasa as they are and never change the language.
_PAYLOAD = re.compile(r"^/[a-z_]+(/[a-z_]+)?(\{.*\})?$", re.DOTALL)
# "/language nl", "/language Nederlands", or "/language" alone to list the choices.
_LANGUAGE_COMMAND = re.compile(r"^/language(?:\s+(.+))?$", re.IGNORECASE | re.DOTALL)
# "Talk to a person" on every channel, whatever Rasa makes of it.
_HUMAN_COMMAND = re.compile(r"^/(?:human|agent|person|request_human)$", re.IGNORECASE)
# How many earlier customer messages Rasa sees, for "asked the same again" (escalation).
_RECENT = 3


@dataclass(frozen=True)
class Inbound:
    sender: str
    channel: str
    text: str
    language_hint: str | None = None
    customer_name: str | None = None
    external_id: str | None = None
    timezone: str | None = None


@dataclass
class Outcome:
    language: str
    messages: list[BotMessage] = field(default_factory=list)
    handoff: dict | None = None
    # Where each message is stored (the web chat uses them not to show one twice).
    seqs: list[int] = field(default_factory=list)

    def as_json(self, sender: str) -> dict:
        return {
            "sender": sender,
            "language": self.language,
            "messages": [message.as_json() for message in self.messages],
            "handoff": self.handoff,
        }


class Gateway:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        rasa: RasaClient,
        speaker: Speaker,
        languages: LanguageChooser,
        translation: TranslationService,
        handoff: HandoffService,
        eraser: Eraser | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.rasa = rasa
        self.speaker = speaker
        self.languages = languages
        self.translation = translation
        self.handoff = handoff
        self.eraser = eraser

    def reachable(self, language: str) -> bool:
        """Whether the bot can hold a conversation in `language` now."""
        return language in self.settings.languages or (
            language in NAMES and self.translation.available
        )

    async def render(self, key: str, language: str, about: str | None = None) -> BotMessage:
        return await self.speaker.say(key, language, about)

    async def handle(self, inbound: Inbound) -> Outcome:
        received, replayed = await self._receive(inbound)
        if replayed is not None:
            return replayed
        conversation = received.conversation

        seq = received.message_seq
        text = inbound.text.strip()
        if conversation.csat_ticket_id is not None:
            thanks = await self.handoff.rate(conversation, text)
            if thanks is not None:
                language = conversation.language or PIVOT_LANGUAGE
                return await self._finish(conversation, seq, "answered", thanks, language)
        command = _LANGUAGE_COMMAND.match(text)
        if command:
            return await self._language_command(conversation, seq, command)

        if _PAYLOAD.match(text) or _HUMAN_COMMAND.match(text):
            language = conversation.language or inbound.language_hint or PIVOT_LANGUAGE
        else:
            language = self.languages.choose(text, conversation.language, inbound.language_hint)
        await self.store.set_language(conversation.id, seq, language)

        ticket = await self.handoff.active(conversation.id)
        if ticket is not None:
            # A person has the conversation: the bot stays silent, the agent reads it.
            replies = await self.handoff.from_customer(ticket, text, language)
            outcome = await self._finish(conversation, seq, "to_agent", replies, language)
            outcome.handoff = (await self.handoff.placement(ticket)).as_json()
            return outcome
        asks_for_person = bool(_HUMAN_COMMAND.match(text))
        if asks_for_person:
            # Through Rasa, so that a form in progress is closed by its rules; a person is
            # reached even when Rasa is down (below).
            text = "/request_human"

        rasa_text = await self._for_rasa(text, language, conversation, received.message_seq)
        # Unreadable now (offline, or the translator failed): answer in English without
        # trying the translator again for the disclosure.
        reply_language = language if rasa_text is not None else PIVOT_LANGUAGE

        replies: list[BotMessage] = []
        last_bot = await self.store.last_bot_message_at(conversation.id)
        if session_expired(last_bot, utcnow(), self.settings.session_minutes):
            replies.append(await self.render("utter_disclosure", reply_language))

        if rasa_text is None:
            # Say so, list what we speak, offer a person. The message stays stored,
            # marked for whoever can read it.
            replies.append(
                await self.render("utter_language_not_supported", PIVOT_LANGUAGE, about=language)
            )
            return await self._finish(
                conversation, received.message_seq, "unsupported", replies, PIVOT_LANGUAGE
            )

        status, answers, language, signals = await self._ask_rasa(
            inbound, conversation, received.message_seq, rasa_text, language
        )
        if asks_for_person and "handoff" not in signals:
            answers = []  # Rasa or the action server is down: no apology, a person
            signals = {"handoff": {"reason": "request", "intent": "request_human"}}
        replies.extend(answers)
        handoff = signals.get("handoff")
        if isinstance(handoff, dict):
            return await self._hand_off(
                conversation, seq, replies, language, handoff.get("reason"), handoff.get("intent")
            )
        outcome = await self._finish(conversation, seq, status, replies, language)
        if signals.get("erase") is True and self.eraser is not None:
            # The customer deleted their account (actions/account.py): erase what we hold,
            # now that Rasa has stored its last event for them.
            await self.eraser.erase(inbound.sender)
        return outcome

    async def _hand_off(
        self,
        conversation: Conversation,
        seq: int,
        replies: list[BotMessage],
        language: str,
        reason: str | None,
        intent: str | None,
    ) -> Outcome:
        placement = await self.handoff.open(conversation, language, reason or "request", intent)
        outcome = await self._finish(
            conversation, seq, "answered", [*replies, *placement.messages], language
        )
        outcome.handoff = placement.as_json()
        return outcome

    async def answer_directly(self, inbound: Inbound, key: str, **values: object) -> Outcome:
        """Store the customer's message and answer it from the catalogue, without Rasa
        (channel commands such as /privacy, or content the bot cannot read)."""
        received, replayed = await self._receive(inbound)
        if replayed is not None:
            return replayed
        conversation = received.conversation
        hint = inbound.language_hint if inbound.language_hint in NAMES else None
        language = conversation.language or hint or PIVOT_LANGUAGE
        if not self.reachable(language):
            language = PIVOT_LANGUAGE
        reply = await self.speaker.say(key, language, **values)
        return await self._finish(conversation, received.message_seq, "answered", [reply], language)

    async def _receive(self, inbound: Inbound) -> tuple[Received, Outcome | None]:
        """Store the message; for a redelivered one, the replies it got the first time."""
        received = await self.store.receive(
            sender=inbound.sender,
            channel=inbound.channel,
            text=inbound.text,
            customer_name=inbound.customer_name,
            external_id=inbound.external_id,
            timezone=inbound.timezone,
        )
        if not received.duplicate:
            return received, None
        conversation = received.conversation
        replies = await self.store.replies_after(conversation.id, received.message_seq)
        language = conversation.language or PIVOT_LANGUAGE
        return received, Outcome(language, [BotMessage(reply.text) for reply in replies])

    async def _for_rasa(
        self, text: str, language: str, conversation: Conversation, seq: int
    ) -> str | None:
        """The text Rasa should see: native text as it is, other languages in English."""
        if language in self.settings.languages or _PAYLOAD.match(text):
            return text
        if not self.translation.available:
            return None
        try:
            pivot = await self.translation.translate_one(
                text, language, PIVOT_LANGUAGE, names=[conversation.customer_name or ""]
            )
        except TranslatorError as error:
            log.warning("message %s not translated from %s: %s", seq, language, error)
            return None
        await self.store.set_pivot(seq, pivot.text)
        return pivot.text

    async def _ask_rasa(
        self, inbound: Inbound, conversation: Conversation, seq: int, text: str, language: str
    ) -> tuple[str, list[BotMessage], str, dict]:
        """(status, replies, language, signals): actions may switch the language, or ask
        for a person ({"handoff": ...}) or an erasure ({"erase": true})."""
        earlier = await self.store.recent_customer_messages(conversation.id, _RECENT + 1)
        metadata = {
            "language": language,
            "channel": inbound.channel,
            "customer": {"name": conversation.customer_name},
            "recent": [m.pivot_text or m.text for m in earlier if m.seq != seq][-_RECENT:],
        }
        try:
            answers = await self.rasa.send(inbound.sender, text, metadata)
        except RasaUnavailable as error:
            log.warning("message from %s kept for retry: %s", inbound.channel, error)
            answers = []
        if not answers:
            # Rasa down, or it ran into a failing action (action server down): the
            # customer hears so, and the message stays marked for a retry.
            unavailable = await self.render("utter_service_unavailable", language)
            return "failed", [unavailable], language, {}
        replies = []
        signals: dict = {}
        for answer in answers:
            wanted = answer.custom.get("set_language")
            if "handoff" in answer.custom or "erase" in answer.custom:
                signals.update(answer.custom)
            elif not wanted:
                replies.append(answer)
            elif self.reachable(wanted):
                language = wanted
                await self.store.set_language(conversation.id, seq, language)
                replies.append(await self.render("utter_language_changed", language))
            else:
                replies.append(
                    await self.render("utter_language_not_supported", language, about=wanted)
                )
        return "answered", replies, language, signals

    async def _language_command(self, conversation: Conversation, seq: int, command) -> Outcome:
        current = conversation.language or PIVOT_LANGUAGE
        wanted = (command.group(1) or "").strip().lower()
        code = wanted if wanted in NAMES else next(iter(named_languages(wanted)), None)
        if code and self.reachable(code):
            await self.store.set_language(conversation.id, seq, code)
            replies = [await self.render("utter_language_changed", code)]
            return await self._finish(conversation, seq, "answered", replies, code)
        key = "utter_language_not_supported" if code else "utter_choose_language"
        replies = [await self.render(key, current, about=code)]
        return await self._finish(conversation, seq, "answered", replies, current)

    async def _finish(
        self,
        conversation: Conversation,
        seq: int,
        status: str,
        replies: list[BotMessage],
        language: str,
    ) -> Outcome:
        seqs = await self.store.finish(
            conversation.id, seq, status, [r.text for r in replies], language
        )
        return Outcome(language, replies, seqs=seqs)
