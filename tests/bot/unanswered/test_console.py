"""The console's Not understood panel: on the page, under its Content-Security-Policy, and
the routes it calls work with the console's session cookie and CSRF header."""

from __future__ import annotations

import base64
import hashlib
import re

from bot.appkeys import GATEWAY
from bot.console.sessions import CSRF_HEADER
from bot.unanswered.drafts import read_drafts

PASSWORD = "correct horse battery"


async def test_the_panel_is_on_the_page_and_its_script_is_allowed(client):
    response = await client.get("/console")
    page = await response.text()
    for element in ('id="unanswered-box"', 'id="unanswered-list"', 'id="draft-form"'):
        assert element in page
    assert "/api/v1/agent/unanswered?since=7d" in page
    assert "/api/v1/agent/unanswered/drafts" in page
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]
    # No inline handlers: the policy would block them, and text goes in as text.
    assert not re.search(r"\son[a-z]+=", page)
    assert "innerHTML" not in page and "outerHTML" not in page


async def test_the_console_session_lists_and_drafts(client, settings):
    await client.app[GATEWAY].handoff.agents.add("Ana", ("en",), password=PASSWORD)
    login = await client.post("/console/login", json={"name": "Ana", "password": PASSWORD})
    assert login.status == 200
    csrf = (await login.json())["csrf"]
    listed = await client.get("/api/v1/agent/unanswered?since=7d&limit=10")
    assert listed.status == 200
    assert (await listed.json())["groups"] == []
    body = {"text": "where is my parcel", "language": "en", "intent": "track_order"}
    forged = await client.post("/api/v1/agent/unanswered/drafts", json=body)
    assert forged.status == 403 and "CSRF" in (await forged.json())["error"]
    saved = await client.post(
        "/api/v1/agent/unanswered/drafts", json=body, headers={CSRF_HEADER: csrf}
    )
    assert saved.status == 201
    assert [(d["who"], d["text"]) for d in read_drafts(settings.nlu_drafts)] == [
        ("Ana", "where is my parcel")
    ]
