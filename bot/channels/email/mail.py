"""A received mail in Tolk's terms (`Mail`), from raw RFC 5322 bytes (IMAP) or from the
inbound webhook's JSON, and the checks made before it can reach a conversation.

Hostile input is bounded: the raw message is capped (MAX_RAW) before parsing, MIME is
walked iteratively no deeper than MAX_DEPTH and over at most MAX_PARTS parts, a body is
cut at MAX_BODY characters before quote stripping, and a charset Python does not know
decodes as UTF-8 with replacement characters rather than failing.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

from bot.channels.email.quoting import html_to_text, reply_text

MAX_RAW = 2 * 1024 * 1024
MAX_DEPTH = 8
MAX_PARTS = 64
MAX_BODY = 64 * 1024
# What reaches the conversation: the customer's new words, as long as a chat message.
MAX_TEXT = 4096
_MAX_HEADER = 4000
# Precedence values that mark mail no person wrote to us (RFC 3834, common practice).
_BULK = frozenset({"bulk", "auto_reply", "auto-reply", "list", "junk"})
_AUTO_FLAGS = ("x-autoreply", "x-autorespond", "x-auto-response")
_ROBOTS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply")


@dataclass(frozen=True)
class Mail:
    sender: str  # the bare From address, lower case
    recipients: tuple[str, ...]  # To and Cc, bare, lower case
    subject: str
    message_id: str | None
    # In-Reply-To then References, message ids in angle brackets.
    parents: tuple[str, ...]
    body: str  # plain text (HTML converted), capped, quoting still in
    headers: dict[str, str]  # lower-case names; the first of each

    @property
    def text(self) -> str:
        """What the customer wrote now: quoted history and signature stripped, capped."""
        return reply_text(self.body)[:MAX_TEXT]


def automatic(mail: Mail, own_address: str) -> str | None:
    """Why a mail is no person's reply (auto-reply, list, bounce, our own), or None."""
    headers = mail.headers
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return "Auto-Submitted"
    if any(flag in headers for flag in _AUTO_FLAGS):
        return "X-Autoreply"
    if headers.get("precedence", "").strip().lower() in _BULK:
        return "Precedence"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing list"
    if headers.get("return-path", "").strip() == "<>":
        return "bounce"
    if headers.get("content-type", "").lower().startswith("multipart/report"):
        return "delivery report"
    local, _, domain = mail.sender.partition("@")
    own_local, _, own_domain = own_address.lower().partition("@")
    if domain == own_domain and local.partition("+")[0] == own_local:
        return "our own address"
    if local in _ROBOTS or local.startswith(_ROBOTS):
        return "robot sender"
    return None


def from_bytes(raw: bytes) -> Mail:
    # compat32: the default policy's header parser is the slower, richer one; headers are
    # decoded here, each capped first.
    message = email.message_from_bytes(raw[:MAX_RAW], policy=email.policy.compat32)
    headers = {name.lower(): _decoded(str(value)) for name, value in reversed(message.items())}
    plain, markup = _bodies(message)
    body = plain if plain.strip() else html_to_text(markup)
    return _mail(headers, body[:MAX_BODY])


def from_json(body: dict) -> Mail:
    """The webhook's shape (docs/openapi.yaml, EmailInbound): `from`, `to`, `subject`,
    `text`, `html`, `headers` (an object, or Postmark's list of {Name, Value}),
    `message_id` optional (else the Message-ID header). Raises ValueError when unusable."""
    headers = _json_headers(body.get("headers"))
    for field, name in (
        ("from", "from"),
        ("to", "to"),
        ("cc", "cc"),
        ("subject", "subject"),
        ("message_id", "message-id"),
        ("in_reply_to", "in-reply-to"),
        ("references", "references"),
    ):
        value = body.get(field)
        if isinstance(value, str) and value.strip():
            headers[name] = value[:_MAX_HEADER]
    if "from" not in headers:
        raise ValueError("an inbound mail needs `from`")
    text, markup = body.get("text"), body.get("html")
    plain = text[:MAX_BODY] if isinstance(text, str) else ""
    if not plain.strip() and isinstance(markup, str):
        plain = html_to_text(markup[: MAX_BODY * 4])[:MAX_BODY]
    return _mail(headers, plain)


def _mail(headers: dict[str, str], body: str) -> Mail:
    sender = parseaddr(headers.get("from", ""))[1].lower()
    recipients = tuple(
        address.lower()
        for _, address in getaddresses([headers.get("to", ""), headers.get("cc", "")])
        if address
    )
    parents = tuple(
        token
        for field in ("in-reply-to", "references")
        for token in headers.get(field, "").split()
        if token.startswith("<") and token.endswith(">")
    )
    return Mail(
        sender=sender,
        recipients=recipients,
        subject=" ".join(headers.get("subject", "").split())[:500],
        message_id=headers.get("message-id", "").strip()[:500] or None,
        parents=parents[:100],
        body=body,
        headers=headers,
    )


def _json_headers(raw: object) -> dict[str, str]:
    pairs: list[tuple[object, object]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = [
            (item.get("Name", item.get("name")), item.get("Value", item.get("value")))
            for item in raw[: MAX_PARTS * 4]
            if isinstance(item, dict)
        ]
    headers: dict[str, str] = {}
    for name, value in pairs[: MAX_PARTS * 4]:
        if isinstance(name, str) and isinstance(value, str):
            headers.setdefault(name.lower(), value[:_MAX_HEADER])
    return headers


def _decoded(value: str) -> str:
    value = value[:_MAX_HEADER]
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return value


def _bodies(message: Message) -> tuple[str, str]:
    """The first text/plain and text/html that are not attachments, walking breadth-first
    within MAX_DEPTH and MAX_PARTS."""
    plain = markup = ""
    queue: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while queue and seen < MAX_PARTS:
        part, depth = queue.pop(0)
        seen += 1
        if part.is_multipart():
            if depth < MAX_DEPTH:
                children = part.get_payload()
                if isinstance(children, list):
                    queue.extend((child, depth + 1) for child in children[:MAX_PARTS])
            continue
        if part.get_content_maintype() != "text":
            continue
        if (part.get("Content-Disposition") or "").lower().startswith("attachment"):
            continue
        kind = part.get_content_subtype()
        if kind == "plain" and not plain:
            plain = _payload(part)
        elif kind == "html" and not markup:
            markup = _payload(part)
        if plain and markup:
            break
    return plain, markup


def _payload(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    data = data[: MAX_BODY * 4]
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):  # a charset Python does not know
        return data.decode("utf-8", errors="replace")
