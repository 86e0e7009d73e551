"""When a conversation needs a person: explicit requests, complaints, anger, sensitive topics.

The NLU intent says what the customer asks (`request_human`, `complain`); the scorer adds
what the intent misses: anger and swearing from a per-language lexicon
(`data/escalation/<language>.yml`), SHOUTING, repeated punctuation and the same question
asked again. Legal threats, fraud, chargebacks and safety always go to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu_components.escalation.classifier import EscalationClassifier
from tolk_core.normalize import for_nlu

SENSITIVE = ("legal", "fraud", "chargeback", "safety")
# Style alone ("THANK YOU!!!") is not anger when the customer is thanking or greeting.
_FRIENDLY_INTENTS = frozenset({"thank", "greet", "goodbye", "affirm"})
# Small talk the NLU is sure of ("goedemorgen allemaal, ik heb een vraagje" as greet, "am I
# talking to a real person?" as bot_challenge): the classifier must be surer to overrule it.
_SMALL_TALK_INTENTS = _FRIENDLY_INTENTS | {"deny", "bot_challenge"}
_REPEATED_PUNCTUATION = re.compile(r"[!?؟]{3,}|[!?؟]{2,}.*[!?؟]{2,}")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Weights:
    anger: float = 1.0
    swearing: float = 1.5
    shouting: float = 0.6
    punctuation: float = 0.5
    repeated_question: float = 0.6
    threshold: float = 1.0
    classifier_threshold: float = 0.5
    # The NLU's own confidence counts: when it is sure a message is small talk (a greeting,
    # thanks, "are you a bot?"), the classifier needs this much more probability per unit of
    # that confidence before it calls the message a complaint.
    confidence_weight: float = 0.0
    # A `complain` or `request_human` the NLU is less sure of than this leads to a person
    # only if the classifier, the anger score or a sensitive topic agree; otherwise the
    # runner-up intent answers (the EscalationDetector demotes it).
    complaint_confidence: float = 0.0
    # A request for a person the NLU did not see ("do you have a phone number so I can
    # talk to an actual human being?" read as an FAQ) needs this much of the request model.
    request_threshold: float = 0.5


@dataclass(frozen=True)
class Verdict:
    escalate: bool
    # request | complaint | anger | legal | fraud | chargeback | safety
    reason: str | None = None
    score: float = 0.0
    signals: tuple[str, ...] = ()


@dataclass
class Lexicon:
    # category -> (term, pattern): the term as it appears in the text, the pattern checks
    # the word boundaries around it.
    terms: dict[str, list[tuple[str, re.Pattern[str]]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        return cls.from_data(read_lexicon(path))

    @classmethod
    def from_data(cls, data: dict) -> Lexicon:
        return cls(
            {
                category: [_term(str(term)) for term in (entries or []) if str(term).strip()]
                for category, entries in data.items()
            }
        )

    def hits(self, category: str, text: str) -> int:
        return sum(
            1 for term, pattern in self.terms.get(category, []) if _found(term, pattern, text)
        )


def read_lexicon(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {category: [str(term) for term in entries or []] for category, entries in data.items()}


def read_lexicons(directory: Path) -> dict[str, dict[str, list[str]]]:
    """{language: {category: [terms]}} from data/escalation/<language>.yml."""
    return {path.stem: read_lexicon(path) for path in sorted(directory.glob("*.yml"))}


def _term(term: str) -> tuple[str, re.Pattern[str]]:
    term = for_nlu(term).casefold()
    if term.isascii():
        return term, re.compile(rf"(?<!\w){re.escape(term)}(?!\w)")
    # Hebrew and Persian attach prepositions and articles to the word: match its start.
    return term, re.compile(rf"(?<![^\W\d_ובלמהשכ]){re.escape(term)}")


def _found(term: str, pattern: re.Pattern[str], text: str) -> bool:
    """``pattern.search(text)``, tried only where the term occurs: searching from every
    position cost the ~250 terms of two lexicons 20-30 ms of CPU on a 4096-character
    message; a substring search is a fraction of that."""
    at = text.find(term)
    while at != -1:
        if pattern.match(text, at):
            return True
        at = text.find(term, at + 1)
    return False


class EscalationPolicy:
    def __init__(
        self,
        lexicons: dict[str, Lexicon],
        weights: Weights | None = None,
        classifier: EscalationClassifier | None = None,
    ) -> None:
        self.lexicons = lexicons
        self.weights = weights or Weights()
        self.classifier = classifier

    @classmethod
    def load(
        cls,
        directory: Path,
        weights: Weights | None = None,
        classifier: EscalationClassifier | None = None,
    ) -> EscalationPolicy:
        return cls.from_data(read_lexicons(directory), weights, classifier)

    @classmethod
    def from_data(
        cls,
        lexicons: dict[str, dict[str, list[str]]],
        weights: Weights | None = None,
        classifier: EscalationClassifier | None = None,
    ) -> EscalationPolicy:
        found = {language: Lexicon.from_data(data) for language, data in lexicons.items()}
        return cls(found, weights, classifier)

    def assess(
        self,
        text: str,
        language: str,
        intent: str | None = None,
        earlier: tuple[str, ...] = (),
        confidence: float | None = None,
    ) -> Verdict:
        """Whether this message should reach a person, and why.

        `confidence` is the NLU's confidence in `intent` (None: unknown, treated as
        certain for `complain` and as no evidence for other intents)."""
        w = self.weights
        normalised = for_nlu(text).casefold()
        lexicons = [self.lexicons[code] for code in dict.fromkeys((language, "en"))
                    if code in self.lexicons]  # fmt: skip
        anger = sum(lexicon.hits("anger", normalised) for lexicon in lexicons)
        swearing = sum(lexicon.hits("swearing", normalised) for lexicon in lexicons)
        # "HEEL ERG BEDANKT!!!", "תודההההה!!!": capitals and exclamation marks are joy when
        # the customer thanks or praises and says nothing angry.
        grateful = not (anger or swearing) and any(
            lexicon.hits("grateful", normalised) for lexicon in lexicons
        )
        # The NLU's own confidence counts: an escalating intent it is unsure of ("is this
        # tent big enough for 2 persons?" read as request_human) needs the classifier, the
        # anger score or a sensitive topic to agree.
        unsure = intent in ("complain", "request_human") and (
            (confidence is not None and confidence < w.complaint_confidence)
            # Thanks read as a complaint ("MERCI KHEILI KHOOBE!!!"): the classifier decides.
            or (intent == "complain" and grateful)
        )
        if intent == "request_human" and not unsure:
            return Verdict(True, "request", signals=("intent",))
        for category in SENSITIVE:
            if any(lexicon.hits(category, normalised) for lexicon in lexicons):
                return Verdict(True, category, signals=(category,))
        if intent == "complain" and not unsure:
            return Verdict(True, "complaint", signals=("intent",))

        signals: list[str] = []
        score = 0.0
        if anger:
            score += w.anger * anger
            signals.append("anger")
        if swearing:
            score += w.swearing * swearing
            signals.append("swearing")
        if grateful:
            signals.append("grateful")
        if intent not in _FRIENDLY_INTENTS and not grateful:
            if _shouting(text):
                score += w.shouting
                signals.append("shouting")
            if _REPEATED_PUNCTUATION.search(text):
                score += w.punctuation
                signals.append("punctuation")
            if _asked_again(normalised, earlier):
                score += w.repeated_question
                signals.append("repeated question")
        if score >= w.threshold:
            return Verdict(True, "anger", round(score, 2), tuple(signals))
        if self.classifier is not None:
            found = self.classifier.probabilities(text)
            needed = w.classifier_threshold
            if grateful:
                needed += w.confidence_weight
            if confidence is not None and intent in _SMALL_TALK_INTENTS:
                needed += w.confidence_weight * confidence
            needed = min(0.95, needed)
            if found.complaint >= needed:
                signals.append(f"classifier {found.complaint:.2f}")
                reason = "anger" if score > 0 else "complaint"
                return Verdict(True, reason, round(score, 2), tuple(signals))
            if found.request >= max(needed, w.request_threshold):
                signals.append(f"request classifier {found.request:.2f}")
                return Verdict(True, "request", round(score, 2), tuple(signals))
        return Verdict(False, None, round(score, 2), tuple(signals))


_CAPS_RUN = re.compile(r"(?:\b[^\W\d_a-z]{2,}\b[^\w]+){2,}\b[^\W\d_a-z]{2,}\b")


def _shouting(text: str) -> bool:
    """Mostly capitals, or three capitalised words in a row ("WHERE IS MY order").

    Scripts without case (Hebrew, Persian) never shout this way."""
    cased = [char for char in text if char.isupper() or char.islower()]
    if len(cased) < 8:
        return False
    if sum(char.isupper() for char in cased) / len(cased) >= 0.7:
        return True
    return any(
        sum(char.isupper() for char in match.group()) >= 6 and match.group().isupper()
        for match in _CAPS_RUN.finditer(text)
    )


def _asked_again(text: str, earlier: tuple[str, ...]) -> bool:
    words = set(_WORD.findall(text))
    if len(words) < 3:
        return False
    for previous in earlier[-3:]:
        before = set(_WORD.findall(for_nlu(previous).casefold()))
        if before and len(words & before) / len(words | before) >= 0.7:
            return True
    return False
