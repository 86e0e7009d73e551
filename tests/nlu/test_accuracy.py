"""Intent accuracy on held-out utterances, per language, with the trained model.

Fails below 90% in any native language. Run alone: `make nlu-eval`.
"""

import pytest

from tests.conftest import REPORTS
from tests.nlu.heldout_eval import MODEL, evaluate, report

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
