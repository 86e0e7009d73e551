"""Messenger and Instagram on one webhook: Meta's handshake and signatures, page and
Instagram messages kept apart, quick replies, echoes and receipts never answered, the
24-hour window with HUMAN_AGENT after it, a Hebrew customer with an English agent, erase."""

from __future__ import annotations

import asyncio

import pytest

from tests.bot.channels.meta_fixtures import (
    PDF,
    age_window,
    meta_inbound,
    meta_outbound,
    post,
    quiet,
    rows,
    send_file,
    settled,
    transcript,
)
from tests.bot.handoff.conftest import Team
from tests.graph_server import (
    VERIFY_TOKEN,
    messenger_delivery,
    messenger_echo,
    messenger_postback,
    messenger_read,
    messenger_receipt,
    messenger_text,
)
from tests.texts import first_contact, said

HOOK = "/messenger/webhook"


async def test_the_handshake_answers_the_challenge_for_our_token_only(fb_client):
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "77"}
    response = await fb_client.get(HOOK, params=query)
    assert response.status == 200 and await response.text() == "77"
    response = await fb_client.get(HOOK, params={**query, "hub.verify_token": "nope"})
    assert response.status == 403


@pytest.mark.parametrize("secret", [None, "another-apps-secret"])
async def test_unsigned_or_wrongly_signed_deliveries_are_refused(
    fb_client, graph, fake_rasa, secret
):
    body = messenger_delivery(messenger_text("m_1", "7001", "hi there"))
    assert await post(fb_client, HOOK, body, secret=secret) == 401
    await asyncio.sleep(0.2)
    assert fake_rasa.received == [] and graph.sent == []


async def test_page_and_instagram_messages_are_two_channels(fb_client, graph, fake_rasa):
    await post(fb_client, HOOK, messenger_delivery(messenger_text("m_p1", "7002", "hello there")))
    body = messenger_delivery(messenger_text("m_i1", "7002", "hello there"), platform="instagram")
    await post(fb_client, HOOK, body)
    sent = await settled(graph, 4)
    assert {m["body"]["recipient"]["id"] for m in sent} == {"7002"}
    assert sorted(r["sender"] for r in fake_rasa.received) == ["instagram-7002", "messenger-7002"]
    assert {r["metadata"]["channel"] for r in fake_rasa.received} == {"instagram", "messenger"}
    assert all(m["body"]["messaging_type"] == "RESPONSE" for m in sent)
    assert sent[0]["body"]["message"]["text"] == first_contact(
        "utter_disclosure", "en", translator=True
    )


async def test_quick_replies_and_postbacks_come_back_as_payloads(fb_client, graph, fake_rasa):
    fake_rasa.replies = [
        {
            "text": "Pick one",
            "buttons": [
                {"title": "Talk to a person in our team", "payload": "/affirm"},
                {"title": "No", "payload": "/deny"},
            ],
        }
    ]
    # "help" alone could be English or Dutch: disclosure, the other languages, the answer.
    await post(fb_client, HOOK, messenger_delivery(messenger_text("m_q1", "7003", "help")))
    sent = await settled(graph, 3)
    quick = sent[-1]["body"]["message"]["quick_replies"]
    assert [q["payload"] for q in quick] == ["/affirm", "/deny"]
    assert all(len(q["title"]) <= 20 and q["content_type"] == "text" for q in quick)
    fake_rasa.replies = [{"text": "ok"}]
    tapped = messenger_text("m_q2", "7003", "Talk to a person…", quick_reply="/affirm")
    await post(fb_client, HOOK, messenger_delivery(tapped))
    await settled(graph, 4)
    await post(fb_client, HOOK, messenger_delivery(messenger_postback("m_q3", "7003", "/deny")))
    await settled(graph, 5)
    assert [r["message"] for r in fake_rasa.received] == ["help", "/affirm", "/deny"]


async def test_echoes_and_receipts_are_never_answered(fb_client, graph, fake_rasa):
    await post(fb_client, HOOK, messenger_delivery(messenger_text("m_e1", "7004", "hi there")))
    sent = await settled(graph, 2)
    ours = await rows(fb_client, meta_outbound, "messenger-7004")
    mids = [r.message_id for r in ours]
    events = [
        messenger_echo("m_echo", "7004", "an answer"),
        messenger_receipt("7004", mids),
        messenger_read("7004"),
    ]
    assert await post(fb_client, HOOK, messenger_delivery(*events)) == 200
    await asyncio.sleep(0.3)
    assert len(fake_rasa.received) == 1 and len(graph.sent) == len(sent)
    assert [r.status for r in await rows(fb_client, meta_outbound, "messenger-7004")] == [
        "delivered",
        "delivered",
    ]
    assert len(await rows(fb_client, meta_inbound, "messenger-7004")) == 1


async def test_duplicates_and_out_of_order_deliveries(fb_client, graph, fake_rasa):
    import time

    now = int(time.time() * 1000)
    second = messenger_text("m_o2", "7005", "second", timestamp_ms=now - 1000)
    first = messenger_text("m_o1", "7005", "first", timestamp_ms=now - 2000)
    await post(fb_client, HOOK, messenger_delivery(second))
    await post(fb_client, HOOK, messenger_delivery(first, second))  # a retry with the older one
    await settled(graph, 4)  # "first" alone leaves its language open: the others are offered
    await asyncio.sleep(0.2)
    assert [r["message"] for r in fake_rasa.received] == ["first", "second"]


async def test_a_long_answer_is_split_under_each_platforms_limit(fb_client, graph, fake_rasa):
    sentence = "Your order left our warehouse and is on its way to you. "
    long_text = (sentence * 40).strip()  # ~2,240 characters
    fake_rasa.replies = [{"text": long_text}]
    await post(
        fb_client, HOOK, messenger_delivery(messenger_text("m_l1", "7006", "where is my order?"))
    )
    body = messenger_delivery(
        messenger_text("m_l2", "7007", "where is my order?"), platform="instagram"
    )
    await post(fb_client, HOOK, body)
    sent = await settled(graph, 7)
    for user, limit, parts in (("7006", 2000, 2), ("7007", 1000, 3)):
        texts = [m["body"]["message"]["text"] for m in sent if m["body"]["recipient"]["id"] == user]
        answer = texts[1:]  # after the disclosure
        assert len(answer) == parts and all(len(t) <= limit and t.endswith("you.") for t in answer)
        assert " ".join(answer) == long_text


async def handed_to_emma(fb_client, graph, settings, psid, greeting, language, platform):
    """A customer says `greeting`, then /human, and Emma (English, online) has the ticket:
    (team, emma, ticket id). `platform`: "page" (Messenger) or "instagram"."""
    team = Team(fb_client, settings)
    emma = await team.add("Emma", "en")
    await team.online(emma)
    for n, text in enumerate((greeting, "/human")):
        body = messenger_delivery(messenger_text(f"m_{psid}_{n}", psid, text), platform=platform)
        await post(fb_client, HOOK, body)
    assigned = said("utter_handoff_assigned", language, agent_name="Emma")
    for _ in range(400):
        if any(m["body"]["message"].get("text") == assigned for m in graph.sent):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError(graph.sent)
    await asyncio.sleep(0.1)
    _, listed = await team.call("GET", "/tickets?status=assigned", emma)
    return team, emma, listed["tickets"][0]["id"]


@pytest.fixture
async def instagram_handoff(fb_client, graph, settings):
    return await handed_to_emma(fb_client, graph, settings, "7100", "שלום", "he", "instagram")


async def test_a_hebrew_instagram_customer_reads_the_english_agent_in_hebrew(
    fb_client, graph, instagram_handoff
):
    team, emma, ticket = instagram_handoff
    count = await quiet(graph)
    status, reply = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "I will check your order now."}
    )
    assert status == 201 and reply["language"] == "he"
    sent = await settled(graph, count + 1)
    assert sent[-1]["body"] == {
        "recipient": {"id": "7100"},
        "message": {"text": "[he] I will check your order now."},
        "messaging_type": "RESPONSE",
    }


async def test_after_24_hours_the_agent_replies_tagged_human_agent_up_to_7_days(
    fb_client, graph, instagram_handoff
):
    team, emma, ticket = instagram_handoff
    await age_window(fb_client, "instagram-7100", hours=30)
    count = await quiet(graph)
    status, _ = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "Hi again"}
    )
    assert status == 201
    sent = await settled(graph, count + 1)
    assert sent[-1]["body"]["messaging_type"] == "MESSAGE_TAG"
    assert sent[-1]["body"]["tag"] == "HUMAN_AGENT"

    await age_window(fb_client, "instagram-7100", hours=24 * 7)
    status, refused = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "Anyone?"}
    )
    assert status == 409 and "7 days" in refused["error"]
    assert "Anyone?" not in " ".join(await transcript(fb_client, "instagram-7100"))


async def test_a_bot_notice_after_24_hours_is_not_sent_untagged(
    fb_client, graph, instagram_handoff
):
    team, emma, ticket = instagram_handoff
    await age_window(fb_client, "instagram-7100", hours=30)
    await team.call("POST", f"/tickets/{ticket}/resolve", emma)
    await asyncio.sleep(0.3)
    # Resolving says "back with the bot" and asks for a rating: the ticket is closed, so
    # they are not a human agent's messages, and Meta takes none after 24 hours.
    failed = [
        r for r in await rows(fb_client, meta_outbound, "instagram-7100") if r.status == "failed"
    ]
    assert failed and all("24-hour window" in r.error for r in failed)


async def test_delete_my_data_erases_the_messenger_customer(fb_client, graph):
    await post(fb_client, HOOK, messenger_delivery(messenger_text("m_d1", "7200", "שלום")))
    await settled(graph, 2)
    await post(
        fb_client, HOOK, messenger_delivery(messenger_text("m_d2", "7200", "/delete_my_data"))
    )
    sent = await settled(graph, 3)
    payloads = [q["payload"] for q in sent[-1]["body"]["message"]["quick_replies"]]
    assert payloads == ["/delete_my_data confirm", "/delete_my_data cancel"]
    confirm = messenger_text("m_d3", "7200", "כן", quick_reply="/delete_my_data confirm")
    await post(fb_client, HOOK, messenger_delivery(confirm))
    sent = await settled(graph, 4)
    assert sent[-1]["body"]["message"]["text"] == said("utter_deleted", "he")
    assert await transcript(fb_client, "messenger-7200") is None
    assert await rows(fb_client, meta_inbound, "messenger-7200") == []
    assert await rows(fb_client, meta_outbound, "messenger-7200") == []


async def test_the_agent_sends_a_messenger_customer_a_file_tagged_after_24_hours(
    fb_client, graph, settings
):
    team = Team(fb_client, settings)
    emma = await team.add("Emma", "en")
    await team.online(emma)
    for mid, text in (("m_f1", "Hallo"), ("m_f2", "/human")):
        await post(fb_client, HOOK, messenger_delivery(messenger_text(mid, "7200", text)))
    for _ in range(400):
        _, listed = await team.call("GET", "/tickets?status=assigned", emma)
        if listed["tickets"]:
            break
        await asyncio.sleep(0.02)
    ticket = listed["tickets"][0]["id"]
    count = await quiet(graph)

    status, sent = await send_file(fb_client, emma, ticket, PDF, "label.pdf", "Your label")
    assert status == 201, sent
    first, caption = (await settled(graph, count + 2))[-2:]
    assert first["body"]["message"] == {
        "attachment": {"type": "file", "payload": {"is_reusable": False}}
    }
    assert first["body"]["filedata"] == {
        "name": "label.pdf", "type": "application/pdf", "size": len(PDF)
    }  # fmt: skip
    assert first["body"]["messaging_type"] == "RESPONSE"
    assert caption["body"]["message"]["text"] == "Your label"

    await age_window(fb_client, "messenger-7200", hours=30)
    status, _ = await send_file(fb_client, emma, ticket, PDF, "label.pdf")
    assert status == 201
    tagged = (await settled(graph, count + 3))[-1]["body"]
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


async def test_instagram_takes_no_uploaded_file_and_the_agent_is_told(
    fb_client, graph, instagram_handoff
):
    _, emma, ticket = instagram_handoff
    before = await transcript(fb_client, "instagram-7100")
    status, refused = await send_file(fb_client, emma, ticket, PDF, "label.pdf")
    assert status == 409 and "instagram" in refused["error"]
    assert await transcript(fb_client, "instagram-7100") == before


async def test_a_persian_messenger_customer_and_an_english_agent_read_each_other(
    fb_client, graph, settings
):
    team, emma, ticket = await handed_to_emma(
        fb_client, graph, settings, "7300", "سلام", "fa", "page"
    )

    question = "بسته‌ام هنوز نرسیده"
    await post(fb_client, HOOK, messenger_delivery(messenger_text("m_p3", "7300", question)))
    for _ in range(400):
        _, held = await team.call("GET", f"/tickets/{ticket}", emma)
        if held["transcript"][-1]["text"] == question:
            break
        await asyncio.sleep(0.02)
    assert held["transcript"][-1]["translation"] == f"[en] {question}"

    count = await quiet(graph)
    status, reply = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "I am looking it up."}
    )
    assert status == 201 and reply["language"] == "fa"
    sent = await settled(graph, count + 1)
    assert sent[-1]["body"] == {
        "recipient": {"id": "7300"},
        "message": {"text": "[fa] I am looking it up."},
        "messaging_type": "RESPONSE",
    }
