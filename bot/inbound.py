"""The message flow every channel shares: store, choose the language, ask Rasa, reply.

See DESIGN "Message flow". Storing comes first so that nothing a customer sends is lost,
whatever is down after it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field, replace

from bot.continuation import Continued, EmailContinuation
from bot.db import utcnow
from bot.erase import Eraser
from bot.handoff.service import HandoffService
from bot.incidents.service import Incidents
from bot.language import LanguageChooser
from bot.privacy import Command, notice_key, privacy_command
from bot.rasa_client import BotMessage, RasaClient, RasaUnavailable
from bot.retry import RetryPolicy
from bot.settings import PIVOT_LANGUAGE, Settings
from bot.speaker import Speaker
from bot.store import (
    UNANSWERED,
    Claimed,
    Conversation,
    Received,
    Store,
    StoredMessage,
    session_expired,
)
from bot.surveys.service import Surveys
from bot.telemetry import Telemetry
from bot.translation.backends import TranslatorRejected, TranslatorUnavailable
from bot.translation.service import TranslationService
from tolk_core.language_names import NAMES, named_languages, own_name
from tolk_core.signals import ContinueByEmail, Erase, Handoff, SetLanguage, Signal

log = logging.getLogger(__name__)

# Button payloads ("/request_human") go to Rasa as they are and never change the language.
_PAYLOAD = re.compile(r"^/[a-z_]+(/[a-z_]+)?(\{.*\})?$", re.DOTALL)
# "/language nl", "/language Nederlands", or "/language" alone to list the choices.
_LANGUAGE_COMMAND = re.compile(r"^/language(?:\s+(.+))?$", re.IGNORECASE | re.DOTALL)
# "Talk to a person" on every channel, whatever Rasa makes of it.
_HUMAN_COMMAND = re.compile(r"^/(?:human|agent|person|request_human)$", re.IGNORECASE)
# Rasa's own intents that a customer must not trigger by typing them ("/restart" wipes the
# tracker, "/session_start" starts a session that answers nothing): sent as plain words.
_INTERNAL_INTENT = re.compile(r"^/+(?=(?:session_start|restart|back)\b)", re.IGNORECASE)
# How many earlier customer messages Rasa sees, for "asked the same again" (escalation).
_RECENT = 3
# How often a message waiting behind one that someone else is answering looks again.
_WAIT_STEP = 0.1
# What the customer hears after "send me this by e-mail", by how it went.
_CONTINUED = {
    "sent": "utter_email_continued",
    "locked": "utter_email_address_locked",
    "invalid": "utter_invalid_email",
    "off": "utter_email_unavailable",
    "failed": "utter_email_failed",
}


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
    # What became of the customer's message (bot/store.py statuses: answered, failed,
    # to_agent, unsupported), or "duplicate" for one received before.
    status: str = "answered"

    def as_json(self, sender: str) -> dict:
        return {
            "sender": sender,
            "language": self.language,
            "messages": [message.as_json() for message in self.messages],
            "handoff": self.handoff,
        }

    def then(self, later: Outcome) -> Outcome:
        """This outcome's messages followed by `later`'s (answers in the order asked)."""
        return Outcome(
            later.language,
            [*self.messages, *later.messages],
            later.handoff or self.handoff,
            [*self.seqs, *later.seqs],
            later.status,
        )


@dataclass
class Retried:
    """Stored messages answered again (bot/retry.py): what the customer was given now, how
    many messages got their answer, and whether one still waits (newer ones wait behind)."""

    outcome: Outcome
    answered: int = 0
    waiting: bool = False
    conversation: Conversation | None = None


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
        retry: RetryPolicy | None = None,
        surveys: Surveys | None = None,
        telemetry: Telemetry | None = None,
        incidents: Incidents | None = None,
        email: EmailContinuation | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy.from_settings(settings)
        self.store = store
        self.rasa = rasa
        self.speaker = speaker
        self.languages = languages
        self.translation = translation
        self.handoff = handoff
        self.eraser = eraser
        self.surveys = surveys
        self.telemetry = telemetry
        # Notices of incidents (bot/incidents/): told before the answer to who asks.
        self.incidents = incidents
        # "Send me this by e-mail" (bot/continuation.py); None: e-mail is off here.
        self.email = email

    def reachable(self, language: str) -> bool:
        """Whether the bot can hold a conversation in `language` now."""
        return language in self.settings.languages or (
            language in NAMES and self.translation.available
        )

    async def render(self, key: str, language: str, about: str | None = None) -> BotMessage:
        return await self.speaker.say(key, language, about)

    async def handle(self, inbound: Inbound) -> Outcome:
        start = time.perf_counter()
        outcome = await self._handle(inbound)
        if self.telemetry is not None:
            status = "handoff" if outcome.handoff and outcome.status == "answered" else None
            self.telemetry.message(
                inbound.channel,
                outcome.language,
                status or outcome.status,
                time.perf_counter() - start,
            )
        return outcome

    async def _handle(self, inbound: Inbound) -> Outcome:
        received, replayed = await self._receive(inbound)
        if replayed is not None:
            replayed.status = "duplicate"
            return replayed
        # Older messages still unanswered (Rasa was down) are answered first, so that the
        # customer reads answers in the order they asked; while one stays unanswered, this
        # one waits behind it (bot/retry.py).
        earlier = Retried(Outcome(PIVOT_LANGUAGE))
        if received.behind:
            earlier = await self.answer_unanswered(
                received.conversation.id, upto=received.message_seq - 1, wait=True
            )
        if earlier.answered:
            # Those answers may have changed the conversation (language, rating, erasure).
            conversation = await self.store.conversation(inbound.sender)
            if conversation is None:
                return earlier.outcome
            received = replace(received, conversation=conversation)
        outcome = await self._answer(inbound, received, behind=earlier.waiting)
        return earlier.outcome.then(outcome)

    async def _answer(self, inbound: Inbound, received: Received, behind: bool = False) -> Outcome:
        """Answer a stored message; `behind` an older one still unanswered, it is not sent
        to Rasa (it would be answered first) and waits for a retry like it."""
        conversation = received.conversation

        seq = received.message_seq
        text = _INTERNAL_INTENT.sub("", inbound.text.strip())
        asked = privacy_command(text)
        if asked is not None:  # on every channel, even with a person or a rating pending
            return await self._privacy(inbound, conversation, seq, asked)
        if self.surveys is not None:
            # The answer to a survey question; anything else drops it and goes on as usual.
            thanks = await self.surveys.answer(conversation, text)
            if thanks is not None:
                language = conversation.language or PIVOT_LANGUAGE
                return await self._finish(conversation, seq, "answered", thanks, language)
        command = _LANGUAGE_COMMAND.match(text)
        if command:
            return await self._language_command(conversation, seq, command)

        unsure_of_language = False
        if _PAYLOAD.match(text) or _HUMAN_COMMAND.match(text):
            language = conversation.language or inbound.language_hint or PIVOT_LANGUAGE
        else:
            # Off the event loop: detection is bounded (bot/language.py), but CPU work on
            # the loop stalls every channel while it runs.
            choice = await asyncio.to_thread(
                self.languages.decide, text, conversation.language, inbound.language_hint
            )
            language, unsure_of_language = choice.language, not choice.sure
        chosen = language
        if not (language == conversation.language == received.stored_language):
            # The same language as before (most messages) is already stored on both rows.
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

        translator_failed = False
        try:
            rasa_text = await self._for_rasa(text, language, conversation, received.message_seq)
        except TranslatorUnavailable as error:
            log.warning(
                "message %s not translated from %s, kept for retry: %s", seq, language, error
            )
            rasa_text, translator_failed = None, True
        # Unreadable now (offline, or the translator failed): answer in English without
        # trying the translator again for the disclosure.
        reply_language = language if rasa_text is not None else PIVOT_LANGUAGE

        replies: list[BotMessage] = []
        earlier, last_bot = await self.store.context(conversation.id, _RECENT + 1)
        if session_expired(last_bot, utcnow(), self.settings.session_minutes):
            disclosure = await self.render("utter_disclosure", reply_language)
            if last_bot is None:  # first contact: what we store, how long, who translates
                disclosure = await self._with_privacy_notice(disclosure, reply_language)
            replies.append(disclosure)

        if translator_failed:
            # A language we read through the translator, which failed for a moment: the
            # message waits for a retry like one Rasa could not answer (bot/retry.py), and
            # the customer is told so in English, the one language that needs no translator.
            replies.append(await self.render("utter_service_unavailable", PIVOT_LANGUAGE))
            return await self._finish(conversation, seq, "failed", replies, PIVOT_LANGUAGE)
        if rasa_text is None:
            # No translator here: say so, list what we speak, offer a person. The message
            # stays stored, marked for whoever can read it.
            replies.append(
                await self.render("utter_language_not_supported", PIVOT_LANGUAGE, about=language)
            )
            return await self._finish(
                conversation, received.message_seq, "unsupported", replies, PIVOT_LANGUAGE
            )

        status, answers, language, signals = await self._ask_rasa(
            inbound, conversation, received.message_seq, rasa_text, language, earlier, behind
        )
        handoff = next((s for s in reversed(signals) if isinstance(s, Handoff)), None)
        if asks_for_person and handoff is None:
            answers = []  # Rasa or the action server is down: no apology, a person
            handoff = Handoff("request", "request_human")
        # Not when an action changed the language ("can we speak Dutch?") or Rasa failed.
        if unsure_of_language and answers and language == chosen and status == "answered":
            # "hoi" or "hello" alone: answered in the likeliest language, the others offered
            # before the answer (after the disclosure), so the answer stays the last word.
            replies.append(await self._other_languages(language))
        # What Rasa's /nlg calls noted on the message (intent, kind of answer), read once
        # for the incident notices and the surveys.
        said = None
        if status == "answered" and (self.incidents is not None or self.surveys is not None):
            said = await self.store.said(seq)
        if self.incidents is not None and status == "answered":
            # An open incident about the message's intent is told first, once per
            # conversation.
            intent = said.intent if said is not None else None
            replies.extend(await self.incidents.on_message(conversation, intent, language))
        replies.extend(answers)
        for signal in signals:
            if isinstance(signal, ContinueByEmail):
                replies.append(await self._continue_by_email(conversation, signal, language))
        if handoff is not None:
            return await self._hand_off(
                conversation, seq, replies, language, handoff.reason, handoff.intent
            )
        if status == "answered" and self.surveys is not None and Erase() not in signals:
            question = await self.surveys.after_answer(conversation, said, language)
            if question is not None:
                replies.append(question)
        outcome = await self._finish(conversation, seq, status, replies, language)
        if Erase() in signals and self.eraser is not None:
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
        if self.telemetry is not None:
            self.telemetry.handoff(conversation.channel, language, reason or "request")
        outcome = await self._finish(
            conversation, seq, "answered", [*replies, *placement.messages], language
        )
        outcome.handoff = placement.as_json()
        return outcome

    async def _continue_by_email(
        self, conversation: Conversation, signal: ContinueByEmail, language: str
    ) -> BotMessage:
        continued = (
            Continued("off")
            if self.email is None
            else await self.email.continue_for_customer(conversation, signal.address)
        )
        return await self.speaker.say(
            _CONTINUED[continued.status], language, email=continued.address or signal.address
        )

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
        if await self.store.last_bot_message_at(conversation.id) is None:
            reply = await self._with_privacy_notice(reply, language)
        return await self._finish(conversation, received.message_seq, "answered", [reply], language)

    async def _with_privacy_notice(self, message: BotMessage, language: str) -> BotMessage:
        """`message` (the first the customer reads) followed by the privacy notice, in one
        message: channels show it as one, and answers keep their count."""
        notice = await self.speaker.say(notice_key(self.translation.available), language)
        return replace(message, text=f"{message.text}\n\n{notice.text}")

    async def _privacy(
        self, inbound: Inbound, conversation: Conversation, seq: int, asked: Command
    ) -> Outcome:
        """/privacy, and /delete_my_data: asks first, erases on "confirm" (its button)."""
        hint = inbound.language_hint if inbound.language_hint in NAMES else None
        language = conversation.language or hint or PIVOT_LANGUAGE
        if not self.reachable(language):
            language = PIVOT_LANGUAGE
        reply = await self.speaker.say(asked.value, language)
        if asked is not Command.ERASE:
            replies = [reply]
            last_bot = await self.store.last_bot_message_at(conversation.id)
            if session_expired(last_bot, utcnow(), self.settings.session_minutes):
                disclosure = await self.render("utter_disclosure", language)
                if last_bot is None and asked is not Command.PRIVACY:  # that one says it all
                    disclosure = await self._with_privacy_notice(disclosure, language)
                replies.insert(0, disclosure)
            return await self._finish(conversation, seq, "answered", replies, language)
        if self.eraser is None:
            raise RuntimeError("this gateway was built without an eraser")
        await self.eraser.erase(conversation.sender)
        # Not stored: the conversation is gone, and this answer is not the start of a new one.
        return Outcome(language, [reply])

    async def _receive(self, inbound: Inbound) -> tuple[Received, Outcome | None]:
        """Store the message; for a redelivered one, its answer (given now if it had none)."""
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
        return received, await self._redelivered(received)

    async def _redelivered(self, received: Received) -> Outcome:
        """A message sent again (same channel message id). Still unanswered, it is answered
        now (after older ones, once); answered, it gets its answer again, not the apology
        it got while it waited."""
        conversation = received.conversation
        seq = received.message_seq
        now = await self.answer_unanswered(conversation.id, upto=seq, wait=True)
        if now.outcome.messages:
            return now.outcome
        replies = await self.store.replies_to(conversation.id, seq)
        language = (now.conversation or conversation).language or PIVOT_LANGUAGE
        return Outcome(
            language, [BotMessage(reply.text) for reply in replies], seqs=[r.seq for r in replies]
        )

    async def answer_unanswered(
        self,
        conversation_id: int,
        *,
        upto: int | None = None,
        due_only: bool = False,
        wait: bool = False,
    ) -> Retried:
        """Answer a conversation's stored, unanswered messages (up to seq `upto`), oldest
        first, stopping at the first that stays unanswered. `due_only`: leave messages
        whose next retry is not due yet (the sweep); `wait`: for one someone else is
        answering, wait until they are done (a live message behind it)."""
        retried = Retried(Outcome(PIVOT_LANGUAGE))
        for seq in await self.store.unanswered(conversation_id, upto=upto):
            claimed = await self._claim(seq, due_only=due_only, wait=wait)
            if claimed is None:
                if await self.store.status(seq) in UNANSWERED:
                    retried.waiting = True
                    break
                continue  # answered meanwhile by whoever held it
            retried.conversation = claimed.conversation
            retried.outcome = retried.outcome.then(await self._answer_claimed(claimed))
            if await self.store.status(seq) in UNANSWERED:
                retried.waiting = True  # still down: newer messages wait behind this one
                break
            retried.answered += 1
        return retried

    async def _claim(self, seq: int, *, due_only: bool, wait: bool) -> Claimed | None:
        deadline = asyncio.get_running_loop().time() + self.retry.lease.total_seconds()
        while True:
            claimed = await self.store.claim(seq, due_only=due_only)
            if claimed is not None or not wait:
                return claimed
            if await self.store.status(seq) not in UNANSWERED:
                return None
            if asyncio.get_running_loop().time() >= deadline:
                return None
            await asyncio.sleep(_WAIT_STEP)

    async def _answer_claimed(self, claimed: Claimed) -> Outcome:
        conversation = claimed.conversation
        if self.retry.exhausted(claimed.attempts, claimed.created_at, utcnow()):
            return await self._give_up(conversation, claimed.seq)
        inbound = Inbound(
            sender=conversation.sender,
            channel=conversation.channel,
            text=claimed.text,
            customer_name=conversation.customer_name,
            external_id=claimed.external_id,
            timezone=conversation.timezone,
        )
        log.info("answering stored message %s (try %d)", claimed.seq, claimed.attempts)
        return await self._answer(inbound, Received(conversation, claimed.seq, duplicate=False))

    async def _give_up(self, conversation: Conversation, seq: int) -> Outcome:
        """Tried often enough (or too old for the bot to answer now): a person takes it."""
        log.warning("message %s still unanswered after all tries: to a person", seq)
        language = conversation.language or PIVOT_LANGUAGE
        if await self.handoff.active(conversation.id) is not None:
            return await self._finish(conversation, seq, "to_agent", [], language)
        return await self._hand_off(conversation, seq, [], language, "unanswered", None)

    async def _for_rasa(
        self, text: str, language: str, conversation: Conversation, seq: int
    ) -> str | None:
        """The text Rasa should see: native text as it is, other languages in English;
        None when no translator is configured or it refuses the language."""
        if language in self.settings.languages or _PAYLOAD.match(text):
            return text
        if not self.translation.available:
            return None
        try:
            pivot = await self.translation.translate_one(
                text,
                language,
                PIVOT_LANGUAGE,
                names=[conversation.customer_name or ""],
                conversation_id=conversation.id,
            )
        except TranslatorRejected as error:
            # It answered and refused (a language it lacks, the key): no retry changes
            # that. TranslatorUnavailable goes to the caller: the message waits for one.
            log.warning("message %s not translated from %s: %s", seq, language, error)
            return None
        await self.store.set_pivot(seq, pivot.text)
        return pivot.text

    async def _ask_rasa(
        self,
        inbound: Inbound,
        conversation: Conversation,
        seq: int,
        text: str,
        language: str,
        earlier: list[StoredMessage],
        behind: bool = False,
    ) -> tuple[str, list[BotMessage], str, list[Signal]]:
        """(status, replies, language, signals): actions may switch the language, or ask
        for a person or an erasure (tolk_core/signals.py; the signals returned). `earlier`:
        the conversation's latest customer messages, this one among them."""
        metadata = {
            "language": language,
            "channel": inbound.channel,
            "customer": {"name": conversation.customer_name},
            # The stored message's seq: /nlg notes on it what Rasa made of it (bot/outcomes.py).
            "message": seq,
            "recent": [m.pivot_text or m.text for m in earlier if m.seq < seq][-_RECENT:],
        }
        answers: list[BotMessage] = []
        rasa_answered = False
        if behind:
            log.info("message from %s waits behind an older unanswered one", inbound.channel)
        else:
            try:
                answers = await self.rasa.send(inbound.sender, text, metadata)
                rasa_answered = True
            except RasaUnavailable as error:
                log.warning("message from %s kept for retry: %s", inbound.channel, error)
        if not answers and rasa_answered and await self._answered_nothing():
            # Rasa and the actions are up and chose to say nothing: the message is
            # answered (a retry would get nothing either and block the conversation).
            return "answered", [await self.render("utter_ask_rephrase", language)], language, []
        if not answers:
            # Rasa down, or it ran into a failing action (action server down): the
            # customer hears so, and the message stays marked for a retry.
            unavailable = await self.render("utter_service_unavailable", language)
            return "failed", [unavailable], language, []
        replies = []
        signals: list[Signal] = []
        for answer in answers:
            if answer.signal is None:
                replies.append(answer)
                continue
            if not isinstance(answer.signal, SetLanguage):
                signals.append(answer.signal)
                continue
            wanted = answer.signal.code
            if self.reachable(wanted):
                language = wanted
                await self.store.set_language(conversation.id, seq, language)
                replies.append(await self.render("utter_language_changed", language))
            else:
                replies.append(
                    await self.render("utter_language_not_supported", language, about=wanted)
                )
        return "answered", replies, language, signals

    async def _answered_nothing(self) -> bool:
        """Whether an empty answer from Rasa was its answer, not a failure: Rasa answers
        nothing also when an action failed, so the action server must be up."""
        try:
            return await self.rasa.actions_health() is None
        except Exception:  # a probe that fails says "not sure": keep the message for a retry
            log.exception("action server probe failed")
            return False

    async def _other_languages(self, language: str) -> BotMessage:
        """ "Not your language?" with a button per other native language, in its own name."""
        offer = await self.render("utter_offer_languages", language)
        buttons = [
            {"title": own_name(code), "payload": f"/language {code}"}
            for code in self.settings.languages
            if code != language
        ]
        return BotMessage(offer.text, buttons=buttons)

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
        if replies and not seqs:
            # Answered by another try meanwhile, or a retry failed for a message the
            # customer was told about already: nothing new for them.
            replies = []
        return Outcome(language, replies, seqs=seqs, status=status)
