"""What reaches the translator and the translation memory during a handoff.

The customer's name is masked on every path: the agent's reply on its way to the customer,
and the customer's messages translated for the agent's transcript. What the memory keeps
of the conversation is linked to it, so that erasing the customer erases it.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.db import create_engine, translation_memory, translation_memory_uses


async def _memory(settings) -> tuple[list[str], int]:
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(translation_memory))).all()
            links = (await connection.execute(select(translation_memory_uses))).all()
    finally:
        await engine.dispose()
    texts = [text for row in rows for text in (row.source_text, row.translated_text)]
    return texts, len(links)


async def test_agent_replies_and_transcripts_never_show_the_translator_the_name(
    team, fake_rasa, translator
):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    await team.say("named1", "Hallo, ik ben Marijke Jansen", language="nl", name="Marijke Jansen")
    ticket = (await team.say("named1", "/human"))["handoff"]["ticket"]
    await team.say("named1", "Marijke hier, waar blijft mijn pakket? marijke@example.nl")

    status, detail = await team.call("GET", f"/tickets/{ticket}", emma)
    assert status == 200
    translated = [m["translation"] for m in detail["transcript"] if m["from"] == "customer"]
    # The agent reads the name (put back after translation); the translator never saw it.
    assert "[en] Hallo, ik ben Marijke Jansen" in translated
    status, sent = await team.call(
        "POST",
        f"/tickets/{ticket}/messages",
        emma,
        json={"text": "Hello Marijke, I am looking into it, Jansen family."},
    )
    assert status == 201
    assert sent["text"] == "[nl] Hello Marijke, I am looking into it, Jansen family."

    reached = " ".join(translator.received)
    assert translator.received, "the transcript and the reply were translated"
    for personal in ("Marijke", "Jansen", "marijke@example.nl"):
        assert personal not in reached
    texts, links = await _memory(team.settings)
    assert texts and not any("Marijke" in text or "Jansen" in text for text in texts)
    assert links >= 3, "every entry the conversation made is linked to it"
