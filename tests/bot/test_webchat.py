"""The web chat page and its own JSON routes (cookie-identified conversations)."""


async def test_page_is_served_with_rtl_support(client):
    response = await client.get("/")
    assert response.status == 200
    page = await response.text()
    assert 'dir="auto"' in page
    assert "automated assistant" in page
    assert "innerHTML" not in page  # customer text is always inserted as text


async def test_chat_round_trip_keeps_one_conversation_per_browser(client, fake_rasa):
    first = await client.post("/chat/messages", json={"text": "שלום, איפה ההזמנה שלי?"})
    assert first.status == 200
    body = await first.json()
    assert body["language"] == "he"
    cookie = first.cookies["tolk_chat"]
    assert cookie["httponly"]
    sender = fake_rasa.received[-1]["sender"]
    assert sender.startswith("web-")
    await client.post("/chat/messages", json={"text": "תודה"})
    assert fake_rasa.received[-1]["sender"] == sender
    history = (await (await client.get("/chat/messages?after=0")).json())["messages"]
    assert [m["from"] for m in history][:1] == ["customer"]
    assert history[0]["text"] == "שלום, איפה ההזמנה שלי?"


async def test_another_browser_sees_nothing(aiohttp_client, settings, client):
    from bot.app import create_app

    await client.post("/chat/messages", json={"text": "hello there, my order is late"})
    stranger = await aiohttp_client(create_app(settings))
    assert (await (await stranger.get("/chat/messages")).json()) == {"messages": []}


async def test_chat_validation(client):
    empty = await client.post("/chat/messages", json={"text": ""})
    assert empty.status == 400 and "error" in await empty.json()
    long = await client.post("/chat/messages", json={"text": "x" * 5000})
    assert long.status == 413


async def test_the_page_runs_only_its_own_script_and_style(client):
    import base64
    import hashlib
    import re

    response = await client.get("/")
    page = await response.read()
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["connect-src"] == "'self'"
    for tag in ("script", "style"):
        blocks = re.findall(rb"<%s>(.*?)</%s>" % (tag.encode(), tag.encode()), page, re.DOTALL)
        assert blocks, tag
        wanted = {
            f"'sha256-{base64.b64encode(hashlib.sha256(b).digest()).decode()}'" for b in blocks
        }
        assert set(directives[f"{tag}-src"].split()) == wanted, tag
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    # Every script and style is inline (hashed): nothing loads from elsewhere.
    assert b"<script src" not in page and b'rel="stylesheet"' not in page


async def test_the_cookie_is_secure_behind_a_trusted_tls_proxy(aiohttp_client, settings):
    from dataclasses import replace

    from bot.app import create_app

    https = {"X-Forwarded-Proto": "https"}
    trusting = await aiohttp_client(create_app(replace(settings, trust_proxy=True)))
    response = await trusting.post("/chat/messages", json={"text": "hello"}, headers=https)
    assert response.status == 200
    assert response.cookies["tolk_chat"]["secure"]
    plain = await trusting.post("/chat/messages", json={"text": "hello"})
    assert not plain.cookies["tolk_chat"]["secure"]


async def test_a_forwarded_proto_header_is_ignored_without_a_proxy(client):
    response = await client.post(
        "/chat/messages", json={"text": "hello"}, headers={"X-Forwarded-Proto": "https"}
    )
    assert response.status == 200
    assert not response.cookies["tolk_chat"]["secure"]
