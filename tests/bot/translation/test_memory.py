"""Translation memory: repeated texts cost nothing, people's translations win."""

import pytest

from bot.db import create_engine, create_schema, translation_memory
from bot.translation.memory import HUMAN, MACHINE, TranslationMemory


@pytest.fixture
async def memory(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'memory.db'}")
    await create_schema(engine)
    yield TranslationMemory(engine)
    await engine.dispose()


async def test_a_stored_translation_is_found_for_the_same_pair_only(memory):
    await memory.store([("¿Dónde está mi pedido [[1]]?", "Where is my order [[1]]?")], "es", "en")
    found = await memory.lookup(["¿Dónde está mi pedido [[1]]?", "otra cosa"], "es", "en")
    assert found == {"¿Dónde está mi pedido [[1]]?": ("Where is my order [[1]]?", MACHINE)}
    assert await memory.lookup(["¿Dónde está mi pedido [[1]]?"], "es", "de") == {}


async def test_a_human_translation_wins_over_the_machine(memory):
    await memory.store([("Gracias", "Thanks machine")], "es", "en")
    await memory.store([("Gracias", "Thank you")], "es", "en", origin=HUMAN)
    assert await memory.lookup(["Gracias"], "es", "en") == {"Gracias": ("Thank you", HUMAN)}
    await memory.store([("Gracias", "Thank you!")], "es", "en", origin=HUMAN)
    assert (await memory.lookup(["Gracias"], "es", "en"))["Gracias"] == ("Thank you!", HUMAN)


async def test_storing_a_pair_twice_keeps_one_entry(memory):
    await memory.store([("Hola", "Hello")], "es", "en")
    await memory.store([("Hola", "Hi")], "es", "en")
    assert await memory.lookup(["Hola"], "es", "en") == {"Hola": ("Hello", MACHINE)}


async def test_hits_are_counted(memory):
    await memory.store([("Hola", "Hello")], "es", "en")
    for _ in range(3):
        await memory.lookup(["Hola"], "es", "en")
    await memory.flush_hits()
    async with memory._engine.connect() as connection:
        hits = (await connection.execute(translation_memory.select())).first().hits
    assert hits == 3


async def _links(memory) -> set[tuple[str, int]]:
    from sqlalchemy import select

    from bot.db import translation_memory_uses

    query = select(
        translation_memory.c.source_text, translation_memory_uses.c.conversation_id
    ).join(translation_memory_uses, translation_memory_uses.c.entry_id == translation_memory.c.id)
    async with memory._engine.connect() as connection:
        return {(row[0], row[1]) for row in await connection.execute(query)}


async def _conversation(memory, sender: str) -> int:
    from bot.db import conversations, utcnow

    async with memory._engine.begin() as connection:
        result = await connection.execute(
            conversations.insert().values(
                sender=sender, channel="rest", created_at=utcnow(), updated_at=utcnow()
            )
        )
        return result.inserted_primary_key[0]


async def test_entries_are_linked_to_the_conversations_that_made_or_matched_them(memory):
    first, second = await _conversation(memory, "rest-a"), await _conversation(memory, "rest-b")
    await memory.store([("Hola", "Hello")], "es", "en", conversation_id=first)
    await memory.store([("Hola", "Hello")], "es", "en", conversation_id=second)  # raced
    await memory.store([("Adiós", "Bye")], "es", "en", conversation_id=first)
    await memory.lookup(["Adiós", "nada"], "es", "en", second)
    await memory.lookup(["Adiós"], "es", "en", second)  # linked once
    await memory.lookup(["Hola"], "es", "en")  # catalogue texts: no conversation
    assert await _links(memory) == {
        ("Hola", first),
        ("Hola", second),
        ("Adiós", first),
        ("Adiós", second),
    }
