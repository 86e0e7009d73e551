"""The message flow every channel shares: store, choose the language, ask Rasa, reply.

See DESIGN "Message flow". Storing comes first so that nothing a customer sends is lost,
whatever is down after it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from bot.db import utcnow
from bot.language import LanguageChooser
from bot.language_names import NAMES, display_name, named_languages, own_name
from bot.rasa_client import BotMessage, RasaClient, RasaUnavailable
from bot.render import Renderer
from bot.settings import PIVOT_LANGUAGE, Settings
from bot.store import Conversation, Store, session_expired
from bot.translation.backends import TranslatorError
from bot.translation.service import TranslationService

log = logging.getLogger(__name__)

# Button payloads ("/request_human") go to Rasa as they are and never change the language.
_PAYLOAD = re.compile(r"^/[a-z_]+(/[a-z_]+)?(\{.*\})?$", re.DOTALL)
# "/language nl", "/language Nederlands", or "/language" alone to list the choices.
_LANGUAGE_COMMAND = re.compile(r"^/language(?:\s+(.+))?$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Inbound:
    sender: str
    channel: str
    text: str
    language_hint: str | None = None
    customer_name: str | None = None
    external_id: str | None = None


@dataclass
class Outcome:
    language: str
    messages: list[BotMessage] = field(default_factory=list)
    handoff: dict | None = None

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
        renderer: Renderer,
        languages: LanguageChooser,
        translation: TranslationService,
    ) -> None:
        self.settings = settings
        self.store = store
        self.rasa = rasa
        self.renderer = renderer
        self.languages = languages
        self.translation = translation

    def variables(self, language: str | None = None) -> dict[str, object]:
        """Values every answer may use as {placeholders}."""
        return {
            "support_email": self.settings.support_email,
            "languages": ", ".join(display_name(code) for code in self.settings.languages),
            "language": own_name(language) if language else "",
        }

    def reachable(self, language: str) -> bool:
        """Whether the bot can hold a conversation in `language` now."""
        return language in self.settings.languages or (
            language in NAMES and self.translation.available
        )

    async def render(self, key: str, language: str, about: str | None = None) -> BotMessage:
        message = await self.renderer.render(key, language, self.variables(about or language))
        if message is None:
            raise KeyError(f"no response {key!r} in the catalogue")
        return BotMessage(message["text"], message.get("buttons", []))

    async def handle(self, inbound: Inbound) -> Outcome:
        received = await self.store.receive(
            sender=inbound.sender,
            channel=inbound.channel,
            text=inbound.text,
            customer_name=inbound.customer_name,
            external_id=inbound.external_id,
        )
        conversation = received.conversation
        if received.duplicate:
            replies = await self.store.replies_after(conversation.id, received.message_seq)
            return Outcome(
                conversation.language or PIVOT_LANGUAGE,
                [BotMessage(reply.text) for reply in replies],
            )

        text = inbound.text.strip()
        command = _LANGUAGE_COMMAND.match(text)
        if command:
            return await self._language_command(conversation, received.message_seq, command)

        if _PAYLOAD.match(text):
            language = conversation.language or inbound.language_hint or PIVOT_LANGUAGE
        else:
            language = self.languages.choose(text, conversation.language, inbound.language_hint)
        await self.store.set_language(conversation.id, received.message_seq, language)

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

        status, answers, language = await self._ask_rasa(
            inbound, conversation, received.message_seq, rasa_text, language
        )
        replies.extend(answers)
        return await self._finish(conversation, received.message_seq, status, replies, language)

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
    ) -> tuple[str, list[BotMessage], str]:
        """(status, replies, language): an action may switch the conversation language."""
        metadata = {
            "language": language,
            "channel": inbound.channel,
            "customer": {"name": conversation.customer_name},
        }
        try:
            answers = await self.rasa.send(inbound.sender, text, metadata)
        except RasaUnavailable as error:
            log.warning("message from %s kept for retry: %s", inbound.channel, error)
            answers = []
        if not answers:
            # Rasa down, or it ran into a failing action (action server down): the
            # customer hears so, and the message stays marked for a retry.
            return "failed", [await self.render("utter_service_unavailable", language)], language
        replies = []
        for answer in answers:
            wanted = answer.custom.get("set_language")
            if not wanted:
                replies.append(answer)
            elif self.reachable(wanted):
                language = wanted
                await self.store.set_language(conversation.id, seq, language)
                replies.append(await self.render("utter_language_changed", language))
            else:
                replies.append(
                    await self.render("utter_language_not_supported", language, about=wanted)
                )
        return "answered", replies, language

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
        await self.store.finish(conversation.id, seq, status, [r.text for r in replies], language)
        return Outcome(language, replies)
