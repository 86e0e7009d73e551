"""When the bot asks a survey question, and what it does with the answer.

When (at most one question per session, bot/sessions.py):
- CES after an account request was done: the question follows the account action's
  result (bot/outcomes.py ACCOUNT_RESULTS) in the same reply;
- CSAT after a bot-only request: when the customer thanks or says goodbye (intents
  `thank`, `goodbye`) in a session in which the bot answered a request (a FAQ or an
  account request) and no ticket was opened. That is the session's end the bot can see:
  a question pushed after an idle timeout would reach a customer who has left, and
  channels that cannot push (REST, web chat) would never show it;
- CSAT after a ticket an agent resolved, with the "back with the bot" notice;
- NPS instead of either, for conversations in the sample (bot/surveys/nps.py), then "why?".

The answer (bot/surveys/parsing.py): a score gets thanks (or "why?"), a skip word or the
skip button a short acknowledgement; anything else drops the question and goes to the bot
as usual. A question is open for the rest of its session only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import utcnow
from bot.delivery import Delivery
from bot.outcomes import ANSWERED
from bot.rasa_client import BotMessage
from bot.sessions import current
from bot.settings import PIVOT_LANGUAGE
from bot.speaker import Speaker
from bot.store import Conversation, Said
from bot.surveys import KINDS, ces, csat, nps
from bot.surveys.kinds import SurveyKind
from bot.surveys.parsing import SKIP, is_skip, read_answer
from bot.surveys.store import Pending, SurveyStore
from bot.translation.backends import TranslatorError
from bot.translation.service import TranslationService

log = logging.getLogger(__name__)

# The customer closes the session (data/rules/conversation.yml).
END_INTENTS = frozenset({"thank", "goodbye"})
# A free-text "why?" answer that asks something instead goes to the bot.
_QUESTION = re.compile(r"[?؟]\s*$")
_SKIPPED = "utter_survey_skipped"
_TYPED = "utter_survey_typed"


class Surveys:
    def __init__(
        self,
        engine: AsyncEngine,
        speaker: Speaker,
        translation: TranslationService,
        *,
        session_minutes: int,
        nps_sample: float,
        delivery: Delivery | None = None,
    ) -> None:
        self.store = SurveyStore(engine)
        self.speaker = speaker
        self.translation = translation
        self.session_minutes = session_minutes
        self.nps_sample = nps_sample
        # Which channel a conversation is on, for whether it shows buttons.
        self.delivery = delivery

    # Asking ---------------------------------------------------------------------------

    async def after_answer(
        self, conversation: Conversation, said: Said | None, language: str
    ) -> BotMessage | None:
        """The question to add to the bot's answer to the customer message `said`, if one
        is due (Store.said, read once for this and the incident notices)."""
        if said is None:
            return None
        if said.answer == "account":
            kind, occasion = ces.KIND, "account"
        elif said.intent in END_INTENTS:
            kind, occasion = csat.KIND, "bot"
        else:
            return None
        session = current(await self.store.recent(conversation.id), self.session_minutes)
        if not session:
            return None
        start = session[0].created_at
        if await self.store.asked_since(conversation.id, start):
            return None
        if occasion == "bot":
            answered = any(m.answer in ANSWERED for m in session if m.author == "customer")
            if not answered or await self.store.ticket_since(conversation.id, start):
                return None
        return await self._ask(conversation, kind, occasion, language)

    async def after_ticket(
        self, conversation: Conversation, ticket_id: int, language: str
    ) -> BotMessage | None:
        """The question to send with "back with the bot" once an agent resolved a ticket."""
        session = current(await self.store.recent(conversation.id), self.session_minutes)
        if session and await self.store.asked_since(conversation.id, session[0].created_at):
            return None
        return await self._ask(conversation, csat.KIND, "ticket", language, ticket_id)

    async def _ask(
        self,
        conversation: Conversation,
        kind: SurveyKind,
        occasion: str,
        language: str,
        ticket_id: int | None = None,
    ) -> BotMessage:
        if await self._nps_due(conversation):
            kind = nps.KIND
        await self.store.ask(
            conversation.id, kind.name, occasion, language, conversation.channel, ticket_id
        )
        log.info("survey %s asked (%s)", kind.name, occasion)
        question = await self.speaker.say(kind.ask, language)
        return await self._for_channel(conversation, question, kind, language)

    async def _nps_due(self, conversation: Conversation) -> bool:
        if not nps.in_sample(conversation.sender, self.nps_sample):
            return False
        since = utcnow() - nps.NPS_EVERY
        return not await self.store.asked_since(conversation.id, since, kind=nps.KIND.name)

    async def _for_channel(
        self, conversation: Conversation, message: BotMessage, kind: SurveyKind, language: str
    ) -> BotMessage:
        """Buttons where the channel shows them, else how to answer by typing."""
        channel = self.delivery.channel_of(conversation.sender) if self.delivery else None
        if channel is None or channel.capabilities.buttons:
            return message
        hint = await self.speaker.say(_TYPED, language, low=kind.low, high=kind.high)
        return replace(message, text=f"{message.text}\n{hint.text}", buttons=[])

    # Answers --------------------------------------------------------------------------

    async def answer(self, conversation: Conversation, text: str) -> list[BotMessage] | None:
        """What the bot says to `text` as the answer to the open question; None when no
        question is open or the text is not an answer (then it goes to the bot)."""
        pending = await self.store.pending(conversation.id)
        if pending is None:
            return None
        session = current(await self.store.recent(conversation.id), self.session_minutes)
        if not session or session[0].created_at > pending.asked_at:
            await self.store.close(pending.id, "dropped")  # asked in an earlier session
            return None
        language = conversation.language or pending.language or PIVOT_LANGUAGE
        kind = KINDS[pending.kind]
        if pending.status == "why":
            return await self._why(conversation, pending, kind, text, language)
        reading = read_answer(text, kind.low, kind.high, language)
        if reading is None:
            await self.store.close(pending.id, "dropped")
            return None
        if reading is SKIP:
            await self.store.close(pending.id, "skipped")
            return [await self.speaker.say(_SKIPPED, language)]
        assert isinstance(reading, int)
        await self.store.score(pending.id, reading, follow_up=kind.follow_up is not None)
        log.info("survey %s answered: %s", kind.name, reading)
        if kind.follow_up is not None:
            why = await self.speaker.say(kind.follow_up, language)
            return [await self._skippable(conversation, why, language)]
        return [await self.speaker.say(kind.thanks, language)]

    async def _why(
        self,
        conversation: Conversation,
        pending: Pending,
        kind: SurveyKind,
        text: str,
        language: str,
    ) -> list[BotMessage] | None:
        if is_skip(text):
            await self.store.close(pending.id, "answered")  # the score stands
            return [await self.speaker.say(kind.thanks, language)]
        if text.strip().startswith("/") or _QUESTION.search(text):
            # A button, a command or a question: for the bot; the score stands.
            await self.store.close(pending.id, "answered")
            return None
        reason = text.strip()
        await self.store.reason(pending.id, reason, await self._english(conversation, reason))
        return [await self.speaker.say(kind.thanks, language)]

    async def _skippable(
        self, conversation: Conversation, message: BotMessage, language: str
    ) -> BotMessage:
        channel = self.delivery.channel_of(conversation.sender) if self.delivery else None
        if channel is None or channel.capabilities.buttons:
            return message
        return replace(message, buttons=[])

    async def _english(self, conversation: Conversation, text: str) -> str | None:
        """The reason in English for the lead; None when it cannot be translated now (the
        original is kept, and the lead reads that)."""
        language = conversation.language or PIVOT_LANGUAGE
        if language == PIVOT_LANGUAGE:
            return text
        if not self.translation.available:
            return None
        try:
            result = await self.translation.translate_one(
                text,
                language,
                PIVOT_LANGUAGE,
                names=[conversation.customer_name or ""],
                conversation_id=conversation.id,
            )
        except TranslatorError as error:
            log.warning("survey reason left in %s: %s", language, error)
            return None
        return result.text
