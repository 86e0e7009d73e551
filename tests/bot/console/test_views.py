"""The agent console: its page, login and logout, CSRF, and the live websocket feed."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError

from bot.appkeys import ALERTS, GATEWAY
from bot.console import views
from bot.console.sessions import COOKIE, CSRF_HEADER
from bot.ratelimit import MemoryRateLimiter, Rate
from tests.bot.test_limits import from_address

PASSWORD = "correct horse battery"


@pytest.fixture
async def agent(client):
    new = await client.app[GATEWAY].handoff.agents.add("Ana", ("en", "nl"), password=PASSWORD)
    return new.agent


@pytest.fixture(autouse=True)
def fast_feed(monkeypatch):
    monkeypatch.setattr(views, "TICK_SECONDS", 0.1)


def origin(client) -> str:
    return str(client.make_url("")).rstrip("/")


async def log_in(client, name: str = "Ana", password: str = PASSWORD):
    return await client.post("/console/login", json={"name": name, "password": password})


async def signed_in(client) -> str:
    response = await log_in(client)
    assert response.status == 200, await response.text()
    return (await response.json())["csrf"]


async def open_ticket(client, sender: str = "c1", text: str = "/human") -> int:
    response = await client.post("/api/v1/messages", json={"sender": sender, "text": text})
    assert response.status == 200
    return (await response.json())["handoff"]["ticket"]


async def next_message(ws, kind: str, timeout: float = 5.0, until=lambda message: True) -> dict:
    """The next message of `kind` (for which `until` holds), skipping others."""

    async def wanted() -> dict:
        while True:
            received = await ws.receive()
            assert received.type == WSMsgType.TEXT, received
            message = json.loads(received.data)
            if message["type"] == kind and until(message):
                return message

    return await asyncio.wait_for(wanted(), timeout)


async def test_page_is_self_contained_and_inserts_text_only(client):
    response = await client.get("/console")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-cache"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'sha256-" in policy
    page = await response.text()
    assert 'dir="auto"' in page and 'id="login-name"' in page
    assert "innerHTML" not in page and "insertAdjacentHTML" not in page
    assert "http://" not in page and "https://" not in page  # no CDN, nothing external


async def test_login_sets_a_strict_http_only_session(client, agent):
    response = await log_in(client)
    assert response.status == 200
    body = await response.json()
    assert body["agent"]["name"] == "Ana" and body["agent"]["languages"] == ["en", "nl"]
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"
    session = await client.get("/console/session")
    assert session.status == 200
    assert (await session.json())["csrf"] == body["csrf"]
    me = await client.get("/api/v1/agent/me")
    assert me.status == 200 and (await me.json())["name"] == "Ana"


async def test_wrong_password_and_unknown_name_get_the_same_401(client, agent):
    wrong = await log_in(client, password="not the password")
    unknown = await log_in(client, name="Nobody")
    assert wrong.status == unknown.status == 401
    assert await wrong.json() == await unknown.json() == {"error": views.WRONG_LOGIN}
    assert COOKIE not in wrong.cookies
    session = await client.get("/console/session")
    assert session.status == 401 and "error" in await session.json()


async def test_login_refuses_cross_site_posts(client, agent):
    form = await client.post("/console/login", data={"name": "Ana", "password": PASSWORD})
    assert form.status == 415 and "error" in await form.json()
    foreign = await client.post(
        "/console/login",
        json={"name": "Ana", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status == 403 and "error" in await foreign.json()
    same = await client.post(
        "/console/login",
        json={"name": "Ana", "password": PASSWORD},
        headers={"Origin": origin(client)},
    )
    assert same.status == 200
    bad = await client.post("/console/login", json={"name": "Ana"})
    assert bad.status == 400 and "error" in await bad.json()


async def test_repeated_failures_lock_the_name_for_a_while(client, agent):
    for _ in range(5):
        assert (await log_in(client, password="guess guess guess")).status == 401
    locked = await log_in(client)  # even the right password waits now
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "error" in await locked.json()
    assert (await log_in(client, name=" ANA ")).status == 429  # same name, other spelling


async def test_throttle_opens_again_after_its_window():
    now = [0.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    throttle = views.LoginThrottle(limiter, per_name=Rate(3, 60), per_address=Rate(100, 60))
    for _ in range(3):
        assert await throttle.retry_after("10.0.0.9", "x") == 0
        await throttle.failed("10.0.0.9", "x")
    assert await throttle.retry_after("10.0.0.9", "x") == 20  # one more try per 60/3 s
    assert await throttle.retry_after("10.0.0.9", "X ") == 20, "the same name"
    assert await throttle.retry_after("10.0.0.8", "x") == 0, "another address"
    now[0] = 20
    assert await throttle.retry_after("10.0.0.9", "x") == 0
    await throttle.failed("10.0.0.9", "x")
    await throttle.succeeded("10.0.0.9", "x")
    await throttle.failed("10.0.0.9", "x")
    assert await throttle.retry_after("10.0.0.9", "x") == 0


async def test_a_stranger_cannot_lock_an_agent_out(client, agent):
    """Guessing from another address slows that address down, not the agent."""
    url = client.make_url("/console/login")
    async with from_address("127.0.0.2") as stranger:
        statuses = []
        for _ in range(8):
            response = await stranger.post(url, json={"name": "Ana", "password": "guess"})
            statuses.append(response.status)
        assert statuses[:5] == [401] * 5 and statuses[-1] == 429
        body = await response.json()
        assert body["retry_after"] >= 1 and response.headers["Retry-After"]
    assert (await log_in(client)).status == 200, "Ana, from her own address, gets in"


async def test_one_address_trying_many_names_is_limited(client, agent):
    url = client.make_url("/console/login")
    async with from_address("127.0.0.2") as stranger:
        for n in range(20):  # TOLK_LOGIN_FAILURES_PER_ADDRESS: 20 per 10 minutes
            response = await stranger.post(url, json={"name": f"name{n}", "password": "x"})
            assert response.status == 401
        response = await stranger.post(url, json={"name": "Ana", "password": PASSWORD})
        assert response.status == 429
    assert (await log_in(client)).status == 200


async def test_agent_api_with_the_cookie_needs_the_csrf_header(client, agent):
    csrf = await signed_in(client)
    ticket = await open_ticket(client)
    forged = await client.post(f"/api/v1/agent/tickets/{ticket}/claim")
    assert forged.status == 403
    assert "CSRF" in (await forged.json())["error"]
    wrong = await client.post(
        f"/api/v1/agent/tickets/{ticket}/claim", headers={CSRF_HEADER: "guessed"}
    )
    assert wrong.status == 403
    claimed = await client.post(
        f"/api/v1/agent/tickets/{ticket}/claim", headers={CSRF_HEADER: csrf}
    )
    assert claimed.status == 200
    assert (await claimed.json())["agent"]["name"] == "Ana"


async def test_logout_needs_csrf_and_ends_the_session(client, agent):
    csrf = await signed_in(client)
    refused = await client.post("/console/logout")
    assert refused.status == 403 and "error" in await refused.json()
    assert (await client.get("/console/session")).status == 200
    done = await client.post("/console/logout", headers={CSRF_HEADER: csrf})
    assert done.status == 200
    assert (await client.get("/console/session")).status == 401
    assert (await client.get("/api/v1/agent/me")).status == 401
    again = await client.post("/console/logout", headers={CSRF_HEADER: csrf})
    assert again.status == 401


async def test_old_session_cookie_stops_working_after_logout(client, agent):
    await signed_in(client)
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
    csrf = await signed_in(client)  # logging in again replaces the session
    await client.post("/console/logout", headers={CSRF_HEADER: csrf})
    client.session.cookie_jar.update_cookies({COOKIE: stolen})
    assert (await client.get("/console/session")).status == 401


async def test_websocket_pushes_the_queue_and_a_watched_ticket(client, agent):
    await signed_in(client)
    async with client.ws_connect("/console/ws", headers={"Origin": origin(client)}) as ws:
        first = await next_message(ws, "queue")
        assert first["tickets"] == []
        ticket = await open_ticket(client)
        # Opening and assigning are two writes; a push may fall between them.
        queue = await next_message(
            ws,
            "queue",
            until=lambda m: any(
                t["id"] == ticket and t["status"] != "queued" for t in m["tickets"]
            ),
        )
        listed = next(t for t in queue["tickets"] if t["id"] == ticket)
        assert listed["customer"]["sender"] == "rest-c1"  # the conversation key
        assert listed["reason"] == "request" and listed["channel"] == "rest"
        # The console keeps Ana online, so the ticket goes to her.
        assert listed["status"] == "assigned" and listed["agent"]["name"] == "Ana"

        await ws.send_json({"type": "watch", "ticket": ticket})
        watched = await next_message(ws, "ticket")
        assert watched["ticket"]["id"] == ticket
        assert watched["ticket"]["transcript"][0]["text"] == "/human"

        await client.post("/api/v1/messages", json={"sender": "c1", "text": "still there?"})
        changed = await next_message(
            ws, "ticket", until=lambda m: m["ticket"]["transcript"][-1]["text"] == "still there?"
        )
        assert changed["ticket"]["transcript"][-1]["from"] == "customer"

        await ws.send_json({"type": "watch", "ticket": 9999})
        missing = await next_message(ws, "error")
        assert missing["ticket"] == 9999 and missing["status"] == 404
        await ws.send_str("not json")
        assert "watch" in (await next_message(ws, "error"))["error"]


async def test_websocket_marks_the_agent_online(client, agent):
    await signed_in(client)
    handoff = client.app[GATEWAY].handoff
    assert (await handoff.agents.by_id(agent.id)).last_seen_at is None
    async with client.ws_connect("/console/ws", headers={"Origin": origin(client)}) as ws:
        await next_message(ws, "queue")
        assert (await handoff.agents.by_id(agent.id)).last_seen_at is not None


async def test_websocket_closes_when_the_session_ends(client, agent):
    csrf = await signed_in(client)
    async with client.ws_connect("/console/ws", headers={"Origin": origin(client)}) as ws:
        await next_message(ws, "queue")
        await client.post("/console/logout", headers={CSRF_HEADER: csrf})
        await next_message(ws, "logout")
        closed = await ws.receive()
        assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
        assert ws.close_code == views.CLOSE_LOGGED_OUT


async def test_websocket_refuses_a_foreign_origin(client, agent):
    await signed_in(client)
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/console/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403


async def test_websocket_needs_a_login(client, agent):
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/console/ws", headers={"Origin": origin(client)})
    assert refused.value.status == 401
    plain = await client.get("/console/ws")
    assert plain.status == 401 and "error" in await plain.json()


async def test_other_methods_and_paths_get_json(client):
    wrong_method = await client.get("/console/login")
    assert wrong_method.status == 405 and wrong_method.headers["Allow"] == "POST"
    assert "error" in await wrong_method.json()
    unknown = await client.get("/console/nothing-here")
    assert unknown.status == 404 and "error" in await unknown.json()


def test_same_origin_rules():
    from aiohttp.test_utils import make_mocked_request

    def check(origin_header: str | None, host: str = "127.0.0.1:8080") -> bool:
        headers = {"Host": host}
        if origin_header is not None:
            headers["Origin"] = origin_header
        return views.same_origin(make_mocked_request("GET", "/console/ws", headers=headers))

    assert check(None)
    assert check("http://127.0.0.1:8080")
    assert check("https://console.example", host="console.example")
    assert check("https://console.example:443", host="console.example")
    assert not check("http://127.0.0.1:8081")
    assert not check("https://evil.example")
    assert not check("null")


@pytest.mark.parametrize(("trust_proxy", "secure"), [(True, True), (False, False)])
async def test_the_session_cookie_is_secure_behind_a_trusted_tls_proxy(
    aiohttp_client, settings, trust_proxy, secure
):
    from dataclasses import replace

    from bot.app import create_app

    console = await aiohttp_client(create_app(replace(settings, trust_proxy=trust_proxy)))
    await console.app[GATEWAY].handoff.agents.add("Ana", ("en",), password=PASSWORD)
    response = await console.post(
        "/console/login",
        json={"name": "Ana", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert response.status == 200
    assert bool(response.cookies[COOKIE]["secure"]) is secure


async def test_websocket_pushes_alerts_once_each(client, agent):
    alerts = client.app[ALERTS]
    earlier = await alerts.add("sla_breach", "SLA breached: ticket 7 had no reply", None)
    await signed_in(client)
    async with client.ws_connect("/console/ws", headers={"Origin": origin(client)}) as ws:
        shown = await next_message(ws, "alerts")
        assert [a["id"] for a in shown["alerts"]] == [earlier.id]  # the recent ones on connect
        later = await alerts.add("sla_warning", "SLA warning: ticket 8 due in 1 min", None)
        pushed = await next_message(ws, "alerts")
        assert pushed["alerts"] == [later.as_json()]  # only the new one


async def test_a_change_on_this_replica_is_pushed_without_waiting_for_a_tick(
    client, agent, monkeypatch
):
    """Without Redis the feed still polls every TICK_SECONDS (other replicas), but what
    changes in its own process wakes it at once (bot/changes.py)."""
    monkeypatch.setattr(views, "TICK_SECONDS", 30.0)
    await signed_in(client)
    async with client.ws_connect("/console/ws", headers={"Origin": origin(client)}) as ws:
        await next_message(ws, "queue")
        await asyncio.sleep(0.3)  # the first round is done: the next tick is 30 s away
        ticket = await open_ticket(client)
        await next_message(
            ws, "queue", timeout=1.0, until=lambda m: any(t["id"] == ticket for t in m["tickets"])
        )
        await ws.send_json({"type": "watch", "ticket": ticket})
        await next_message(ws, "ticket", timeout=1.0)
        raised = await client.app[ALERTS].add("sla_warning", "SLA warning: ticket 1", ticket)
        pushed = await next_message(ws, "alerts", timeout=1.0)
        assert pushed["alerts"][-1]["id"] == raised.id
