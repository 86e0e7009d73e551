"""Reading order numbers, e-mail addresses and postal addresses out of what customers type,
in every native language.

Customers write "۱۰۰۰۱" (Persian digits), "١٠٠٠١" (Arabic-Indic), "10 001" or "10.001"
(thousands grouping), "#10001"; Hebrew and Persian sentences wrap a Latin e-mail address
in bidi marks and punctuation of their own ("،", "׃").
"""

from __future__ import annotations

import re

from tolk_core.normalize import clean

ORDER_DIGITS = 5
# Digit groups joined by spaces (also no-break and narrow no-break), dots or commas.
_NUMBER = re.compile(r"(?<![\w@.])#?(\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+|\d+)(?![\w@])")
_EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9])?"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*\.[A-Za-z]{2,24})(?![\w-])"
)


def order_number(text: str) -> str | None:
    """The order number in `text` (5 digits), or None. E-mail addresses are skipped, so
    "10001 alex10001@example.com" still reads as 10001 only once."""
    text = _EMAIL.sub(" ", clean(text))
    found = [
        re.sub(r"\D", "", match.group(1)) for match in _NUMBER.finditer(text.replace("\u066c", ","))
    ]
    numbers = [number for number in found if len(number) == ORDER_DIGITS]
    return numbers[0] if numbers else None


def email(text: str) -> str | None:
    """The e-mail address in `text`, lowercased, or None."""
    match = _EMAIL.search(clean(text))
    return match.group(1).lower() if match else None


def has_digits(text: str) -> bool:
    return any(char.isdigit() for char in clean(text))


def postal_address(text: str) -> str | None:
    """A plausible delivery address: several words with a house number or postcode.

    Street formats differ per country; this only catches answers that cannot be an
    address ("yes", "my home"), the shop validates the rest."""
    text = clean(text)
    words = re.findall(r"\w+", text)
    if len(text) < 10 or len(words) < 3 or not has_digits(text):
        return None
    return text
