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


@pytest.mark.parametrize(
    ("text", "hint", "sure"),
    [
        ("hallo daar", None, True),  # two Dutch words
        ("Where is my order 10002? It was due on Monday", None, True),
        ("سلام", None, True),  # the script
        ("hoi", "nl", True),  # the browser or the app says Dutch too
        ("hoi", None, False),  # one word: Dutch, most likely
        ("hello", None, False),
        ("👍", None, False),
        ("👍", "he", True),
    ],
)
def test_a_first_message_says_whether_its_language_is_certain(chooser, text, hint, sure):
    assert chooser.decide(text, current=None, hint=hint).sure is sure


def test_a_running_conversation_is_never_in_doubt(chooser):
    assert chooser.decide("hoi", current="en").sure
