"""The customer's "send me this by e-mail" on the Rasa side (actions/email.py and its form
in actions/forms.py), with a CollectingDispatcher: the address is read from the message
or asked for, and what the gateway receives is the ContinueByEmail signal's exact payload."""

from __future__ import annotations

from actions.email import ActionContinueByEmail
from tests.actions.test_account import checked, run, tracker, validate
from tolk_core.signals import ContinueByEmail, parse

FORM = "continue_by_email_form"


async def test_an_address_in_the_request_itself_is_taken():
    asked = tracker("kun je dit naar Noor@Example.nl mailen?", intent="continue_by_email")
    messages, slots = await validate(FORM, asked)
    assert messages == []
    assert slots["email"].lower() == "noor@example.nl"


async def test_without_an_address_the_form_asks_and_a_bad_one_is_refused():
    asked = tracker("stuur me dit per mail", intent="continue_by_email")
    _, slots = await validate(FORM, asked)
    assert slots.get("email") is None
    typo = tracker("noor at example", intent="nlu_fallback", requested_slot="email")
    messages, slots = await validate(FORM, typo)
    assert [m["response"] for m in messages] == ["utter_invalid_email"]
    assert slots["email"] is None


async def test_the_gateway_gets_the_signal_and_an_unverified_address_is_not_kept():
    messages, slots = await run(ActionContinueByEmail, tracker("", email="noor@example.nl"))
    assert [parse(m["custom"]) for m in messages] == [ContinueByEmail("noor@example.nl")]
    # Not kept: a typed address must not stand in for a verified one later.
    assert slots == {"email": None}


async def test_a_verified_customers_address_stays():
    slots_before = checked("10001", "alex@example.com")
    messages, slots = await run(ActionContinueByEmail, tracker("", **slots_before))
    assert [m["custom"] for m in messages] == [{"continue_by_email": "alex@example.com"}]
    assert slots == {}


async def test_a_form_let_go_without_an_address_says_so_and_signals_nothing():
    messages, slots = await run(ActionContinueByEmail, tracker("", email=None))
    assert [m.get("response") for m in messages] == ["utter_form_stopped"]
    assert "custom" not in messages[0] or not messages[0]["custom"]
    assert slots == {}
