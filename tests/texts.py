"""What a customer should read: catalogue answers with their placeholders filled."""

from __future__ import annotations

from bot.catalogue import Catalogue, fill
from bot.settings import PROJECT_ROOT

CATALOGUE = Catalogue.load(PROJECT_ROOT / "locales")
VARIABLES = {"support_email": "support@example.com"}


def said(key: str, language: str, **values: object) -> str:
    return fill(CATALOGUE.get(key, language)[0].text, {**VARIABLES, **values})
