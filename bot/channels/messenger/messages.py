"""What Tolk sends on Messenger and Instagram: `POST /{version}/me/messages` bodies.

A text at most 2,000 characters on Messenger and 1,000 on Instagram (split at sentence
ends); buttons become quick replies (at most 13, titles at most 20 characters, payloads
at most 1,000) under the last part, and their payload comes back when tapped. Inside the
24-hour window a message is a RESPONSE; after it, up to 7 days, only a human agent's reply
may go, tagged HUMAN_AGENT (Meta's rule).
"""

from __future__ import annotations

import json

from bot.channels.telegram.outbound import split_text
from bot.rasa_client import BotMessage

MAX_TEXT = {"messenger": 2000, "instagram": 1000}
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_PAYLOAD = 1000


def bodies(channel: str, user: str, message: BotMessage, *, tagged: bool) -> list[tuple[str, dict]]:
    pieces = split_text(message.text, MAX_TEXT[channel]) or ["…"]
    quick = [
        {
            "content_type": "text",
            "title": _cut(str(b["title"]), MAX_TITLE),
            "payload": str(b["payload"]),
        }
        for b in message.buttons
        if b.get("title") and b.get("payload") and len(str(b["payload"])) <= MAX_PAYLOAD
    ][:MAX_QUICK_REPLIES]
    sent = []
    for number, piece in enumerate(pieces, 1):
        content: dict = {"text": piece}
        if quick and number == len(pieces):
            content["quick_replies"] = quick
        body: dict = {"recipient": {"id": user}, "message": content}
        if tagged:
            body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
        else:
            body["messaging_type"] = "RESPONSE"
        sent.append(("buttons" if "quick_replies" in content else "text", body))
    return sent


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def attachment_kind(content_type: str) -> str:
    """How Messenger shows an agent's file: an image, audio, or a file to download."""
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("audio/"):
        return "audio"
    return "file"


def attachment_fields(user: str, kind: str, *, tagged: bool) -> dict[str, str]:
    """The form fields of an attachment upload (the file goes as `filedata`)."""
    fields = {
        "recipient": json.dumps({"id": user}),
        "message": json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}}),
        "messaging_type": "MESSAGE_TAG" if tagged else "RESPONSE",
    }
    if tagged:
        fields["tag"] = "HUMAN_AGENT"
    return fields
