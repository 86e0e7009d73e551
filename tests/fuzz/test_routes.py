"""Hostile requests to every route a stranger, Rasa or an agent reaches (issue 10, item 9).

Each request is checked by `Client` (tests/fuzz/contract.py): never a 5xx other than a
JSON 503, the documented status and shape, never over one second. On top of that, every
message the service accepted must be readable afterwards, and the last test checks that
the service still answers a normal customer.
"""

from __future__ import annotations

import itertools
import json
import string
import time

import requests
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import TELEGRAM_SECRET, fuzz
from tests.fuzz.contract import encoded
from tests.fuzz.payloads import (
    CONTENT_TYPES,
    NASTY,
    json_values,
    raw_bodies,
    senders,
    texts,
    wrong,
)
from tests.gateway_fixtures import ADMIN_TOKEN, NLG_SECRET
from tests.telegram_server import edited_text_update, text_update

LANGUAGES = st.sampled_from(["en", "nl", "he", "fa", "vi", "es", "nl-BE", "EN", "xx", "", "zh"])
ZONES = st.sampled_from(["Asia/Tehran", "UTC", "Mars/Olympus", "../../etc/passwd", "", "Z" * 300])
# What a cookie value can hold on the wire (anything else is not HTTP, and aiohttp's
# parser answers it before the app sees it).
COOKIE_CHARACTERS = string.ascii_letters + string.digits + "-_.~!*'()%"
# Conversations the service accepted a message for: (how to read it back, text).
ACCEPTED: list[tuple[str, str, str]] = []
# Telegram chats that sent a well-formed private text message: each must be answered.
TELEGRAM_CHATS: set[int] = set()
_chat_ids = itertools.count(7_000_000)
_update_ids = itertools.count(900_000)
_seen_message_ids: set[tuple[str, str]] = set()


def _optional(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def objects(draw, required: dict, optional: dict) -> dict:
    """A JSON object with the route's fields (some missing, some of a wrong type) and junk."""
    body = {}
    for name, strategy in required.items():
        if draw(st.integers(0, 9)):
            body[name] = draw(wrong(strategy))
    for name, strategy in optional.items():
        if draw(st.booleans()):
            body[name] = draw(wrong(strategy))
    body.update(draw(st.dictionaries(st.text(max_size=6), json_values(), max_size=2)))
    return body


def bodies(required: dict, optional: dict | None = None) -> st.SearchStrategy[bytes]:
    return st.one_of(
        objects(required, optional or {}).map(encoded),
        objects(required, optional or {}).map(encoded),
        objects(required, optional or {}).map(encoded),
        raw_bodies(),
    )


def _parsed(body: bytes) -> dict:
    return json.loads(body)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= character <= "\udfff" for character in text)


def _erasing(text: str) -> bool:
    return text.strip().lower().startswith("/delete_my_data")


# The REST channel ---------------------------------------------------------------------


REST_FIELDS = {"sender": senders(), "text": texts()}
REST_OPTIONAL = {
    "language": LANGUAGES,
    "name": st.sampled_from(NASTY),
    "message_id": st.one_of(st.text(max_size=10), st.integers()),
    "timezone": ZONES,
}


@fuzz(100)
@given(body=bodies(REST_FIELDS, REST_OPTIONAL), content_type=st.sampled_from(CONTENT_TYPES))
def test_rest_messages(client, body, content_type):
    answer = client.call("POST", "/api/v1/messages", body=body, content_type=content_type)
    if answer.status != 200:
        return
    sent = _parsed(body)
    sender = sent["sender"].strip()
    assert answer.json["sender"] == sender
    message_id = str(sent.get("message_id"))
    if "message_id" in sent and (sender, message_id) in _seen_message_ids:
        return  # a redelivery: answered from the first delivery, not stored again
    _seen_message_ids.add((sender, message_id))
    if not _erasing(sent["text"]):
        _assert_stored(client, "rest", sender, sent["text"])
        ACCEPTED.append(("rest", sender, sent["text"]))


@fuzz(40)
@given(sender=senders(), after=st.one_of(st.none(), st.text(max_size=8), st.integers()))
def test_rest_history(client, sender, after):
    params = None if after is None else {"after": str(after)}
    client.call(
        "GET",
        "/api/v1/conversations/{sender}/messages",
        path={"sender": sender},
        params=params,
        content_type=None,
    )


# The web chat -------------------------------------------------------------------------


@fuzz(60)
@given(
    body=bodies({"text": texts()}, {"language": LANGUAGES, "timezone": ZONES}),
    content_type=st.sampled_from(CONTENT_TYPES),
    cookie=_optional(st.one_of(st.text(COOKIE_CHARACTERS, max_size=30), st.just("-_" * 12))),
)
def test_web_chat(client, body, content_type, cookie):
    with requests.Session() as browser:
        cookies = {"tolk_chat": cookie} if cookie is not None else None
        answer = client.call(
            "POST",
            "/chat/messages",
            body=body,
            content_type=content_type,
            cookies=cookies,
            session=browser,
        )
        if answer.status != 200:
            return
        text = _parsed(body)["text"]
        chat = browser.cookies.get("tolk_chat")
        assert chat, "a web chat answer without its conversation cookie"
        if not _erasing(text):
            _assert_stored(client, "web", chat, text)
            ACCEPTED.append(("web", chat, text))
        history = client.call(
            "GET", "/chat/messages", params={"after": "x"}, content_type=None, session=browser
        )
        assert history.status == 400


# Telegram -----------------------------------------------------------------------------


@st.composite
def telegram_updates(draw) -> tuple[dict, bool]:
    """(an update, whether it is a well-formed private text message that needs an answer)."""
    chat = next(_chat_ids)
    update_id = next(_update_ids)
    text = draw(texts())
    kind = draw(st.sampled_from(["text", "text", "edited", "mangled", "junk"]))
    if kind == "edited":
        return edited_text_update(update_id, chat, text), False
    update = text_update(update_id, chat, text, language_code=draw(_optional(LANGUAGES)))
    if kind == "text":
        return update, bool(text.strip()) and not _has_surrogate(text)
    if kind == "junk":
        return draw(st.dictionaries(st.text(max_size=10), json_values(), max_size=4)), False
    # One field of the update, at any depth, replaced by any JSON value.
    path = draw(
        st.sampled_from(
            [
                ("update_id",),
                ("message",),
                ("message", "chat"),
                ("message", "chat", "id"),
                ("message", "chat", "type"),
                ("message", "from"),
                ("message", "from", "id"),
                ("message", "from", "language_code"),
                ("message", "text"),
                ("message", "date"),
                ("message", "message_id"),
            ]
        )
    )
    value = draw(
        st.one_of(
            json_values(),
            st.sampled_from([2**63, -(2**63) - 1, 2**64, True, 1.5, "12", -1, 0]),
        )
    )
    target = update
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return update, False


@fuzz(60)
@given(
    update=telegram_updates(),
    secret=st.sampled_from([TELEGRAM_SECRET] * 8 + [None, "", "wrong", TELEGRAM_SECRET + "x"]),
    raw=_optional(raw_bodies()),
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_telegram_webhook(client, update, secret, raw, content_type):
    update, needs_answer = update
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    answer = client.call(
        "POST",
        "/telegram/webhook",
        body=raw if raw is not None else encoded(update),
        content_type=content_type,
        headers=headers,
    )
    if answer.status == 200 and raw is None and needs_answer:
        TELEGRAM_CHATS.add(update["message"]["chat"]["id"])


# /nlg (Rasa's) ------------------------------------------------------------------------


RESPONSES = st.sampled_from(
    [
        "utter_greet",
        "utter_disclosure",
        "utter_service_unavailable",
        "utter_language_not_supported",
        "utter_handoff_queued",
        "utter_order_status_shipped",
        "utter_faq/shipping_time",
        "canned/greeting",
        "utter_nothing_like_this",
        "",
        "../locales/en",
        "{support_email}",
    ]
)
SLOTS = st.dictionaries(
    st.sampled_from(["order_number", "email", "customer_name", "verified_order", "x"]),
    st.one_of(texts(), json_values()),
    max_size=4,
)


@st.composite
def trackers(draw) -> dict:
    metadata = draw(wrong(st.fixed_dictionaries({"language": wrong(LANGUAGES)})))
    latest = st.fixed_dictionaries({"text": wrong(texts()), "metadata": st.just(metadata)})
    latest = draw(wrong(latest))
    return {
        "sender_id": draw(wrong(senders())),
        "slots": draw(wrong(SLOTS)),
        "latest_message": latest,
        "events": draw(wrong(st.lists(json_values(), max_size=3))),
    }


@fuzz(60)
@given(
    body=bodies(
        {"response": RESPONSES},
        {
            "arguments": SLOTS,
            "tracker": trackers(),
            "channel": json_values(),
            "template": RESPONSES,
        },
    ),
    authorization=st.sampled_from([f"Bearer {NLG_SECRET}"] * 6 + [None, "Bearer", "Basic x"]),
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_nlg(client, body, authorization, content_type):
    headers = {"Authorization": authorization} if authorization else {}
    client.call("POST", "/nlg", body=body, content_type=content_type, headers=headers)


# The agent API ------------------------------------------------------------------------


TICKET_IDS = st.one_of(
    st.sampled_from(["TICKET", "TICKET", "TICKET", "0", "-1", "99999999999999999999999", "²", "١"]),
    # "." and ".." are dot segments every client and server removes (RFC 3986 5.2.4):
    # "/tickets/./claim" is another route, not an odd ticket id.
    st.text(min_size=1, max_size=12).filter(lambda t: t not in (".", "..")),
    st.integers(0, 2**64).map(str),
)
AGENT_ROUTES = [
    ("GET", "/api/v1/agent/me"),
    ("GET", "/api/v1/agent/tickets"),
    ("GET", "/api/v1/agent/tickets/{ticket}"),
    ("POST", "/api/v1/agent/tickets/{ticket}/claim"),
    ("POST", "/api/v1/agent/tickets/{ticket}/messages"),
    ("POST", "/api/v1/agent/tickets/{ticket}/messages"),
    ("POST", "/api/v1/agent/tickets/{ticket}/notes"),
    ("POST", "/api/v1/agent/tickets/{ticket}/files"),
    ("GET", "/api/v1/agent/files/telegram/{file_id}"),
]


def _open_ticket(client) -> tuple[str, str]:
    """A customer who asked for a person; (their sender, the ticket id)."""
    sender = "fuzz-customer"
    answer = client.call(
        "POST", "/api/v1/messages", body=encoded({"sender": sender, "text": "/human"})
    )
    assert answer.status == 200 and answer.json["handoff"], answer.json
    return sender, str(answer.json["handoff"]["ticket"])


_TICKET: dict[str, str] = {}


@fuzz(60)
@given(
    route=st.sampled_from(AGENT_ROUTES),
    ticket=TICKET_IDS,
    body=bodies(
        {"text": texts()},
        {"canned": st.sampled_from(["greeting", "nope", ""]), "language": LANGUAGES},
    ),
    status=_optional(st.sampled_from(["queued", "assigned", "resolved", "", "x", "QUEUED"])),
    token=st.sampled_from(["AGENT"] * 6 + [None, "", "wrong"]),
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_agent_api(client, live, route, ticket, body, status, token, content_type):
    if not _TICKET:
        _TICKET["sender"], _TICKET["id"] = _open_ticket(client)
        claimed = client.call(
            "POST",
            "/api/v1/agent/tickets/{ticket}/claim",
            path={"ticket": _TICKET["id"]},
            headers={"Authorization": f"Bearer {live.agent_token}"},
            content_type=None,
        )
        assert claimed.status == 200
    method, template = route
    ticket = _TICKET["id"] if ticket == "TICKET" else ticket
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {live.agent_token if token == 'AGENT' else token}"
    answer = client.call(
        method,
        template,
        path={"ticket": ticket, "file_id": ticket},
        body=body if method == "POST" else None,
        content_type=content_type if method == "POST" else None,
        headers=headers,
        params={"status": status} if status is not None and template.endswith("tickets") else None,
    )
    if answer.status == 201 and template.endswith("/messages"):
        delivered = answer.json["text"]
        history = _history(client, "rest", _TICKET["sender"])
        assert delivered in [m["text"] for m in history if m["from"] == "agent"]


# Incidents (bot/incidents/) ------------------------------------------------------------


INCIDENT_IDS = st.one_of(
    st.sampled_from(["INCIDENT"] * 4 + ["0", "-1", "99999999999999999999999", "²", "١"]),
    st.text(min_size=1, max_size=12).filter(lambda t: t not in (".", "..")),
    st.integers(0, 2**64).map(str),
)
INCIDENT_INTENTS = st.sampled_from(
    ["faq/payment_methods", "track_order", "faq/shipping_time", "greet", "", "a" * 65, "Faq/X"]
)
_INCIDENTS: list[int] = []


@fuzz(60)
@given(
    action=st.sampled_from(["publish", "publish", "list", "close", "close"]),
    incident=INCIDENT_IDS,
    body=st.one_of(
        # Well-formed often enough that incidents are published (and pushed, and closed).
        st.fixed_dictionaries(
            {"intent": st.sampled_from(["faq/payment_methods", "track_order"]), "text": texts()},
            optional={"push": st.booleans(), "texts": st.dictionaries(LANGUAGES, texts())},
        ).map(encoded),
        bodies(
            {"intent": INCIDENT_INTENTS, "text": texts()},
            {
                "language": LANGUAGES,
                "push": st.booleans(),
                "texts": st.dictionaries(LANGUAGES, texts(), max_size=3),
            },
        ),
    ),
    status=_optional(st.sampled_from(["open", "closed", "", "x", "OPEN"])),
    token=st.sampled_from(["AGENT"] * 6 + [None, "", "wrong"]),
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_incidents(client, live, action, incident, body, status, token, content_type):
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {live.agent_token if token == 'AGENT' else token}"
    if action == "list":
        client.call(
            "GET",
            "/api/v1/agent/incidents",
            params={"status": status} if status is not None else None,
            headers=headers,
            content_type=None,
        )
        return
    if action == "close":
        known = str(_INCIDENTS[-1]) if _INCIDENTS else "1"
        client.call(
            "POST",
            "/api/v1/agent/incidents/{incident}/close",
            path={"incident": known if incident == "INCIDENT" else incident},
            body=body,
            content_type=content_type,
            headers=headers,
        )
        return
    answer = client.call(
        "POST", "/api/v1/agent/incidents", body=body, content_type=content_type, headers=headers
    )
    if answer.status == 201:
        _INCIDENTS.append(answer.json["id"])
        listed = client.call(
            "GET",
            "/api/v1/agent/incidents",
            params={"status": "open"},
            headers=headers,
            content_type=None,
        )
        assert answer.json["id"] in [found["id"] for found in listed.json["incidents"]]


# What the bot did not understand (bot/unanswered/) -------------------------------------


UNANSWERED_QUERIES = st.one_of(
    st.just({}),
    # Mostly what the console asks, so that answers with groups are checked too.
    st.fixed_dictionaries(
        {},
        optional={
            "since": st.sampled_from(["7d", "30m", "4w", "12h", "9999w", "0d", " 1 d "]),
            "language": st.sampled_from(["en", "fa", "he", "xx", ""]),
            "channel": st.sampled_from(["rest", "web", "telegram", "x" * 40]),
            "limit": st.sampled_from(["1", "20", "100", "101", "0", "-1", "²", "1e3"]),
        },
    ),
    st.dictionaries(
        st.sampled_from(["since", "language", "channel", "limit", "x"]),
        st.text(max_size=40),
        max_size=4,
    ),
)
INTENTS = st.sampled_from(
    ["greet", "faq/shipping_time", "track_order", "Greet", "", "a" * 65, "track-order"]
)


@fuzz(60)
@given(
    drafting=st.booleans(),
    query=UNANSWERED_QUERIES,
    body=st.one_of(
        # Well-formed often enough that drafts are written (any text), and anything else.
        st.fixed_dictionaries(
            {"text": texts(), "language": st.sampled_from(["en", "fa", "he"]), "intent": INTENTS}
        ).map(encoded),
        bodies({"text": texts(), "language": LANGUAGES, "intent": INTENTS}),
    ),
    token=st.sampled_from(["AGENT"] * 6 + [None, "", "wrong"]),
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_unanswered(client, live, drafting, query, body, token, content_type):
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {live.agent_token if token == 'AGENT' else token}"
    if not drafting:
        client.call(
            "GET", "/api/v1/agent/unanswered", params=query, headers=headers, content_type=None
        )
        return
    answer = client.call(
        "POST",
        "/api/v1/agent/unanswered/drafts",
        body=body,
        content_type=content_type,
        headers=headers,
    )
    if answer.status == 201:
        stored = yaml.safe_load(live.settings.nlu_drafts.read_text(encoding="utf-8"))
        assert answer.json["draft"] in stored, "a draft accepted but not in the review file"


# Operators and orchestrators ----------------------------------------------------------


@fuzz(20)
@given(
    route=st.sampled_from(
        [
            ("GET", "/healthz"),
            ("GET", "/readyz"),
            ("GET", "/livez"),
            ("POST", "/api/v1/content/reload"),
        ]
    ),
    authorization=st.sampled_from([f"Bearer {ADMIN_TOKEN}", None, "Bearer nope", "x"]),
    body=_optional(raw_bodies()),
)
def test_admin_routes(client, route, authorization, body):
    method, path = route
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.call(
        method,
        path,
        body=body,
        headers=headers,
        content_type=None if body is None else "application/json",
    )
    if path != "/api/v1/content/reload":
        assert answer.status == 200, answer.json  # the fakes are up


# What a header may hold (aiohttp answers control characters itself, before any route).
HEADER_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80)


@fuzz(30)
@given(
    authorization=_optional(HEADER_TEXT),
    forwarded=_optional(HEADER_TEXT),
    query=_optional(st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=3)),
)
def test_metrics(client, authorization, forwarded, query):
    headers = {"Authorization": authorization} if authorization else {}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    answer = client.call("GET", "/metrics", headers=headers, params=query, content_type=None)
    # From this machine: read, but not through a proxy (no TOLK_METRICS_TOKEN here).
    assert answer.status == (401 if forwarded else 200)
    if answer.status == 200:
        # Whatever strangers sent so far, the labels name routes, never paths or senders.
        text = answer.raw.decode()
        assert "/../" not in text and "rest-" not in text and "web-" not in text


# Afterwards ---------------------------------------------------------------------------


def test_the_service_is_healthy_afterwards_and_lost_nothing(client, live):
    health = client.call("GET", "/healthz", content_type=None)
    assert health.status == 200 and health.json["status"] == "ok"
    normal = client.call(
        "POST", "/api/v1/messages", body=encoded({"sender": "after-fuzz", "text": "hello there"})
    )
    assert normal.status == 200
    assert "an answer" in [message["text"] for message in normal.json["messages"]]

    for channel, key, text in ACCEPTED:
        _assert_stored(client, channel, key, text)
    assert ACCEPTED, "the fuzzing got no message accepted at all"

    answered = {}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        answered = {sent["chat_id"] for sent in live.telegram.sent}
        if TELEGRAM_CHATS <= answered:
            break
        time.sleep(0.1)
    assert TELEGRAM_CHATS, "no Telegram update was well-formed"
    assert sorted(TELEGRAM_CHATS - answered) == [], "Telegram customers left unanswered"


def _history(client, channel: str, key: str) -> list[dict]:
    if channel == "rest":
        answer = client.call(
            "GET",
            "/api/v1/conversations/{sender}/messages",
            path={"sender": key},
            content_type=None,
        )
    else:
        with requests.Session() as browser:
            answer = client.call(
                "GET",
                "/chat/messages",
                cookies={"tolk_chat": key},
                content_type=None,
                session=browser,
            )
    assert answer.status == 200, f"{channel} conversation {key!r}: {answer.status} {answer.json}"
    return answer.json["messages"]


def _assert_stored(client, channel: str, key: str, text: str) -> None:
    stored = [m["text"] for m in _history(client, channel, key) if m["from"] == "customer"]
    assert text in stored, f"{channel} message {text[:60]!r} of {key!r} was accepted but is lost"
