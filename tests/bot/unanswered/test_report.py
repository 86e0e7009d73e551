"""`python -m bot report unanswered`: the seeded week as a content editor reads it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.db import create_engine, create_schema
from bot.metrics.query import Query, since
from bot.settings import Settings
from bot.unanswered.items import Found, Item
from bot.unanswered.report import run_unanswered, text_report
from tests.bot.unanswered.seed import seed

NOW = datetime(2026, 12, 2, 12, 0)

LEGEND = """\
not understood: the bot asked to rephrase. unsure: it answered, with a confidence
below 0.5. to a person: the customer was handed to an agent right after a
fallback. Each group is one wording and those similar to it; the text shown is the
wording written most often."""
HEADER = (
    "  count  not understood  unsure  to a person  intent guessed                  "
    "what customers wrote"
)
INDENT = " " * 78
FOOTER = """\
To teach the bot a wording: add it as an example of its intent in data/nlu/, or
propose it from the agent console's Not understood panel (a draft in the review
file, TOLK_NLU_DRAFTS); then run `python -m bot content check`."""
ROW = "{:>7}  {:>14}  {:>6}  {:>11}  {:<30}  {}"

# The groups of test_grouping.py, per language, with the counts of seed.py's table.
EXPECTED = "\n".join(
    [
        "What the bot did not understand: 2026-11-25 12:00 to 2026-12-02 12:00 UTC",
        "",
        "12 messages in 7 groups: 7 not understood, 3 unsure, 2 to a person.",
        LEGEND,
        "",
        "German (de): 1 message in 1 group",
        HEADER,
        ROW.format(1, 1, 0, 0, "-", "Wo ist mein Paket?"),
        INDENT + "(in English: Where is my package?)",
        "",
        "English (en): 6 messages in 3 groups",
        HEADER,
        ROW.format(3, 2, 1, 0, "faq/shipping_time", "Where is my parcel?"),
        INDENT + "also: wheres my parcel??",
        ROW.format(2, 1, 1, 0, "faq/payment_methods", "Can I pay with crypto?"),
        ROW.format(1, 0, 0, 1, "request_human", "I want a person"),
        "",
        "Persian (fa): 3 messages in 2 groups",
        HEADER,
        ROW.format(2, 2, 0, 0, "-", "سفارش من کجاست"),
        INDENT + "also: سفارشم کجاست؟",
        ROW.format(1, 0, 1, 0, "cancel_order", "مي\u200cخواهم سفارش را لغو كنم"),
        "",
        "Hebrew (he): 2 messages in 1 group",
        HEADER,
        ROW.format(2, 1, 0, 1, "-", "איפה החבילה שלי"),
        "",
        FOOTER,
    ]
)


@pytest.fixture
async def seeded(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'tolk.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    await seed(engine, NOW)
    await engine.dispose()
    return Settings(database_url=url)


def test_the_seeded_week_per_language(seeded, capsys):
    assert run_unanswered(seeded, "7d", now=NOW) == 0
    assert capsys.readouterr().out.rstrip("\n") == EXPECTED


def test_one_language_and_a_limit(seeded, capsys):
    assert run_unanswered(seeded, "7d", language="en", limit=1, now=NOW) == 0
    out = capsys.readouterr().out
    assert "6 messages in 3 groups: 3 not understood, 2 unsure, 1 to a person." in out
    assert ROW.format(3, 2, 1, 0, "faq/shipping_time", "Where is my parcel?") in out
    assert "Can I pay with crypto?" not in out
    assert "         ... and 2 more groups (3 messages); --limit 3 shows them all" in out
    assert "Persian" not in out


def test_nothing_unanswered(seeded, capsys):
    assert run_unanswered(seeded, "30m", now=NOW) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Nothing unanswered in this period."
    assert run_unanswered(seeded, "7d", channel="email", now=NOW) == 0
    assert "Nothing unanswered in this period." in capsys.readouterr().out


def test_more_than_were_read_is_said():
    query = Query(*since("7d", NOW))
    one = Item(1, "hello?", None, "en", "rest", NOW, "fallback", None, None)
    out = text_report(Found(query, [one], truncated=True), [], 20)
    assert "Only the newest 5,000 such messages were read; there were more." in out


def test_the_command_line(seeded, monkeypatch, capsys):
    monkeypatch.setenv("TOLK_DATABASE_URL", seeded.database_url)
    assert main(["report", "unanswered", "--since", "4w", "--language", "he"]) == 0
    out = capsys.readouterr().out
    assert "Hebrew (he): 2 messages in 1 group" in out and "English" not in out
    # The figures report is still what `report` alone prints.
    assert main(["report", "--since", "4w"]) == 0
    assert "First-contact resolution" in capsys.readouterr().out
    assert main(["report", "unanswered", "--since", "a week"]) == 2
    assert "--since takes a count and a unit" in capsys.readouterr().err
    assert main(["report", "unanswered", "--limit", "0"]) == 2
    assert "--limit must be 1 or more" in capsys.readouterr().err
    assert main(["report", "unanswered", "--charts", "charts"]) == 2
    assert "--charts is for the figures report" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "answered"])
