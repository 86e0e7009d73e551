"""What every channel tells and offers about a customer's data (DESIGN "Privacy").

On first contact the customer reads a short notice in their language: what is stored, for
how long (TOLK_RETENTION_DAYS) and, when a machine translator is configured, that messages
go to it masked. `/privacy` tells more; `/delete_my_data` asks, and `/delete_my_data
confirm` (the button's payload) erases everything (bot/erase.py). The gateway handles the
commands for every channel (bot/inbound.py); Telegram also lists them in its command menu.
"""

from __future__ import annotations

import re
from enum import Enum

NOTICE = "utter_privacy_notice"
# The same notice, plus the sentence about the translator.
NOTICE_TRANSLATED = "utter_privacy_notice_translated"
_COMMAND = re.compile(r"^/(privacy|delete_my_data)(?:\s+(confirm|cancel))?\s*$", re.IGNORECASE)


class Command(Enum):
    """A privacy command, by the answer it gets."""

    PRIVACY = "utter_privacy"
    ASK = "utter_delete_confirm"
    CANCEL = "utter_delete_cancelled"
    ERASE = "utter_deleted"


def privacy_command(text: str) -> Command | None:
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    name, choice = match.group(1).lower(), (match.group(2) or "").lower()
    if name == "privacy":
        return Command.PRIVACY if not choice else None
    return {"confirm": Command.ERASE, "cancel": Command.CANCEL}.get(choice, Command.ASK)


def notice_key(translator_configured: bool) -> str:
    return NOTICE_TRANSLATED if translator_configured else NOTICE
