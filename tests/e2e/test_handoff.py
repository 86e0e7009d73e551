"""The human handoff end to end: real Rasa, actions and bot, two agents over the agent API,
a Persian-speaking customer and an English-speaking agent through the test translator.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.conftest import (
    AGENT_TIMEOUT,
    add_agent,
    agent_call,
    messages_of,
    post,
)
from tests.texts import said

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def agents(stack):
    """Daan (Dutch, English) and Emma (English), one chat at a time, and a clear desk.

    Agents of earlier modules are gone first (no sign of life for the timeout); tickets
    they left are taken and closed, so routing starts from an empty queue.
    """
    time.sleep(AGENT_TIMEOUT + 1)
    suffix = uuid.uuid4().hex[:6]
    daan = add_agent(stack, f"Daan-{suffix}", "nl,en", limit=1)
    emma = add_agent(stack, f"Emma-{suffix}", "en", limit=1)
    for _ in range(50):
        _, listed = agent_call(stack, daan, "GET", "/tickets")
        agent_call(stack, emma, "GET", "/tickets")
        open_tickets = [t for t in listed["tickets"] if t["status"] != "resolved"]
        if not open_tickets:
            break
        for ticket in open_tickets:
            for token in (daan, emma):
                agent_call(stack, token, "POST", f"/tickets/{ticket['id']}/claim")
                agent_call(stack, token, "POST", f"/tickets/{ticket['id']}/resolve")
    return {"daan": daan, "emma": emma, "suffix": suffix}


def test_two_agents_language_routing_translation_queue_and_rating(stack, translator, agents):
    daan, emma, suffix = agents["daan"], agents["emma"], agents["suffix"]
    for token in (daan, emma):
        assert agent_call(stack, token, "GET", "/tickets")[0] == 200  # both online

    # A Dutch customer asks for a person: the Dutch speaker takes it.
    dutch = f"nl-{suffix}"
    body = post(stack.bot_url, {"sender": dutch, "text": "Ik wil graag met een medewerker praten"})
    assert body["language"] == "nl"
    assert body["handoff"]["status"] == "assigned"
    assert body["messages"][-1]["text"] == said(
        "utter_handoff_assigned", "nl", agent_name=f"Daan-{suffix}"
    )

    # A Persian customer: nobody speaks Persian, so the free English agent takes it.
    persian = f"fa-{suffix}"
    post(stack.bot_url, {"sender": persian, "text": "سلام"})
    body = post(stack.bot_url, {"sender": persian, "text": "می‌خواهم با یک انسان صحبت کنم"})
    assert body["language"] == "fa"
    assert body["handoff"]["status"] == "assigned"
    assert body["messages"][-1]["text"] == said(
        "utter_handoff_assigned", "fa", agent_name=f"Emma-{suffix}"
    )
    ticket = body["handoff"]["ticket"]

    # Both agents busy: the next customer waits, and is told where and how long.
    third = f"en-{suffix}"
    queued = post(stack.bot_url, {"sender": third, "text": "can I talk to a real person please"})
    assert queued["handoff"]["status"] == "queued"
    assert queued["handoff"]["position"] == 1 and queued["handoff"]["eta_minutes"] >= 1
    assert queued["messages"][-1]["text"] == said(
        "utter_handoff_queued",
        "en",
        position=1,
        eta_minutes=queued["handoff"]["eta_minutes"],
    )

    # The bot is silent while Emma has the chat; she reads the customer in English.
    silent = post(stack.bot_url, {"sender": persian, "text": "سفارشم هنوز نرسیده"})
    assert silent["messages"] == [] and silent["handoff"]["ticket"] == ticket
    status, detail = agent_call(stack, emma, "GET", f"/tickets/{ticket}")
    assert status == 200 and detail["agent_language"] == "en"
    last = detail["transcript"][-1]
    assert (last["from"], last["text"]) == ("customer", "سفارشم هنوز نرسیده")
    assert last["translation"] == "[en] سفارشم هنوز نرسیده"

    # Emma answers in English; the customer reads Persian (the test translator marks it).
    status, sent = agent_call(
        stack, emma, "POST", f"/tickets/{ticket}/messages", {"text": "Your parcel ships today."}
    )
    assert status == 201 and sent["original"] == "Your parcel ships today."
    assert "Your parcel ships today." in translator.received
    customer_sees = messages_of(stack, persian)[-1]
    assert customer_sees["from"] == "agent"
    assert customer_sees["text"] == "[fa] Your parcel ships today."

    # Emma resolves: the customer is back with the bot, which asks for a rating in Persian;
    # Emma is free again and the waiting customer is hers.
    status, resolved = agent_call(stack, emma, "POST", f"/tickets/{ticket}/resolve")
    assert status == 200 and resolved["status"] == "resolved"
    assert [m["text"] for m in messages_of(stack, persian)[-2:]] == [
        said("utter_handoff_resolved", "fa"),
        said("utter_csat_ask", "fa"),
    ]
    assert messages_of(stack, third)[-1]["text"] == said(
        "utter_handoff_agent_joined", "en", agent_name=f"Emma-{suffix}"
    )
    rated = post(stack.bot_url, {"sender": persian, "text": "۵"})
    assert rated["messages"][0]["text"] == said("utter_csat_thanks", "fa")
    assert agent_call(stack, emma, "GET", f"/tickets/{ticket}")[1]["csat"] == 5

    # Bad input on the agent side: clear JSON errors.
    assert agent_call(stack, daan, "POST", f"/tickets/{ticket}/messages", {"text": "hi"})[0] == 409
    assert agent_call(stack, daan, "POST", "/tickets/999999/claim")[0] == 404
    assert agent_call(stack, "wrong-token", "GET", "/tickets")[0] == 401


def test_an_angry_customer_gets_a_hot_ticket_through_the_nlu(stack, agents):
    sender = f"angry-{agents['suffix']}"
    post(stack.bot_url, {"sender": sender, "text": "hello"})
    body = post(
        stack.bot_url, {"sender": sender, "text": "WHERE IS MY ORDER?!?! This is ridiculous"}
    )
    assert body["handoff"] is not None
    assert body["messages"][-2]["text"] == said("utter_handoff_sorry", "en")
    _, detail = agent_call(stack, agents["daan"], "GET", f"/tickets/{body['handoff']['ticket']}")
    assert (detail["reason"], detail["priority"]) == ("anger", "hot")
    assert detail["intent"] == "track_order"
    assert "WHERE IS MY ORDER" in detail["summary"]


def test_a_legal_threat_in_hebrew_reaches_a_person(stack, agents):
    sender = f"legal-{agents['suffix']}"
    body = post(
        stack.bot_url,
        {"sender": sender, "text": "אם לא תחזירו לי את הכסף אני פונה לעורך דין ותובע אתכם"},
    )
    assert body["language"] == "he"
    assert body["handoff"] is not None
    _, detail = agent_call(stack, agents["daan"], "GET", f"/tickets/{body['handoff']['ticket']}")
    assert detail["reason"] == "legal" and detail["priority"] == "hot"
