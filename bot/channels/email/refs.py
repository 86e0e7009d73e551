"""The conversation's reference in what we send, and finding it in what comes back.

A thread's reference is 10 random base32 letters (50 bits: not guessable). It travels in
the Message-ID of each mail we send (`<tolk.<ref>.<random>@domain>`, so a reply's
In-Reply-To/References name it), in the Reply-To (`support+<ref>@domain`), and in the
subject (`[Tolk #<ref>]`). A reply is matched by its headers first, then the address it
was sent to, then the subject: the headers survive subject edits, the subject survives
clients that drop References. Found with `str.find`, never a regular expression.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
LENGTH = 10
_TAG = "[Tolk #"


def new_reference() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH))


def is_reference(text: str) -> bool:
    return len(text) == LENGTH and all(c in _ALPHABET for c in text)


def subject_tag(reference: str) -> str:
    return f"{_TAG}{reference}]"


def message_id(reference: str, domain: str) -> str:
    return f"<tolk.{reference}.{secrets.token_hex(6)}@{domain}>"


def reply_to(reference: str, address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local}+{reference}@{domain}"


def find_reference(
    parents: Iterable[str], recipients: Iterable[str], subject: str, own_address: str
) -> str | None:
    for parent in parents:
        if parent.startswith("<tolk."):
            candidate = parent[len("<tolk.") : len("<tolk.") + LENGTH].lower()
            if is_reference(candidate):
                return candidate
    own_local, _, own_domain = own_address.lower().partition("@")
    for recipient in recipients:
        local, _, domain = recipient.partition("@")
        base, plus, tag = local.partition("+")
        if plus and base == own_local and domain == own_domain and is_reference(tag):
            return tag
    start = subject.find(_TAG)
    if start >= 0:
        candidate = subject[start + len(_TAG) : start + len(_TAG) + LENGTH].lower()
        if is_reference(candidate) and subject[start + len(_TAG) + LENGTH :][:1] == "]":
            return candidate
    return None
