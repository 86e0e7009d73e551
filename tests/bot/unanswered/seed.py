"""A seeded week of messages the bot did not (or did) understand, in English, Persian,
Hebrew and German (through the English pivot), whose groups test_*.py work out by hand.

Times are offsets from `now` (the end of the week), as in tests/bot/metrics/seed.py;
texts in MESSAGES. Conversations: en-web (web), en-rest (rest), fa-tg (telegram), he-rest,
de-rest (German, through the English pivot).

  #  conv     when       answer, intent (confidence)       counted as
  1  en-web   -5d 10:00  fallback, nlu_fallback (0.30)     fallback
  2  en-rest  -4d 09:00  fallback                          fallback
  3  en-web   -3d 10:00  faq, faq/shipping_time (0.42)     low_confidence
  4  en-rest  -2d 09:00  fallback, nlu_fallback (0.20)     fallback
  5  en-rest  -2d 09:01  other, request_human (0.95)       handoff_after_fallback: ticket
                                                           T1 5 s later, right after #4
  6  en-web   -1d 10:00  faq, faq/shipping_time (0.90)     -  (ticket T2 after it, but no
                                                           fallback in the session)
  7  en-web   -1d 11:00  faq, faq/payment_methods (0.45)   low_confidence
  8  fa-tg    -3d 20:00  fallback                          fallback
  9  fa-tg    -3d 20:05  fallback                          fallback
 10  fa-tg    -2d 08:00  other, cancel_order (0.35)        low_confidence
 11  he-rest  -1d 09:00  fallback                          fallback
 12  he-rest  -1d 09:02  fallback                          handoff_after_fallback: ticket
                                                           T3 5 s later (the stronger)
 13  de-rest  -1d 15:00  fallback                          fallback
 14  en-rest  -8d 09:00  fallback                          -  (before the week)
 15  en-rest  -1d 12:00  faq, faq/support_hours (0.95)     -
 16  en-rest  -1d 13:00  other, track_order (0.50)         -  (0.5 is not below)

Groups (SIMILAR 0.6, leader = oldest): en {1,2,3} "Where is my parcel?", {4,7} "Can I pay
with crypto?", {5} "I want a person"; fa {8,9}, {10}; he {11,12}; de {13}.
12 messages: 7 fallback, 3 low_confidence, 2 handoff_after_fallback; 7 groups.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import conversations, messages, tickets
from tests.bot.metrics.seed import at

CONVERSATIONS = {
    "en-web": ("web-en1", "web", "en"),
    "en-rest": ("rest-en2", "rest", "en"),
    "fa-tg": ("telegram-98", "telegram", "fa"),
    "he-rest": ("rest-he1", "rest", "he"),
    "de-rest": ("rest-de1", "rest", "de"),
}

# seq, conversation, (days, clock), text, pivot, answer, intent, confidence
MESSAGES = [
    (1, "en-web", (5, "10:00"), "Where is my parcel?", None, "fallback", "nlu_fallback", 0.30),
    (2, "en-rest", (4, "09:00"), "where is my parcel", None, "fallback", None, None),
    (3, "en-web", (3, "10:00"), "wheres my parcel??", None, "faq", "faq/shipping_time", 0.42),
    (4, "en-rest", (2, "09:00"), "Can I pay with crypto?", None, "fallback", "nlu_fallback", 0.2),
    (5, "en-rest", (2, "09:01"), "I want a person", None, "other", "request_human", 0.95),
    (6, "en-web", (1, "10:00"), "where is my order", None, "faq", "faq/shipping_time", 0.90),
    (7, "en-web", (1, "11:00"), "can i pay with crypto", None, "faq", "faq/payment_methods", 0.45),
    (8, "fa-tg", (3, "20:00"), "سفارش من کجاست", None, "fallback", None, None),
    (9, "fa-tg", (3, "20:05"), "سفارشم کجاست؟", None, "fallback", None, None),
    # Arabic ye and kaf as Arabic keyboards type them, and a ZWNJ in the verb.
    (10, "fa-tg", (2, "08:00"), "مي\u200cخواهم سفارش را لغو كنم", None, "other", "cancel_order",
     0.35),
    (11, "he-rest", (1, "09:00"), "איפה החבילה שלי", None, "fallback", None, None),
    (12, "he-rest", (1, "09:02"), "איפה החבילה שלי?", None, "fallback", None, None),
    (13, "de-rest", (1, "15:00"), "Wo ist mein Paket?", "Where is my package?", "fallback", None,
     None),
    (14, "en-rest", (8, "09:00"), "where is my parcel", None, "fallback", None, None),
    (15, "en-rest", (1, "12:00"), "what are your hours", None, "faq", "faq/support_hours", 0.95),
    (16, "en-rest", (1, "13:00"), "track it", None, "other", "track_order", 0.50),
]  # fmt: skip

# conversation, reason, intent, seconds after the message with this seq
TICKETS = [("en-rest", "stuck", None, 5, 5), ("en-web", "request", None, 6, 5),
           ("he-rest", "stuck", None, 12, 5)]  # fmt: skip


def when(now: datetime, seq: int) -> datetime:
    days, clock = next(m[2] for m in MESSAGES if m[0] == seq)
    return at(now, days, clock)


async def seed(engine: AsyncEngine, now: datetime) -> None:
    async with engine.begin() as connection:
        ids = {}
        for name, (sender, channel, language) in CONVERSATIONS.items():
            result = await connection.execute(
                conversations.insert().values(
                    sender=sender,
                    channel=channel,
                    language=language,
                    created_at=now - timedelta(days=30),
                    updated_at=now,
                )
            )
            ids[name] = result.inserted_primary_key[0]
        for seq, name, (days, clock), text, pivot, answer, intent, confidence in MESSAGES:
            moment = at(now, days, clock)
            await connection.execute(
                messages.insert().values(
                    id=seq,  # the customer's message is seq, the bot's answer 100 + seq
                    conversation_id=ids[name],
                    author="customer",
                    text=text,
                    pivot_text=pivot,
                    language=CONVERSATIONS[name][2],
                    status="answered",
                    intent=intent,
                    intent_confidence=confidence,
                    answer=answer,
                    created_at=moment,
                )
            )
            await connection.execute(
                messages.insert().values(
                    id=100 + seq,
                    conversation_id=ids[name],
                    author="bot",
                    text="Sorry, could you say that differently?",
                    language=CONVERSATIONS[name][2],
                    reply_to=seq,
                    created_at=moment + timedelta(seconds=1),
                )
            )
        for name, reason, intent, after, seconds in TICKETS:
            created = when(now, after) + timedelta(seconds=seconds)
            await connection.execute(
                tickets.insert().values(
                    conversation_id=ids[name],
                    status="resolved",
                    reason=reason,
                    intent=intent,
                    priority="cold",
                    language=CONVERSATIONS[name][2],
                    channel=CONVERSATIONS[name][1],
                    summary=f"{reason} of {name}",
                    sla_due_at=created + timedelta(minutes=30),
                    created_at=created,
                    resolved_at=created + timedelta(minutes=10),
                )
            )
