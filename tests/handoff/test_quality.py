"""Escalation precision and recall per native language on held-out messages (>= 0.85).

The held-out sets stay apart from the NLU and escalation training data and the lexicons.
Run alone, with every miss: `.venv-rasa/bin/python -m tests.handoff.quality`.
"""

import pytest

from tests.conftest import REPORTS
from tests.handoff.quality import HELDOUT, LEXICONS, MODEL, evaluate, load, report
from tolk_core.nlu_data import nlu_examples

LANGUAGES = ("en", "nl", "he", "fa", "vi")
THRESHOLD = 0.85
# The detector's own precision (anger, complaints and sensitive topics against calm messages
# and calm problem reports, explicit requests left out), and the share of calm problem
# reports ("my card was charged twice") the bot keeps instead of handing them to a person:
# issue 11's goal, 0.95 (they stand at 0.97-1.00 and 1.00).
DETECTED_PRECISION_FLOOR = 0.95
PROBLEMS_KEPT_FLOOR = 0.95


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_heldout_set_is_big_enough_and_kept_apart(language):
    messages = load(HELDOUT / f"{language}.yml")
    assert len(messages) >= 50
    kinds = {"angry", "complaint", "request", "sensitive", "calm", "problem"}
    assert {m["kind"] for m in messages} == kinds
    assert sum(m["kind"] == "problem" for m in messages) >= 12
    lexicon = (LEXICONS / f"{language}.yml").read_text(encoding="utf-8").casefold()
    trained = {
        text.casefold()
        for path in (HELDOUT.parents[2] / "data" / "nlu" / language).glob("*.yml")
        for text, _ in nlu_examples(path)
    }
    trained |= {m["text"].casefold() for m in load(LEXICONS / "train" / f"{language}.yml")}
    for message in messages:
        assert message["text"].casefold() not in trained
        assert f"- {message['text'].casefold()}\n" not in lexicon


@pytest.mark.nlu
async def test_escalation_precision_and_recall_per_language():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    results = await evaluate(MODEL)
    REPORTS.append("Escalation on held-out messages\n" + report(results))
    assert {q.language for q in results} == set(LANGUAGES)
    below = {
        q.language: (round(q.precision, 2), round(q.recall, 2))
        for q in results
        if q.precision < THRESHOLD or q.recall < THRESHOLD
    }
    assert below == {}, report(results)
    alarms = {
        q.language: (round(q.detected_precision, 2), round(q.problems_kept, 2))
        for q in results
        if q.detected_precision < DETECTED_PRECISION_FLOOR or q.problems_kept < PROBLEMS_KEPT_FLOOR
    }
    assert alarms == {}, report(results)
