"""The actions↔gateway signals (tolk_core/signals.py), in both environments: the exact
wire dicts Rasa stores in its trackers, round trips, and payloads nobody should send."""

from __future__ import annotations

import importlib.util
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tolk_core.signals import (
    HANDOFF_REASONS,
    ContinueByEmail,
    Erase,
    Handoff,
    SetLanguage,
    SignalError,
    parse,
)

RASA_ENVIRONMENT = importlib.util.find_spec("rasa") is not None


def test_the_wire_format_is_what_rasa_stores_in_its_trackers():
    assert Handoff("anger", "track_order").to_payload() == {
        "handoff": {"reason": "anger", "intent": "track_order"}
    }
    assert Handoff("stuck").to_payload() == {"handoff": {"reason": "stuck", "intent": None}}
    assert Erase().to_payload() == {"erase": True}
    assert SetLanguage("nl").to_payload() == {"set_language": "nl"}
    assert ContinueByEmail("sam@example.com").to_payload() == {
        "continue_by_email": "sam@example.com"
    }


@pytest.mark.parametrize(
    "payload, signal",
    [
        (
            {"handoff": {"reason": "request", "intent": "request_human"}},
            Handoff("request", "request_human"),
        ),
        (
            {"handoff": {"reason": "payment", "intent": "payment_issue"}},
            Handoff("payment", "payment_issue"),
        ),
        ({"handoff": {"reason": "stuck", "intent": None}}, Handoff("stuck", None)),
        (
            {"handoff": {"reason": "legal", "intent": "faq/return_policy"}},
            Handoff("legal", "faq/return_policy"),
        ),
        ({"erase": True}, Erase()),
        ({"set_language": "fa"}, SetLanguage("fa")),
        ({"set_language": "pt-BR"}, SetLanguage("pt-BR")),
        ({"continue_by_email": "sam@example.com"}, ContinueByEmail("sam@example.com")),
        ({"continue_by_email": "נועה@דוגמה.ישראל"}, ContinueByEmail("נועה@דוגמה.ישראל")),
    ],
)
def test_what_the_actions_send_is_read_back(payload, signal):
    assert parse(payload) == signal
    # Through JSON too, as Rasa passes it on.
    assert parse(json.loads(json.dumps(payload))) == signal
    assert signal.to_payload() == payload


@pytest.mark.parametrize("reason", sorted(HANDOFF_REASONS))
def test_every_reason_fits_the_tickets_column(reason):
    assert len(reason) <= 16  # bot/db.py tickets.reason
    assert parse(Handoff(reason).to_payload()) == Handoff(reason)


def test_no_payload_is_no_signal():
    assert parse(None) is None
    assert parse({}) is None


@pytest.mark.parametrize(
    "payload, says",
    [
        ({"handoff": {"reason": "bored", "intent": None}}, "unknown handoff reason 'bored'"),
        ({"handoff": {"reason": None, "intent": None}}, "unknown handoff reason None"),
        ({"handoff": {"reason": ["anger"], "intent": None}}, "unknown handoff reason"),
        ({"handoff": {"reason": "anger"}}, "reason and intent"),
        ({"handoff": {"reason": "anger", "intent": None, "ticket": 3}}, "reason and intent"),
        ({"handoff": {"reason": "anger", "intent": 7}}, "not an intent name"),
        ({"handoff": {"reason": "anger", "intent": "x" * 65}}, "not an intent name"),
        ({"handoff": {"reason": "anger", "intent": "track order\n"}}, "not an intent name"),
        ({"handoff": True}, "handoff must be an object"),
        ({"handoff": "anger"}, "handoff must be an object"),
        ({"erase": False}, "erase must be true"),
        ({"erase": 1}, "erase must be true"),
        ({"erase": "true"}, "erase must be true"),
        ({"set_language": ""}, "not a language code"),
        ({"set_language": "Dutch"}, "not a language code"),
        ({"set_language": "nl\n"}, "not a language code"),
        ({"set_language": "../../etc"}, "not a language code"),
        ({"set_language": None}, "not a language code"),
        ({"set_language": "en-" + "x" * 20}, "not a language code"),
        ({"continue_by_email": ""}, "not an e-mail address"),
        ({"continue_by_email": "sam"}, "not an e-mail address"),
        ({"continue_by_email": "sam@"}, "not an e-mail address"),
        ({"continue_by_email": "a@b@c"}, "not an e-mail address"),
        ({"continue_by_email": "sam @example.com"}, "not an e-mail address"),
        ({"continue_by_email": "sam@example.com\nBcc: x@y"}, "not an e-mail address"),
        ({"continue_by_email": "s" * 300 + "@example.com"}, "not an e-mail address"),
        ({"continue_by_email": ["sam@example.com"]}, "not an e-mail address"),
        ({"handoff": {"reason": "anger", "intent": None}, "erase": True}, "exactly one key"),
        ({"delete_everything": True}, "unknown signal 'delete_everything'"),
        ([{"erase": True}], "JSON object, not list"),
        ("erase", "JSON object, not str"),
        (0, "JSON object, not int"),
    ],
)
def test_anything_else_is_a_clear_error(payload, says):
    with pytest.raises(SignalError) as raised:
        parse(payload)
    assert says in str(raised.value)


def test_the_sending_side_is_checked_too():
    with pytest.raises(SignalError):
        Handoff("because")
    with pytest.raises(SignalError):
        Handoff("anger", "")
    with pytest.raises(SignalError):
        SetLanguage("nederlands")


def test_a_long_value_is_quoted_short():
    with pytest.raises(SignalError) as raised:
        parse({"x" * 10_000: True})
    assert len(str(raised.value)) < 120


def test_signals_are_values():
    assert Erase() == Erase()
    assert {Handoff("anger", "track_order"), Handoff("anger", "track_order")} == {
        Handoff("anger", "track_order")
    }
    with pytest.raises(AttributeError):
        SetLanguage("nl").code = "en"  # type: ignore[misc]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    ["handoff", "erase", "set_language", "continue_by_email", "reason", "intent"]
)
# Payloads close to real ones: the right keys with any values, any keys around them.
_NEAR = st.dictionaries(
    _KEYS | st.text(max_size=8),
    _JSON | st.dictionaries(_KEYS, _JSON, max_size=3) | st.sampled_from(sorted(HANDOFF_REASONS)),
    max_size=3,
)


@given(st.one_of(_JSON, _NEAR))
def test_hostile_payloads_are_a_signal_error_or_the_exact_signal(payload):
    try:
        signal = parse(payload)
    except SignalError:
        return
    if signal is None:
        assert payload in (None, {})
    else:
        # Accepted only when it is exactly the wire format, nothing dropped or coerced.
        assert signal.to_payload() == payload
        assert json.loads(json.dumps(payload)) == payload


@given(
    st.sampled_from(sorted(HANDOFF_REASONS)),
    st.none() | st.from_regex(r"[a-z_]{1,20}(/[a-z_]{1,20})?", fullmatch=True),
)
def test_every_handoff_round_trips(reason, intent):
    signal = Handoff(reason, intent)
    assert parse(json.loads(json.dumps(signal.to_payload()))) == signal


@pytest.mark.skipif(not RASA_ENVIRONMENT, reason="the escalation detector runs with Rasa")
def test_every_escalation_reason_is_a_handoff_reason():
    from nlu_components.escalation.policy import SENSITIVE

    assert {"request", "complaint", "anger", *SENSITIVE} <= HANDOFF_REASONS


@pytest.mark.skipif(RASA_ENVIRONMENT, reason="the handoff service runs in the gateway")
def test_every_reason_the_gateway_words_is_a_handoff_reason():
    from bot.handoff.service import _INTRO, COMPLAINT_REASONS, HOT_REASONS

    assert {*HOT_REASONS, *COMPLAINT_REASONS, *_INTRO} <= HANDOFF_REASONS
