"""scripts/rasa_server.py: Rasa's own checks of action server and /nlg answers, each
schema checked once."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema.exceptions import SchemaError, ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.nlg import callback
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from scripts import rasa_server


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(jsonschema, "validate", jsonschema.validate)  # undone afterwards
    monkeypatch.setattr(callback, "nlg_request_format", callback.nlg_request_format)
    rasa_server.install()
    assert isinstance(jsonschema.validate, rasa_server.CachedSchemaValidation)
    return jsonschema.validate


def test_nlg_answers_are_still_checked(installed):
    validate = CallbackNaturalLanguageGenerator.validate_response
    assert validate({"text": "Hello", "buttons": [], "custom": {"tolk": 1}}) is True
    assert validate(None) is True  # "nothing to say" stays allowed
    with pytest.raises(RasaException, match="Failed to validate NLG response"):
        validate({"text": 42})
    with pytest.raises(RasaException):
        validate({"buttons": "not a list"})


def test_action_server_answers_are_still_checked(installed):
    action = RemoteAction("action_anything", None)
    good = {"events": [{"event": "slot", "name": "email", "value": "a@b.example"}], "responses": []}
    assert action._validate_action_result(good) is True
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list", "responses": []})


def test_each_schema_is_checked_once(installed, monkeypatch):
    checks = []
    original = jsonschema.Draft202012Validator.check_schema
    monkeypatch.setattr(
        jsonschema.Draft202012Validator,
        "check_schema",
        classmethod(lambda cls, schema, **kw: checks.append(schema) or original(schema, **kw)),
    )
    validate = CallbackNaturalLanguageGenerator.validate_response
    for _ in range(5):
        validate({"text": "Hello"})
    action = RemoteAction("action_anything", None)
    for _ in range(5):
        action._validate_action_result({"events": [], "responses": []})
    assert len(checks) == 2  # the NLG schema and the action server's, once each


def test_the_same_errors_as_jsonschema(installed):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    cached = rasa_server.CachedSchemaValidation(jsonschema.validators.validate)
    for instance in ({"n": "x"}, {}, [], {"n": 1.5}):
        with pytest.raises(ValidationError) as expected:
            jsonschema.validators.validate(instance, schema)
        with pytest.raises(ValidationError) as got:
            cached(instance, schema)
        assert got.value.message == expected.value.message
        assert list(got.value.path) == list(expected.value.path)
    cached({"n": 3}, schema)
    with pytest.raises(SchemaError):  # a broken schema is still refused
        cached({}, {"type": 12})


def test_installing_twice_wraps_once(installed):
    rasa_server.install()
    assert not isinstance(installed._original, rasa_server.CachedSchemaValidation)


def test_nlg_requests_carry_what_the_gateway_reads_without_the_events(installed):
    events = [ActionExecuted("action_listen")]
    for n in range(30):  # a long conversation: the original body grows with each message
        events += [
            UserUttered(
                f"message {n}",
                intent={"name": "faq", "confidence": 0.9},
                metadata={"language": "nl", "message": n},
            ),
            SlotSet("email", f"c{n}@example.com"),
            ActionExecuted("utter_faq"),
            ActionExecuted("action_listen"),
        ]
    tracker = DialogueStateTracker.from_events("customer-1", events, slots=[])
    body = callback.nlg_request_format("utter_greet", tracker, "rest", response_id=None, x=1)
    assert body["response"] == "utter_greet" and body["arguments"] == {"x": 1}
    assert body["channel"] == {"name": "rest"}
    state = body["tracker"]
    assert state["sender_id"] == "customer-1"
    assert state["latest_message"]["metadata"] == {"language": "nl", "message": 29}
    assert state["latest_message"]["intent"]["name"] == "faq"
    assert state["events"] is None
    assert "slots" in state
    full = rasa_server.json.dumps(tracker.current_state(callback.EventVerbosity.ALL))
    assert len(rasa_server.json.dumps(body)) * 10 < len(full)


async def test_the_recent_texts_are_read_by_the_nlu_and_not_stored():
    from rasa.core.channels.channel import UserMessage

    seen = []

    async def parse_message(processor, message, tracker=None, only_output_properties=True):
        seen.append(dict(message.metadata or {}))  # what the NLU (escalation detector) reads
        return {"text": message.text, "intent": {"name": "greet"}, "entities": []}

    metadata = {"language": "nl", "message": 7, "recent": ["waar is mijn pakket?"]}
    message = UserMessage("waar is mijn pakket??", metadata=metadata)
    parsed = await rasa_server.forget_recent(parse_message)(object(), message, None)
    assert parsed["intent"] == {"name": "greet"}
    assert seen[0] == {"language": "nl", "message": 7, "recent": ["waar is mijn pakket?"]}
    # What Rasa stores with the UserUttered event, and what /nlg and the actions read.
    assert message.metadata == {"language": "nl", "message": 7}
    assert metadata["recent"] == ["waar is mijn pakket?"], "the caller's dict is left alone"
    bare = UserMessage("hallo", metadata=None)
    await rasa_server.forget_recent(parse_message)(object(), bare, None)
    assert bare.metadata is None


def test_parse_message_is_wrapped_once(installed, monkeypatch):
    from rasa.core.processor import MessageProcessor

    monkeypatch.setattr(MessageProcessor, "parse_message", MessageProcessor.parse_message)
    rasa_server.install()
    wrapped = MessageProcessor.parse_message
    rasa_server.install()
    assert MessageProcessor.parse_message is wrapped and wrapped.forgets_recent
