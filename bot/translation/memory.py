"""Translation memory: every translation kept in the database, human-approved ones first.

Keys are (source language, target language, masked source text): a repeated question
costs no translator call, and no customer's personal data is stored in the memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import translation_memory, utcnow

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
        self, texts: list[str], source: str, target: str
    ) -> dict[str, tuple[str, str]]:
        """text -> (translation, origin) for the texts the memory knows; human wins."""
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
        async with self._engine.connect() as connection:
            for row in await connection.execute(query):
                text = by_hash[row.source_hash]
                if text not in found:
                    found[text] = (row.translated_text, row.origin)
                    hit_ids.append(row.id)
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
        except OperationalError as error:  # a busy database loses counts, nothing else
            log.info("translation memory hit counts skipped: %s", error)

    async def store(
        self, pairs: list[tuple[str, str]], source: str, target: str, origin: str = MACHINE
    ) -> None:
        """Remember (source text, translation) pairs; a second store of a pair is ignored."""
        now = utcnow()
        for text, translated in pairs:
            try:
                async with self._engine.begin() as connection:
                    await connection.execute(
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
            except IntegrityError:
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
