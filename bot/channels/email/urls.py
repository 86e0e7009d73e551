"""TOLK_SMTP_URL and TOLK_IMAP_URL: where Tolk sends and reads mail.

`smtp://user:pass@host:587?starttls=1` (STARTTLS; `starttls=0` for a plain relay),
`smtps://user:pass@host:465` (TLS from the first byte); `imaps://user:pass@host:993/INBOX`
or `imap://…` (`?starttls=1`). User and password are percent-decoded, so an address as a
user name is `support%40shop.example`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    # Implicit TLS (smtps, imaps) or STARTTLS after connecting; neither: plain (loopback).
    tls: bool
    starttls: bool
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    mailbox: str = "INBOX"


def parse_smtp_url(url: str) -> MailServer:
    return _parse(url, {"smtp": 587, "smtps": 465}, "TOLK_SMTP_URL")


def parse_imap_url(url: str) -> MailServer:
    return _parse(url, {"imap": 143, "imaps": 993}, "TOLK_IMAP_URL")


def check_address(address: str) -> str:
    """A bare address (TOLK_EMAIL_FROM may be `Shop support <support@shop.example>`)."""
    bare = parseaddr(address)[1]
    local, at, domain = bare.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in bare):
        raise ValueError(f"TOLK_EMAIL_FROM must be an e-mail address, got {address!r}")
    return bare


def _parse(url: str, schemes: dict[str, int], name: str) -> MailServer:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{name} must start with {wanted} and name a host, got {parts.scheme!r}")
    try:
        port = parts.port or schemes[parts.scheme]
    except ValueError:
        raise ValueError(f"{name} has a port that is not a number") from None
    query = parse_qs(parts.query)
    implicit = parts.scheme.endswith("s")
    starttls_raw = (query.get("starttls") or [""])[0].lower()
    if starttls_raw not in ("", "0", "1", "true", "false"):
        raise ValueError(f"{name}: starttls must be 1 or 0")
    # Submission port 587 speaks STARTTLS by default; a loopback relay may say starttls=0.
    default_starttls = not implicit and parts.scheme == "smtp" and port == 587
    starttls = (starttls_raw in ("1", "true")) if starttls_raw else default_starttls
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    return MailServer(
        host=parts.hostname,
        port=port,
        tls=implicit,
        starttls=starttls and not implicit,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        mailbox=mailbox,
    )
