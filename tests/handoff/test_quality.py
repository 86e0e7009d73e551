"""The held-out escalation sets stay apart from training data and lexicons.

Precision and recall on them are measured by `python -m tests.handoff.quality`; the
gate at 0.85 per language joins `make test` when the handoff issue's classifier meets it.
"""

import pytest

from tests.handoff.quality import HELDOUT, LEXICONS, load
from tests.nlu.heldout_eval import load_examples

LANGUAGES = ("en", "nl", "he", "fa", "vi")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_heldout_set_is_big_enough_and_kept_apart(language):
    messages = load(HELDOUT / f"{language}.yml")
    assert len(messages) >= 50
    assert {m["kind"] for m in messages} == {"angry", "complaint", "request", "sensitive", "calm"}
    lexicon = (LEXICONS / f"{language}.yml").read_text(encoding="utf-8").casefold()
    trained = {
        text.casefold()
        for path in (HELDOUT.parents[2] / "data" / "nlu" / language).glob("*.yml")
        for text, _ in load_examples(path)
    }
    for message in messages:
        assert message["text"].casefold() not in trained
        assert f"- {message['text'].casefold()}\n" not in lexicon
