"""bot/store.py on both databases it runs on: what receiving and finishing a message store,
and what they tell the caller. PostgreSQL finishes an answered message in one statement
and SQLite in a transaction (Store.finish), so each case runs on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.store import Store
from tests.gateway_fixtures import DATABASES, engine_on


@pytest.fixture(params=DATABASES)
async def store(request, tmp_path) -> AsyncIterator[Store]:
    async with engine_on(request.param, tmp_path) as engine:
        yield Store(engine)


async def say(store: Store, text: str):
    return await store.receive(sender="rest-anna", channel="rest", text=text)


async def test_a_message_is_behind_only_while_an_older_one_waits_for_its_answer(store):
    first = await say(store, "hello")
    second = await say(store, "where is my order?")
    assert (first.behind, second.behind) == (False, True)

    await store.finish(first.conversation.id, first.message_seq, "answered", ["hi"], "en")
    third = await say(store, "and my refund?")
    assert third.behind  # the second is still unanswered

    for received in (second, third):
        await store.finish(received.conversation.id, received.message_seq, "answered", [], "en")
    assert not (await say(store, "thanks")).behind
    # Another conversation's unanswered message is not in this one's way.
    other = await store.receive(sender="rest-ben", channel="rest", text="hi")
    assert not other.behind


async def test_finishing_stores_the_replies_in_order_and_answers_once(store):
    received = await say(store, "where is my order?")
    conversation, seq = received.conversation.id, received.message_seq

    seqs = await store.finish(conversation, seq, "answered", ["one", "two", "three"], "nl")

    assert len(seqs) == 3 and seqs == sorted(seqs) and seqs[0] > seq
    replies = await store.replies_to(conversation, seq)
    assert [(r.seq, r.author, r.text, r.language) for r in replies] == [
        (seqs[0], "bot", "one", "nl"),
        (seqs[1], "bot", "two", "nl"),
        (seqs[2], "bot", "three", "nl"),
    ]
    assert await store.status(seq) == "answered"
    assert await store.unanswered(conversation) == []
    # A second try of the same message (a retry that raced this one) stores nothing.
    assert await store.finish(conversation, seq, "answered", ["again"], "nl") == []
    assert [r.text for r in await store.replies_to(conversation, seq)] == ["one", "two", "three"]


async def test_two_tries_finishing_one_message_together_answer_it_once(store):
    received = await say(store, "where is my order?")
    conversation, seq = received.conversation.id, received.message_seq

    results = await asyncio.gather(
        store.finish(conversation, seq, "answered", ["from the first try"], "en"),
        store.finish(conversation, seq, "to_agent", ["from the second try"], "en"),
    )

    stored = [seqs for seqs in results if seqs]
    assert len(stored) == 1, results
    replies = await store.replies_to(conversation, seq)
    assert [r.seq for r in replies] == stored[0]
    assert await store.status(seq) in ("answered", "to_agent")


async def test_finishing_without_replies_sets_the_outcome(store):
    received = await say(store, "/stop")
    conversation, seq = received.conversation.id, received.message_seq

    assert await store.finish(conversation, seq, "unsupported", [], None) == []

    assert await store.status(seq) == "unsupported"
    assert await store.replies_to(conversation, seq) == []


async def test_context_is_the_latest_customer_messages_and_when_the_bot_last_spoke(store):
    assert await store.context(1, 3) == ([], None)  # no such conversation yet

    texts = ["hello", "where is my order?", "order 1234", "and my refund?"]
    received = [await say(store, text) for text in texts]
    conversation = received[0].conversation.id
    assert (await store.context(conversation, 3))[1] is None  # the bot has not spoken

    await store.finish(conversation, received[0].message_seq, "answered", ["hi"], "en")
    recent, last_bot_at = await store.context(conversation, 3)

    assert [m.text for m in recent] == texts[1:]  # oldest first, the bot's reply left out
    assert last_bot_at == await store.last_bot_message_at(conversation) is not None
    assert await store.recent_customer_messages(conversation, 3) == recent
