"""Reads every message for anger and sensitive topics and marks those that need a person.

The intent classifiers say what a message is about; an angry "WHERE IS MY ORDER?!" is
still `track_order` to them. This component runs the bot's escalation policy
(`nlu_components/escalation/policy.py`: lexicons, shouting, punctuation, swearing, the same question
again, and a small classifier) on each message. When it says a person is needed it adds
`escalation` {reason, score, signals, intent} to the parse data and, like Rasa's own
FallbackClassifier, predicts `complain` so that the rules hand the conversation over
(`action_handoff`). The original intent stays first in `intent_ranking` after it.

The model stores the training texts and lexicons, not a pickle, and fits the small
classifier again when Rasa loads the model (about 1.5 s on 2 cores).
"""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.escalation.classifier import (
    ESCALATING_INTENTS,
    EscalationClassifier,
    training_set,
)
from nlu_components.escalation.policy import EscalationPolicy, Weights, read_lexicons
from tolk_core.project import NATIVE_LANGUAGES, PIVOT_LANGUAGE, PROJECT_ROOT

ESCALATION = "escalation"
HANDOFF_INTENT = "complain"
_DATA_FILE = "escalation.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EscalationDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Per-language lexicons, relative to the project.
            "lexicons": "data/escalation",
            # Anger score (lexicon words, swearing, shouting, ...) that needs a person.
            "anger_threshold": 1.0,
            # The classifier's probability that needs a person.
            "classifier_threshold": 0.5,
            # How much the NLU's confidence in a non-escalating intent raises that
            # probability (nlu_components/escalation/policy.py Weights.confidence_weight).
            "confidence_weight": 0.0,
            # Below this NLU confidence, `complain` and `request_human` need the classifier,
            # anger or a sensitive topic to agree.
            "complaint_confidence": 0.0,
            # The request model's probability that needs a person when the NLU read the
            # message as something else.
            "request_threshold": 0.5,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        policy: EscalationPolicy | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.policy = policy

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EscalationDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts, kinds = training_set(PROJECT_ROOT, NATIVE_LANGUAGES)
        data = {
            "texts": texts,
            "kinds": kinds,
            "lexicons": read_lexicons(PROJECT_ROOT / self.config["lexicons"]),
        }
        with self._storage.write_to(self._resource) as directory:
            (directory / _DATA_FILE).write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        self.policy = self._policy(data)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EscalationDetector:
        detector = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as directory:
            data = json.loads((directory / _DATA_FILE).read_text("utf-8"))
        detector.policy = detector._policy(data)
        return detector

    def _policy(self, data: dict) -> EscalationPolicy:
        weights = Weights(
            threshold=float(self.config["anger_threshold"]),
            classifier_threshold=float(self.config["classifier_threshold"]),
            confidence_weight=float(self.config["confidence_weight"]),
            complaint_confidence=float(self.config["complaint_confidence"]),
            request_threshold=float(self.config["request_threshold"]),
        )
        classifier = EscalationClassifier.fit(data["texts"], data["kinds"])
        return EscalationPolicy.from_data(data["lexicons"], weights, classifier)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._mark(message)
        return messages

    @staticmethod
    def _demote(message: Message) -> None:
        """An unsure `complain` or `request_human` that nothing else backs: the runner-up
        intent that does not lead to a person answers."""
        ranking = [
            entry
            for entry in message.get(INTENT_RANKING_KEY) or []
            if entry.get("name") not in ESCALATING_INTENTS
        ]
        if not ranking:
            return
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def _mark(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        name = intent.get("name")
        text = message.get(TEXT) or ""
        if self.policy is None or not text or text.startswith("/"):
            return
        metadata = message.get(METADATA) or {}
        language = metadata.get("language")
        # Non-native languages reach Rasa in English.
        if language not in NATIVE_LANGUAGES:
            language = PIVOT_LANGUAGE
        recent = tuple(str(t) for t in metadata.get("recent") or () if isinstance(t, str))
        confidence = intent.get("confidence")
        confidence = float(confidence) if isinstance(confidence, (int, float)) else None
        verdict = self.policy.assess(text, language, name, recent, confidence)
        if not verdict.escalate:
            if name in ESCALATING_INTENTS:
                self._demote(message)
            return
        message.set(
            ESCALATION,
            {
                "reason": verdict.reason,
                "score": verdict.score,
                "signals": list(verdict.signals),
                "intent": name,
            },
            add_to_output=True,
        )
        if name in ESCALATING_INTENTS:  # these already lead to a person
            return
        ranking = [{"name": HANDOFF_INTENT, "confidence": 1.0}] + [
            entry
            for entry in message.get(INTENT_RANKING_KEY) or []
            if entry.get("name") != HANDOFF_INTENT
        ]
        message.set(INTENT, {"name": HANDOFF_INTENT, "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
