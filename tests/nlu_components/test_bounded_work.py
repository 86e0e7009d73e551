"""Bounded work inside Rasa and the action server (issue 10): the escalation detector and
the account forms' slot extraction, on the hostile texts of tests/bounded.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bounded import TextFunction, bounded_work_tests, frozen
from tolk_tools.rasa_text import text_functions

NAMES = (
    "slots: order number",
    "slots: e-mail",
    "slots: postal address",
    "escalation: assess (en)",
    "escalation: assess (he, asked again)",
    "escalation: classifier",
)


@pytest.fixture(scope="module")
def functions() -> Iterator[dict[str, TextFunction]]:
    functions = text_functions()
    assert tuple(functions) == NAMES
    yield from frozen(functions)


(
    test_known_worst_cases_stay_within_the_budget,
    test_generated_hostile_texts_stay_within_the_budget,
) = bounded_work_tests(NAMES)
