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
