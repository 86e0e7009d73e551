"""The figures a support lead runs the service by, one function each, over the database.

Every `async def` here takes the engine and a `Query` (period, language, channel) and
returns one figure; the pure `*_of` functions compute it from loaded rows, so that the
report, the console's dashboard and /metrics share both. README "Metrics and their
definitions" says what each one counts; the tests work each out by hand.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import utcnow
from bot.metrics.data import (
    RETURN_WINDOW,
    CustomerMessage,
    Session,
    Sessions,
    SurveyRow,
    TicketRow,
    load_customer_messages,
    load_sessions,
    load_surveys,
    load_tickets,
)
from bot.metrics.query import Query

DEFAULT_SESSION_MINUTES = 60


@dataclass(frozen=True)
class Durations:
    """Seconds: how many, the median, the 90th percentile (nearest rank) and the mean."""

    count: int
    median: float | None
    p90: float | None
    mean: float | None


@dataclass(frozen=True)
class Share:
    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class Score:
    """Survey answers: how many were asked and answered, the mean, and the headline figure
    (CSAT: % of 4-5; NPS: % promoters - % detractors; CES: the mean)."""

    asked: int
    answered: int
    mean: float | None
    headline: float | None


@dataclass(frozen=True)
class Volume:
    messages: int
    sessions: int
    by_language: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_hour: dict[int, int] = field(default_factory=dict)  # 0..23 UTC, every hour listed


@dataclass(frozen=True)
class Unanswered:
    waiting: int  # still without an answer (Rasa or the actions were down)
    unsupported: int  # a language the bot cannot read now
    not_understood: int  # the bot asked to rephrase

    @property
    def total(self) -> int:
        return self.waiting + self.unsupported + self.not_understood


def durations(seconds: list[float]) -> Durations:
    if not seconds:
        return Durations(0, None, None, None)
    ordered = sorted(seconds)
    rank = math.ceil(0.9 * len(ordered))  # nearest rank: the smallest value >= 90 %
    return Durations(
        len(ordered), statistics.median(ordered), ordered[rank - 1], statistics.fmean(ordered)
    )


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


# First response time -----------------------------------------------------------------


def bot_first_response_of(sessions: list[Session]) -> Durations:
    """Per session the bot answered: its first answer minus the customer's first message."""
    return durations(
        [_seconds(s.first_reply_at, s.started_at) for s in sessions if s.first_reply_at]
    )


def agent_first_response_of(tickets: list[TicketRow]) -> Durations:
    """Per ticket an agent answered: the agent's first reply minus the ticket's opening."""
    return durations(
        [_seconds(t.first_response_at, t.created_at) for t in tickets if t.first_response_at]
    )


async def bot_first_response(
    engine: AsyncEngine, query: Query, session_minutes: int = DEFAULT_SESSION_MINUTES
) -> Durations:
    return bot_first_response_of((await load_sessions(engine, query, session_minutes)).in_period)


async def agent_first_response(engine: AsyncEngine, query: Query) -> Durations:
    return agent_first_response_of(await load_tickets(engine, query))


# Resolution ----------------------------------------------------------------------------


def resolution_time_of(resolved: list[TicketRow]) -> Durations:
    """Tickets resolved in the period: resolved_at minus created_at."""
    return durations([_seconds(t.resolved_at, t.created_at) for t in resolved if t.resolved_at])


async def resolution_time(engine: AsyncEngine, query: Query) -> Durations:
    return resolution_time_of(await load_tickets(engine, query, by="resolved_at"))


def first_contact_resolution_of(sessions: Sessions) -> Share:
    """Of the sessions with a request (a topic, or a handoff): those the bot answered
    without a handoff, whose customer did not come back on the same topic within 7 days."""
    later: dict[int, list[Session]] = {}
    for session in sessions.all:
        later.setdefault(session.conversation_id, []).append(session)
    requests = [s for s in sessions.in_period if s.topic is not None or s.handed_off]
    resolved = 0
    for session in requests:
        if not session.answered or session.handed_off:
            continue
        back = any(
            other.started_at > session.started_at
            and other.started_at - session.started_at <= RETURN_WINDOW
            and other.topic == session.topic
            for other in later.get(session.conversation_id, [])
        )
        resolved += not back
    return Share(resolved, len(requests))


async def first_contact_resolution(
    engine: AsyncEngine, query: Query, session_minutes: int = DEFAULT_SESSION_MINUTES
) -> Share:
    return first_contact_resolution_of(await load_sessions(engine, query, session_minutes))


def containment_of(sessions: list[Session]) -> Share:
    """Sessions the bot handled alone (no ticket opened) out of all sessions."""
    return Share(sum(not s.handed_off for s in sessions), len(sessions))


async def containment(
    engine: AsyncEngine, query: Query, session_minutes: int = DEFAULT_SESSION_MINUTES
) -> Share:
    return containment_of((await load_sessions(engine, query, session_minutes)).in_period)


def handoff_rate_of(sessions: list[Session], opened: list[TicketRow]) -> dict[str, Share]:
    """Tickets opened in the period per reason, out of the period's sessions; "all" too."""
    reasons = Counter(t.reason for t in opened)
    rates = {"all": Share(len(opened), len(sessions))}
    rates.update({reason: Share(n, len(sessions)) for reason, n in sorted(reasons.items())})
    return rates


async def handoff_rate(
    engine: AsyncEngine, query: Query, session_minutes: int = DEFAULT_SESSION_MINUTES
) -> dict[str, Share]:
    sessions = (await load_sessions(engine, query, session_minutes)).in_period
    return handoff_rate_of(sessions, await load_tickets(engine, query))


# Surveys -------------------------------------------------------------------------------


def _scores(rows: list[SurveyRow], kind: str) -> tuple[int, list[int]]:
    asked = [r for r in rows if r.kind == kind]
    return len(asked), [r.score for r in asked if r.score is not None]


def csat_of(rows: list[SurveyRow], occasion: str | None = None) -> Score:
    """CSAT (1-5): % of answers that are 4 or 5, and the mean; `occasion` bot or ticket."""
    if occasion is not None:
        rows = [r for r in rows if r.occasion == occasion]
    asked, scores = _scores(rows, "csat")
    if not scores:
        return Score(asked, 0, None, None)
    satisfied = 100.0 * sum(score >= 4 for score in scores) / len(scores)
    return Score(asked, len(scores), statistics.fmean(scores), satisfied)


def nps_of(rows: list[SurveyRow]) -> Score:
    """NPS (0-10): % promoters (9-10) minus % detractors (0-6), from -100 to 100."""
    asked, scores = _scores(rows, "nps")
    if not scores:
        return Score(asked, 0, None, None)
    promoters = sum(score >= 9 for score in scores)
    detractors = sum(score <= 6 for score in scores)
    return Score(
        asked,
        len(scores),
        statistics.fmean(scores),
        100.0 * (promoters - detractors) / len(scores),
    )


def ces_of(rows: list[SurveyRow]) -> Score:
    """CES (1-7, 7 = very easy): the mean answer."""
    asked, scores = _scores(rows, "ces")
    mean = statistics.fmean(scores) if scores else None
    return Score(asked, len(scores), mean, mean)


async def csat(engine: AsyncEngine, query: Query, occasion: str | None = None) -> Score:
    return csat_of(await load_surveys(engine, query), occasion)


async def nps(engine: AsyncEngine, query: Query) -> Score:
    return nps_of(await load_surveys(engine, query))


async def ces(engine: AsyncEngine, query: Query) -> Score:
    return ces_of(await load_surveys(engine, query))


def nps_reasons_of(rows: list[SurveyRow]) -> list[tuple[int, str]]:
    """(score, reason in English, else as written) of the NPS answers that gave one."""
    return [
        (r.score, r.reason_en or r.reason)
        for r in rows
        if r.kind == "nps" and r.score is not None and (r.reason_en or r.reason)
    ]


# Volume, SLA, unanswered ---------------------------------------------------------------


def volume_of(said: list[CustomerMessage], sessions: list[Session]) -> Volume:
    """Customer messages in the period by language, channel and hour of day (UTC)."""
    hours = Counter(m.created_at.hour for m in said)
    return Volume(
        messages=len(said),
        sessions=len(sessions),
        by_language=dict(sorted(Counter(m.language or "?" for m in said).items())),
        by_channel=dict(sorted(Counter(m.channel for m in said).items())),
        by_hour={hour: hours.get(hour, 0) for hour in range(24)},
    )


async def volume(
    engine: AsyncEngine, query: Query, session_minutes: int = DEFAULT_SESSION_MINUTES
) -> Volume:
    sessions = (await load_sessions(engine, query, session_minutes)).in_period
    return volume_of(await load_customer_messages(engine, query), sessions)


def sla_breaches_of(opened: list[TicketRow], now: datetime) -> dict[str, Share]:
    """Tickets opened in the period whose first agent reply came after `sla_due_at` (the
    SLA bot/handoff/service.py HandoffPolicy set: 5 minutes hot, 30 cold, counted from the
    team's opening after hours), or that have none and are past it now; "all" and per
    priority."""

    def breached(ticket: TicketRow) -> bool:
        answered = ticket.first_response_at
        return (answered or now) > ticket.sla_due_at

    found = {"all": Share(sum(map(breached, opened)), len(opened))}
    for priority in sorted({t.priority for t in opened}):
        mine = [t for t in opened if t.priority == priority]
        found[priority] = Share(sum(map(breached, mine)), len(mine))
    return found


async def sla_breaches(
    engine: AsyncEngine, query: Query, now: datetime | None = None
) -> dict[str, Share]:
    return sla_breaches_of(await load_tickets(engine, query), now or utcnow())


def unanswered_of(said: list[CustomerMessage]) -> Unanswered:
    return Unanswered(
        waiting=sum(m.status in ("received", "failed") for m in said),
        unsupported=sum(m.status == "unsupported" for m in said),
        not_understood=sum(m.answer == "fallback" for m in said),
    )


async def unanswered(engine: AsyncEngine, query: Query) -> Unanswered:
    return unanswered_of(await load_customer_messages(engine, query))


# Everything at once (the report, the dashboard) ------------------------------------------


@dataclass(frozen=True)
class Figures:
    query: Query
    bot_first_response: Durations
    agent_first_response: Durations
    resolution_time: Durations
    first_contact_resolution: Share
    containment: Share
    handoff_rate: dict[str, Share]
    csat: Score
    csat_bot: Score
    csat_ticket: Score
    nps: Score
    ces: Score
    volume: Volume
    sla_breaches: dict[str, Share]
    unanswered: Unanswered
    nps_reasons: list[tuple[int, str]]


async def figures(
    engine: AsyncEngine,
    query: Query,
    session_minutes: int = DEFAULT_SESSION_MINUTES,
    now: datetime | None = None,
) -> Figures:
    """Every figure for one query, each table read once."""
    sessions = await load_sessions(engine, query, session_minutes)
    opened = await load_tickets(engine, query)
    resolved = await load_tickets(engine, query, by="resolved_at")
    asked = await load_surveys(engine, query)
    said = await load_customer_messages(engine, query)
    return Figures(
        query=query,
        bot_first_response=bot_first_response_of(sessions.in_period),
        agent_first_response=agent_first_response_of(opened),
        resolution_time=resolution_time_of(resolved),
        first_contact_resolution=first_contact_resolution_of(sessions),
        containment=containment_of(sessions.in_period),
        handoff_rate=handoff_rate_of(sessions.in_period, opened),
        csat=csat_of(asked),
        csat_bot=csat_of(asked, "bot"),
        csat_ticket=csat_of(asked, "ticket"),
        nps=nps_of(asked),
        ces=ces_of(asked),
        volume=volume_of(said, sessions.in_period),
        sla_breaches=sla_breaches_of(opened, now or utcnow()),
        unanswered=unanswered_of(said),
        nps_reasons=nps_reasons_of(asked),
    )


def duration_text(seconds: float | None) -> str:
    """A duration for people: 42s, 3m 05s, 2h 10m."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
