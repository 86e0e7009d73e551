"""Logging for the bot service: personal data never reaches a log line."""

from __future__ import annotations

import logging

from bot.translation.masking import Masker


class RedactingFilter(logging.Filter):
    """Replaces e-mail addresses, phone, card, IBAN and order numbers and URLs in every
    record with their kind ("[email]"), using the same detection as the translator mask."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self._masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._masker.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def configure_logging(masker: Masker, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(masker))
    logging.basicConfig(level=level, handlers=[handler], force=True)
