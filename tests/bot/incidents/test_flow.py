"""The incident flow end to end, through the REST channel and the agent API, with a Rasa
that answers through the bot's /nlg (so the intent is recorded as in production): a lead
publishes a notice in English; a Persian and a Dutch customer who ask about its intent are
told in their language before the answer, once; those who asked before are told at once
with `push`; closing tells each of them, once, that it is fixed."""

from __future__ import annotations

from sqlalchemy import select

from bot.appkeys import ENGINE, INCIDENTS
from bot.db import incident_texts
from tests.bot.incidents.conftest import ASKS, PAYMENTS
from tests.texts import said
from tests.translation_server import marked

NOTICE = "Card payments fail right now. We are working on it."
ANSWER = {code: said("utter_faq/payment_methods", code) for code in ("en", "nl", "fa")}


async def publish(bot, lead, **body):
    return await bot.call(
        "POST", "/incidents", lead, json={"intent": PAYMENTS, "text": NOTICE, **body}
    )


async def ask(bot, sender: str, language: str) -> list[str]:
    body = await bot.say(sender, ASKS[language], language=language)
    assert body["language"] == language
    return [message["text"] for message in body["messages"]]


async def bot_texts(bot, sender: str) -> list[str]:
    return [m["text"] for m in await bot.transcript(sender) if m["from"] == "bot"]


async def test_told_in_persian_and_dutch_before_the_answer_once_then_fixed(bot, translator):
    lead = await bot.add("Lena", "en,nl", role="lead")
    status, published = await publish(bot, lead)
    assert status == 201, published
    assert (published["status"], published["intent"], published["pushed"]) == ("open", PAYMENTS, 0)
    assert published["languages"] == ["en", "fa", "he", "nl", "vi"]

    persian = await ask(bot, "rest-fa1", "fa")
    assert persian[-2:] == [marked(NOTICE, "fa"), ANSWER["fa"]]
    dutch = await ask(bot, "rest-nl1", "nl")
    assert dutch[-2:] == [marked(NOTICE, "nl"), ANSWER["nl"]]
    translated = translator.requests_count

    # Asking again: the answer only. Another topic: no notice.
    assert await ask(bot, "rest-fa1", "fa") == [ANSWER["fa"]]
    other = await bot.say("rest-nl1", "hoe lang duurt de verzending?", language="nl")
    assert marked(NOTICE, "nl") not in [m["text"] for m in other["messages"]]
    assert translator.requests_count == translated, "the notice was translated once, at publishing"

    status, body = await bot.call("GET", "/incidents", lead)
    [listed] = body["incidents"]
    assert status == 200
    assert (listed["id"], listed["customers_told"]) == (published["id"], 2)

    status, closed = await bot.call("POST", f"/incidents/{published['id']}/close", lead)
    assert status == 200, closed
    assert (closed["status"], closed["told_fixed"]) == ("closed", 2)
    assert (await bot_texts(bot, "rest-fa1"))[-1] == said("utter_incident_fixed", "fa")
    assert (await bot_texts(bot, "rest-nl1"))[-1] == said("utter_incident_fixed", "nl")

    # Closed once: closing again is refused, and nobody is told twice.
    status, again = await bot.call("POST", f"/incidents/{published['id']}/close", lead)
    assert status == 409 and "closed already" in again["error"]
    fixed = [t for t in await bot_texts(bot, "rest-fa1") if t == said("utter_incident_fixed", "fa")]
    assert len(fixed) == 1
    # After closing, asking gets the answer alone.
    after = await ask(bot, "rest-nl2", "nl")
    assert after[-1] == ANSWER["nl"] and marked(NOTICE, "nl") not in after


async def test_push_tells_who_asked_already_and_the_closing_words_are_translated(bot):
    lead = await bot.add("Lena", "en", role="lead")
    await ask(bot, "rest-fa2", "fa")
    await ask(bot, "rest-nl3", "nl")
    await bot.say("rest-en1", "how long does shipping take?")  # another topic: not pushed

    status, published = await publish(bot, lead, push=True)
    assert status == 201, published
    assert published["pushed"] == 2
    assert (await bot_texts(bot, "rest-fa2"))[-1] == marked(NOTICE, "fa")
    assert (await bot_texts(bot, "rest-nl3"))[-1] == marked(NOTICE, "nl")
    assert marked(NOTICE, "en") not in await bot_texts(bot, "rest-en1")
    assert NOTICE not in await bot_texts(bot, "rest-en1")

    # Told by the push: asking now gets the answer only.
    assert await ask(bot, "rest-nl3", "nl") == [ANSWER["nl"]]

    words = "Payments work again."
    status, closed = await bot.call(
        "POST", f"/incidents/{published['id']}/close", lead, json={"text": words}
    )
    assert (status, closed["told_fixed"], closed["close_text"]) == (200, 2, words)
    for sender, code in (("rest-fa2", "fa"), ("rest-nl3", "nl")):
        expected = f"{said('utter_incident_fixed', code)}\n\n{marked(words, code)}"
        assert (await bot_texts(bot, sender))[-1] == expected


async def test_the_leads_own_version_wins_over_the_machine(bot):
    lead = await bot.add("Lena", "en,nl", role="lead")
    own = "Betalen met een kaart lukt nu even niet. We werken eraan."
    status, published = await publish(bot, lead, texts={"nl": own})
    assert status == 201, published
    dutch = await ask(bot, "rest-nl4", "nl")
    assert dutch[-2:] == [own, ANSWER["nl"]]
    async with bot.client.server.app[ENGINE].connect() as connection:
        origins = dict(
            (
                await connection.execute(select(incident_texts.c.language, incident_texts.c.origin))
            ).all()
        )
    assert origins == {
        "en": "lead",
        "nl": "lead",
        "fa": "machine",
        "he": "machine",
        "vi": "machine",
    }


async def test_translator_down_the_lead_is_told_and_nothing_is_published_or_sent(bot, translator):
    lead = await bot.add("Lena", "en", role="lead")
    await ask(bot, "rest-fa3", "fa")
    before = await bot_texts(bot, "rest-fa3")
    translator.mode = "500"

    status, refused = await publish(bot, lead, push=True)
    assert status == 503
    assert "translator is unavailable" in refused["error"]
    assert "nothing was published or sent" in refused["error"]
    assert (await bot.call("GET", "/incidents", lead))[1] == {"incidents": []}
    assert await bot_texts(bot, "rest-fa3") == before

    # The lead's own versions need no translator: published, and pushed.
    versions = {code: f"{code}: {NOTICE}" for code in ("nl", "he", "fa", "vi")}
    status, published = await publish(bot, lead, push=True, texts=versions)
    assert (status, published["pushed"]) == (201, 1), published
    assert (await bot_texts(bot, "rest-fa3"))[-1] == f"fa: {NOTICE}"

    # Closing words that cannot be translated: not closed, nobody told.
    status, refused = await bot.call(
        "POST", f"/incidents/{published['id']}/close", lead, json={"text": "Fixed."}
    )
    assert status == 503 and "nothing was closed or sent" in refused["error"]
    assert (await bot.call("GET", "/incidents?status=open", lead))[1]["incidents"][0]["id"] == (
        published["id"]
    )
    assert (await bot_texts(bot, "rest-fa3"))[-1] == f"fa: {NOTICE}"


async def test_one_open_incident_per_intent(bot):
    lead = await bot.add("Lena", "en", role="lead")
    assert (await publish(bot, lead))[0] == 201
    status, body = await publish(bot, lead)
    assert status == 409 and "open already" in body["error"]
    await bot.client.server.app[INCIDENTS].settled()


async def test_a_customer_through_the_pivot_is_told_in_their_language(bot, translator):
    lead = await bot.add("Lena", "en", role="lead")
    shipping = "Parcels are delayed by two days because of a strike."
    status, _ = await bot.call(
        "POST", "/incidents", lead, json={"intent": "faq/shipping_time", "text": shipping}
    )
    assert status == 201
    body = await bot.say("rest-es1", "¿Cuánto tarda el envío?", language="es")
    texts = [message["text"] for message in body["messages"]]
    assert body["language"] == "es"
    notice = texts.index(marked(shipping, "es"))
    assert texts[notice + 1].startswith(marked(said("utter_faq/shipping_time", "en"), "es"))
    # Kept: the next Spanish customer costs no translation of the notice.
    async with bot.client.server.app[ENGINE].connect() as connection:
        kept = (
            await connection.execute(
                select(incident_texts.c.origin).where(incident_texts.c.language == "es")
            )
        ).scalar_one()
    assert kept == "machine"
