"""Nothing stays unanswered (issue 10, item 6): messages stored while Rasa was down, or left
by a crash, are answered once when it is back, in order, and a resent message_id gets the
real answer. Against a fake Rasa on loopback that answers "answer to <text>"."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from aiohttp import web

from bot.app import create_app
from bot.appkeys import GATEWAY
from bot.db import create_engine, create_schema
from bot.retry import RetryPolicy
from bot.senders import rest_key
from bot.store import Store
from tests.gateway_fixtures import FakeRasa, retrier_of
from tests.texts import said

APOLOGY = said("utter_service_unavailable", "en")


@dataclass
class EchoRasa(FakeRasa):
    """Answers each message with its own text, optionally slowly (to widen races)."""

    delay: float = 0.0
    in_flight: int = 0
    most_in_flight: int = 0

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if self.status != 200:
            return web.Response(status=self.status, text="boom")
        return web.json_response([{"text": f"answer to {body['message']}"}])


@pytest.fixture
def fake_rasa() -> EchoRasa:
    return EchoRasa()


@pytest.fixture
def settings(settings):
    # Retries due at once, and no sweep of the app's own in the way of the test's.
    return replace(settings, retry_seconds=3600, retry_attempts=3)


def sent(fake_rasa: FakeRasa, text: str) -> int:
    return sum(message["message"] == text for message in fake_rasa.received)


async def post(client, sender: str, text: str, **extra) -> dict:
    response = await client.post("/api/v1/messages", json={"sender": sender, "text": text, **extra})
    assert response.status == 200, await response.text()
    return await response.json()


async def texts(client, sender: str) -> list[str]:
    response = await client.get(f"/api/v1/conversations/{sender}/messages")
    return [message["text"] for message in (await response.json())["messages"]]


async def due_now(client) -> None:
    """Time passes: every waiting retry is due."""
    engine = create_engine(client.app[GATEWAY].settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "UPDATE messages SET not_before = NULL WHERE status = 'failed'"
            )
    finally:
        await engine.dispose()


async def test_a_message_kept_while_rasa_was_down_is_answered_once_it_is_back(client, fake_rasa):
    fake_rasa.status = 500
    body = await post(client, "r1", "where is my parcel")
    assert body["messages"][-1]["text"] == APOLOGY
    fake_rasa.status = 200
    retrier = retrier_of(client.app)
    await due_now(client)
    assert await retrier.sweep() == 1
    assert await retrier.sweep() == 0  # answered: nothing left, however often it looks
    await due_now(client)
    assert await retrier.sweep() == 0
    said_to_customer = await texts(client, "r1")
    assert said_to_customer.count("answer to where is my parcel") == 1
    assert said_to_customer.index(APOLOGY) < said_to_customer.index("answer to where is my parcel")
    assert sent(fake_rasa, "where is my parcel") == 2  # the failed try and the answered one


async def test_the_apology_says_the_answer_will_come():
    assert "as soon as I'm back" in APOLOGY and "try again" not in APOLOGY


async def test_the_periodic_sweep_answers_without_being_asked(aiohttp_client, settings, fake_rasa):
    client = await aiohttp_client(create_app(replace(settings, retry_seconds=0.05)))
    fake_rasa.status = 503
    await post(client, "r2", "is my order shipped")
    fake_rasa.status = 200
    for _ in range(100):
        if "answer to is my order shipped" in await texts(client, "r2"):
            break
        await asyncio.sleep(0.05)
    assert (await texts(client, "r2")).count("answer to is my order shipped") == 1


async def test_a_message_left_by_a_crash_is_answered_at_start(aiohttp_client, settings, fake_rasa):
    # The service stored the message and stopped before asking Rasa, longer ago than a
    # try may take (its lease ran out).
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    crashed = Store(engine, RetryPolicy(lease=timedelta(0)))
    await crashed.receive(sender=rest_key("r3"), channel="rest", text="hello, refund please")
    await engine.dispose()

    client = await aiohttp_client(create_app(settings))
    for _ in range(100):
        if "answer to hello, refund please" in await texts(client, "r3"):
            break
        await asyncio.sleep(0.05)
    assert (await texts(client, "r3")).count("answer to hello, refund please") == 1
    assert sent(fake_rasa, "hello, refund please") == 1


async def test_a_message_being_answered_is_not_taken_by_the_sweep(client, fake_rasa):
    fake_rasa.delay = 0.5
    live = asyncio.ensure_future(post(client, "r4", "slow question"))
    await asyncio.sleep(0.2)  # the live request holds the message, Rasa is thinking
    await due_now(client)
    assert await retrier_of(client.app).sweep() == 0
    await live
    assert sent(fake_rasa, "slow question") == 1
    assert (await texts(client, "r4")).count("answer to slow question") == 1


async def test_two_sweeps_and_a_resend_answer_a_message_once(client, fake_rasa):
    fake_rasa.status = 500
    await post(client, "r5", "first try", message_id="m-5")
    fake_rasa.status = 200
    fake_rasa.delay = 0.2
    await due_now(client)
    retrier = retrier_of(client.app)
    results = await asyncio.gather(
        retrier.sweep(),
        retrier.sweep(),
        post(client, "r5", "first try", message_id="m-5"),
    )
    assert sent(fake_rasa, "first try") == 2  # one failed, one answered: never a third
    assert (await texts(client, "r5")).count("answer to first try") == 1
    assert results[2]["messages"] == [{"text": "answer to first try"}]


async def test_older_unanswered_messages_are_answered_first(client, fake_rasa):
    fake_rasa.status = 500
    await post(client, "r6", "question one")
    await post(client, "r6", "question two")  # waits behind the first
    fake_rasa.status = 200
    body = await post(client, "r6", "question three")
    assert [m["text"] for m in body["messages"]] == [
        "answer to question one",
        "answer to question two",
        "answer to question three",
    ]
    asked = [m["message"] for m in fake_rasa.received if m["message"].startswith("question")]
    # "question two" never reached Rasa before "question one" was answered: while Rasa was
    # down it waited behind it (the second post tried the first message again).
    assert asked == [
        "question one",
        "question one",
        "question one",
        "question two",
        "question three",
    ]
    stored = await texts(client, "r6")
    answers = [text for text in stored if text.startswith("answer to")]
    assert answers == [
        "answer to question one",
        "answer to question two",
        "answer to question three",
    ]


async def test_the_sweep_keeps_the_order_of_a_conversation(client, fake_rasa):
    fake_rasa.status = 500
    await post(client, "r7", "alpha")
    await post(client, "r7", "beta")
    fake_rasa.status = 200
    await due_now(client)
    assert await retrier_of(client.app).sweep() == 2
    answers = [text for text in await texts(client, "r7") if text.startswith("answer to")]
    assert answers == ["answer to alpha", "answer to beta"]


async def test_after_an_outage_the_sweep_answers_conversations_side_by_side(client, fake_rasa):
    fake_rasa.status = 500
    for n in range(12):
        await post(client, f"r-many-{n}", "first")
        await post(client, f"r-many-{n}", "second")
    fake_rasa.status, fake_rasa.delay = 200, 0.05
    await due_now(client)

    assert await retrier_of(client.app).sweep() == 24
    # Several customers at once (a backlog drains in a fraction of the time), never
    # more than the bound, and each conversation still in the order it was asked.
    assert 1 < fake_rasa.most_in_flight <= 8
    for n in range(12):
        answers = [t for t in await texts(client, f"r-many-{n}") if t.startswith("answer to")]
        assert answers == ["answer to first", "answer to second"]


async def test_a_resent_message_id_gets_the_real_answer_not_the_old_apology(client, fake_rasa):
    fake_rasa.status = 500
    first = await post(client, "r8", "my order number is 10001", message_id="m-8")
    assert first["messages"][-1]["text"] == APOLOGY
    fake_rasa.status = 200
    await due_now(client)
    await retrier_of(client.app).sweep()
    again = await post(client, "r8", "my order number is 10001", message_id="m-8")
    assert again["messages"] == [{"text": "answer to my order number is 10001"}]
    assert sent(fake_rasa, "my order number is 10001") == 2  # not asked a third time


async def test_a_resent_message_id_still_unanswered_is_answered_now_once(client, fake_rasa):
    fake_rasa.status = 500
    await post(client, "r9", "cancel my order", message_id=9)
    fake_rasa.status = 200
    again = await post(client, "r9", "cancel my order", message_id=9)
    assert again["messages"] == [{"text": "answer to cancel my order"}]
    third = await post(client, "r9", "cancel my order", message_id=9)
    assert third["messages"] == [{"text": "answer to cancel my order"}]
    assert sent(fake_rasa, "cancel my order") == 2
    assert (await texts(client, "r9")).count("answer to cancel my order") == 1


async def test_a_resend_while_still_down_replays_the_apology_without_a_new_one(client, fake_rasa):
    fake_rasa.status = 500
    first = await post(client, "r10", "anyone there?", message_id="m-10")
    again = await post(client, "r10", "anyone there?", message_id="m-10")
    assert again["messages"] == first["messages"]
    assert again["messages"][-1] == {"text": APOLOGY}
    assert (await texts(client, "r10")).count(APOLOGY) == 1


async def test_after_the_last_try_a_person_takes_over(client, fake_rasa):
    fake_rasa.status = 500
    await post(client, "r11", "help with my invoice")  # try 1 of 3
    retrier = retrier_of(client.app)
    for _ in range(4):
        await due_now(client)
        await retrier.sweep()
    assert sent(fake_rasa, "help with my invoice") == 3  # the bounded tries, then no more
    said_to_customer = await texts(client, "r11")
    assert said_to_customer.count(APOLOGY) == 1  # told once, not once per try
    assert said("utter_handoff_sorry", "en") in said_to_customer
    gateway = client.app[GATEWAY]
    conversation = await gateway.store.conversation(rest_key("r11"))
    ticket = await gateway.handoff.active(conversation.id)
    assert ticket is not None and ticket.reason == "unanswered"
    await due_now(client)
    await retrier.sweep()
    assert sent(fake_rasa, "help with my invoice") == 3


async def test_backoff_doubles_and_stops_when_the_tries_are_used_up():
    policy = RetryPolicy(attempts=4, first_backoff=timedelta(seconds=30))
    assert [policy.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 0]
    assert RetryPolicy(attempts=50).backoff(40) == timedelta(minutes=15)


async def test_two_claims_of_one_message_one_wins(settings):
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    try:
        crashed = Store(engine, RetryPolicy(lease=timedelta(0)))
        received = await crashed.receive(sender=rest_key("r12"), channel="rest", text="hi")
        store = Store(engine)
        claims = await asyncio.gather(
            *(store.claim(received.message_seq, due_only=True) for _ in range(5))
        )
        winners = [claim for claim in claims if claim is not None]
        assert len(winners) == 1 and winners[0].attempts == 2
    finally:
        await engine.dispose()


async def test_the_web_chat_reads_the_older_answer_first_with_its_seq(client, fake_rasa):
    fake_rasa.status = 500
    first = await client.post("/chat/messages", json={"text": "first question"})
    assert first.status == 200
    fake_rasa.status = 200
    body = await (await client.post("/chat/messages", json={"text": "second question"})).json()
    assert [m["text"] for m in body["messages"]] == [
        "answer to first question",
        "answer to second question",
    ]
    seqs = [m["seq"] for m in body["messages"]]
    assert seqs == sorted(seqs)  # the page shows each once, in order
    polled = await (await client.get(f"/chat/messages?after={seqs[0] - 1}")).json()
    assert [m["seq"] for m in polled["messages"]] == seqs
