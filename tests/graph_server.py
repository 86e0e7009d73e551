"""A stand-in for Meta's Graph API on loopback, for WhatsApp, Messenger and Instagram tests:
no test ever talks to graph.facebook.com.

It answers what Tolk calls — `POST /{version}/{phone_number_id}/messages` and `/media`
(WhatsApp), `POST /{version}/me/messages` (Messenger, Instagram), `GET /{version}/{media_id}`
and the media download — with Meta's shapes and limits, checks the bearer token, records what it
got, and fails on demand (429 with Retry-After, 5xx, Meta's error codes). It also builds
and signs webhook deliveries the way Meta does (`signed`), so tests post exactly what
Meta would.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.channels.meta.webhook import SIGNATURE_HEADER, sign

TOKEN = "graph-test-token"
APP_SECRET = "graph-test-app-secret"
VERIFY_TOKEN = "graph-test-verify"
PHONE_NUMBER_ID = "1098765432"
PAGE_ID = "5550001"
IG_ACCOUNT_ID = "17840000001"
# Starts like a JPEG, as the bot reads a file's type from its bytes.
MEDIA_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake-whatsapp-jpeg"
_ids = itertools.count(1)


@dataclass
class FakeGraph:
    """Records `sent` (each accepted message: {"api", "path", "body"}) and `requests`;
    `fail_next` entries ({"status": 429, "retry_after": "0", "code": 130429, "api":
    "whatsapp"|"messenger"}) are answered, in order, instead of the next matching call."""

    token: str = TOKEN
    phone_number_id: str = PHONE_NUMBER_ID
    media: dict[str, bytes] = field(default_factory=dict)
    sent: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    uploads: list[dict] = field(default_factory=list)
    fail_next: list[dict] = field(default_factory=list)
    base_url: str = ""

    def app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024)  # media uploads
        app.router.add_post("/{version}/me/messages", self._messenger)
        app.router.add_post("/{version}/{phone}/messages", self._whatsapp)
        app.router.add_post("/{version}/{phone}/media", self._upload)
        app.router.add_get("/media-download/{media_id}", self._download)
        app.router.add_get("/{version}/{media_id}", self._media_info)
        return app

    # WhatsApp --------------------------------------------------------------------

    async def _whatsapp(self, request: web.Request) -> web.Response:
        body, refused = await self._begin(request, "whatsapp")
        if refused is not None:
            return refused
        if request.match_info["phone"] != self.phone_number_id:
            return _error(400, 100, "Unsupported post request: unknown phone number id")
        problem = _whatsapp_problem(body)
        if problem:
            return _error(400, 131009, f"(#131009) Parameter value is not valid: {problem}")
        self.sent.append({"api": "whatsapp", "path": request.path, "body": body})
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": f"wamid.out-{next(_ids)}"}],
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        """WhatsApp's media upload: multipart with messaging_product, type and file, within
        the Cloud API's size limits; the id it gives is what a media message names."""
        self.requests.append({"api": "upload", "path": request.path})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, 190, "Invalid OAuth access token")
        if request.match_info["phone"] != self.phone_number_id:
            return _error(400, 100, "Unsupported post request: unknown phone number id")
        if self.fail_next and self.fail_next[0].get("api") == "upload":
            failure = self.fail_next.pop(0)
            return _error(int(failure.get("status", 500)), int(failure.get("code", 1)), "injected")
        form = await request.post()
        file = form.get("file")
        if form.get("messaging_product") != "whatsapp" or not hasattr(file, "file"):
            return _error(400, 100, "messaging_product and file are required")
        content = file.file.read()
        limit = 5 * 1024 * 1024 if str(form.get("type", "")).startswith("image/") else 16 << 20
        if len(content) > limit or form.get("type") != file.content_type:
            return _error(400, 131053, "Media upload error: size or type")
        media_id = f"up-{next(_ids)}"
        self.media[media_id] = content
        self.uploads.append({"id": media_id, "type": form["type"], "name": file.filename})
        return web.json_response({"id": media_id})

    async def _media_info(self, request: web.Request) -> web.Response:
        self.requests.append({"api": "media", "path": request.path})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, 190, "Invalid OAuth access token")
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return _error(404, 100, "Unsupported get request: no such media")
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/media-download/{media_id}",
                "mime_type": "image/jpeg",
                "id": media_id,
                "file_size": len(self.media[media_id]),
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401)
        media_id = request.match_info["media_id"]
        self.downloads.append(media_id)
        return web.Response(body=self.media[media_id], content_type="image/jpeg")

    # Messenger / Instagram ---------------------------------------------------------

    async def _messenger(self, request: web.Request) -> web.Response:
        if request.content_type == "multipart/form-data":
            return await self._messenger_attachment(request)
        body, refused = await self._begin(request, "messenger")
        if refused is not None:
            return refused
        problem = _messenger_problem(body)
        if problem:
            return _error(400, 100, f"(#100) {problem}")
        self.sent.append({"api": "messenger", "path": request.path, "body": body})
        return web.json_response(
            {"recipient_id": body["recipient"]["id"], "message_id": f"m_out-{next(_ids)}"}
        )

    async def _messenger_attachment(self, request: web.Request) -> web.Response:
        """An attachment uploaded with its message (Send API, `filedata`), at most 25 MB."""
        self.requests.append({"api": "messenger-upload", "path": request.path})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, 190, "Invalid OAuth access token")
        form = await request.post()
        file = form.get("filedata")
        try:
            recipient = json.loads(str(form.get("recipient", "")))
            message = json.loads(str(form.get("message", "")))
            attachment = message["attachment"]
        except (ValueError, KeyError, TypeError):
            return _error(400, 100, "(#100) recipient and message must be JSON")
        if not hasattr(file, "file") or attachment.get("type") not in (
            "image", "audio", "video", "file"
        ):  # fmt: skip
            return _error(400, 100, "(#100) an attachment of a known type and filedata")
        content = file.file.read()
        kind = form.get("messaging_type")
        if len(content) > 25 * 1024 * 1024 or kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return _error(400, 100, "(#100) too large, or no messaging_type")
        if kind == "MESSAGE_TAG" and form.get("tag") != "HUMAN_AGENT":
            return _error(400, 100, "(#100) unknown message tag")
        body = {
            "recipient": recipient,
            "message": message,
            "messaging_type": kind,
            **({"tag": form["tag"]} if "tag" in form else {}),
            "filedata": {"name": file.filename, "type": file.content_type, "size": len(content)},
        }
        self.sent.append({"api": "messenger", "path": request.path, "body": body})
        return web.json_response(
            {"recipient_id": recipient.get("id"), "message_id": f"m_out-{next(_ids)}",
             "attachment_id": f"att-{next(_ids)}"}
        )  # fmt: skip

    # Shared ------------------------------------------------------------------------

    async def _begin(self, request: web.Request, api: str) -> tuple[dict, web.Response | None]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append({"api": api, "path": request.path, "body": body})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return {}, _error(401, 190, "Invalid OAuth access token")
        if not isinstance(body, dict):
            return {}, _error(400, 100, "the body must be a JSON object")
        if self.fail_next and self.fail_next[0].get("api", api) == api:
            failure = self.fail_next.pop(0)
            status = int(failure.get("status", 500))
            headers = (
                {"Retry-After": str(failure["retry_after"])} if "retry_after" in failure else {}
            )
            return body, _error(status, int(failure.get("code", 1)), "injected", headers)
        return body, None


def _whatsapp_problem(body: dict) -> str | None:
    if body.get("messaging_product") != "whatsapp" or not str(body.get("to", "")).isdigit():
        return "messaging_product and to are required"
    kind = body.get("type")
    if kind == "text":
        text = (body.get("text") or {}).get("body")
        if not isinstance(text, str) or not text.strip() or len(text) > 4096:
            return "text.body must be 1-4096 characters"
        return None
    if kind in ("image", "audio", "document"):
        media = body.get(kind) or {}
        if not str(media.get("id", "")).startswith("up-"):
            return f"{kind}.id must be an uploaded media id"
        if kind == "audio" and "caption" in media:
            return "audio takes no caption"
        return None if len(media.get("caption", "")) <= 1024 else "captions are at most 1024"
    if kind == "template":
        template = body.get("template") or {}
        return None if template.get("name") and template.get("language") else "template"
    if kind != "interactive":
        return f"unsupported type {kind!r}"
    interactive = body.get("interactive") or {}
    text = (interactive.get("body") or {}).get("text", "")
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if len(text) > 1024 or not 1 <= len(buttons) <= 3:
            return "a button message has a body of at most 1024 and 1-3 buttons"
        if any(len(b["reply"]["title"]) > 20 or len(b["reply"]["id"]) > 256 for b in buttons):
            return "button titles are at most 20 characters"
        return None
    if interactive.get("type") == "list":
        rows = [row for section in action.get("sections") or [] for row in section["rows"]]
        if len(text) > 4096 or not 1 <= len(rows) <= 10 or not 1 <= len(action["button"]) <= 20:
            return "a list has 1-10 rows and a button label of at most 20"
        if any(len(r["title"]) > 24 or len(r.get("description", "")) > 72 for r in rows):
            return "row titles are at most 24, descriptions 72 characters"
        return None
    return "unknown interactive type"


def _messenger_problem(body: dict) -> str | None:
    recipient = (body.get("recipient") or {}).get("id")
    message = body.get("message") or {}
    if not recipient or not isinstance(message.get("text"), str):
        return "recipient.id and message.text are required"
    if len(message["text"]) > 2000 or not message["text"].strip():
        return "message.text must be 1-2000 characters"
    kind = body.get("messaging_type")
    if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
        return "messaging_type is required"
    if kind == "MESSAGE_TAG" and body.get("tag") != "HUMAN_AGENT":
        return "unknown message tag"
    quick = message.get("quick_replies") or []
    if len(quick) > 13 or any(len(q["title"]) > 20 for q in quick):
        return "at most 13 quick replies, titles of at most 20 characters"
    return None


def _error(status: int, code: int, message: str, headers: dict | None = None) -> web.Response:
    body = {
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "TRACE"}
    }
    return web.json_response(body, status=status, headers=headers)


async def serve(aiohttp_server, fake: FakeGraph) -> str:
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("/")).rstrip("/")
    return fake.base_url


# Webhook deliveries, signed as Meta signs them ------------------------------------


def signed(body: dict, secret: str = APP_SECRET) -> tuple[bytes, dict]:
    """The raw body and headers of a delivery of `body` (signature over these bytes)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw, {SIGNATURE_HEADER: sign(raw, secret), "Content-Type": "application/json"}


def wa_delivery(
    *messages: dict,
    statuses: list[dict] | None = None,
    name: str = "Sara",
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict:
    contacts = [{"profile": {"name": name}, "wa_id": m["from"]} for m in messages]
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "31200000000", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = contacts[:1]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-1", "changes": [{"value": value, "field": "messages"}]}],
    }


def wa_text(wamid: str, wa_id: str, text: str, timestamp: int | None = None) -> dict:
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp or int(time.time())),
        "type": "text",
        "text": {"body": text},
    }


def wa_button_reply(wamid: str, wa_id: str, payload: str, title: str = "ok") -> dict:
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": payload, "title": title}},
    }


def wa_list_reply(wamid: str, wa_id: str, payload: str, title: str = "ok") -> dict:
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": payload, "title": title}},
    }


def wa_image(wamid: str, wa_id: str, media_id: str, caption: str | None = None) -> dict:
    image: dict[str, Any] = {"id": media_id, "mime_type": "image/jpeg", "sha256": "x"}
    if caption:
        image["caption"] = caption
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": image,
    }


def wa_status(message_id: str, wa_id: str, status: str, error_code: int | None = None) -> dict:
    result: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": wa_id,
    }
    if error_code is not None:
        result["errors"] = [{"code": error_code, "title": "Message undeliverable"}]
    return result


def messenger_delivery(*events: dict, platform: str = "page") -> dict:
    owner = PAGE_ID if platform == "page" else IG_ACCOUNT_ID
    return {
        "object": platform,
        "entry": [{"id": owner, "time": int(time.time() * 1000), "messaging": list(events)}],
    }


def messenger_text(
    mid: str, user: str, text: str, quick_reply: str | None = None, timestamp_ms: int | None = None
) -> dict:
    message: dict[str, Any] = {"mid": mid, "text": text}
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    return {
        "sender": {"id": user},
        "recipient": {"id": PAGE_ID},
        "timestamp": timestamp_ms or int(time.time() * 1000),
        "message": message,
    }


def messenger_postback(mid: str, user: str, payload: str, title: str = "Start") -> dict:
    return {
        "sender": {"id": user},
        "recipient": {"id": PAGE_ID},
        "timestamp": int(time.time() * 1000),
        "postback": {"mid": mid, "title": title, "payload": payload},
    }


def messenger_echo(mid: str, user: str, text: str) -> dict:
    return {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": user},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": mid, "text": text, "is_echo": True, "app_id": 1},
    }


def messenger_receipt(user: str, mids: list[str]) -> dict:
    return {
        "sender": {"id": user},
        "recipient": {"id": PAGE_ID},
        "timestamp": int(time.time() * 1000),
        "delivery": {"mids": mids, "watermark": int(time.time() * 1000)},
    }


def messenger_read(user: str) -> dict:
    return {
        "sender": {"id": user},
        "recipient": {"id": PAGE_ID},
        "timestamp": int(time.time() * 1000),
        "read": {"watermark": int(time.time() * 1000)},
    }
