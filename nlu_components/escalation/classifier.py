"""A small text classifier for "does this message need a person?".

Lexicons catch the words someone wrote down; customers find others. This classifier
learns the rest from examples: the escalation training messages
(`data/escalation/train/<language>.yml`, where `kind: request` marks a request for a
person) plus the NLU examples, where `complain` is a complaint, `request_human` a request
and every other intent neither. Word and character n-grams handle the five scripts, typos
and missing diacritics alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from tolk_core.nlu_data import GENERATED_EXAMPLES, nlu_examples
from tolk_core.normalize import for_nlu

# Intents that need a person: examples the classifier learns from, and the intents the
# rules answer with action_handoff (data/rules/conversation.yml).
ESCALATING_INTENTS = frozenset({"complain", "request_human"})
# The classifier reads this many characters of a message at most (a fixed cost per
# message); what makes a long message need a person shows in its first lines too.
CLASSIFIED_CHARACTERS = 1000


COMPLAINT = "complaint"
REQUEST = "request"
NEITHER = "neither"


def training_set(root: Path, languages: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Texts and what each one is: a complaint (anger included), a request for a person,
    or neither."""
    texts: list[str] = []
    kinds: list[str] = []
    for language in languages:
        for path in sorted((root / "data" / "nlu" / language).glob("*.yml")):
            # Hand-written examples only: the generated variants (tolk_tools/nlu_variants.py)
            # put greetings, "thanks" and order numbers around complaints, which would
            # teach this classifier that those words need a person.
            if path.name == GENERATED_EXAMPLES:
                continue
            for text, intent in nlu_examples(path):
                texts.append(text)
                kinds.append(_KIND_OF_INTENT.get(intent, NEITHER))
        path = root / "data" / "escalation" / "train" / f"{language}.yml"
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for message in data.get("messages") or []:
                texts.append(str(message["text"]))
                if not message["escalate"]:
                    kinds.append(NEITHER)
                else:  # `kind: request` marks a request for a person; the rest complain
                    kinds.append(REQUEST if message.get("kind") == REQUEST else COMPLAINT)
    return texts, kinds


_KIND_OF_INTENT = {"complain": COMPLAINT, "request_human": REQUEST}


@dataclass(frozen=True)
class Probabilities:
    complaint: float
    request: float


class EscalationClassifier:
    """Two logistic regressions on the same n-grams: complaint (or anger) against neither,
    and request for a person against neither. Apart, because the words of a request
    ("a person", "iemand", "מישהו") are everyday words in calm questions ("is this tent
    big enough for 2 persons?"): one model for both learnt them as signs of a complaint."""

    def __init__(self) -> None:
        self._words = TfidfVectorizer(token_pattern=r"\w+", ngram_range=(1, 2), sublinear_tf=True)
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        self._complaint = _model()
        self._request = _model()

    @classmethod
    def train(cls, root: Path, languages: tuple[str, ...]) -> EscalationClassifier:
        return cls.fit(*training_set(root, languages))

    @classmethod
    def fit(cls, texts: list[str], kinds: list[str]) -> EscalationClassifier:
        classifier = cls()
        features = classifier._fit_features([_prepare(text) for text in texts])
        for model, kind in ((classifier._complaint, COMPLAINT), (classifier._request, REQUEST)):
            # Each model learns its kind against the messages that are neither.
            rows = [i for i, k in enumerate(kinds) if k in (kind, NEITHER)]
            model.fit(features[rows], [kinds[i] == kind for i in rows])
        return classifier

    def probabilities(self, text: str) -> Probabilities:
        features = self._features([_prepare(text[:CLASSIFIED_CHARACTERS])])
        return Probabilities(
            complaint=float(self._complaint.predict_proba(features)[0][1]),
            request=float(self._request.predict_proba(features)[0][1]),
        )

    def _fit_features(self, texts: list[str]):
        return hstack([self._words.fit_transform(texts), self._chars.fit_transform(texts)]).tocsr()

    def _features(self, texts: list[str]):
        return hstack([self._words.transform(texts), self._chars.transform(texts)]).tocsr()


def _model() -> LogisticRegression:
    return LogisticRegression(C=10, max_iter=2000, class_weight="balanced")


def _prepare(text: str) -> str:
    # Case is a signal (SHOUTING) the scorer reads; the classifier reads words.
    return for_nlu(text).casefold()
