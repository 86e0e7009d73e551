"""The escalation scorer on its own (the held-out quality check is tests/handoff/)."""

from pathlib import Path

import pytest

from nlu_components.escalation.policy import EscalationPolicy, Lexicon, Weights


@pytest.fixture
def policy(tmp_path: Path) -> EscalationPolicy:
    (tmp_path / "en.yml").write_text(
        "anger: [ridiculous, fed up, worst service]\n"
        "swearing: [damn, crap]\n"
        "legal: [lawyer, sue]\n"
        "fraud: [scam, stolen card]\n"
        "chargeback: [chargeback]\n"
        "safety: [caught fire]\n"
    )
    (tmp_path / "he.yml").write_text("anger: [נמאס]\nswearing: []\nlegal: [עורך דין]\n")
    return EscalationPolicy.load(tmp_path)


def test_an_explicit_request_always_escalates(policy):
    verdict = policy.assess("could I talk to someone", "en", intent="request_human")
    assert (verdict.escalate, verdict.reason) == (True, "request")


def test_a_complaint_escalates(policy):
    assert policy.assess("the parcel came damaged", "en", intent="complain").reason == "complaint"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I will call my lawyer", "legal"),
        ("this shop is a SCAM", "fraud"),
        ("I'm filing a chargeback", "chargeback"),
        ("the charger caught fire", "safety"),
    ],
)
def test_sensitive_topics_escalate_whatever_the_intent(policy, text, reason):
    verdict = policy.assess(text, "en", intent="track_order")
    assert (verdict.escalate, verdict.reason) == (True, reason)


def test_anger_words_and_swearing_escalate(policy):
    assert policy.assess("this is ridiculous", "en", intent="track_order").escalate
    assert policy.assess("where is my damn parcel", "en", intent="track_order").escalate


def test_shouting_with_repeated_punctuation_escalates(policy):
    verdict = policy.assess("WHERE IS MY ORDER???", "en", intent="track_order")
    assert verdict.escalate
    assert set(verdict.signals) == {"shouting", "punctuation"}


def test_happy_shouting_does_not(policy):
    assert not policy.assess("THANK YOU SO MUCH!!!", "en", intent="thank").escalate


def test_a_calm_question_does_not(policy):
    verdict = policy.assess("where is my order?", "en", intent="track_order")
    assert (verdict.escalate, verdict.score) == (False, 0.0)


def test_the_same_question_again_adds_up(policy):
    earlier = ("where is my order 10001 please",)
    verdict = policy.assess("where is my order 10001???", "en", "track_order", earlier)
    assert verdict.escalate and "repeated question" in verdict.signals


def test_hebrew_words_match_with_attached_prefixes(policy):
    assert policy.assess("פנינו כבר לעורך דין", "he", intent="track_order").reason == "legal"
    assert policy.assess("ונמאס לי מכם", "he", intent="track_order").escalate


def test_an_empty_lexicon_file_is_fine(tmp_path: Path):
    (tmp_path / "vi.yml").write_text("")
    assert Lexicon.load(tmp_path / "vi.yml").hits("anger", "x") == 0


class _Sure:
    """A classifier that is 70% sure every message needs a person."""

    def probability(self, text: str) -> float:
        return 0.7


def test_the_nlu_being_sure_of_small_talk_outweighs_the_classifier(tmp_path):
    (tmp_path / "en.yml").write_text("anger: [ridiculous]\n")
    weights = Weights(classifier_threshold=0.5, confidence_weight=0.4)
    policy = EscalationPolicy.load(tmp_path, weights, _Sure())
    calm = policy.assess("good morning, a question", "en", "greet", confidence=0.9)
    assert not calm.escalate
    unsure = policy.assess("good morning, a question", "en", "greet", confidence=0.3)
    assert unsure.escalate and unsure.reason == "complaint"
    # Service requests keep the plain threshold: anger about a refund still reaches a person.
    assert policy.assess("where is my refund", "en", "track_refund", confidence=0.9).escalate


def test_an_unsure_complaint_needs_the_classifier_or_anger_to_agree(tmp_path):
    (tmp_path / "en.yml").write_text("anger: [ridiculous]\n")
    weights = Weights(complaint_confidence=0.6)
    policy = EscalationPolicy.load(tmp_path, weights)  # no classifier
    assert not policy.assess("is this bag big enough", "en", "complain", confidence=0.4).escalate
    assert policy.assess("this is ridiculous", "en", "complain", confidence=0.4).escalate
    sure = policy.assess("is this bag big enough", "en", "complain", confidence=0.8)
    assert sure.reason == "complaint"
