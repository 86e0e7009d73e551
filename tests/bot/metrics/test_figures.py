"""Each figure on the seeded week (seed.py), worked out by hand in the comments."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.db import create_engine, create_schema
from bot.metrics import figures as f
from bot.metrics.figures import Durations, Share
from bot.metrics.query import Query, QueryError, since
from tests.bot.metrics.seed import seed

NOW = datetime(2026, 12, 2, 12, 0)
WEEK = Query(NOW - timedelta(days=7), NOW)


@pytest.fixture
async def engine(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'tolk.db'}")
    await create_schema(engine)
    await seed(engine, NOW)
    yield engine
    await engine.dispose()


async def test_bot_first_response_time(engine):
    # First non-failed bot reply minus the session's first customer message, per session:
    # A1 2, A2 4, B1 1, C1 1, D1 3, E1 5, F1 1, H1 1, I1 2; G1 had only the apology.
    # Sorted 1 1 1 1 2 2 3 4 5 (n=9): median the 5th = 2; p90 rank ceil(8.1) = 9 -> 5;
    # mean 20/9.
    found = await f.bot_first_response(engine, WEEK)
    assert found == Durations(9, 2, 5, 20 / 9)


async def test_agent_first_response_time(engine):
    # Tickets opened in the week: T1 600 s, T2 3600 s, T3 none yet (T0 opened before).
    # Median of 600, 3600 = 2100; p90 rank ceil(1.8) = 2 -> 3600; mean 2100.
    assert await f.agent_first_response(engine, WEEK) == Durations(2, 2100, 3600, 2100)


async def test_average_resolution_time(engine):
    # Resolved in the week: T0 27 h = 97200 s (opened the week before), T1 2400, T2 5400:
    # mean 105000 / 3 = 35000 s (9 h 43 m 20 s).
    found = await f.resolution_time(engine, WEEK)
    assert (found.count, found.mean) == (3, 35000)
    assert f.duration_text(found.mean) == "9h 43m"


async def test_first_contact_resolution(engine):
    # Requests (a topic or a handoff): A1, A2, B1, C1 (ticket T1's track_order), D1
    # (handed off), E1, H1 (handed off), I1 = 8; F1 and G1 have neither.
    # Resolved first time: A2, B1, E1, I1 = 4. A1 was answered, but Anna came back on
    # faq/shipping_time two days later (A2); C1, D1, H1 went to a person.
    assert await f.first_contact_resolution(engine, WEEK) == Share(4, 8)


async def test_containment(engine):
    # 10 sessions; tickets opened in C1, D1, H1: 7 of 10 stayed with the bot.
    found = await f.containment(engine, WEEK)
    assert found == Share(7, 10) and found.percent == 70.0


async def test_handoff_rate_by_reason(engine):
    # T1 complaint, T2 stuck, T3 request (T0 was opened the week before), of 10 sessions.
    assert await f.handoff_rate(engine, WEEK) == {
        "all": Share(3, 10),
        "complaint": Share(1, 10),
        "request": Share(1, 10),
        "stuck": Share(1, 10),
    }


async def test_csat(engine):
    # Asked in the week: A1 5 (bot), A2 dropped (bot), C1 2 (ticket); the 1 of -12 days
    # is outside. Answered 2: 4-5 is 1 of 2 = 50 %, mean 3.5; bot-only 5 (100 %),
    # tickets 2 (0 %).
    assert await f.csat(engine, WEEK) == f.Score(3, 2, 3.5, 50.0)
    assert await f.csat(engine, WEEK, "bot") == f.Score(2, 1, 5.0, 100.0)
    assert await f.csat(engine, WEEK, "ticket") == f.Score(1, 1, 2.0, 0.0)


async def test_nps(engine):
    # E1 9 (promoter), I1 4 (detractor): (1 - 1) / 2 = 0; mean 6.5.
    assert await f.nps(engine, WEEK) == f.Score(2, 2, 6.5, 0.0)


async def test_ces(engine):
    # B1 6 after the account request: mean 6.
    assert await f.ces(engine, WEEK) == f.Score(1, 1, 6.0, 6.0)


async def test_volume_by_language_channel_and_hour(engine):
    # Customer messages: A 2+1, B 3, C 1, D 2, E 2, F 1, G 1, H 1, I 2 = 16.
    # en: A 3, D 2, G 1, H 1 = 7; nl 3; fa 1; he 2; de 1; vi 2.
    # rest: A 3, D 2, E 2, F 1, G 1, I 2 = 11; telegram: B 3, H 1 = 4; web: C 1.
    # Hours: 08 D 2; 09 A1 2 + G 1 = 3; 10 A2 1; 11 E 2 + H 1 = 3; 14 B 3; 15 F 1;
    # 16 I 2; 20 C 1.
    found = await f.volume(engine, WEEK)
    assert (found.messages, found.sessions) == (16, 10)
    assert found.by_language == {"de": 1, "en": 7, "fa": 1, "he": 2, "nl": 3, "vi": 2}
    assert found.by_channel == {"rest": 11, "telegram": 4, "web": 1}
    assert {h: n for h, n in found.by_hour.items() if n} == {
        8: 2, 9: 3, 10: 1, 11: 3, 14: 3, 15: 1, 16: 2, 20: 1,
    }  # fmt: skip
    assert len(found.by_hour) == 24


async def test_sla_breaches(engine):
    # T1 answered at +600 s, due +1800 s: kept. T2 answered at +3600 s, due +1800 s:
    # breached. T3 (hot) unanswered, due 11:05, now 12:00: breached. 2 of 3; cold 1 of 2,
    # hot 1 of 1.
    assert await f.sla_breaches(engine, WEEK, now=NOW) == {
        "all": Share(2, 3),
        "cold": Share(1, 2),
        "hot": Share(1, 1),
    }


async def test_unanswered_messages(engine):
    # G1 still waiting (failed), F1 in a language the bot cannot read, D1's first message
    # not understood (its second went to a person).
    found = await f.unanswered(engine, WEEK)
    assert (found.waiting, found.unsupported, found.not_understood, found.total) == (1, 1, 1, 3)


async def test_filters_by_language_and_channel(engine):
    # Dutch: B1 only (one session, answered, contained); its CES 6; T0 (nl) resolved.
    dutch = await f.figures(engine, Query(WEEK.start, WEEK.end, language="nl"), now=NOW)
    assert dutch.containment == Share(1, 1)
    assert dutch.first_contact_resolution == Share(1, 1)
    assert dutch.bot_first_response == Durations(1, 1, 1, 1)
    assert (dutch.ces.answered, dutch.csat.answered) == (1, 0)
    assert dutch.resolution_time.mean == 97200
    assert dutch.volume.messages == 3
    # Telegram: B1 and H1; H1 handed off (T3, hot, breached).
    telegram = await f.figures(engine, Query(WEEK.start, WEEK.end, channel="telegram"), now=NOW)
    assert telegram.containment == Share(1, 2)
    assert telegram.handoff_rate["all"] == Share(1, 2)
    assert telegram.sla_breaches["all"] == Share(1, 1)
    assert telegram.volume.by_channel == {"telegram": 4}


async def test_a_period_is_a_slice_of_time(engine):
    # The last day only (from -1 d 12:00): F1 (-1 d 15:00), G1, H1 (today); E1 began at
    # -1 d 11:00, before it. 3 sessions, H1 handed off.
    day = Query(NOW - timedelta(days=1), NOW)
    assert await f.containment(engine, day) == Share(2, 3)
    assert since("7d", NOW) == (NOW - timedelta(days=7), NOW)
    assert since("12h", NOW)[0] == NOW - timedelta(hours=12)
    for wrong in ("7", "0d", "seven days", "7y"):
        with pytest.raises(QueryError):
            since(wrong, NOW)


async def test_an_empty_database_has_no_figures(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    await create_schema(engine)
    try:
        found = await f.figures(engine, WEEK, now=NOW)
    finally:
        await engine.dispose()
    assert found.containment.percent is None
    assert found.bot_first_response == Durations(0, None, None, None)
    assert found.csat.headline is None and found.volume.messages == 0
