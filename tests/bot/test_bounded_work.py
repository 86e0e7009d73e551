"""Bounded work per message (issue 10): no text a stranger can send keeps a text function
busy for more than 50 ms.

Every function that reads customer, agent or translator text (tolk_tools/hostile_text.py lists
them with their real data) is called on hostile texts up to the length the channels accept:
a fixed set of known worst cases, then texts hypothesis generates from them. Each call is
timed on its own, with time.perf_counter (wall clock) and time.process_time (the work).

The gateway's functions (tolk_tools/gateway_text.py); Rasa's are in
tests/nlu_components/test_bounded_work.py, the rule in tests/bounded.py. The old language
filter worked 9 s on 1,000 dots, every time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.channels.rest import MAX_TEXT
from tests.bounded import TextFunction, assert_bounded, bounded_work_tests, frozen
from tolk_tools.gateway_text import FUNCTION_NAMES, Readers, text_functions
from tolk_tools.hostile_text import TEXT_LENGTH


@pytest.fixture(scope="module")
def functions() -> Iterator[dict[str, TextFunction]]:
    yield from frozen(text_functions(Readers.load()))


(
    test_known_worst_cases_stay_within_the_budget,
    test_generated_hostile_texts_stay_within_the_budget,
) = bounded_work_tests(FUNCTION_NAMES)


def test_the_hostile_texts_are_as_long_as_the_channels_accept():
    assert TEXT_LENGTH == MAX_TEXT


def test_a_thousand_dots_no_longer_freeze_the_language_choice(functions):
    # The regression of the finding: 9 s before (cubic backtracking in bot/language.py).
    assert_bounded(functions, "language: choose (Dutch conversation)", "." * 1000)
    assert_bounded(functions, "language: choose (new conversation)", "." * MAX_TEXT)


def test_behaviour_on_hostile_text_is_unchanged(functions):
    # Bounded, and still right: addresses and code do not switch a conversation.
    choose = functions["language: choose (Dutch conversation)"]
    assert choose("." * MAX_TEXT) == "nl"
    assert choose("a@" * 2000) == "nl"
    assert choose("http://" * 585) == "nl"
    # Long prose is read from a sample, and still recognised.
    assert choose("I would like to cancel my order, it has not arrived yet. " * 70) == "en"
