"""What /nlg notes on a customer message (bot/outcomes.py), on the database itself."""

import pytest
from sqlalchemy import select

from bot.db import messages
from bot.outcomes import Outcomes
from bot.store import Store
from tests.gateway_fixtures import statements_run


def tracker(sender: str, seq: object, intent: str = "faq") -> dict:
    return {
        "sender_id": sender,
        "latest_message": {
            "intent": {"name": intent, "confidence": 0.8},
            "metadata": {"message": seq},
        },
    }


async def noted(engine, seq: int) -> tuple:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(messages.c.answer, messages.c.intent, messages.c.intent_confidence).where(
                    messages.c.id == seq
                )
            )
        ).one()
    return tuple(row)


@pytest.mark.parametrize(
    ("responses", "kind"),
    [
        (["utter_faq/shipping_time"], "faq"),
        (["utter_greet", "utter_faq/shipping_time", "utter_ask_rephrase"], "faq"),
        (["utter_faq/warranty", "utter_order_status_shipped"], "account"),
        (["utter_ask_rephrase", "utter_greet"], "other"),
        (["utter_ask_rephrase"], "fallback"),
    ],
)
async def test_the_strongest_answer_of_a_message_is_kept(engine, responses, kind):
    received = await Store(engine).receive(sender="rest-a", channel="rest", text="shipping?")
    outcomes = Outcomes(engine)
    for response in responses:
        await outcomes.record(tracker("rest-a", received.message_seq), response)
    assert await noted(engine, received.message_seq) == (kind, "faq", 0.8)


async def test_a_seq_of_another_conversation_or_not_a_number_is_not_written(engine):
    store = Store(engine)
    theirs = await store.receive(sender="rest-a", channel="rest", text="hello")
    await store.receive(sender="rest-b", channel="rest", text="hello")
    outcomes = Outcomes(engine)
    await outcomes.record(tracker("rest-b", theirs.message_seq), "utter_greet")
    for seq in (True, "1", None, 2**70):
        await outcomes.record(tracker("rest-a", seq), "utter_greet")
    assert await noted(engine, theirs.message_seq) == (None, None, None)


async def test_one_statement_per_response(engine, monkeypatch):
    received = await Store(engine).receive(sender="rest-a", channel="rest", text="hello")
    statements = statements_run(engine, monkeypatch)
    await Outcomes(engine).record(tracker("rest-a", received.message_seq), "utter_greet")
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("UPDATE")
