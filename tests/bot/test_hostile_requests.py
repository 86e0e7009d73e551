"""Requests the fuzzing (tests/fuzz) found answered with a 500: each is a clear 4xx now."""

from __future__ import annotations

import time

import pytest

from tests.gateway_fixtures import NLG_HEADERS

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # Python's json raises RecursionError, not JSONDecodeError, past ~1000 levels.
        (b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
        (b'{"sender": "x", "text": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", "nested too deeply"),
        # A lone surrogate cannot be encoded to store it (UnicodeEncodeError in SQLite).
        (b'{"sender": "x", "text": "hello \\ud800"}', "lone surrogate"),
        (b'{"sender": "\\udfff", "text": "hello"}', "lone surrogate"),
        # NUL cannot be stored in a PostgreSQL text column.
        (b'{"sender": "x", "text": "a\\u0000b"}', "NUL"),
        # In a key, deep inside, in upper case, after an escaped backslash that is not it.
        (b'{"sender": "x", "text": "hi", "metadata": {"\\u0000": 1}}', "NUL"),
        (b'{"sender": "x", "text": "hi", "metadata": {"a": [[["\\uDBFF"]]]}}', "surrogate"),
        (b'{"sender": "x", "text": "C:\\\\u0000 and \\u0000"}', "NUL"),
        # 64 levels hold a number no more than they hold a list.
        (b'{"sender": "x", "text": "hi", "m": ' + b"[" * 63 + b"1" + b"]" * 63 + b"}", "deeply"),
        (b'{"sender": "x", "text": "hi", "message_id": NaN}', "NaN is not a JSON value"),
        # More than 4300 digits: ValueError from int(), not JSONDecodeError.
        (b'{"sender": "x", "text": "hi", "message_id": ' + b"9" * 5000 + b"}", "invalid JSON"),
    ],
)
async def test_unreadable_json_is_a_400(client, fake_rasa, raw, message):
    response = await client.post("/api/v1/messages", data=raw, headers=JSON)
    assert response.status == 400
    assert message in (await response.json())["error"]
    assert fake_rasa.received == []


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(client):
    # The text `C:\u0000` (a backslash, then "u0000"): the quick look at the body sees an
    # escape, the walk over its strings finds no NUL.
    response = await client.post(
        "/api/v1/messages", data=b'{"sender": "b", "text": "C:\\\\u0000"}', headers=JSON
    )
    assert response.status == 200
    stored = await (await client.get("/api/v1/conversations/b/messages")).json()
    assert stored["messages"][0]["text"] == "C:\\u0000"


async def test_a_paired_surrogate_escape_is_an_ordinary_emoji(client):
    response = await client.post(
        "/api/v1/messages", data=b'{"sender": "e", "text": "thanks \\ud83d\\ude00"}', headers=JSON
    )
    assert response.status == 200
    stored = await (await client.get("/api/v1/conversations/e/messages")).json()
    assert stored["messages"][0]["text"] == "thanks 😀"


async def test_a_message_number_beyond_any_is_no_500(client):
    await client.post("/api/v1/messages", json={"sender": "big", "text": "hello"})
    response = await client.get(f"/api/v1/conversations/big/messages?after={2**64}")
    assert response.status == 200
    assert (await response.json())["messages"] == []


@pytest.mark.parametrize("latest", [[], "text", 5, {"metadata": []}, {"metadata": "nl"}])
async def test_nlg_reads_a_tracker_of_the_wrong_shape_as_no_metadata(client, latest):
    body = {"response": "utter_greet", "tracker": {"latest_message": latest}}
    response = await client.post("/nlg", json=body, headers=NLG_HEADERS)
    assert response.status == 200
    assert (await response.json())["text"]


@pytest.mark.parametrize("sender", [".", "..", " . "])
async def test_a_sender_no_url_can_name_is_refused(client, fake_rasa, sender):
    response = await client.post("/api/v1/messages", json={"sender": sender, "text": "hi"})
    assert response.status == 400
    assert "sender" in (await response.json())["error"]
    assert fake_rasa.received == []


async def test_an_answer_before_the_body_was_read_closes_the_connection(client):
    # aiohttp kept such a connection, and the client's next request on it waited seconds.
    early = await client.post(
        "/api/v1/messages", data=b"x" * 200_000, headers={"Content-Type": "text/plain"}
    )
    assert early.status == 415
    assert early.headers["Connection"] == "close"
    start = time.perf_counter()
    assert (await client.get("/livez")).status == 200
    assert time.perf_counter() - start < 1
