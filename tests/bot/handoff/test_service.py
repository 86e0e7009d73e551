"""The handoff as customers and agents notice it, through the bot's HTTP API.

A fake Rasa stands in for action_handoff (its custom payload); agents use the agent API
with their tokens; a LibreTranslate stand-in translates between them.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.handoff.hours import DAYS
from tests.bot.handoff.conftest import escalate
from tests.texts import said


async def test_nobody_in_the_team_the_customer_can_leave_an_email(team, fake_rasa):
    body = await team.say("c1", "/human")
    assert body["handoff"]["status"] == "queued"
    texts = [m["text"] for m in body["messages"]]
    assert texts[-2:] == [
        said("utter_handoff_request", "en"),
        said("utter_handoff_no_team", "en", support_email="support@example.com"),
    ]
    asked_rasa = len(fake_rasa.received)
    body = await team.say("c1", "you can reach me at c1@example.org please")
    assert [m["text"] for m in body["messages"]] == [
        said("utter_handoff_email_noted", "en", email="c1@example.org")
    ]
    assert len(fake_rasa.received) == asked_rasa, "the bot stays out of a handed-over chat"


async def test_a_dutch_customer_goes_to_the_dutch_speaker(team, fake_rasa):
    emma, daan = await team.add("Emma", "en"), await team.add("Daan", "nl,en")
    await team.online(emma, daan)
    escalate(fake_rasa, "complaint", "complain")
    body = await team.say("nl1", "Mijn pakket is beschadigd aangekomen, dit is niet oké")
    assert body["language"] == "nl"
    assert body["handoff"]["status"] == "assigned"
    assert body["messages"][-1]["text"] == said("utter_handoff_assigned", "nl", agent_name="Daan")
    status, ticket = await team.call("GET", f"/tickets/{body['handoff']['ticket']}", daan)
    assert status == 200
    assert ticket["agent"]["name"] == "Daan" and ticket["priority"] == "cold"
    assert "beschadigd" in ticket["summary"]


async def test_a_persian_customer_reads_the_english_agent_in_persian(team, fake_rasa, translator):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    escalate(fake_rasa, "request", "request_human")
    body = await team.say("fa1", "می‌خواهم با یک انسان صحبت کنم")
    ticket_id = body["handoff"]["ticket"]
    assert body["messages"][-1]["text"] == said("utter_handoff_assigned", "fa", agent_name="Emma")

    await team.say("fa1", "سفارش من هنوز نرسیده است")
    status, ticket = await team.call("GET", f"/tickets/{ticket_id}", emma)
    last = ticket["transcript"][-1]
    assert last["from"] == "customer" and last["text"] == "سفارش من هنوز نرسیده است"
    assert last["translation"] == "[en] سفارش من هنوز نرسیده است"  # the fake marks its work

    status, sent = await team.call(
        "POST", f"/tickets/{ticket_id}/messages", emma, json={"text": "I am checking it now."}
    )
    assert status == 201
    assert (
        sent["text"] == "[fa] I am checking it now." and sent["original"] == "I am checking it now."
    )
    customer_sees = await team.transcript("fa1")
    assert customer_sees[-1]["from"] == "agent"
    assert customer_sees[-1]["text"] == "[fa] I am checking it now."


async def test_canned_replies_come_in_the_customers_language_as_written(team, fake_rasa):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    ticket = (await team.say("he1", "/human", language="he"))["handoff"]
    status, sent = await team.call(
        "POST", f"/tickets/{ticket['ticket']}/messages", emma, json={"canned": "greeting"}
    )
    assert status == 201
    assert sent["text"] == said("canned/greeting", "he", agent_name="Emma")


async def test_queue_position_and_wait_when_agents_are_busy(team, fake_rasa):
    emma = await team.add("Emma", "en", limit=1)
    await team.online(emma)
    first = await team.say("q1", "/human")
    second = await team.say("q2", "/human")
    third = await team.say("q3", "/human")
    assert first["handoff"]["status"] == "assigned"
    assert (second["handoff"]["position"], third["handoff"]["position"]) == (1, 2)
    assert second["handoff"]["eta_minutes"] == 5 and third["handoff"]["eta_minutes"] == 10
    assert third["messages"][-1]["text"] == said(
        "utter_handoff_queued", "en", position=2, eta_minutes=10
    )
    # A hot ticket jumps the cold queue.
    escalate(fake_rasa, "anger", "track_order")
    angry = await team.say("q4", "WHERE IS MY ORDER?!?! This is ridiculous")
    assert angry["handoff"]["position"] == 1
    _, listed = await team.call("GET", "/tickets?status=queued", emma)
    assert [(t["id"], t["position"], t["eta_minutes"]) for t in listed["tickets"]] == [
        (angry["handoff"]["ticket"], 1, 5),
        (second["handoff"]["ticket"], 2, 10),
        (third["handoff"]["ticket"], 3, 15),
    ]

    # Resolving frees Emma: the next ticket in line is hers, and that customer is told.
    await team.call("POST", f"/tickets/{first['handoff']['ticket']}/resolve", emma)
    told = await team.transcript("q4")
    assert told[-1]["text"] == said("utter_handoff_agent_joined", "en", agent_name="Emma")


async def test_hot_tickets_anger_surges_and_repeat_complaints(team, fake_rasa):
    escalate(fake_rasa, "anger", "track_order")
    angry = await team.say("h1", "This is ridiculous!!!")
    escalate(fake_rasa, "request", "payment_issue")
    calm = [await team.say(f"s{n}", "my payment failed, can a person help?") for n in range(3)]
    emma = await team.add("Emma", "en")
    tickets = (await team.call("GET", "/tickets", emma))[1]["tickets"]
    listed = {ticket["id"]: ticket for ticket in tickets}
    assert listed[angry["handoff"]["ticket"]]["priority"] == "hot"
    assert [listed[c["handoff"]["ticket"]]["priority"] for c in calm] == ["cold", "cold", "hot"]
    assert "3 customers about payment_issue" in listed[calm[2]["handoff"]["ticket"]]["priority_why"]

    # A customer whose complaint was handled yesterday and who needs a person again.
    escalate(fake_rasa, "complaint", "complain")
    first = (await team.say("p1", "The parcel arrived damaged"))["handoff"]["ticket"]
    await team.call("POST", f"/tickets/{first}/claim", emma)
    await team.call("POST", f"/tickets/{first}/resolve", emma)
    await team.say("p1", "/csat 2")
    escalate(fake_rasa, "request", "request_human")
    again = (await team.say("p1", "I want a person"))["handoff"]["ticket"]
    _, detail = await team.call("GET", f"/tickets/{again}", emma)
    assert (detail["priority"], detail["priority_why"]) == (
        "hot",
        "repeat customer with an open complaint",
    )
    assert [t["id"] for t in detail["earlier_tickets"]] == [first]


async def test_resolving_returns_the_customer_to_the_bot_which_asks_for_a_rating(team, fake_rasa):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    ticket = (await team.say("r1", "/human"))["handoff"]["ticket"]
    status, resolved = await team.call("POST", f"/tickets/{ticket}/resolve", emma)
    assert status == 200 and resolved["status"] == "resolved"
    messages = await team.transcript("r1")
    assert [m["text"] for m in messages[-2:]] == [
        said("utter_handoff_resolved", "en"),
        said("utter_csat_ask", "en"),
    ]
    asked_rasa = len(fake_rasa.received)
    body = await team.say("r1", "/csat 4")
    assert body["messages"][0]["text"] == said("utter_csat_thanks", "en")
    assert body["handoff"] is None and len(fake_rasa.received) == asked_rasa
    status, stored = await team.call("GET", f"/tickets/{ticket}", emma)
    assert stored["csat"] == 4
    # After the rating the bot answers as usual again.
    fake_rasa.replies = [{"text": "an answer"}]
    assert (await team.say("r1", "thanks"))["messages"][-1]["text"] == "an answer"


async def test_a_typed_persian_digit_counts_as_a_rating(team):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    await team.say("r2", "سلام", language="fa")
    ticket = (await team.say("r2", "/human"))["handoff"]["ticket"]
    await team.call("POST", f"/tickets/{ticket}/resolve", emma)
    body = await team.say("r2", "۵")
    assert body["messages"][0]["text"] == said("utter_csat_thanks", "fa")
    assert (await team.call("GET", f"/tickets/{ticket}", emma))[1]["csat"] == 5


async def test_outside_hours_the_customer_hears_when_the_team_is_back_in_their_time(team):
    tomorrow = DAYS[(datetime.now(timezone.utc).weekday() + 1) % 7]
    await team.add("Daan", "nl,en", hours=f"{tomorrow} 09:00-17:00", zone="Europe/Amsterdam")
    web_customer = await team.say("w1", "/human", timezone="Asia/Tehran")
    assert web_customer["handoff"]["status"] == "queued"
    weekdays = said("utter_weekdays", "en").split("|")
    day = weekdays[DAYS.index(tomorrow)]
    # 09:00 in Amsterdam (UTC+1 in winter, +2 in summer) is 11:30 or 10:30 in Tehran (+3:30).
    told = web_customer["messages"][-1]["text"]
    assert told in {
        said("utter_handoff_after_hours", "en", back_at=f"{day} {clock}")
        for clock in ("11:30", "10:30")
    }
    unknown_zone = await team.say("w2", "/human")
    assert unknown_zone["messages"][-1]["text"] == said(
        "utter_handoff_after_hours_zone", "en", back_at=f"{day} 09:00", zone="Europe/Amsterdam"
    )


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/tickets/999", None, 404, "no ticket 999"),
        ("/tickets/abc", None, 404, "no ticket"),
        ("/tickets?status=open", None, 400, "status"),
    ],
)
async def test_unknown_tickets_and_bad_input_get_clear_json_errors(team, path, body, status, says):
    emma = await team.add("Emma", "en")
    got, error = await team.call("GET", path, emma)
    assert got == status and says in error["error"]


async def test_wrong_or_missing_tokens_are_refused(team):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = await team.client.get("/api/v1/agent/tickets", headers=headers)
        assert response.status == 401
        assert "token" in (await response.json())["error"]


async def test_one_ticket_one_agent_and_nothing_after_resolving(team):
    emma, daan = await team.add("Emma", "en"), await team.add("Daan", "nl,en")
    ticket = (await team.say("x1", "/human"))["handoff"]["ticket"]
    status, _ = await team.call("POST", f"/tickets/{ticket}/claim", emma)
    assert status == 200
    status, error = await team.call("POST", f"/tickets/{ticket}/claim", daan)
    assert status == 409 and "held by Emma" in error["error"]
    status, error = await team.call(
        "POST", f"/tickets/{ticket}/messages", daan, json={"text": "hi"}
    )
    assert status == 409 and "held by Emma" in error["error"]
    status, error = await team.call("POST", f"/tickets/{ticket}/messages", emma, json={"text": ""})
    assert status == 400
    status, _ = await team.call("POST", f"/tickets/{ticket}/notes", daan, json={"text": "VIP"})
    assert status == 201
    await team.call("POST", f"/tickets/{ticket}/resolve", emma)
    status, error = await team.call("POST", f"/tickets/{ticket}/messages", emma, json={"text": "x"})
    assert status == 409 and "resolved" in error["error"]
    status, detail = await team.call("GET", f"/tickets/{ticket}", daan)
    assert [n["text"] for n in detail["notes"]] == ["VIP"]
    assert all(m["text"] != "VIP" for m in await team.transcript("x1")), "notes stay private"


async def test_the_translator_down_means_the_agent_is_told_and_nothing_is_sent(team, translator):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    await team.say("d1", "Hallo, ik wil een medewerker spreken", language="nl")
    ticket = (await team.say("d1", "/human"))["handoff"]["ticket"]
    translator.mode = "500"
    before = await team.transcript("d1")
    status, error = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "Checking now"}
    )
    assert status == 503 and "nothing was sent" in error["error"]
    assert await team.transcript("d1") == before


async def test_a_person_is_reached_even_when_rasa_is_down(team, fake_rasa):
    fake_rasa.status = 500
    body = await team.say("down1", "/human")
    assert body["handoff"]["status"] == "queued"
    texts = [m["text"] for m in body["messages"]]
    assert said("utter_service_unavailable", "en", support_email="support@example.com") not in texts
    assert said("utter_handoff_request", "en") in texts
    assert fake_rasa.received[-1]["message"] == "/request_human", "Rasa was asked first"
