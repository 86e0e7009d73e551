"""The training and held-out data keep their promises (no model needed)."""

import pytest

from tests.nlu.heldout_eval import HELDOUT
from tolk_core.nlu_data import MIN_EXAMPLES, nlu_examples, training_examples
from tolk_core.normalize import for_nlu
from tolk_core.project import NATIVE_LANGUAGES, PROJECT_ROOT

CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "request_human",
    "complain", "change_language", "out_of_scope", "track_order", "cancel_order",
    "change_shipping_address", "request_refund", "track_refund", "get_invoice",
    "payment_issue", "recover_password", "update_email", "delete_account",
    "faq/shipping_time", "faq/international_shipping", "faq/return_policy",
    "faq/payment_methods", "faq/support_hours", "faq/delivery_options", "faq/shipping_cost",
    "faq/cancellation_fee", "faq/change_order", "faq/create_account", "faq/newsletter",
    "faq/warranty", "faq/gift_cards", "faq/contact", "faq/privacy", "leave_feedback",
    "continue_by_email",
}  # fmt: skip


def key(text: str) -> str:
    return " ".join(for_nlu(text).lower().split())


@pytest.mark.parametrize("language", NATIVE_LANGUAGES)
def test_every_contract_intent_has_enough_native_examples(language):
    examples = training_examples(PROJECT_ROOT, language)
    assert CONTRACT_INTENTS <= set(examples)
    thin = {intent: len(texts) for intent, texts in examples.items() if len(texts) < MIN_EXAMPLES}
    assert thin == {}


@pytest.mark.parametrize("language", NATIVE_LANGUAGES)
def test_heldout_utterances_are_never_used_for_training(language):
    trained = {
        key(text)
        for other in NATIVE_LANGUAGES
        for texts in training_examples(PROJECT_ROOT, other).values()
        for text in texts
    }
    heldout = nlu_examples(HELDOUT / f"{language}.yml")
    assert len(heldout) >= 20
    leaked = [text for text, _ in heldout if key(text) in trained]
    assert leaked == []


@pytest.mark.parametrize("language", NATIVE_LANGUAGES)
def test_heldout_covers_every_intent(language):
    intents = {intent for _, intent in nlu_examples(HELDOUT / f"{language}.yml")}
    assert intents == CONTRACT_INTENTS


def test_generated_variants_are_up_to_date():
    from tolk_tools.nlu_variants import main

    assert main(["--check"]) == 0, "run: .venv/bin/python -m tolk_tools.nlu_variants"


@pytest.mark.parametrize("language", NATIVE_LANGUAGES)
def test_every_intent_has_80_examples_and_at_least_25_written_by_hand(language):
    from tolk_tools.nlu_variants import FILE

    examples = training_examples(PROJECT_ROOT, language)
    assert {intent: len(texts) for intent, texts in examples.items() if len(texts) < 80} == {}
    generated = nlu_examples(PROJECT_ROOT / "data" / "nlu" / language / FILE)
    by_intent: dict[str, int] = {}
    for _, intent in generated:
        by_intent[intent] = by_intent.get(intent, 0) + 1
    thin = {
        intent: len(texts) - by_intent.get(intent, 0)
        for intent, texts in examples.items()
        if len(texts) - by_intent.get(intent, 0) < 25
    }
    assert thin == {}
    # The generated variants stay a minority-sized share of the data (about half today).
    assert len(generated) / sum(len(texts) for texts in examples.values()) <= 0.55
