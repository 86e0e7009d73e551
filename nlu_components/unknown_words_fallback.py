"""A FallbackClassifier that also falls back when the message has no known word.

A linear classifier on character n-grams gives gibberish ("qwx zzkj plork") a confident
guess: with almost no known features the class priors decide, often at 0.4-0.5. A message
that shares no whole word with the training data and is not classified with high
confidence is better answered with "could you rephrase that?" than with a wrong answer.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class UnknownWordsFallbackClassifier(FallbackClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **FallbackClassifier.get_default_config(),
            # The `alias` of the word-level CountVectorsFeaturizer in config.yml.
            "word_featurizer": "word_counts",
            # Without a known word, a prediction must be at least this confident.
            "unknown_words_threshold": 0.7,
        }

    def _should_fallback(self, message: Message) -> bool:
        if super()._should_fallback(message):
            return True
        confidence = message.data[INTENT].get(PREDICTED_CONFIDENCE_KEY) or 0.0
        if confidence >= self.component_config["unknown_words_threshold"]:
            return False
        _, sentence = message.get_sparse_features(TEXT, [self.component_config["word_featurizer"]])
        return sentence is None or sentence.features.nnz == 0
