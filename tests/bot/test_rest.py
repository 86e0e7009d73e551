"""The REST API as a client sees it, against a fake Rasa on loopback."""

from urllib.parse import quote

import pytest

from bot.app import create_app
from bot.catalogue import Catalogue, fill
from bot.settings import Settings
from tests.texts import said


async def post(client, **body):
    return await client.post("/api/v1/messages", json=body)


async def test_a_message_gets_disclosure_then_rasas_answer(client, fake_rasa):
    fake_rasa.replies = [
        {"text": "Hallo! Waarmee kan ik helpen?", "buttons": [{"title": "A", "payload": "/a"}]}
    ]
    response = await post(client, sender="anna", text="hallo, waar is mijn bestelling?")
    assert response.status == 200
    body = await response.json()
    assert body["sender"] == "anna"
    assert body["language"] == "nl"
    assert body["handoff"] is None
    disclosure, answer = body["messages"]
    assert "bot" in disclosure["text"] and "support@example.com" in disclosure["text"]
    assert answer == {
        "text": "Hallo! Waarmee kan ik helpen?",
        "buttons": [{"title": "A", "payload": "/a"}],
    }


async def test_rasa_gets_the_text_with_language_channel_and_customer(client, fake_rasa):
    await post(client, sender="s1", text="سلام، سفارشم کجاست؟", name="Sara")
    sent = fake_rasa.received[-1]
    assert sent["sender"] == "rest-s1", "Rasa's sender_id names the channel (bot/senders.py)"
    assert sent["message"] == "سلام، سفارشم کجاست؟"
    assert sent["metadata"] == {
        "language": "fa",
        "channel": "rest",
        "customer": {"name": "Sara"},
        "recent": [],
        # The stored message's seq, which /nlg notes Rasa's intent on (bot/outcomes.py).
        "message": sent["metadata"]["message"],
    }
    assert isinstance(sent["metadata"]["message"], int)


async def test_disclosure_only_in_the_first_reply(client):
    await post(client, sender="s2", text="hello there, I have a question")
    body = await (await post(client, sender="s2", text="where is my order?")).json()
    assert [m["text"] for m in body["messages"]] == ["an answer"]


async def test_dutch_stays_dutch_through_short_replies(client):
    await post(client, sender="nl1", text="goedemiddag, ik heb een vraag over mijn bestelling")
    for text in ["ok", "bedankt!", "👍"]:
        body = await (await post(client, sender="nl1", text=text)).json()
        assert body["language"] == "nl", text


async def test_language_field_is_the_prior(client):
    body = await (await post(client, sender="h1", text="hi", language="vi")).json()
    assert body["language"] == "vi"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"sender": "x"}', "`text` is required"),
        (b'{"sender": "x", "text": "   "}', "`text` is empty"),
        (b'{"sender": "x", "text": 5}', "`text` must be a string"),
        (b'{"sender": 5, "text": "hi"}', "`sender` must be a non-empty string"),
        (b'{"text": "hi"}', "`sender` must be a non-empty string"),
        (b'{"sender": "x", "text": "hi", "language": "xx"}', "unknown language 'xx'"),
        (b'{"sender": "x", "text": "hi", "language": 7}', "`language` must be a string"),
        (b'{"sender": "x", "text": "hi", "name": ["a"]}', "`name` must be a string"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
async def test_bad_input_is_a_400_with_a_json_error(client, fake_rasa, raw, message):
    response = await client.post(
        "/api/v1/messages", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert message in (await response.json())["error"]
    assert fake_rasa.received == []


async def test_text_over_4096_characters_is_413(client):
    response = await post(client, sender="x", text="a" * 4097)
    assert response.status == 413
    assert "4096" in (await response.json())["error"]
    assert (await post(client, sender="x", text="a" * 4096)).status == 200


async def test_a_huge_body_is_413_json(client):
    response = await client.post(
        "/api/v1/messages",
        data=b'{"sender": "x", "text": "' + b"a" * 200_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert "error" in await response.json()


async def test_rasa_down_apologises_in_the_customers_language_and_keeps_the_message(
    client, fake_rasa, settings
):
    fake_rasa.status = 503
    response = await post(client, sender="he1", text="שלום, איפה ההזמנה שלי?")
    assert response.status == 200
    body = await response.json()
    assert body["language"] == "he"
    hebrew_apology = Catalogue.load(settings.locales_dir).get("utter_service_unavailable", "he")
    assert body["messages"][-1]["text"] == fill(
        hebrew_apology[0].text, {"support_email": "support@example.com"}
    )
    stored = await (await client.get("/api/v1/conversations/he1/messages")).json()
    assert stored["messages"][0]["text"] == "שלום, איפה ההזמנה שלי?"
    assert stored["messages"][0]["from"] == "customer"


async def test_rasa_unreachable_is_not_a_500(aiohttp_client, tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", rasa_url="http://127.0.0.1:9", rasa_timeout=2
    )
    client = await aiohttp_client(create_app(settings))
    response = await post(client, sender="v1", text="Đơn hàng của tôi ở đâu?")
    assert response.status == 200
    body = await response.json()
    assert body["language"] == "vi"
    assert len(body["messages"]) == 2  # disclosure + apology


async def test_empty_answer_with_the_action_server_down_gets_the_apology(client, fake_rasa):
    # What Rasa answers when an action fails: nothing, with HTTP 200.
    fake_rasa.replies = []
    fake_rasa.actions_up = False
    body = await (await post(client, sender="e1", text="where is my order please")).json()
    assert "as soon as I'm back" in body["messages"][-1]["text"]  # and it will be (bot/retry.py)


async def test_empty_answer_with_everything_up_is_an_answer_not_a_failure(client, fake_rasa):
    """Rasa may choose to say nothing (a customer typing "/session_start" once did): that
    message is answered, and the next one is not held behind it for retries."""
    fake_rasa.replies = []
    body = await (await post(client, sender="e2", text="hmm")).json()
    assert body["messages"][-1]["text"] == said("utter_ask_rephrase", "en")
    fake_rasa.replies = [{"text": "an answer"}]
    body = await (await post(client, sender="e2", text="where is my order please")).json()
    assert [m["text"] for m in body["messages"]] == ["an answer"]


@pytest.mark.parametrize("typed", ["/session_start", "/restart", "//back", "/RESTART please"])
async def test_rasa_internal_intents_are_sent_as_words(client, fake_rasa, typed):
    await post(client, sender="internal", text=typed)
    assert fake_rasa.received[-1]["message"] == typed.lstrip("/")


async def test_conversation_history_pages_with_after(client):
    await post(client, sender="p1", text="hello, I have a question about shipping")
    messages = (await (await client.get("/api/v1/conversations/p1/messages")).json())["messages"]
    assert [m["from"] for m in messages] == ["customer", "bot", "bot"]
    assert all(m["language"] == "en" for m in messages)
    assert messages[0]["ts"].endswith("Z")
    after = messages[0]["seq"]
    later = await (await client.get(f"/api/v1/conversations/p1/messages?after={after}")).json()
    assert [m["seq"] for m in later["messages"]] == [m["seq"] for m in messages[1:]]


async def test_history_errors(client):
    assert (await client.get("/api/v1/conversations/nobody/messages")).status == 404
    await post(client, sender="p2", text="hello")
    bad = await client.get("/api/v1/conversations/p2/messages?after=x")
    assert bad.status == 400 and "after" in (await bad.json())["error"]


async def test_a_redelivered_message_id_is_stored_and_answered_once(client, fake_rasa):
    first = await (await post(client, sender="d1", text="hello", message_id="m-1")).json()
    again = await (await post(client, sender="d1", text="hello", message_id="m-1")).json()
    assert len(fake_rasa.received) == 1
    assert [m["text"] for m in again["messages"]] == [m["text"] for m in first["messages"]]
    history = (await (await client.get("/api/v1/conversations/d1/messages")).json())["messages"]
    assert sum(m["from"] == "customer" for m in history) == 1


async def test_api_token_is_required_when_configured(aiohttp_client, settings):
    from dataclasses import replace

    client = await aiohttp_client(create_app(replace(settings, api_token="s3cret")))
    assert (await post(client, sender="t", text="hi")).status == 401
    ok = await client.post(
        "/api/v1/messages",
        json={"sender": "t", "text": "hi"},
        headers={"Authorization": "Bearer s3cret"},
    )
    assert ok.status == 200
    assert (await client.get("/healthz")).status == 200


async def test_database_locked_is_a_503_with_a_clear_message(client, fake_rasa):
    from bot.appkeys import GATEWAY
    from bot.store import StoreUnavailable

    async def locked(**_):
        raise StoreUnavailable("database is locked")

    client.server.app[GATEWAY].store.receive = locked
    response = await post(client, sender="lock", text="hello")
    assert response.status == 503
    assert "retry" in (await response.json())["error"]
    assert fake_rasa.received == []  # nothing reaches Rasa that was not stored first


async def test_an_account_deletion_erases_the_conversation_after_the_reply(client, fake_rasa):
    fake_rasa.replies = [{"text": "Your account is deleted."}, {"custom": {"erase": True}}]
    body = await (await post(client, sender="leaving", text="delete my account, yes")).json()
    assert [m["text"] for m in body["messages"]][-1:] == ["Your account is deleted."]
    response = await client.get("/api/v1/conversations/leaving/messages")
    assert response.status == 404


async def test_a_rest_client_cannot_reach_a_web_chat_conversation(client, fake_rasa):
    """The sender a REST client names is always a REST conversation (bot/senders.py)."""
    await client.post("/chat/messages", json={"text": "my address is Damrak 1, Amsterdam"})
    web_sender = fake_rasa.received[-1]["sender"]
    assert web_sender.startswith("web-")
    history = await client.get(f"/api/v1/conversations/{web_sender}/messages")
    assert history.status == 404
    body = await (await post(client, sender=web_sender, text="what is my address?")).json()
    assert body["sender"] == web_sender, "the answer names the sender as the client sent it"
    assert fake_rasa.received[-1]["sender"] == f"rest-{web_sender}"
    browser = (await (await client.get("/chat/messages")).json())["messages"]
    assert "what is my address?" not in [m["text"] for m in browser]


async def test_a_rest_client_cannot_reach_a_telegram_conversation(client, fake_rasa):
    from bot.appkeys import GATEWAY

    store = client.server.app[GATEWAY].store
    await store.receive(sender="telegram-4242", channel="telegram", text="my order is 10001")
    assert (await client.get("/api/v1/conversations/telegram-4242/messages")).status == 404
    fake_rasa.replies = [{"text": "gone"}, {"custom": {"erase": True}}]
    body = await (await post(client, sender="telegram-4242", text="delete my account")).json()
    assert body["sender"] == "telegram-4242"
    assert fake_rasa.received[-1]["sender"] == "rest-telegram-4242"
    # The REST conversation was erased, the Telegram chat's is untouched.
    telegram = await store.messages("telegram-4242")
    assert [m.text for m in telegram] == ["my order is 10001"]
    assert (await client.get("/api/v1/conversations/telegram-4242/messages")).status == 404


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None],
)
@pytest.mark.parametrize("path", ["/api/v1/messages", "/chat/messages", "/console/login", "/nlg"])
async def test_json_routes_refuse_other_content_types_with_415(
    client, fake_rasa, path, content_type
):
    """A web page can post text/plain or a form to any origin without a CORS preflight;
    none of it reaches the bot."""
    raw = b'{"sender": "x", "text": "hi", "name": "a", "password": "b", "response": "utter_greet"}'
    from tests.gateway_fixtures import NLG_HEADERS

    headers = {"Content-Type": content_type or "", **(NLG_HEADERS if path == "/nlg" else {})}
    response = await client.post(path, data=raw, headers=headers)
    assert response.status == 415
    assert "application/json" in (await response.json())["error"]
    assert fake_rasa.received == []


async def test_a_charset_parameter_is_fine(client):
    response = await client.post(
        "/api/v1/messages",
        data=b'{"sender": "cs", "text": "hallo daar"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status == 200


@pytest.mark.parametrize("sender", ["{", "}x{", "a{b}c"])
async def test_a_sender_with_braces_reads_its_conversation(client, sender):
    assert (
        await client.post("/api/v1/messages", json={"sender": sender, "text": "hi"})
    ).status == 200
    response = await client.get(f"/api/v1/conversations/{quote(sender, safe='')}/messages")
    assert response.status == 200
    assert (await response.json())["messages"][0]["text"] == "hi"
