"""What the gateway does with the custom payloads actions send through Rasa
(tolk_core/signals.py): the signals it knows act, anything else is logged and ignored."""

import logging

import pytest

from tests.texts import said


async def post(client, **body):
    response = await client.post("/api/v1/messages", json=body)
    assert response.status == 200
    return await response.json()


@pytest.mark.parametrize(
    "custom",
    [
        {"handoff": {"reason": "bored", "intent": None}},
        {"handoff": {"reason": "anger"}},
        {"handoff": "yes"},
        {"erase": False},
        {"erase": "true"},
        {"set_language": "Klingon please"},
        {"set_language": None},
        {"handoff": {"reason": "anger", "intent": None}, "erase": True},
        {"open_the_pod_bay_doors": True},
        ["erase"],
        "handoff",
        None,
    ],
)
async def test_a_payload_that_is_no_signal_is_logged_and_ignored(client, fake_rasa, caplog, custom):
    fake_rasa.replies = [{"text": "an answer"}, {"custom": custom}]
    with caplog.at_level(logging.WARNING, logger="bot.rasa_client"):
        body = await post(client, sender="odd", text="hello there")
    assert body["handoff"] is None, "no ticket for a reason nobody handles"
    assert body["language"] == "en"
    # The answer is delivered, and nothing empty after it.
    assert [m["text"] for m in body["messages"]][-1] == "an answer"
    assert all(m["text"] for m in body["messages"])
    history = await client.get("/api/v1/conversations/odd/messages")
    assert history.status == 200, "nothing erased"
    if custom is not None:
        assert "custom payload from Rasa ignored" in caplog.text


async def test_a_lone_payload_that_is_no_signal_asks_to_rephrase(client, fake_rasa):
    fake_rasa.replies = [{"custom": {"handoff": {"reason": "bored", "intent": None}}}]
    body = await post(client, sender="lone", text="hello there")
    assert body["handoff"] is None
    assert body["messages"][-1]["text"] == said("utter_ask_rephrase", "en")


async def test_a_handoff_opens_a_ticket_with_its_reason(client, fake_rasa):
    fake_rasa.replies = [{"custom": {"handoff": {"reason": "legal", "intent": "track_order"}}}]
    body = await post(client, sender="lawyer", text="I will sue you")
    assert body["handoff"] is not None
    assert body["handoff"]["status"] == "queued"


async def test_set_language_switches_to_a_language_the_bot_serves(client, fake_rasa):
    fake_rasa.replies = [{"custom": {"set_language": "nl"}}]
    body = await post(client, sender="switch", text="can we speak Dutch?")
    assert body["language"] == "nl"
    changed = said("utter_language_changed", "nl").replace("{language}", "Nederlands")
    assert body["messages"][-1]["text"] == changed
