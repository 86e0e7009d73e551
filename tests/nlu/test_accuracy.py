"""Intent accuracy on held-out utterances, per language, with the trained model.

Fails below 90% in any native language. Run alone: `make nlu-eval`.
"""

import pytest

from tests.conftest import REPORTS
from tests.nlu.heldout_eval import BLIND, MODEL, evaluate, report

THRESHOLD = 0.90

pytestmark = pytest.mark.nlu


async def test_intent_accuracy_per_language_is_at_least_90_percent():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    results = await evaluate(MODEL)
    REPORTS.append("NLU intent accuracy on held-out utterances\n" + report(results))
    assert {r.language for r in results} == {"en", "nl", "he", "fa", "vi"}
    below = {r.language: f"{r.accuracy:.1%}" for r in results if r.accuracy < THRESHOLD}
    assert below == {}, report(results)


# The blind set (tests/nlu/heldout_blind/, written without seeing the training data) is the
# honest figure. Issue 11's goal is 0.90 in English and 0.97 per native language; this floor
# is one message below where the model stands now (0.969-0.987: a change to the data moves a
# language by one or two messages either way) and only ever moves up.
BLIND_FLOOR = 0.96


async def test_blind_accuracy_per_language_stays_above_the_floor():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    results = await evaluate(MODEL, BLIND)
    # Figures only: whoever tunes the training data must not read the blind texts.
    table = report(results, misses=False)
    REPORTS.append("NLU intent accuracy on the blind set\n" + table)
    assert {r.language for r in results} == {"en", "nl", "he", "fa", "vi"}
    below = {r.language: f"{r.accuracy:.1%}" for r in results if r.accuracy < BLIND_FLOOR}
    assert below == {}, table
