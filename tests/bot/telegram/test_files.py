"""Files Telegram customers send during a handoff: served as downloads whose type is read
from their bytes, and only to the agent who holds that conversation's ticket."""

from __future__ import annotations

import asyncio

import pytest

from tests.bot.handoff.conftest import Team
from tests.bot.telegram.conftest import deliver
from tests.telegram_server import document_update, photo_update, text_update
from tests.texts import said

HTML = b"<!doctype html><html><body><script>fetch('/api/v1/agent/me')</script></body></html>"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>"
)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 17
OGG_OPUS = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01" + b"\x00" * 10
TEXT = "Order 10001 arrived broken.\nFoto’s volgen, één moment.\n".encode()

# file id -> (what the customer's app called it and claimed it was, what it is)
FILES = {
    "doc-html": ("invoice.html", "text/html", HTML),
    "doc-svg": ("logo.svg", "image/svg+xml", SVG),
    "doc-fake-jpeg": ("photo.jpg", "image/jpeg", HTML),  # a page posing as a photo
    "doc-pdf": ("factuur 10001.pdf", "application/pdf", PDF),
    "doc-png-as-txt": ("notes.txt", "text/plain", PNG),
    "doc-voice": ("note.ogg", "audio/ogg", OGG_OPUS),
    "doc-text": ("bericht.txt", "text/plain", TEXT),
}


async def said_to(telegram, chat: int, text: str, times: int = 1, timeout: float = 10.0) -> None:
    """Wait until `text` was sent to `chat` `times` times (handling follows the 200)."""
    for _ in range(int(timeout / 0.02)):
        if sum(m["chat_id"] == chat and m["text"] == text for m in telegram.sent) >= times:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{text!r} not sent {times}x to {chat}: {telegram.sent}")


def path(file_id: str) -> str:
    return f"/api/v1/agent/files/telegram/{file_id}"


@pytest.fixture
async def handed_off(tg_client, telegram, settings):
    """Chat 601 with Emma on its ticket, Omar online too, and FILES sent during it."""
    team = Team(tg_client, settings)
    emma = await team.add("Emma", "en", limit=1)  # the next ticket goes to Omar
    await team.online(emma)
    await deliver(tg_client, text_update(1, 601, "hello", language_code="en"))
    await deliver(tg_client, text_update(2, 601, "/human", language_code="en"))
    await said_to(telegram, 601, said("utter_handoff_assigned", "en", agent_name="Emma"))
    _, listed = await team.call("GET", "/tickets?status=assigned", emma)
    ticket = listed["tickets"][0]["id"]
    omar = await team.add("Omar", "en")
    await team.online(omar)
    for update_id, (file_id, (name, claimed, content)) in enumerate(FILES.items(), 10):
        telegram.files[file_id] = (f"documents/{name}", content)
        update = document_update(update_id, 601, file_id=file_id, file_name=name, mime_type=claimed)
        assert await deliver(tg_client, update) == 200
    await said_to(telegram, 601, said("utter_media_sent_to_agent", "en"), times=len(FILES))
    return team, emma, omar, ticket


async def fetch(team: Team, member, file_id: str):
    response = await team.client.get(path(file_id), headers=member.auth)
    return response, await response.read()


def assert_download(response, content_type: str) -> None:
    assert response.status == 200
    assert response.content_type == content_type
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"].split(";")[0]


@pytest.mark.parametrize("file_id", ["doc-html", "doc-svg", "doc-fake-jpeg"])
async def test_markup_is_never_served_inline(handed_off, file_id):
    team, emma, _, _ = handed_off
    response, body = await fetch(team, emma, file_id)
    assert_download(response, "application/octet-stream")
    assert body == FILES[file_id][2]
    name = FILES[file_id][0]
    assert f'filename="{name}"' in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("file_id", "kind", "saved_as"),
    [
        ("doc-pdf", "application/pdf", 'filename="factuur_10001.pdf"'),
        ("doc-png-as-txt", "image/png", 'filename="notes.png"'),  # the bytes decide
        ("doc-voice", "audio/ogg", 'filename="note.ogg"'),
        ("doc-text", "text/plain", 'filename="bericht.txt"'),
    ],
)
async def test_allowed_types_keep_their_type_but_still_download(
    handed_off, file_id, kind, saved_as
):
    team, emma, _, _ = handed_off
    response, body = await fetch(team, emma, file_id)
    assert_download(response, kind)
    assert saved_as in response.headers["Content-Disposition"]
    assert body == FILES[file_id][2]


async def test_only_the_agent_holding_the_ticket_gets_the_file(handed_off, telegram):
    team, emma, omar, ticket = handed_off
    response, _ = await fetch(team, omar, "doc-pdf")
    assert response.status == 403 and "error" in await response.json()
    response, _ = await fetch(team, emma, "no-such-file")
    assert response.status == 404 and "error" in await response.json()
    downloads = len(telegram.downloads)

    status, _ = await team.call("POST", f"/tickets/{ticket}/resolve", emma)
    assert status == 200
    response, _ = await fetch(team, emma, "doc-pdf")
    assert response.status == 403, "resolved: nobody holds the conversation now"
    assert len(telegram.downloads) == downloads, "refused files are not even downloaded"


async def test_a_file_id_typed_by_another_customer_opens_nothing(handed_off, tg_client, telegram):
    """Omar's customer pastes the link of chat 601's PDF: that does not make it theirs."""
    team, emma, omar, _ = handed_off
    await deliver(tg_client, text_update(40, 602, "hi", language_code="en"))
    await deliver(tg_client, text_update(41, 602, "/human", language_code="en"))
    await said_to(telegram, 602, said("utter_handoff_assigned", "en", agent_name="Omar"))
    await deliver(tg_client, text_update(42, 602, f"[document] {path('doc-pdf')}", "Eve", "en"))
    await deliver(tg_client, photo_update(43, 602, file_id="eve-photo", language_code="en"))
    await said_to(telegram, 602, said("utter_media_sent_to_agent", "en"))
    response, _ = await fetch(team, omar, "doc-pdf")
    assert response.status == 403
    response, _ = await fetch(team, omar, "eve-photo")
    assert_download(response, "image/jpeg")
    response, _ = await fetch(team, emma, "eve-photo")
    assert response.status == 403
