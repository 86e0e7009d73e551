"""A whitespace tokenizer that first normalises text the way the bot does.

Putting the normalisation inside the pipeline makes training and run time identical by
construction: Rasa runs the same component on training examples and on every message.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ACTION_NAME, INTENT, INTENT_RESPONSE_KEY
from rasa.shared.nlu.training_data.message import Message

from tolk_core.normalize import for_nlu

# Label attributes (intent names) must keep their exact spelling.
_LABELS = {INTENT, INTENT_RESPONSE_KEY, ACTION_NAME}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class NormalizingTokenizer(WhitespaceTokenizer):
    """Whitespace tokenisation of :func:`tolk_core.normalize.for_nlu` text."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        if attribute not in _LABELS:
            text = message.get(attribute)
            if isinstance(text, str):
                # Token offsets must point into the stored text, so store the normal form.
                message.set(attribute, for_nlu(text))
        return super().tokenize(message, attribute)
