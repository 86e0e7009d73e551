"""What Tolk sends on WhatsApp: text split under 4,096, reply buttons (≤3, titles ≤20) or a
list beyond that, and what happens when the send API answers 429 or 5xx."""

from __future__ import annotations

import asyncio

from bot.channels.whatsapp.messages import bodies
from bot.rasa_client import BotMessage
from tests.bot.channels.meta_fixtures import meta_outbound, post, rows, settled, transcript
from tests.graph_server import wa_delivery, wa_text

HOOK = "/whatsapp/webhook"
SENTENCE = "Your order left our warehouse and is on its way to you. "


def test_a_long_text_is_split_at_sentence_ends_under_the_limit():
    text = (SENTENCE * 200).strip()
    sent = bodies("31600000000", BotMessage(text))
    pieces = [body["text"]["body"] for _, body in sent]
    assert len(pieces) == 3 and all(len(p) <= 4096 and p.endswith("you.") for p in pieces)
    assert " ".join(pieces) == text


def test_three_short_buttons_are_reply_buttons():
    buttons = [{"title": f"Option {n}", "payload": f"/choose_{n}"} for n in range(3)]
    [(kind, body)] = bodies("31600000000", BotMessage("Pick one", buttons))
    assert kind == "buttons"
    replies = body["interactive"]["action"]["buttons"]
    assert [r["reply"] for r in replies] == [
        {"id": f"/choose_{n}", "title": f"Option {n}"} for n in range(3)
    ]


def test_four_buttons_or_a_long_title_become_a_list():
    four = [{"title": f"Option {n}", "payload": f"/choose_{n}"} for n in range(4)]
    [(kind, body)] = bodies("31600000000", BotMessage("Pick one", four))
    assert kind == "list" and body["interactive"]["body"]["text"] == "Pick one"
    assert len(body["interactive"]["action"]["sections"][0]["rows"]) == 4
    long_title = [{"title": "Talk to a person in the service team", "payload": "/human"}]
    [(kind, body)] = bodies("31600000000", BotMessage("Or", long_title))
    [row] = body["interactive"]["action"]["sections"][0]["rows"]
    assert kind == "list" and len(row["title"]) <= 24 and row["id"] == "/human"
    assert row["description"] == "Talk to a person in the service team"
    twelve = [{"title": f"Option {n}", "payload": f"/c{n}"} for n in range(12)]
    lists = bodies("31600000000", BotMessage("Many", twelve))
    assert [len(b["interactive"]["action"]["sections"][0]["rows"]) for _, b in lists] == [10, 2]


def test_buttons_go_under_the_last_part_that_fits_an_interactive_body():
    text = (SENTENCE * 40).strip()  # ~2,240 characters: more than a button body's 1,024
    sent = bodies("31600000000", BotMessage(text, [{"title": "Yes", "payload": "/affirm"}]))
    kinds = [kind for kind, _ in sent]
    assert kinds[-1] == "buttons" and set(kinds[:-1]) == {"text"}
    assert len(sent[-1][1]["interactive"]["body"]["text"]) <= 1024
    parts = [b["text"]["body"] for _, b in sent[:-1]] + [sent[-1][1]["interactive"]["body"]["text"]]
    assert " ".join(parts) == text


async def test_the_stand_in_takes_every_shape_sent(wa_client, graph, fake_rasa):
    """Through the real stack: the Graph stand-in checks Meta's limits on what arrives."""
    fake_rasa.replies = [
        {"text": (SENTENCE * 100).strip()},
        {"text": "Pick", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
        {
            "text": "More",
            "buttons": [{"title": f"Option {n}", "payload": f"/c{n}"} for n in range(5)],
        },
    ]
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.S1", "31677777777", "hi there")))
    sent = await settled(graph, 5)
    assert [m["body"]["type"] for m in sent] == [
        "text",
        "text",
        "text",
        "interactive",
        "interactive",
    ]
    assert [m["body"]["interactive"]["type"] for m in sent[3:]] == ["button", "list"]
    statuses = [r.status for r in await rows(wa_client, meta_outbound, "whatsapp-31677777777")]
    assert statuses == ["sent"] * 5


async def test_a_429_and_a_5xx_are_retried_and_the_order_kept(wa_client, graph, fake_rasa):
    fake_rasa.replies = [{"text": "one"}, {"text": "two"}]
    graph.fail_next += [
        {"api": "whatsapp", "status": 429, "code": 130429, "retry_after": "0"},
        {"api": "whatsapp", "status": 503, "retry_after": "0"},
    ]
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.R1", "31688888888", "hello there")))
    sent = await settled(graph, 3)
    assert [m["body"]["text"]["body"] for m in sent][-2:] == ["one", "two"]
    tries = [r for r in graph.requests if r["api"] == "whatsapp"]
    assert len(tries) == 5  # the disclosure refused twice, then all three in order


async def test_a_send_that_keeps_failing_is_a_clear_failure_that_loses_nothing(
    wa_client, graph, fake_rasa
):
    fake_rasa.replies = [{"text": "your answer"}]
    # Four tries per message (bot/channels/meta/graph.py), all refused.
    graph.fail_next += [{"api": "whatsapp", "status": 500, "retry_after": "0"}] * 4
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.R2", "31699999999", "hello there")))
    for _ in range(300):
        recorded = await rows(wa_client, meta_outbound, "whatsapp-31699999999")
        if recorded and recorded[0].status == "failed":
            break
        await asyncio.sleep(0.02)
    assert recorded[0].status == "failed" and "Meta refused" in recorded[0].error
    assert graph.sent == [], "nothing after a refused part goes out of order"
    texts = await transcript(wa_client, "whatsapp-31699999999")
    assert "hello there" in texts and "your answer" in texts, "the transcript keeps both sides"
    # The customer writes again: the channel works again.
    fake_rasa.replies = [{"text": "back"}]
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.R3", "31699999999", "still there?")))
    sent = await settled(graph, 1)
    assert sent[-1]["body"]["text"]["body"] == "back"
