"""Which conversation each Telegram file came from, so that only its agent can fetch it.

A customer's photo or document reaches the agent as a link in the transcript
(`/api/v1/agent/files/telegram/<file_id>`). A file id alone would open the file for any
agent who has or guesses one, so each file is recorded with the message that brought it,
and served only to the agent who holds an assigned ticket of that conversation. Erasing
the conversation (or the message) erases the record with it (foreign keys cascade).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import messages, reading, telegram_files, tickets, utcnow
from bot.errors import Conflict


@dataclass(frozen=True)
class SharedFile:
    file_id: str
    conversation_id: int
    file_name: str | None


class FileLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(
        self, conversation_id: int, external_id: str, file_id: str, file_name: str | None
    ) -> bool:
        """Link `file_id` to the stored customer message `external_id` of the
        conversation; False when there is no such message (nothing was stored)."""
        try:
            async with self._engine.begin() as connection:
                message_id = await connection.scalar(
                    select(messages.c.id).where(
                        messages.c.conversation_id == conversation_id,
                        messages.c.external_id == external_id,
                        messages.c.author == "customer",
                    )
                )
                if message_id is None:
                    return False
                known = await connection.scalar(
                    select(
                        exists().where(
                            telegram_files.c.conversation_id == conversation_id,
                            telegram_files.c.file_id == file_id,
                        )
                    )
                )
                if not known:  # else a redelivered update, or the same file sent again
                    await connection.execute(
                        telegram_files.insert().values(
                            conversation_id=conversation_id,
                            message_id=message_id,
                            file_id=file_id,
                            file_name=(file_name or "")[:256] or None,
                            created_at=utcnow(),
                        )
                    )
        except Conflict:
            pass  # recorded meanwhile by another handler of the same update
        return True

    async def for_agent(self, file_id: str, agent_id: int) -> SharedFile | None:
        """The file if `agent_id` holds an assigned ticket of its conversation."""
        async with reading(self._engine) as connection:
            row = (
                await connection.execute(
                    select(telegram_files)
                    .join(tickets, tickets.c.conversation_id == telegram_files.c.conversation_id)
                    .where(
                        telegram_files.c.file_id == file_id,
                        tickets.c.status == "assigned",
                        tickets.c.agent_id == agent_id,
                    )
                    .limit(1)
                )
            ).first()
        return SharedFile(row.file_id, row.conversation_id, row.file_name) if row else None

    async def known(self, file_id: str) -> bool:
        """Whether any conversation sent this file (someone else's, then)."""
        async with reading(self._engine) as connection:
            return bool(
                await connection.scalar(select(exists().where(telegram_files.c.file_id == file_id)))
            )
