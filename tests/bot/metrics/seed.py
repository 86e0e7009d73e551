"""A seeded week of conversations whose figures test_figures.py works out by hand.

Times are offsets from `now` (the end of the week). Sessions (60 minutes, bot/sessions.py):

 conv  channel   lang session start (days before now, time)      what happens
 A     rest      en   A1  -6d 09:00  FAQ shipping_time answered (+2s), "thanks" (+60s),
                                     CSAT (bot) 5
                      A2  -4d 10:00  FAQ shipping_time again (+4s); CSAT asked, dropped
 B     telegram  nl   B1  -5d 14:00  track_order form: 3 messages, account result (+1s first
                                     reply); CES 6
 C     web       fa   C1  -3d 20:00  complaint -> ticket T1 (track_order), bot notice +1s,
                                     agent +600s, resolved +2400s; CSAT (ticket) 2
 D     rest      en   D1  -2d 08:00  not understood (+3s), again -> ticket T2 (stuck), agent
                                     +3600s (SLA 30 min: breached), resolved +5400s
 E     rest      he   E1  -1d 11:00  FAQ return_policy (+5s), "bye"; NPS 9 "Fast"
 F     rest      de   F1  -1d 15:00  German, no translator: unsupported (+1s)
 G     rest      en   G1  -0d 09:00  Rasa down: failed, apology only
 H     telegram  en   H1  -0d 11:00  /human -> ticket T3 (hot, SLA 5 min), nobody answered
 I     rest      vi   I1  -6d 16:00  FAQ payment_methods (+2s), "thanks"; NPS 4 "Delivery
                                     was slow"
Outside the week: ticket T0 of B opened -8d 10:00, resolved -7d 13:00 (27 h: in the week's
resolutions); a CSAT 1 of A asked -12d (not in the week).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import conversations, messages, surveys, tickets

CONVERSATIONS = {
    "A": ("rest-anna", "rest", "en"),
    "B": ("telegram-42", "telegram", "nl"),
    "C": ("web-c1", "web", "fa"),
    "D": ("rest-dan", "rest", "en"),
    "E": ("rest-eve", "rest", "he"),
    "F": ("rest-fay", "rest", "de"),
    "G": ("rest-gus", "rest", "en"),
    "H": ("telegram-77", "telegram", "en"),
    "I": ("rest-ivy", "rest", "vi"),
}


def at(now: datetime, days: int, clock: str, seconds: int = 0) -> datetime:
    """`days` before `now`'s date at `clock` (HH:MM), plus `seconds`."""
    hour, minute = map(int, clock.split(":"))
    day = (now - timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return day + timedelta(seconds=seconds)


def week(now: datetime) -> dict:
    """The rows to insert: messages (conv, author, seconds, status, intent, answer) per
    session start, tickets, surveys."""
    c, b, a = "customer", "bot", "agent"
    sessions = {
        ("A", at(now, 6, "09:00")): [
            (c, 0, "answered", "faq/shipping_time", "faq"),
            (b, 2, None, None, None),
            (c, 60, "answered", "thank", "other"),
            (b, 61, None, None, None),
        ],
        ("A", at(now, 4, "10:00")): [
            (c, 0, "answered", "faq/shipping_time", "faq"),
            (b, 4, None, None, None),
        ],
        ("B", at(now, 5, "14:00")): [
            (c, 0, "answered", "track_order", "other"),
            (b, 1, None, None, None),
            (c, 30, "answered", "inform", "other"),
            (b, 31, None, None, None),
            (c, 60, "answered", "inform", "account"),
            (b, 63, None, None, None),
        ],
        ("C", at(now, 3, "20:00")): [
            (c, 0, "answered", "complain", None),
            (b, 1, None, None, None),
            (a, 600, None, None, None),
            (b, 2400, None, None, None),
        ],
        ("D", at(now, 2, "08:00")): [
            (c, 0, "answered", "nlu_fallback", "fallback"),
            (b, 3, None, None, None),
            (c, 20, "answered", "nlu_fallback", None),
            (b, 21, None, None, None),
            (a, 3621, None, None, None),
            (b, 5421, None, None, None),
        ],
        ("E", at(now, 1, "11:00")): [
            (c, 0, "answered", "faq/return_policy", "faq"),
            (b, 5, None, None, None),
            (c, 120, "answered", "goodbye", "other"),
            (b, 121, None, None, None),
        ],
        ("F", at(now, 1, "15:00")): [
            (c, 0, "unsupported", None, None),
            (b, 1, None, None, None),
        ],
        ("G", at(now, 0, "09:00")): [
            (c, 0, "failed", None, None),
            (b, 2, "failed", None, None),
        ],
        ("H", at(now, 0, "11:00")): [
            (c, 0, "to_agent", "request_human", None),
            (b, 1, None, None, None),
        ],
        ("I", at(now, 6, "16:00")): [
            (c, 0, "answered", "faq/payment_methods", "faq"),
            (b, 2, None, None, None),
            (c, 60, "answered", "thank", "other"),
            (b, 61, None, None, None),
        ],
    }
    second = timedelta(seconds=1)
    c1, d1, h1 = at(now, 3, "20:00"), at(now, 2, "08:00"), at(now, 0, "11:00")
    ticket_rows = [
        # conv, reason, intent, priority, created, first response, resolved, SLA due
        ("B", "request", "track_order", "cold", at(now, 8, "10:00"), at(now, 8, "10:02"),
         at(now, 7, "13:00"), at(now, 8, "10:30")),
        ("C", "complaint", "track_order", "cold", c1 + second, c1 + 601 * second,
         c1 + 2401 * second, c1 + 1801 * second),
        ("D", "stuck", None, "cold", d1 + 21 * second, d1 + 3621 * second,
         d1 + 5421 * second, d1 + 1821 * second),
        ("H", "request", "request_human", "hot", h1 + second, None, None, h1 + 301 * second),
    ]  # fmt: skip
    survey_rows = [
        # conv, kind, occasion, status, score, reason, reason_en, asked
        ("A", "csat", "bot", "answered", 5, None, None, at(now, 6, "09:01", 1)),
        ("A", "csat", "bot", "dropped", None, None, None, at(now, 4, "10:00", 4)),
        ("B", "ces", "account", "answered", 6, None, None, at(now, 5, "14:01", 3)),
        ("C", "csat", "ticket", "answered", 2, None, None, c1 + 2401 * second),
        ("E", "nps", "bot", "answered", 9, "מהיר", "Fast", at(now, 1, "11:02", 1)),
        ("I", "nps", "bot", "answered", 4, "Giao hàng chậm", "Delivery was slow",
         at(now, 6, "16:01", 1)),
        ("A", "csat", "bot", "answered", 1, None, None, at(now, 12, "09:00")),
    ]  # fmt: skip
    return {"sessions": sessions, "tickets": ticket_rows, "surveys": survey_rows}


async def seed(engine: AsyncEngine, now: datetime) -> None:
    data = week(now)
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
        for (name, start), said in data["sessions"].items():
            language = CONVERSATIONS[name][2]
            for author, seconds, status, intent, answer in said:
                await connection.execute(
                    messages.insert().values(
                        conversation_id=ids[name],
                        author=author,
                        text=f"{author} at {seconds}",
                        language=language,
                        status=status,
                        intent=intent,
                        answer=answer,
                        created_at=start + timedelta(seconds=seconds),
                    )
                )
        for name, reason, intent, priority, created, first, resolved, due in data["tickets"]:
            await connection.execute(
                tickets.insert().values(
                    conversation_id=ids[name],
                    status="resolved" if resolved else "queued",
                    reason=reason,
                    intent=intent,
                    priority=priority,
                    language=CONVERSATIONS[name][2],
                    channel=CONVERSATIONS[name][1],
                    summary=f"{reason} of {name}",
                    sla_due_at=due,
                    created_at=created,
                    first_response_at=first,
                    resolved_at=resolved,
                )
            )
        for name, kind, occasion, status, score, reason, english, asked in data["surveys"]:
            await connection.execute(
                surveys.insert().values(
                    conversation_id=ids[name],
                    kind=kind,
                    occasion=occasion,
                    language=CONVERSATIONS[name][2],
                    channel=CONVERSATIONS[name][1],
                    status=status,
                    score=score,
                    reason=reason,
                    reason_en=english,
                    asked_at=asked,
                    answered_at=asked if score is not None else None,
                )
            )
