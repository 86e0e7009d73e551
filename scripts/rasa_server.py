"""`rasa run` as make run starts it, with two costs of Rasa 3.6 taken out.

.venv-rasa/bin/python -m scripts.rasa_server run --model models/tolk.tar.gz ...

Takes the same arguments as the `rasa` command. Both were found by profiling the stack
(py-spy on each process, `python -m bot bench --full`):
- Rasa checks every action server answer (`RemoteAction._validate_action_result`) and
  every /nlg answer (`CallbackNaturalLanguageGenerator.validate_response`) with
  `jsonschema.validate`, which first validates the *schema* against its meta-schema, on
  every call: a fifth of Rasa's CPU per message. `CachedSchemaValidation` checks each
  schema once and keeps its validator; the answer is still validated every time and a
  bad one raises the same `ValidationError`.
- For every response it asks /nlg for, Rasa serialises the tracker with every event of
  the conversation, and the gateway parses it: the body grows with each message, and
  parsing it took most of the gateway's time on a long conversation. The gateway reads
  only `sender_id`, `slots` and `latest_message` (bot/nlg.py, bot/outcomes.py), so
  `lean_nlg_request` sends the tracker's state without its events (`"events": null`,
  Rasa's own EventVerbosity.NONE); everything else in the request is as Rasa sends it.
- The gateway sends the conversation's last customer texts in the metadata (`recent`, for
  "asked the same again" in nlu_components/escalation_detector.py). Rasa keeps a message's
  metadata in its stored event and decodes every event of the conversation again for each
  new message, so those texts cost Rasa CPU on every later message of the conversation
  (the full path's extra Rasa CPU in the bench). `forget_recent` drops them once the NLU
  has read them; nothing after the NLU reads them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

# Rasa uses two schemas; a bound in case something else validates many different ones.
MAX_SCHEMAS = 64


class CachedSchemaValidation:
    """A drop-in for `jsonschema.validate(instance, schema)` that checks a schema once."""

    def __init__(self, original: Callable[..., None]) -> None:
        self._original = original
        self._validators: dict[str, Any] = {}

    def __call__(self, instance: Any, schema: Any, cls: Any = None, *args, **kwargs) -> None:
        if cls is not None or args or kwargs or not isinstance(schema, dict):
            return self._original(instance, schema, cls, *args, **kwargs)
        # Rasa builds its schema dicts afresh on each call: the key is their content.
        key = json.dumps(schema, sort_keys=True, default=repr)
        validator = self._validators.get(key)
        if validator is None:
            kind = validator_for(schema)
            kind.check_schema(schema)  # raises SchemaError, as jsonschema.validate does
            validator = kind(schema)
            if len(self._validators) >= MAX_SCHEMAS:
                self._validators.clear()
            self._validators[key] = validator
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            raise error
        return None


def lean_nlg_request(
    utter_action: str, tracker: Any, output_channel: str, **kwargs: Any
) -> dict[str, Any]:
    """`rasa.core.nlg.callback.nlg_request_format`, with the tracker's events left out."""
    from rasa.shared.core.trackers import EventVerbosity  # Rasa's environment only

    response_id = kwargs.pop("response_id", None)
    return {
        "response": utter_action,
        "id": response_id,
        "arguments": kwargs,
        "tracker": tracker.current_state(EventVerbosity.NONE),
        "channel": {"name": output_channel},
    }


# The metadata keys only the NLU reads (bot/inbound.py sends them).
NLU_ONLY_METADATA = ("recent",)


def forget_recent(parse_message: Callable[..., Any]) -> Callable[..., Any]:
    """`MessageProcessor.parse_message`, after which the message's metadata no longer holds
    NLU_ONLY_METADATA: Rasa builds the stored UserUttered event from it afterwards."""

    async def parse_then_forget(processor: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        parsed = await parse_message(processor, message, *args, **kwargs)
        metadata = getattr(message, "metadata", None)
        if isinstance(metadata, dict) and any(key in metadata for key in NLU_ONLY_METADATA):
            message.metadata = {k: v for k, v in metadata.items() if k not in NLU_ONLY_METADATA}
        return parsed

    parse_then_forget.forgets_recent = True  # type: ignore[attr-defined]
    return parse_then_forget


def install() -> None:
    """Rasa imports `validate` from jsonschema inside the functions that use it, and
    calls `nlg_request_format` by its module's name: replacing both before Rasa runs
    reaches every call."""
    from rasa.core.nlg import callback

    if not isinstance(jsonschema.validate, CachedSchemaValidation):
        jsonschema.validate = CachedSchemaValidation(jsonschema.validate)
    callback.nlg_request_format = lean_nlg_request
    from rasa.core.processor import MessageProcessor

    if not getattr(MessageProcessor.parse_message, "forgets_recent", False):
        MessageProcessor.parse_message = forget_recent(MessageProcessor.parse_message)


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
