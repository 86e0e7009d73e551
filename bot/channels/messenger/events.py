"""Reading Messenger Platform deliveries: `{"object": "page" | "instagram", "entry": [{
"messaging": [event, ...]}]}`; an event is a message, a postback (a button press), an echo
of our own message, or a delivery or read receipt.

Echoes and receipts are not customers' messages: receipts are recorded (outbound.py),
echoes dropped, neither is ever answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from bot.channels.meta.inbound import Incoming
from bot.senders import conversation_key

# The delivery's `object` -> the channel (and conversation key prefix) it belongs to.
PLATFORMS = {"page": "messenger", "instagram": "instagram"}


@dataclass(frozen=True)
class Delivered:
    """Messenger says which of our messages (by id) reached the customer."""

    sender: str
    message_ids: list[str]


def sender_for(channel: str, user_id: str) -> str:
    return conversation_key(channel, user_id)


def user_of(sender: str) -> str | None:
    _, dash, user = sender.partition("-")
    return user if dash and user.isascii() and user.isdigit() else None


def read(body: dict, channel: str) -> tuple[list[Incoming], list[Delivered]]:
    incoming: list[Incoming] = []
    delivered: list[Delivered] = []
    for entry in _dicts(body.get("entry")):
        for event in _dicts(entry.get("messaging")):
            user = str((event.get("sender") or {}).get("id") or "")
            if not (user.isascii() and user.isdigit() and len(user) <= 40):
                continue
            sender = sender_for(channel, user)
            sent_at = _time(event.get("timestamp"))
            message, postback = event.get("message"), event.get("postback")
            if isinstance(message, dict):
                if message.get("is_echo"):
                    continue  # our own message (or a page admin's), mirrored back
                mid = message.get("mid")
                if isinstance(mid, str) and mid:
                    incoming.append(Incoming(mid, sender, sent_at, {"message": message}))
            elif isinstance(postback, dict):
                # Older postbacks carry no mid: the customer and the moment name it.
                mid = postback.get("mid") or f"postback-{user}-{event.get('timestamp')}"
                incoming.append(Incoming(str(mid), sender, sent_at, {"postback": postback}))
            elif isinstance(event.get("delivery"), dict):
                mids = [m for m in event["delivery"].get("mids") or [] if isinstance(m, str)]
                if mids:
                    delivered.append(Delivered(sender, mids))
            # `read`, `reaction` and the rest: nothing to answer or record.
    return incoming, delivered


def text_of(payload: dict) -> tuple[str, bool]:
    """(the customer's words or the pressed payload, whether it carried attachments)."""
    if "postback" in payload:
        postback = payload["postback"]
        return str(postback.get("payload") or postback.get("title") or ""), False
    message = payload.get("message") or {}
    quick = message.get("quick_reply")
    if isinstance(quick, dict) and quick.get("payload"):
        return str(quick["payload"]), False
    return str(message.get("text") or ""), bool(message.get("attachments"))


def _time(raw: object) -> datetime:
    """Messenger's timestamp (milliseconds since the epoch) as naive UTC."""
    try:
        return datetime.fromtimestamp(int(str(raw)) / 1000, timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return datetime.now(timezone.utc).replace(tzinfo=None)


def _dicts(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
