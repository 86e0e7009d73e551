"""A Persian WhatsApp customer and an English agent, through the test translator: replies,
a photo fetched through the Graph media endpoint, the 24-hour window and its template,
and erasing the customer."""

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
from tests.graph_server import MEDIA_BYTES, wa_button_reply, wa_delivery, wa_image, wa_text
from tests.texts import said

HOOK = "/whatsapp/webhook"
WA_ID = "989127654321"
SENDER = f"whatsapp-{WA_ID}"


async def said_to(graph, text: str) -> None:
    for _ in range(400):
        if any((m["body"].get("text") or {}).get("body") == text for m in graph.sent):
            await asyncio.sleep(0.1)  # whatever follows it
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{text!r} not sent: {graph.sent}")


@pytest.fixture
async def handed_off(wa_client, graph, settings):
    team = Team(wa_client, settings)
    emma = await team.add("Emma", "en")
    await team.online(emma)
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.H1", WA_ID, "سلام")))
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.H2", WA_ID, "/human")))
    assigned = said("utter_handoff_assigned", "fa", agent_name="Emma")
    await said_to(graph, assigned)
    _, listed = await team.call("GET", "/tickets?status=assigned", emma)
    return team, emma, listed["tickets"][0]["id"]


async def test_the_english_agent_is_read_in_persian(wa_client, graph, handed_off):
    team, emma, ticket = handed_off
    count = await quiet(graph)
    status, reply = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "I will check your order now."}
    )
    assert status == 201 and reply["language"] == "fa"
    sent = await settled(graph, count + 1)
    assert sent[-1]["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "[fa] I will check your order now.", "preview_url": False},
    }
    # What the customer writes reaches the agent (translated for her on reading).
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.H3", WA_ID, "ممنون")))
    for _ in range(200):
        _, detail = await team.call("GET", f"/tickets/{ticket}", emma)
        if any("ممنون" in str(m) for m in detail["transcript"]):
            break
    assert any("ممنون" in str(m) for m in detail["transcript"])


async def test_a_photo_reaches_the_agent_through_the_media_endpoint(wa_client, graph, handed_off):
    team, emma, ticket = handed_off
    graph.media["media-77"] = MEDIA_BYTES
    count = await quiet(graph)
    await post(wa_client, HOOK, wa_delivery(wa_image("wamid.H4", WA_ID, "media-77", "رسید")))
    sent = await settled(graph, count + 1)
    assert sent[-1]["body"]["text"]["body"] == said("utter_media_sent_to_agent", "fa")
    _, detail = await team.call("GET", f"/tickets/{ticket}", emma)
    link = next(m["text"] for m in detail["transcript"] if m["text"].startswith("[photo]"))
    path = link.split()[1]
    assert path == "/api/v1/agent/files/whatsapp/media-77"
    response = await wa_client.get(path, headers=emma.auth)
    assert response.status == 200 and response.content_type == "image/jpeg"
    assert await response.read() == MEDIA_BYTES and graph.downloads == ["media-77"]
    assert (await wa_client.get(path)).status == 401, "files only for agents"
    omar = await team.add("Omar", "en")
    assert (await wa_client.get(path, headers=omar.auth)).status == 403


async def test_outside_the_window_the_agent_is_told_and_offered_the_template(
    wa_client, graph, handed_off
):
    team, emma, ticket = handed_off
    await age_window(wa_client, SENDER, hours=25)
    before = list(await transcript(wa_client, SENDER))
    status, refused = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "Are you still there?"}
    )
    assert status == 409
    assert "24-hour WhatsApp window" in refused["error"] and "tolk_follow_up" in refused["error"]
    assert await transcript(wa_client, SENDER) == before, "a refused reply is not stored"
    sent_before = await quiet(graph)

    status, answer = await team.call("POST", f"/tickets/{ticket}/whatsapp-template", emma)
    assert status == 201 and answer == {"template": "tolk_follow_up", "sent": True}
    assert graph.sent[sent_before]["body"]["template"] == {
        "name": "tolk_follow_up",
        "language": {"code": "en"},
    }
    kinds = [r.kind for r in await rows(wa_client, meta_outbound, SENDER)]
    assert kinds[-1] == "template"

    # The customer answers the template: the window is open again, the agent gets through.
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.H5", WA_ID, "بله")))
    status, _ = await team.call(
        "POST", f"/tickets/{ticket}/messages", emma, json={"text": "Good, thank you."}
    )
    assert status == 201
    sent = await settled(graph, sent_before + 2)
    assert sent[-1]["body"]["text"]["body"] == "[fa] Good, thank you."


async def test_a_notice_outside_the_window_is_recorded_as_not_delivered(
    wa_client, graph, handed_off
):
    team, emma, ticket = handed_off
    await age_window(wa_client, SENDER, hours=30)
    sent_before = await quiet(graph)
    status, _ = await team.call("POST", f"/tickets/{ticket}/resolve", emma)
    assert status == 200
    for _ in range(100):
        failed = [r for r in await rows(wa_client, meta_outbound, SENDER) if r.status == "failed"]
        if failed:
            break
    assert failed and "24-hour window" in failed[0].error
    assert len(graph.sent) == sent_before, "nothing Meta would refuse is sent"


async def test_delete_my_data_erases_everything_of_the_whatsapp_customer(wa_client, graph):
    wa_id = "989120000001"
    sender = f"whatsapp-{wa_id}"
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.X1", wa_id, "سلام")))
    await settled(graph, 2)
    await post(wa_client, HOOK, wa_delivery(wa_text("wamid.X2", wa_id, "/delete_my_data")))
    sent = await settled(graph, 3)
    confirm = sent[-1]["body"]["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in confirm] == [
        "/delete_my_data confirm",
        "/delete_my_data cancel",
    ]
    payload = "/delete_my_data confirm"
    await post(wa_client, HOOK, wa_delivery(wa_button_reply("wamid.X3", wa_id, payload)))
    sent = await settled(graph, 4)
    assert sent[-1]["body"]["text"]["body"] == said("utter_deleted", "fa")
    assert await transcript(wa_client, sender) is None
    assert await rows(wa_client, meta_inbound, sender) == []
    # The goodbye went out after the erasure, and left no record of itself.
    assert await rows(wa_client, meta_outbound, sender) == []


async def test_the_agent_sends_the_customer_a_file(wa_client, graph, handed_off):
    team, emma, ticket = handed_off
    count = await quiet(graph)
    status, sent = await send_file(wa_client, emma, ticket, PDF, "invoice 10001.pdf", "Here")
    assert status == 201, sent
    assert (sent["type"], sent["name"]) == ("application/pdf", "invoice 10001.pdf")
    # Uploaded to the media endpoint with the type read from its bytes, then sent by its id.
    assert graph.uploads[-1]["type"] == "application/pdf"
    assert graph.uploads[-1]["name"] == "invoice 10001.pdf"
    assert graph.media[graph.uploads[-1]["id"]] == PDF
    message = (await settled(graph, count + 1))[-1]["body"]
    assert message["type"] == "document" and message["to"] == WA_ID
    assert message["document"] == {
        "id": graph.uploads[-1]["id"], "caption": "Here", "filename": "invoice 10001.pdf"
    }  # fmt: skip
    assert [r.kind for r in await rows(wa_client, meta_outbound, SENDER)][-1] == "document"
    _, detail = await team.call("GET", f"/tickets/{ticket}", emma)
    assert detail["transcript"][-1]["text"] == "[file] invoice 10001.pdf Here"

    # A photo goes as an image (the name's extension follows the bytes, not the browser).
    status, sent = await send_file(wa_client, emma, ticket, MEDIA_BYTES, "map.png")
    assert status == 201 and sent["name"] == "map.jpg"
    assert (await settled(graph, count + 2))[-1]["body"]["type"] == "image"


async def test_a_file_that_cannot_go_is_refused_and_not_stored(wa_client, graph, handed_off):
    team, emma, ticket = handed_off
    before = list(await transcript(wa_client, SENDER))
    # A page is not a file we send: markup could run wherever the customer opens it.
    status, body = await send_file(wa_client, emma, ticket, b"<html><script>", "a.pdf")
    assert status == 415 and "images, PDF, audio" in body["error"]
    status, body = await send_file(wa_client, emma, ticket, b"", "empty.pdf")
    assert status == 400
    response = await wa_client.post(
        f"/api/v1/agent/tickets/{ticket}/files", json={"file": "x"}, headers=emma.auth
    )
    assert response.status == 415
    # Another agent's ticket, and WhatsApp refusing the upload: the agent reads why.
    omar = await team.add("Omar", "en")
    status, body = await send_file(wa_client, omar, ticket, PDF, "x.pdf")
    assert status == 409
    graph.fail_next.append({"api": "upload", "status": 400, "code": 131053})
    status, body = await send_file(wa_client, emma, ticket, PDF, "x.pdf")
    assert status == 502 and "WhatsApp did not take the file" in body["error"]
    # Outside the 24-hour window only a template may go.
    await age_window(wa_client, SENDER, hours=25)
    status, body = await send_file(wa_client, emma, ticket, PDF, "x.pdf")
    assert status == 409 and "24-hour WhatsApp window" in body["error"]
    assert await transcript(wa_client, SENDER) == before, "nothing refused is stored"


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data; boundary=xyz", b"garbage without any boundary"),
        ("multipart/form-data", b"--xyz\r\n\r\n"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\n"),
        ("multipart/form-data; boundary=xyz", b"--xyz--\r\n"),
        # A part header without a colon (found by schemathesis: it was a 500).
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nno colon here\r\n\r\nx\r\n--xyz--"),
    ],
)
async def test_a_malformed_upload_is_a_clear_400(wa_client, handed_off, content_type, body):
    _, emma, ticket = handed_off
    response = await wa_client.post(
        f"/api/v1/agent/tickets/{ticket}/files",
        data=body,
        headers={**emma.auth, "Content-Type": content_type},
    )
    assert response.status in (400, 415), await response.text()
    assert "error" in await response.json()
