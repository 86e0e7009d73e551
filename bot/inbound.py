"""The message flow every channel shares: store, choose the language, ask Rasa, reply.

See DESIGN "Message flow". Storing comes first so that nothing a customer sends is lost,
whatever is down after it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from bot.catalogue import Catalogue
from bot.db import utcnow
from bot.language import LanguageChooser
from bot.rasa_client import BotMessage, RasaClient, RasaUnavailable
from bot.settings import Settings
from bot.store import Store, session_expired

log = logging.getLogger(__name__)

# Button payloads ("/request_human") go to Rasa as they are and never change the language.
_PAYLOAD = re.compile(r"^/[a-z_]+(/[a-z_]+)?(\{.*\})?$", re.DOTALL)

LANGUAGE_NAMES = {
    "en": "English",
    "nl": "Nederlands",
    "he": "עברית",
    "fa": "فارسی",
    "vi": "Tiếng Việt",
}


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
        catalogue: Catalogue,
        languages: LanguageChooser,
    ) -> None:
        self.settings = settings
        self.store = store
        self.rasa = rasa
        self.catalogue = catalogue
        self.languages = languages

    def variables(self) -> dict[str, object]:
        """Values every answer may use as {placeholders}."""
        return {
            "support_email": self.settings.support_email,
            "languages": ", ".join(
                LANGUAGE_NAMES.get(code, code) for code in self.settings.languages
            ),
        }

    def render(self, key: str, language: str) -> BotMessage:
        message = self.catalogue.render(key, language, self.variables())
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
                conversation.language or self.settings.languages[0],
                [BotMessage(reply.text) for reply in replies],
            )

        if _PAYLOAD.match(inbound.text.strip()):
            language = conversation.language or inbound.language_hint or "en"
        else:
            language = self.languages.choose(
                inbound.text, conversation.language, inbound.language_hint
            )
        if language not in self.settings.languages:
            language = "en"
        await self.store.set_language(conversation.id, received.message_seq, language)

        replies: list[BotMessage] = []
        last_bot = await self.store.last_bot_message_at(conversation.id)
        if session_expired(last_bot, utcnow(), self.settings.session_minutes):
            replies.append(self.render("utter_disclosure", language))

        metadata = {
            "language": language,
            "channel": inbound.channel,
            "customer": {"name": conversation.customer_name},
        }
        try:
            answers = await self.rasa.send(inbound.sender, inbound.text, metadata)
        except RasaUnavailable as error:
            log.warning("message %s kept for retry: %s", received.message_seq, error)
            answers = []
        if answers:
            status = "answered"
        else:
            # Rasa down, or it ran into a failing action (action server down): the
            # customer hears so, and the message stays marked for a retry.
            status = "failed"
            answers = [self.render("utter_service_unavailable", language)]
        replies.extend(answers)

        await self.store.finish(
            conversation.id, received.message_seq, status, [r.text for r in replies], language
        )
        return Outcome(language, replies)
