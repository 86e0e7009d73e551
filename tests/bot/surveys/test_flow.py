"""Surveys as customers meet them, through the REST API with a Rasa that answers through
the bot's /nlg (conftest.py): when a question comes, once per session, skipped, dropped
for a real question, after a bot-only answer, after a ticket, CES after an account
request, NPS for the sample with its "why?"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.appkeys import ENGINE, SURVEYS
from bot.channels.base import Capabilities
from bot.db import messages, surveys
from bot.surveys.nps import in_sample
from tests.gateway_fixtures import NLG_HEADERS
from tests.texts import said

CSAT_PAYLOADS = [*(f"/csat {n}" for n in range(1, 6)), "/survey skip"]


async def rows(bot) -> list:
    async with bot.client.server.app[ENGINE].connect() as connection:
        return (await connection.execute(select(surveys).order_by(surveys.c.id))).all()


async def earlier(bot, by: timedelta) -> None:
    """Move everything stored back in time (SQLite cannot do date arithmetic on them)."""
    async with bot.client.server.app[ENGINE].begin() as connection:
        for table, column in ((messages, "created_at"), (surveys, "asked_at")):
            found = await connection.execute(select(table.c.id, table.c[column]))
            for row_id, moment in found.all():
                await connection.execute(
                    update(table).where(table.c.id == row_id).values({column: moment - by})
                )


async def test_csat_after_an_answered_faq_when_the_customer_thanks_asked_once(bot, fake_rasa):
    first = await bot.say("a1", "how long does shipping take?")
    assert [m["text"] for m in first["messages"]][-1] == said("utter_faq/shipping_time", "en")
    assert not await rows(bot), "no question while the customer may still ask more"

    closing = await bot.say("a1", "thanks")
    texts = [m["text"] for m in closing["messages"]]
    assert texts[-2:] == [said("utter_you_are_welcome", "en"), said("utter_csat_ask", "en")]
    assert [b["payload"] for b in closing["messages"][-1]["buttons"]] == CSAT_PAYLOADS

    asked_rasa = len(fake_rasa.received)
    rated = await bot.say("a1", "/csat 5")
    assert [m["text"] for m in rated["messages"]] == [said("utter_csat_thanks", "en")]
    assert len(fake_rasa.received) == asked_rasa, "the rating is the survey's, not Rasa's"
    [row] = await rows(bot)
    assert (row.kind, row.occasion, row.status, row.score, row.language, row.channel) == (
        "csat", "bot", "answered", 5, "en", "rest",
    )  # fmt: skip

    # Same session: thanking again gets the bot's answer and no second question.
    again = await bot.say("a1", "thanks")
    assert [m["text"] for m in again["messages"]] == [said("utter_you_are_welcome", "en")]
    assert len(await rows(bot)) == 1


async def test_no_question_when_the_bot_answered_no_request(bot):
    await bot.say("n1", "hello")
    await bot.say("n1", "blorp")  # not understood
    body = await bot.say("n1", "thanks")
    assert [m["text"] for m in body["messages"]] == [said("utter_you_are_welcome", "en")]
    assert not await rows(bot)


async def test_skipped_by_the_button_and_by_typed_words(bot):
    await bot.say("s1", "how long does shipping take?")
    await bot.say("s1", "bye")
    body = await bot.say("s1", "/survey skip")
    assert [m["text"] for m in body["messages"]] == [said("utter_survey_skipped", "en")]

    await bot.say("s2", "hoe lang duurt de verzending?", language="nl")
    asked = await bot.say("s2", "dank je wel", language="nl")
    assert asked["messages"][-1]["text"] == said("utter_csat_ask", "nl")
    assert asked["messages"][-1]["buttons"][-1] == {"title": "Overslaan", "payload": "/survey skip"}
    body = await bot.say("s2", "nee, bedankt", language="nl")
    assert [m["text"] for m in body["messages"]] == [said("utter_survey_skipped", "nl")]
    assert [(r.status, r.score) for r in await rows(bot)] == [("skipped", None)] * 2


async def test_another_message_drops_the_question_and_reaches_the_bot(bot, fake_rasa):
    await bot.say("d1", "how long does shipping take?")
    await bot.say("d1", "thanks")
    asked_rasa = len(fake_rasa.received)
    body = await bot.say("d1", "what is your return policy?")
    assert [m["text"] for m in body["messages"]] == [said("utter_faq/return_policy", "en")]
    assert len(fake_rasa.received) == asked_rasa + 1
    assert [r.status for r in await rows(bot)] == ["dropped"]
    # The question is gone: a "5" now is the customer's, for the bot.
    await bot.say("d1", "5")
    assert fake_rasa.received[-1]["message"] == "5"


async def test_a_question_is_open_for_its_session_only(bot, fake_rasa):
    await bot.say("e1", "how long does shipping take?")
    await bot.say("e1", "thanks")
    await earlier(bot, timedelta(hours=2))  # the customer comes back two hours later
    await bot.say("e1", "4")
    assert fake_rasa.received[-1]["message"] == "4"
    assert [r.status for r in await rows(bot)] == ["dropped"]


async def test_after_a_ticket_csat_in_the_customers_language_typed_as_a_word(bot):
    emma = await bot.add("Emma", "en,nl")
    await bot.online(emma)
    ticket = (await bot.say("t1", "/human", language="nl"))["handoff"]["ticket"]
    await bot.call("POST", f"/tickets/{ticket}/resolve", emma)
    told = [m["text"] for m in await bot.transcript("t1")][-2:]
    assert told == [said("utter_handoff_resolved", "nl"), said("utter_csat_ask", "nl")]
    body = await bot.say("t1", "vijf", language="nl")
    assert [m["text"] for m in body["messages"]] == [said("utter_csat_thanks", "nl")]
    [row] = await rows(bot)
    assert (row.kind, row.occasion, row.ticket_id, row.score) == ("csat", "ticket", ticket, 5)
    assert (await bot.call("GET", f"/tickets/{ticket}", emma))[1]["csat"] == 5
    # Thanking afterwards: this session had its question.
    body = await bot.say("t1", "dank je wel", language="nl")
    assert [m["text"] for m in body["messages"]] == [said("utter_you_are_welcome", "nl")]


async def test_ces_right_after_an_account_request_then_no_csat(bot):
    body = await bot.say("c1", "alex@example.com")
    assert body["messages"][-1]["text"] == said("utter_ces_ask", "en")
    payloads = [b["payload"] for b in body["messages"][-1]["buttons"]]
    assert payloads == [*(f"/ces {n}" for n in range(1, 8)), "/survey skip"]
    rated = await bot.say("c1", "6 points")
    assert [m["text"] for m in rated["messages"]] == [said("utter_survey_thanks", "en")]
    closing = await bot.say("c1", "thanks")
    assert [m["text"] for m in closing["messages"]] == [said("utter_you_are_welcome", "en")]
    [row] = await rows(bot)
    assert (row.kind, row.occasion, row.score) == ("ces", "account", 6)


def _sender(inside: bool, sample: float) -> str:
    """A REST sender whose conversation is (or is not) in the NPS sample."""
    return next(f"p{n}" for n in range(1000) if in_sample(f"rest-p{n}", sample) is inside)


@pytest.mark.parametrize("nps_sample", [0.5])
async def test_nps_for_the_sample_with_why_translated_for_the_lead(bot, fake_rasa):
    fake_rasa.script["زمان ارسال چقدر است؟"] = ("faq/shipping_time", ["utter_faq/shipping_time"])
    fake_rasa.script["ممنون"] = ("thank", ["utter_you_are_welcome"])
    chosen, other = _sender(True, 0.5), _sender(False, 0.5)

    await bot.say(chosen, "زمان ارسال چقدر است؟", language="fa")
    asked = await bot.say(chosen, "ممنون", language="fa")
    assert asked["messages"][-1]["text"] == said("utter_nps_ask", "fa")
    assert len(asked["messages"][-1]["buttons"]) == 12  # 0..10 and skip
    why = await bot.say(chosen, "نه از ده", language="fa")  # "nine out of ten"
    assert [m["text"] for m in why["messages"]] == [said("utter_nps_why", "fa")]
    done = await bot.say(chosen, "ارسال خیلی سریع بود", language="fa")
    assert [m["text"] for m in done["messages"]] == [said("utter_survey_thanks", "fa")]

    await bot.say(other, "how long does shipping take?")
    assert (await bot.say(other, "thanks"))["messages"][-1]["text"] == said("utter_csat_ask", "en")

    nps_row, csat_row = await rows(bot)
    assert (nps_row.kind, nps_row.score, nps_row.status) == ("nps", 9, "answered")
    assert nps_row.reason == "ارسال خیلی سریع بود"
    assert nps_row.reason_en == "[en] ارسال خیلی سریع بود"  # the fake translator's mark
    assert csat_row.kind == "csat"


@pytest.mark.parametrize("nps_sample", [1.0])
async def test_a_question_instead_of_a_why_goes_to_the_bot(bot, fake_rasa):
    await bot.say("w1", "how long does shipping take?")
    await bot.say("w1", "thanks")
    await bot.say("w1", "10")
    body = await bot.say("w1", "what is your return policy?")
    assert [m["text"] for m in body["messages"]] == [said("utter_faq/return_policy", "en")]
    [row] = await rows(bot)
    assert (row.kind, row.score, row.status, row.reason) == ("nps", 10, "answered", None)


class _NoButtons:
    """A channel such as e-mail: no buttons, typed answers only."""

    capabilities = Capabilities(buttons=False, max_text=4096)


class _Delivery:
    def channel_of(self, key: str) -> _NoButtons:
        return _NoButtons()


async def test_a_channel_without_buttons_is_told_to_type_a_number(bot):
    bot.client.server.app[SURVEYS].delivery = _Delivery()
    await bot.say("b1", "how long does shipping take?")
    body = await bot.say("b1", "thanks")
    question = body["messages"][-1]
    typed = said("utter_survey_typed", "en", low=1, high=5)
    assert question["text"] == f"{said('utter_csat_ask', 'en')}\n{typed}"
    assert "buttons" not in question
    assert [m["text"] for m in (await bot.say("b1", "4 stars"))["messages"]] == [
        said("utter_csat_thanks", "en")
    ]


async def test_nlg_notes_the_intent_only_on_the_trackers_own_message(bot, fake_rasa):
    """bot/outcomes.py: the seq in the metadata counts only for a customer message of the
    tracker's own conversation."""
    await bot.say("o1", "how long does shipping take?")
    await bot.say("o2", "hello")
    engine = bot.client.server.app[ENGINE]
    async with engine.connect() as connection:
        found = (
            await connection.execute(
                select(
                    messages.c.id, messages.c.intent, messages.c.answer, messages.c.author
                ).order_by(messages.c.id)
            )
        ).all()
    customer = [row for row in found if row.author == "customer"]
    assert [(r.intent, r.answer) for r in customer] == [
        ("faq/shipping_time", "faq"),
        ("greet", "other"),
    ]
    forged = {
        "response": "utter_order_status_shipped",
        "tracker": {
            "sender_id": "rest-o2",  # o2's tracker naming o1's message
            "latest_message": {
                "intent": {"name": "track_order"},
                "metadata": {"message": customer[0].id},
            },
        },
    }
    response = await bot.client.post("/nlg", json=forged, headers=NLG_HEADERS)
    assert response.status == 200
    async with engine.connect() as connection:
        answer = await connection.scalar(
            select(messages.c.answer).where(messages.c.id == customer[0].id)
        )
    assert answer == "faq"
