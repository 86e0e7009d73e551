"""Chooses the FAQ answer (`faq/<question>`) with a linear model on the sparse n-grams.

Rasa's ResponseSelector (a transformer trained for a number of epochs) took most of the
training time once there were fifteen FAQs with ~80 examples in each of five languages, and
was no more accurate on the held-out sets than a logistic regression on the same word and
character n-grams the intent classifier uses. This component writes its answer exactly
where Rasa's ResponseSelector does (`response_selector.<retrieval intent>`), so the
`utter_faq` rules, the NLG endpoint and `tests/nlu/heldout_eval.py` are unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, vstack
from sklearn.linear_model import LogisticRegression

logger = logging.getLogger(__name__)
_MODEL_FILE = "faq_selector.skops"
_RANKING_LENGTH = 10


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqSelector(GraphComponent):
    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # The retrieval intent whose sub-intents this component tells apart.
            "retrieval_intent": "faq",
            # Featurizer names (aliases) to read; empty = all sparse text features.
            "featurizers": [],
            "max_iter": 300,
            # liblinear (one-vs-rest) fits these sparse counts in a tenth of lbfgs's time
            # (multinomial) with the same held-out accuracy: training time is an editor's wait.
            "solver": "liblinear",
            # Inverse regularisation strength of the logistic regression.
            "C": 10.0,
            "random_state": 42,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LogisticRegression | None = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
        retrieval_intents: list[str] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.model = model
        self.responses = responses or {}
        self.retrieval_intents = retrieval_intents or [self.config["retrieval_intent"]]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqSelector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        retrieval_intent = self.config["retrieval_intent"]
        examples = [
            example
            for example in training_data.intent_examples
            if example.get(INTENT) == retrieval_intent
            and example.get(INTENT_RESPONSE_KEY)
            and example.get(TEXT)
        ]
        self.retrieval_intents = sorted(training_data.retrieval_intents) or [retrieval_intent]
        prefix = f"utter_{retrieval_intent}/"
        self.responses = {
            name: list(answers)
            for name, answers in training_data.responses.items()
            if name.startswith(prefix)
        }
        labels = [example.get(INTENT_RESPONSE_KEY) for example in examples]
        if len(set(labels)) < 2:
            logger.debug("FaqSelector: fewer than two answers to choose from; not trained")
            self.model = None
        else:
            self.model = LogisticRegression(
                C=float(self.config["C"]),
                max_iter=int(self.config["max_iter"]),
                solver=str(self.config["solver"]),
                class_weight="balanced",
                random_state=self.config["random_state"],
            )
            self.model.fit(self._features(examples), labels)
        self._persist()
        return self._resource

    def _features(self, messages: list[Message]) -> csr_matrix:
        featurizers = list(self.config["featurizers"]) or None
        rows = []
        for message in messages:
            _, sentence = message.get_sparse_features(TEXT, featurizers)
            rows.append(csr_matrix(sentence.features if sentence else []))
        return vstack(rows).tocsr() if rows else csr_matrix((0, 0))

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None or not messages:
            return messages
        probabilities = self.model.predict_proba(self._features(messages))
        retrieval_intent = self.config["retrieval_intent"]
        for message, row in zip(messages, probabilities, strict=True):
            ranking = sorted(
                (
                    {PREDICTED_CONFIDENCE_KEY: float(p), INTENT_RESPONSE_KEY: str(key)}
                    for key, p in zip(self.model.classes_, row, strict=True)
                ),
                key=lambda entry: -entry[PREDICTED_CONFIDENCE_KEY],
            )[:_RANKING_LENGTH]
            best = ranking[0]
            utter_action = f"utter_{best[INTENT_RESPONSE_KEY]}"
            properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME, {})
            properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self.retrieval_intents
            properties[retrieval_intent] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(
                        utter_action, [{TEXT: best[INTENT_RESPONSE_KEY]}]
                    ),
                    PREDICTED_CONFIDENCE_KEY: best[PREDICTED_CONFIDENCE_KEY],
                    INTENT_RESPONSE_KEY: best[INTENT_RESPONSE_KEY],
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
                },
                RESPONSE_SELECTOR_RANKING_KEY: ranking,
            }
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def _persist(self) -> None:
        import json

        import skops.io as sio

        with self._storage.write_to(self._resource) as directory:
            meta = {"responses": self.responses, "retrieval_intents": self.retrieval_intents}
            (directory / "faq_selector.json").write_text(json.dumps(meta), "utf-8")
            if self.model is not None:
                sio.dump(self.model, directory / _MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FaqSelector:
        import json

        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / "faq_selector.json").read_text("utf-8"))
                path = directory / _MODEL_FILE
                model = None
                if path.exists():
                    # Like Rasa's own classifiers: refuse a file with types skops does not
                    # trust by default (a logistic regression has none).
                    if sio.get_untrusted_types(file=path):
                        raise ValueError(f"untrusted types in {path}")
                    model = sio.load(path, trusted=[])
        except ValueError:
            logger.warning("FaqSelector: no trained model found; FAQ answers are off")
            return cls(config, model_storage, resource)
        return cls(
            config, model_storage, resource, model, meta["responses"], meta["retrieval_intents"]
        )
