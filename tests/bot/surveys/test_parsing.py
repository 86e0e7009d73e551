"""Survey answers typed in the five languages and their scripts (bot/surveys/parsing.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.outcomes import ACCOUNT_RESULTS
from bot.surveys.parsing import NUMBER_WORDS, SKIP, read_answer

# Every number word 0-10, per language, as customers type it.
WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
    "nl": ["nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien"],
    "he": ["אפס", "אחת", "שתיים", "שלוש", "ארבע", "חמש", "שש", "שבע", "שמונה", "תשע", "עשר"],
    "fa": ["صفر", "یک", "دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه", "ده"],
    "vi": ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười"],
}
# The two that also mean "no" (module docstring): alone a skip, with a scale the number.
ALSO_NO = {("fa", 9): "نه از ده", ("vi", 0): "không điểm"}


@pytest.mark.parametrize("language", sorted(WORDS))
def test_every_number_word_from_zero_to_ten(language):
    for number, word in enumerate(WORDS[language]):
        typed = ALSO_NO.get((language, number), word)
        assert read_answer(typed, 0, 10, language) == number, typed
        # Capitalised, with a full stop, or in another conversation's language.
        assert read_answer(f"{typed.capitalize()}.", 0, 10, language) == number
        assert read_answer(typed, 0, 10, None) == number


def test_the_words_that_also_mean_no_are_a_skip_alone():
    assert read_answer("نه", 0, 10, "fa") is SKIP
    assert read_answer("không", 0, 10, "vi") is SKIP
    assert read_answer("نه", 1, 5, "fa") is SKIP


@pytest.mark.parametrize(
    ("typed", "language"),
    [
        ("5", "en"),
        ("۵", "fa"),  # Persian digit
        ("٥", "fa"),  # Arabic-Indic digit
        ("٥", "he"),
        ("vijf", "nl"),
        ("năm", "vi"),
        ("nam", "vi"),  # typed without diacritics
        ("nắm", "vi"),  # the wrong tone mark still reads as the number
        ("חמש", "he"),
        ("חמישה", "he"),
        ("پنج", "fa"),
        ("five", "en"),
        ("FIVE!", "en"),
        ("5/5", "en"),
        ("5 / 5", "nl"),
        ("5 stars", "en"),
        ("5 sterren", "nl"),
        ("vijf van de vijf", "nl"),
        ("5 מתוך 5", "he"),
        ("חמישה כוכבים", "he"),
        ("۵ از ۵", "fa"),
        ("پنج ستاره", "fa"),
        ("5 sao", "vi"),
        ("năm trên năm", "vi"),
        ("5 điểm", "vi"),
        ("⭐⭐⭐⭐⭐", "en"),
        ("5 ⭐", "en"),
        ("/csat 5", "en"),
        ("\u200f5\u200f", "he"),  # a right-to-left mark around it
    ],
)
def test_five_in_every_script_and_language(typed, language):
    assert read_answer(typed, 1, 5, language) == 5


@pytest.mark.parametrize(
    ("typed", "language"),
    [
        ("skip", "en"),
        ("No thanks", "en"),
        ("/survey skip", "en"),
        ("overslaan", "nl"),
        ("nee, bedankt", "nl"),
        ("דלג", "he"),
        ("לא תודה", "he"),
        ("رد", "fa"),
        ("نه ممنون", "fa"),
        ("bỏ qua", "vi"),
        ("bo qua", "vi"),
    ],
)
def test_skip_words(typed, language):
    assert read_answer(typed, 1, 5, language) is SKIP


@pytest.mark.parametrize(
    ("typed", "low", "high"),
    [
        ("where is my order?", 1, 5),
        ("6", 1, 5),  # off the scale
        ("0", 1, 5),
        ("8", 1, 7),
        ("11", 0, 10),
        ("4/10", 1, 5),  # another scale: not readable as a rating
        ("5 5", 1, 5),
        ("my order 10001", 0, 10),
        ("/human", 1, 5),
        ("/ces 9", 1, 7),
        ("", 1, 5),
        ("ik wil vijf dingen weten", 1, 5),
    ],
)
def test_anything_else_is_not_an_answer(typed, low, high):
    assert read_answer(typed, low, high, "en") is None


def test_scales_of_each_survey():
    assert read_answer("7", 1, 7, "en") == 7  # CES
    assert read_answer("/ces 7", 1, 7, "en") == 7
    assert read_answer("0", 0, 10, "en") == 0  # NPS
    assert read_answer("10/10", 0, 10, "en") == 10
    assert read_answer("ده از ده", 0, 10, "fa") == 10
    assert read_answer("mười", 0, 10, "vi") == 10


def test_the_tables_hold_every_number_in_every_language():
    for language, words in NUMBER_WORDS.items():
        assert set(words.values()) == set(range(11)), language


def test_the_account_results_are_what_the_account_actions_say():
    """bot/outcomes.py lists the account actions' result responses; a renamed one would
    silently stop the CES question."""
    account = (Path(__file__).parents[3] / "actions" / "account.py").read_text(encoding="utf-8")
    said = set(re.findall(r'"(utter_[a-z_]+)"', account))
    assert ACCOUNT_RESULTS <= said, sorted(ACCOUNT_RESULTS - said)
    leftover = said - ACCOUNT_RESULTS
    assert leftover == {
        "utter_not_verified",
        "utter_shop_unavailable",
        "utter_payment_noted",
        "utter_account_deleted",
    }
