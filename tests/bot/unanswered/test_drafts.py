"""The review file: any text round-trips through YAML, and appends at once all stay."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import Rejected
from bot.unanswered import drafts
from bot.unanswered.drafts import HEADER, Draft, Drafts, read_drafts

WHEN = datetime(2026, 12, 2, 12, 0, 5, 123456)
# What read_json lets through: no lone surrogates, no NUL (bot/http_errors.py).
STORABLE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80
)
NASTY = [
    'say "hi": - no',
    "- item\n- other",
    "key: value # not a comment",
    "---\n...\n%YAML 1.1",
    "&anchor *alias !!python/object/apply:os.system ['ls']",
    "yes",
    "null",
    "0x1F",
    "  leading and trailing  ",
    "line\r\nbreaks\rand\u2028separators\u0085",
    "\ufeffBOM and \u202eRTL override",
    "سفارش من کجاست؟",
    "איפה החבילה שלי?",
    "👍🏽 emoji",
    "tab\there",
    "\x07\x1b[31m terminal",
    "\x85",  # NEL: a line break to YAML, read back as a space unless escaped
    "a\x85b\u2028",
]


async def test_a_draft_reads_back_as_it_was_written(tmp_path):
    path = tmp_path / "review" / "nlu-drafts.yml"
    book = Drafts(path)
    written = [await book.add("Daan", "en", "faq/x", text, WHEN) for text in NASTY]
    assert written[0] == Draft("Daan", "2026-12-02T12:00:05Z", "en", "faq/x", NASTY[0])
    assert path.read_text(encoding="utf-8").startswith(HEADER)
    assert read_drafts(path) == [
        {"who": "Daan", "when": "2026-12-02T12:00:05Z", "language": "en", "intent": "faq/x",
         "text": text}
        for text in NASTY
    ]  # fmt: skip
    assert not (tmp_path / "data").exists()


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(STORABLE, min_size=1, max_size=3), who=STORABLE)
def test_any_text_round_trips(texts, who):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "nlu-drafts.yml"
        book = Drafts(path)
        for text in texts:
            book._append(Draft(who, "2026-12-02T12:00:00Z", "fa", "track_order", text))
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert [entry["text"] for entry in loaded] == texts
        assert {entry["who"] for entry in loaded} == {who}


def test_drafts_appended_at_once_are_all_kept(tmp_path):
    path = tmp_path / "nlu-drafts.yml"

    def add(number: int) -> None:
        # A Drafts of its own per writer: each opens and locks the file itself, as two
        # replicas of the service would.
        Drafts(path)._append(Draft("Sara", "t", "he", "greet", f"draft {number}\nline two"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, range(200)))
    texts = sorted(entry["text"] for entry in read_drafts(path))
    assert texts == sorted(f"draft {number}\nline two" for number in range(200))


def test_a_file_edited_without_a_final_newline_still_appends(tmp_path):
    path = tmp_path / "nlu-drafts.yml"
    path.write_text("- who: x\n  text: kept", encoding="utf-8")
    Drafts(path)._append(Draft("y", "t", "en", "greet", "added"))
    assert [entry["text"] for entry in read_drafts(path)] == ["kept", "added"]


async def test_a_full_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(drafts, "MAX_FILE_BYTES", 400)
    book = Drafts(tmp_path / "nlu-drafts.yml")
    await book.add("a", "en", "greet", "first", WHEN)
    with pytest.raises(Rejected, match="the drafts file is full"):
        await book.add("a", "en", "greet", "x" * 300, WHEN)
    assert [entry["text"] for entry in read_drafts(book.path)] == ["first"]
