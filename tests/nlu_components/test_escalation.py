"""The escalation scorer on its own (the held-out quality check is tests/handoff/)."""

from pathlib import Path

import pytest

from nlu_components.escalation.classifier import EscalationClassifier, Probabilities
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
    """A classifier that is 70% sure every message is a complaint (and `request` sure it
    asks for a person)."""

    def __init__(self, complaint: float = 0.7, request: float = 0.0) -> None:
        self.found = Probabilities(complaint, request)

    def probabilities(self, text: str) -> Probabilities:
        return self.found


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


def test_thanks_with_capitals_and_exclamation_marks_is_joy_not_anger(tmp_path):
    (tmp_path / "en.yml").write_text("anger: [ridiculous]\ngrateful: [thanks]\n")
    weights = Weights(classifier_threshold=0.5, confidence_weight=0.3, shouting=1.0)
    policy = EscalationPolicy.load(tmp_path, weights, _Sure(complaint=0.7))
    # Read as a complaint by the NLU, 0.7 by the classifier: thanks raise its bar to 0.8.
    joy = policy.assess("THANKS!!! IT ARRIVED TODAY", "en", "complain", confidence=0.9)
    assert not joy.escalate and "grateful" in joy.signals and "shouting" not in joy.signals
    # An angry word cancels the thanks.
    angry = policy.assess("thanks, this is RIDICULOUS!!!", "en", "complain", confidence=0.9)
    assert angry.escalate and angry.reason == "complaint"


def test_the_request_model_reaches_a_person_only_when_it_is_sure(tmp_path):
    (tmp_path / "en.yml").write_text("anger: [ridiculous]\n")
    weights = Weights(classifier_threshold=0.5, request_threshold=0.85)
    sure = EscalationPolicy.load(tmp_path, weights, _Sure(complaint=0.1, request=0.9))
    verdict = sure.assess("can I have your phone number to talk to a human", "en", "faq")
    assert verdict.escalate and verdict.reason == "request"
    unsure = EscalationPolicy.load(tmp_path, weights, _Sure(complaint=0.1, request=0.6))
    assert not unsure.assess("is this tent big enough for 2 persons", "en", "faq").escalate


def test_requests_for_a_person_do_not_teach_the_complaint_model():
    texts = ["i want to talk to a person", "let me speak to someone", "a human please"] * 4
    texts += ["this is a disgrace", "worst shop ever", "you ruined my day"] * 4
    texts += ["where is my order", "do you ship abroad", "hello there"] * 4
    kinds = ["request"] * 12 + ["complaint"] * 12 + ["neither"] * 12
    classifier = EscalationClassifier.fit(texts, kinds)
    asking = classifier.probabilities("can I talk to a person")
    assert asking.request > 0.5 and asking.complaint < asking.request
    angry = classifier.probabilities("worst shop, a disgrace")
    assert angry.complaint > 0.5 and angry.request < angry.complaint


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("my card was charged twice", "en"),
        ("er is dubbel afgeschreven voor dezelfde bestelling", "nl"),
        ("از کارتم دوبار کسر شد", "fa"),
        ("đơn này mình bị trừ 2 lần", "vi"),
    ],
)
def test_a_calm_double_charge_is_not_a_sensitive_topic_in_our_lexicons(text, language):
    """docs/intents.md: a double charge stated calmly is `payment_issue`, for the bot."""
    policy = EscalationPolicy.load(Path(__file__).resolve().parents[2] / "data" / "escalation")
    verdict = policy.assess(text, language, intent="payment_issue")
    assert not verdict.escalate, verdict
