"""What a customer should read: catalogue answers with their placeholders filled."""

from __future__ import annotations

from bot.catalogue import Catalogue, fill
from bot.settings import PROJECT_ROOT

CATALOGUE = Catalogue.load(PROJECT_ROOT / "locales")
VARIABLES = {"support_email": "support@example.com", "retention_days": 365}


def said(key: str, language: str, **values: object) -> str:
    return fill(CATALOGUE.get(key, language)[0].text, {**VARIABLES, **values})


def first_contact(key: str, language: str, *, translator: bool = False, **values: object) -> str:
    """The first message of a new conversation: `key`'s text and the privacy notice
    (the variant naming the translator when one is configured)."""
    notice = "utter_privacy_notice_translated" if translator else "utter_privacy_notice"
    return f"{said(key, language, **values)}\n\n{said(notice, language, **values)}"
