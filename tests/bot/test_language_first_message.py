"""A short first message in a native or pivot language is answered in it (issue 11)."""

import pytest

from bot.language import LanguageChooser
from bot.settings import NATIVE_LANGUAGES
from tolk_core.language_names import PIVOT_CANDIDATES


@pytest.fixture(scope="module")
def chooser() -> LanguageChooser:
    return LanguageChooser(NATIVE_LANGUAGES + PIVOT_CANDIDATES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hallo daar", "nl"),
        ("hoi", "nl"),
        ("dank je wel", "nl"),
        ("hallo, is dit een bot?", "nl"),
        ("Hallo, sind Sie ein Bot?", "de"),
        ("Guten Tag", "de"),
        ("bonjour", "fr"),
        ("hola, qué tal", "es"),
        ("hi there", "en"),
        ("good morning", "en"),
        ("hello", "en"),
    ],
)
def test_short_greetings_and_questions_are_recognised(chooser, text, expected):
    assert chooser.choose(text, current=None) == expected


def test_two_telling_words_beat_the_channel_hint(chooser):
    assert chooser.choose("hallo daar", current=None, hint="en") == "nl"
    assert chooser.choose("hallo", current=None, hint="en") == "en"  # Dutch or German


def test_cues_never_switch_a_running_conversation(chooser):
    assert chooser.choose("hoi", current="en") == "en"
