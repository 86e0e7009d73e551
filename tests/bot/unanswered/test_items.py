"""Which messages count as not understood, and why (tests/bot/unanswered/seed.py)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path

import pytest

from bot.db import create_engine, create_schema
from bot.metrics.query import Query, since
from bot.unanswered.items import load_unanswered
from tests.bot.unanswered.seed import seed, when
from tests.servers import postgres_database

NOW = datetime(2026, 12, 2, 12, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request, tmp_path: Path):
    """The seeded week on SQLite and on PostgreSQL (a database of its own)."""
    async with AsyncExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'tolk.db'}"
        if request.param == "postgresql":
            url = await stack.enter_async_context(postgres_database())
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        await create_schema(engine)
        await seed(engine, NOW)
        yield engine


def week(**slice_) -> Query:
    return Query(*since("7d", NOW), **slice_)


async def test_fallbacks_unsure_answers_and_handoffs_after_a_fallback(engine):
    found = await load_unanswered(engine, week())
    assert not found.truncated
    whys = {item.id: item.why for item in found.items}
    assert whys == {
        1: "fallback",
        2: "fallback",
        3: "low_confidence",
        4: "fallback",
        5: "handoff_after_fallback",  # "I want a person" right after #4's fallback
        7: "low_confidence",
        8: "fallback",
        9: "fallback",
        10: "low_confidence",
        11: "fallback",
        12: "handoff_after_fallback",  # a fallback itself, and then a ticket: the stronger
        13: "fallback",
    }
    # Newest first; #6 (a ticket after an answered question), #14 (before the week), #15
    # (answered surely) and #16 (confidence 0.5, not below) are not in it.
    assert [item.id for item in found.items] == [13, 7, 12, 11, 5, 4, 10, 9, 8, 3, 2, 1]
    german = found.items[0]
    assert (german.text, german.pivot_text, german.language, german.channel) == (
        "Wo ist mein Paket?",
        "Where is my package?",
        "de",
        "rest",
    )
    assert german.when == when(NOW, 13)
    unsure = next(item for item in found.items if item.id == 3)
    assert (unsure.intent, unsure.confidence) == ("faq/shipping_time", 0.42)


async def test_a_language_and_a_channel(engine):
    persian = await load_unanswered(engine, week(language="fa"))
    assert [item.id for item in persian.items] == [10, 9, 8]
    telegram = await load_unanswered(engine, week(channel="telegram"))
    assert [item.id for item in telegram.items] == [10, 9, 8]
    web = await load_unanswered(engine, week(channel="web"))
    assert [item.id for item in web.items] == [7, 3, 1]
    hebrew_on_web = await load_unanswered(engine, week(language="he", channel="web"))
    assert hebrew_on_web.items == []


async def test_only_the_newest_are_read_and_the_answer_says_so(engine):
    found = await load_unanswered(engine, week(), max_items=5)
    assert found.truncated
    assert [item.id for item in found.items] == [13, 7, 12, 11, 5]
    everything = await load_unanswered(engine, week(), max_items=12)
    assert not everything.truncated and len(everything.items) == 12
