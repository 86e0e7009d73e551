"""Translation memory: every translation kept in the database, human-approved ones first.

Keys are (source language, target language, masked source text): a repeated question
costs no translator call, and no name, address or number of a customer is stored in it.
Masking cannot take out everything a person writes, though, so every entry a
conversation's text made or matched is linked to that conversation
(`translation_memory_uses`): erasing the customer (bot/erase.py) removes the entries no
other conversation used.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db import reading, translation_memory, translation_memory_uses, utcnow
from bot.errors import Conflict, StoreUnavailable

log = logging.getLogger(__name__)

HUMAN = "human"
HIT_FLUSH_EVERY = 100
MACHINE = "machine"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationMemory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pending: set[asyncio.Task] = set()
        self._hits: Counter[int] = Counter()

    async def lookup(
        self, texts: list[str], source: str, target: str, conversation_id: int | None = None
    ) -> dict[str, tuple[str, str]]:
        """text -> (translation, origin) for the texts the memory knows; human wins.
        The entries found are linked to `conversation_id`, whose text they now hold."""
        if not texts:
            return {}
        by_hash = {_hash(text): text for text in texts}
        table = translation_memory
        query = (
            select(table.c.source_hash, table.c.translated_text, table.c.origin, table.c.id)
            .where(
                table.c.source_language == source,
                table.c.target_language == target,
                table.c.source_hash.in_(list(by_hash)),
            )
            .order_by(case((table.c.origin == HUMAN, 0), else_=1))
        )
        found: dict[str, tuple[str, str]] = {}
        hit_ids = []
        unlinked: list[int] = []
        async with reading(self._engine) as connection:
            for row in await connection.execute(query):
                text = by_hash[row.source_hash]
                if text not in found:
                    found[text] = (row.translated_text, row.origin)
                    hit_ids.append(row.id)
            if conversation_id is not None and hit_ids:
                # A write only for entries new to the conversation ("ok" twice costs one).
                linked = set(
                    await connection.scalars(
                        select(translation_memory_uses.c.entry_id).where(
                            translation_memory_uses.c.conversation_id == conversation_id,
                            translation_memory_uses.c.entry_id.in_(hit_ids),
                        )
                    )
                )
                unlinked = [entry_id for entry_id in hit_ids if entry_id not in linked]
        if unlinked:
            async with self._engine.begin() as connection:
                await _link(connection, unlinked, conversation_id)
        self._hits.update(hit_ids)
        if sum(self._hits.values()) >= HIT_FLUSH_EVERY and not self._pending:
            # Counting is bookkeeping: written in batches, never while a customer waits.
            task = asyncio.create_task(self.flush_hits())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return found

    async def flush_hits(self) -> None:
        """Write the hit counts gathered so far (also called at shutdown)."""
        hits, self._hits = self._hits, Counter()
        if not hits:
            return
        table = translation_memory
        try:
            async with self._engine.begin() as connection:
                for entry_id, count in hits.items():
                    await connection.execute(
                        update(table)
                        .where(table.c.id == entry_id)
                        .values(hits=table.c.hits + count)
                    )
        except StoreUnavailable as error:  # a busy database loses counts, nothing else
            log.info("translation memory hit counts skipped: %s", error)

    async def store(
        self,
        pairs: list[tuple[str, str]],
        source: str,
        target: str,
        origin: str = MACHINE,
        conversation_id: int | None = None,
    ) -> None:
        """Remember (source text, translation) pairs, linked to the conversation whose text
        they are; a second store of a pair is ignored (but linked)."""
        now = utcnow()
        for text, translated in pairs:
            try:
                async with self._engine.begin() as connection:
                    result = await connection.execute(
                        translation_memory.insert().values(
                            source_language=source,
                            target_language=target,
                            source_hash=_hash(text),
                            source_text=text,
                            translated_text=translated,
                            origin=origin,
                            hits=0,
                            created_at=now,
                        )
                    )
                    if conversation_id is not None:
                        await _link(connection, [result.inserted_primary_key[0]], conversation_id)
            except Conflict:  # the pair is known already (bot/db_errors.py translates)
                if conversation_id is not None:
                    await self._link_existing(text, source, target, origin, conversation_id)
                if origin == HUMAN:  # a person's correction replaces the earlier one
                    async with self._engine.begin() as connection:
                        await connection.execute(
                            update(translation_memory)
                            .where(
                                translation_memory.c.source_language == source,
                                translation_memory.c.target_language == target,
                                translation_memory.c.source_hash == _hash(text),
                                translation_memory.c.origin == HUMAN,
                            )
                            .values(translated_text=translated, created_at=now)
                        )

    async def _link_existing(
        self, text: str, source: str, target: str, origin: str, conversation_id: int
    ) -> None:
        """Another request stored the same pair first; this conversation used it too."""
        table = translation_memory
        try:
            async with self._engine.begin() as connection:
                entry_id = await connection.scalar(
                    select(table.c.id).where(
                        table.c.source_language == source,
                        table.c.target_language == target,
                        table.c.source_hash == _hash(text),
                        table.c.origin == origin,
                    )
                )
                if entry_id is not None:
                    await _link(connection, [entry_id], conversation_id)
        except Conflict:  # the conversation was erased meanwhile: nothing to link
            pass


async def _link(
    connection: AsyncConnection, entry_ids: Iterable[int], conversation_id: int
) -> None:
    """Link entries to a conversation; links it has already are left as they are."""
    rows = [{"entry_id": entry_id, "conversation_id": conversation_id} for entry_id in entry_ids]
    # The two databases the gateway runs on (bot/db.py) both know ON CONFLICT DO NOTHING.
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    if rows:
        await connection.execute(
            dialect.insert(translation_memory_uses).on_conflict_do_nothing(), rows
        )


async def entries_used_by(connection: AsyncConnection, conversation_id: int) -> list[int]:
    """The memory entries a conversation's texts made or matched."""
    return list(
        await connection.scalars(
            select(translation_memory_uses.c.entry_id).where(
                translation_memory_uses.c.conversation_id == conversation_id
            )
        )
    )


async def forget(connection: AsyncConnection, entry_ids: list[int], conversation_id: int) -> int:
    """Unlink a conversation (being erased) and delete its entries that no other
    conversation used; human-approved entries (the content team's) stay. Rows deleted."""
    await connection.execute(
        delete(translation_memory_uses).where(
            translation_memory_uses.c.conversation_id == conversation_id
        )
    )
    deleted = 0
    for start in range(0, len(entry_ids), 500):  # SQLite caps the parameters of a statement
        result = await connection.execute(
            delete(translation_memory).where(
                translation_memory.c.id.in_(entry_ids[start : start + 500]),
                translation_memory.c.origin == MACHINE,
                ~_used(),
            )
        )
        deleted += result.rowcount
    return deleted


async def forget_unused_before(connection: AsyncConnection, before: datetime) -> int:
    """Retention: machine entries older than `before` that no kept conversation uses
    (catalogue texts among them are simply translated again when next needed)."""
    result = await connection.execute(
        delete(translation_memory).where(
            translation_memory.c.created_at < before,
            translation_memory.c.origin == MACHINE,
            ~_used(),
        )
    )
    return result.rowcount


def _used():
    return exists().where(translation_memory_uses.c.entry_id == translation_memory.c.id)
