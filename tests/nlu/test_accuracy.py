"""Intent accuracy on held-out utterances, per language, with the trained model.

The first set fails below 95% in any language, the blind set below issue 11's goal. Run
alone: `make nlu-eval`.
"""

import pytest

from tests.conftest import REPORTS
from tests.nlu.heldout_eval import BLIND, MODEL, evaluate, report

# Written with the training data, so easier than the blind set: 0.973-1.00 now.
THRESHOLD = 0.95

pytestmark = pytest.mark.nlu


async def test_intent_accuracy_per_language_is_at_least_95_percent():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    results = await evaluate(MODEL)
    REPORTS.append("NLU intent accuracy on held-out utterances\n" + report(results))
    assert {r.language for r in results} == {"en", "nl", "he", "fa", "vi"}
    below = {r.language: f"{r.accuracy:.1%}" for r in results if r.accuracy < THRESHOLD}
    assert below == {}, report(results)


# The blind set (tests/nlu/heldout_blind/, written without seeing the training data) is the
# honest figure, held to issue 11's goal: 0.90 in English, 0.97 in every other language.
# (They stand at 0.973-0.982; training is deterministic, so a fresh clone scores the same.)
BLIND_GOAL = {"en": 0.90, "nl": 0.97, "he": 0.97, "fa": 0.97, "vi": 0.97}


async def test_blind_accuracy_per_language_meets_the_goal():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    results = await evaluate(MODEL, BLIND)
    # Figures only: whoever tunes the training data must not read the blind texts.
    table = report(results, misses=False)
    REPORTS.append("NLU intent accuracy on the blind set\n" + table)
    assert {r.language for r in results} == {"en", "nl", "he", "fa", "vi"}
    below = {
        r.language: f"{r.accuracy:.1%}" for r in results if r.accuracy < BLIND_GOAL[r.language]
    }
    assert below == {}, table
