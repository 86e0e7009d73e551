"""Reading WhatsApp's webhook deliveries: customers' messages and statuses of ours.

A delivery is `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {"metadata": {"phone_number_id"}, "contacts", "messages", "statuses"}}]}]}`.
Only changes for our phone number are read (one business account can hold several).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from bot.channels.meta.inbound import Incoming
from bot.senders import conversation_key

OBJECT = "whatsapp_business_account"
STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class Status:
    message_id: str
    status: str
    error: str | None


def sender_for(wa_id: str) -> str:
    return conversation_key("whatsapp", wa_id)


def wa_id_of(sender: str) -> str | None:
    wa_id = sender.removeprefix("whatsapp-")
    return wa_id if wa_id != sender and wa_id.isascii() and wa_id.isdigit() else None


def read(body: dict, phone_number_id: str | None) -> tuple[list[Incoming], list[Status]]:
    """What a delivery holds for us; whatever is malformed is left out (never an error:
    Meta would only redeliver it)."""
    incoming: list[Incoming] = []
    statuses: list[Status] = []
    if body.get("object") != OBJECT:
        return incoming, statuses
    for entry in _dicts(body.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            if phone_number_id and str(metadata.get("phone_number_id", "")) != phone_number_id:
                continue
            names = {
                str(contact.get("wa_id")): _name(contact)
                for contact in _dicts(value.get("contacts"))
            }
            for message in _dicts(value.get("messages")):
                found = _incoming(message, names)
                if found is not None:
                    incoming.append(found)
            for status in _dicts(value.get("statuses")):
                found_status = _status(status)
                if found_status is not None:
                    statuses.append(found_status)
    return incoming, statuses


def _incoming(message: dict, names: dict[str, str | None]) -> Incoming | None:
    wa_id, message_id = str(message.get("from") or ""), message.get("id")
    if not (wa_id.isascii() and wa_id.isdigit() and len(wa_id) <= 20):
        return None
    if not isinstance(message_id, str) or not message_id:
        return None
    payload = {"message": message, "name": names.get(wa_id)}
    return Incoming(message_id, sender_for(wa_id), _time(message.get("timestamp")), payload)


def _status(status: dict) -> Status | None:
    message_id, kind = status.get("id"), status.get("status")
    if not isinstance(message_id, str) or kind not in STATUSES:
        return None
    errors = [
        f"{error.get('code')}: {error.get('title') or error.get('message') or ''}".strip()
        for error in _dicts(status.get("errors"))
    ]
    return Status(message_id, kind, "; ".join(errors)[:500] or None)


def _name(contact: dict) -> str | None:
    profile = contact.get("profile")
    name = profile.get("name") if isinstance(profile, dict) else None
    return str(name)[:200] if name else None


def _time(raw: object) -> datetime:
    """WhatsApp's timestamp (seconds since the epoch, as a string) as naive UTC."""
    try:
        seconds = int(str(raw))
        return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return datetime.now(timezone.utc).replace(tzinfo=None)


def _dicts(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def text_of(message: dict) -> tuple[str, str | None]:
    """(what the customer said or pressed, the kind of file when it is one).

    A reply button's or a list row's id is the payload Tolk gave it ("/request_human"),
    so a press reads as that payload, like a button on every channel."""
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or ""), None
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("id") or reply.get("title") or ""), None
    if kind == "button":  # a template's quick reply
        button = message.get("button") or {}
        return str(button.get("payload") or button.get("text") or ""), None
    return "", str(kind or "unknown")
