"""Grouping by similarity: the seeded week's groups worked out by hand, determinism, and
bounded work on hostile texts."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.db import create_engine, create_schema
from bot.metrics.query import Query, since
from bot.unanswered import grouping
from bot.unanswered.grouping import (
    CANDIDATES,
    MAX_GROUPING_CHARS,
    SHOWN_CHARS,
    group,
    grouping_key,
    shown,
)
from bot.unanswered.items import Item, load_unanswered
from tests.bot.unanswered.seed import seed

NOW = datetime(2026, 12, 2, 12, 0)
START = datetime(2026, 11, 1)


def item(number: int, text: str, language: str = "en", why: str = "fallback") -> Item:
    return Item(
        number, text, None, language, "rest", START + timedelta(minutes=number), why, None, None
    )


@pytest.fixture
async def week_items(tmp_path: Path) -> list[Item]:
    engine = create_engine(f"sqlite:///{tmp_path / 'tolk.db'}")
    await create_schema(engine)
    await seed(engine, NOW)
    found = await load_unanswered(engine, Query(*since("7d", NOW)))
    await engine.dispose()
    return found.items


async def test_the_seeded_week_groups_as_worked_out_by_hand(week_items):
    groups = group(week_items)
    summary = [
        (g.language, g.count, [i.id for i in g.items], g.representative.text) for g in groups
    ]
    # Languages by code, groups by count; on a tie the older leader first.
    assert summary == [
        ("de", 1, [13], "Wo ist mein Paket?"),
        ("en", 3, [1, 2, 3], "Where is my parcel?"),
        ("en", 2, [4, 7], "Can I pay with crypto?"),
        ("en", 1, [5], "I want a person"),
        ("fa", 2, [8, 9], "سفارش من کجاست"),
        ("fa", 1, [10], "مي\u200cخواهم سفارش را لغو كنم"),
        ("he", 2, [11, 12], "איפה החבילה שלי"),
    ]
    parcel = groups[1]
    assert parcel.whys == {"handoff_after_fallback": 0, "fallback": 2, "low_confidence": 1}
    assert parcel.intents == [("faq/shipping_time", 1)]  # not nlu_fallback: no guess
    assert parcel.channels == ["rest", "web"]
    # The most common wording first, then the others newest first, each wording once:
    # #2 "where is my parcel" is written as #1 is, once punctuation and case are dropped.
    assert [e.id for e in parcel.examples] == [1, 3]
    hebrew = groups[6]
    assert hebrew.whys == {"handoff_after_fallback": 1, "fallback": 1, "low_confidence": 0}


def test_the_same_question_written_differently_in_three_scripts():
    items = [
        item(1, "Where is my parcel?"),
        item(2, "where's my PARCEL"),
        item(3, "change my address"),
        item(4, "change my email"),
        item(5, "سفارش من كجاست", "fa"),  # Arabic kaf, as Arabic keyboards type it
        item(6, "سفارش من کجاست؟", "fa"),
        item(7, "אֵיפֹה הַחֲבִילָה שֶׁלִּי", "he"),  # with niqqud
        item(8, "איפה החבילה שלי", "he"),
        item(9, "Where is my parcel?", "nl"),  # another language: never grouped with en
    ]
    grouped = [[i.id for i in g.items] for g in group(items)]
    assert grouped == [[1, 2], [3], [4], [5, 6], [7, 8], [9]]


def test_the_groups_do_not_depend_on_the_order_the_items_come_in(week_items):
    shuffled = list(week_items)
    random.Random(7).shuffle(shuffled)
    ids = [[i.id for i in g.items] for g in group(week_items)]
    assert [[i.id for i in g.items] for g in group(shuffled)] == ids


def test_hostile_texts_are_cut_for_grouping_and_showing():
    huge = "where is my parcel " * 60_000  # over a megabyte
    assert len(grouping_key(huge)) <= MAX_GROUPING_CHARS
    zalgo = "Z\u0337\u0322\u0349a\u0336\u0328l\u0335g\u0334o\u0338" * 20_000
    assert 0 < len(grouping_key(zalgo)) <= MAX_GROUPING_CHARS
    assert grouping_key("\u202eevil\u202c \u200b\ufeff") == "evil"  # bidi and invisible
    assert grouping_key("???") == "???"  # nothing but punctuation: compared as written
    assert grouping_key("👍👍") == "👍👍"
    assert shown("a\nb\r\nc\u2028d") == "a b c d"
    assert len(shown(huge)) == SHOWN_CHARS and shown(huge).endswith("…")
    items = [item(1, huge), item(2, huge[:500]), item(3, zalgo), item(4, ""), item(5, "   ")]
    groups = group(items)
    assert [[i.id for i in g.items] for g in groups] == [[1, 2], [4, 5], [3]]


def test_work_is_bounded_on_5000_unrelated_texts(monkeypatch):
    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyz "
    items = [
        # Random letters share common 3-grams with every other text, and none is similar
        # enough: every text starts a group, the worst case for a leader clustering.
        item(n, "the " + "".join(rng.choice(letters) for _ in range(400)))
        for n in range(5000)
    ]
    measured = 0
    similarity = grouping.similarity

    def counted(a, b):
        nonlocal measured
        measured += 1
        return similarity(a, b)

    monkeypatch.setattr(grouping, "similarity", counted)
    started = time.perf_counter()
    groups = group(items)
    seconds = time.perf_counter() - started
    assert len(groups) == 5000
    assert measured <= len(items) * CANDIDATES  # not one per group per item
    assert seconds < 30, f"grouping 5,000 texts took {seconds:.1f} s"
