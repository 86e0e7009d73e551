"""Sending to a Telegram chat: plain text in pieces Telegram accepts, buttons as an inline
keyboard, one message after the other per chat.

Texts go without a parse mode, so whatever a customer, agent or translator wrote
("*", "_", "<b>", "[x](y)") arrives as written and cannot break any formatting.
Flood limits are AIORateLimiter's (python-telegram-bot): it spaces the calls and waits
out a 429 `retry_after` before trying again, inside the same call, so order holds.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.rasa_client import BotMessage

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
# After a sentence end (. ! ? … and CJK/Arabic/Persian marks) and the space after it.
_SENTENCE_END = re.compile(r"(?<=[.!?…。؟！？])\s+")


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at sentence ends where possible, then at
    line breaks or spaces, and only inside a word when nothing else fits."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = max((m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= limit), default=0)
        if cut == 0:
            cut = max(window.rfind("\n"), window.rfind(" "))
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def keyboard(buttons: list[dict]) -> InlineKeyboardMarkup | None:
    """One button per row; a payload Telegram cannot carry is left out, not cut."""
    rows = [
        [InlineKeyboardButton(str(button["title"]), callback_data=str(button["payload"]))]
        for button in buttons
        if button.get("title")
        and button.get("payload")
        and len(str(button["payload"]).encode()) <= MAX_CALLBACK_DATA
    ]
    return InlineKeyboardMarkup(rows) if rows else None


class Sender:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def send(self, chat_id: int, messages: list[BotMessage]) -> bool:
        """Deliver in order; False (and the rest not sent) when Telegram refused one."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            for message in messages:
                pieces = split_text(message.text) or ([""] if message.buttons else [])
                for number, piece in enumerate(pieces, 1):
                    markup = keyboard(message.buttons) if number == len(pieces) else None
                    try:
                        await self.bot.send_message(chat_id, piece or "…", reply_markup=markup)
                    except TelegramError as error:
                        # The text is in the stored transcript; the agent console shows it.
                        log.warning("reply to a Telegram chat not delivered: %s", error)
                        return False
        return True
