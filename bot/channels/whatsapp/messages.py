"""What Tolk sends on WhatsApp, as Cloud API request bodies.

WhatsApp's limits: a text at most 4,096 characters (split at sentence ends, as on
Telegram); at most 3 reply buttons, titles at most 20 characters, under a body of at most
1,024; more buttons, or longer titles, become a list message (rows of at most 10, titles
24, descriptions 72). A button's id is its payload, and comes back when it is pressed.
"""

from __future__ import annotations

from bot.channels.telegram.outbound import split_text
from bot.rasa_client import BotMessage

MAX_TEXT = 4096
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_BODY = 1024
MAX_BUTTON_ID = 256
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
# The list's opening button (at most 20 characters, in no one language).
LIST_LABEL = "☰"


def bodies(to: str, message: BotMessage) -> list[tuple[str, dict]]:
    """(kind, request body) in sending order for one message to the customer `to`."""
    buttons = [
        {"title": str(b["title"]), "payload": str(b["payload"])}
        for b in message.buttons
        if b.get("title") and b.get("payload")
    ]
    pieces = split_text(message.text)
    if not buttons:
        return [("text", _text(to, piece)) for piece in pieces]
    as_buttons = len(buttons) <= MAX_BUTTONS and all(
        len(b["title"]) <= MAX_BUTTON_TITLE and len(b["payload"]) <= MAX_BUTTON_ID for b in buttons
    )
    last = pieces.pop() if pieces else "…"
    if as_buttons and len(last) > MAX_BUTTON_BODY:
        # The buttons go under the last part that fits an interactive body.
        tail = split_text(last, MAX_BUTTON_BODY)
        last = tail.pop()
        pieces.extend(tail)
    sent = [("text", _text(to, piece)) for piece in pieces]
    if as_buttons:
        return [*sent, ("buttons", _buttons(to, last, buttons))]
    usable = [b for b in buttons if len(b["payload"]) <= MAX_ROW_ID]
    lists = [usable[i : i + MAX_ROWS] for i in range(0, len(usable), MAX_ROWS)]
    for number, rows in enumerate(lists):
        # Each list needs a body; the text goes with the first, "…" with the rest.
        sent.append(("list", _list(to, last if number == 0 else "…", rows)))
    return sent or [("text", _text(to, last))]


def template(to: str, name: str, language: str) -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}},
    }


def _text(to: str, body: str) -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        # A link in an answer stays a link; no preview of whatever it points at.
        "text": {"body": body or "…", "preview_url": False},
    }


def _buttons(to: str, body: str, buttons: list[dict]) -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b["payload"], "title": b["title"]}}
                    for b in buttons
                ]
            },
        },
    }


def _list(to: str, body: str, buttons: list[dict]) -> dict:
    rows = []
    for button in buttons:
        title = button["title"]
        row = {"id": button["payload"], "title": _cut(title, MAX_ROW_TITLE)}
        if len(title) > MAX_ROW_TITLE:
            row["description"] = _cut(title, MAX_ROW_DESCRIPTION)  # the whole title, if it fits
        rows.append(row)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": LIST_LABEL, "sections": [{"rows": rows}]},
        },
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# What WhatsApp shows inline (Cloud API "supported media types"); other allowed files go
# as a document, which any type may be. Images are at most 5 MB, the rest 16 MB here.
_IMAGES = ("image/jpeg", "image/png")
_AUDIO = ("audio/aac", "audio/mp4", "audio/mpeg", "audio/ogg")
MAX_IMAGE = 5 * 1024 * 1024
MAX_CAPTION = 1024


def media_kind(content_type: str, size: int) -> str:
    """The message type a file goes out as: image, audio or document."""
    if content_type in _IMAGES and size <= MAX_IMAGE:
        return "image"
    if content_type in _AUDIO:
        return "audio"
    return "document"


def media(to: str, kind: str, media_id: str, name: str, caption: str) -> dict:
    """A message carrying an uploaded file (audio takes no caption, a document its name)."""
    payload: dict = {"id": media_id}
    if caption and kind != "audio":
        payload["caption"] = caption[:MAX_CAPTION]
    if kind == "document":
        payload["filename"] = name
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: payload,
    }
