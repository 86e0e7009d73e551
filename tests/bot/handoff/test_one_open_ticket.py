"""One open ticket per conversation, enforced by the database (issue 10: "two /human at
once can open two tickets")."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot import migrations
from bot.appkeys import GATEWAY
from bot.db import OPEN_TICKET_INDEX, create_engine, create_schema, tickets, utcnow
from bot.errors import Conflict
from bot.senders import rest_key

_TICKET = {
    "status": "queued",
    "reason": "request",
    "priority": "cold",
    "language": "en",
    "channel": "rest",
    "summary": "Request.",
    "after_hours": 0,
}


async def open_tickets(settings, conversation_id: int) -> list[tuple[int, str]]:
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(tickets.c.id, tickets.c.status)
                .where(tickets.c.conversation_id == conversation_id)
                .where(tickets.c.status != "resolved")
            )
            return [tuple(row) for row in rows]
    finally:
        await engine.dispose()


async def test_two_human_requests_at_once_open_one_ticket(team, fake_rasa):
    await team.say("twice", "hello, I have a question")
    bodies = await asyncio.gather(*(team.say("twice", "/human") for _ in range(4)))
    tickets_seen = {body["handoff"]["ticket"] for body in bodies if body["handoff"]}
    assert len(tickets_seen) == 1
    gateway = team.client.app[GATEWAY]
    conversation = await gateway.store.conversation(rest_key("twice"))
    assert len(await open_tickets(team.settings, conversation.id)) == 1


async def test_two_openings_at_once_in_the_service_give_one_ticket(team, fake_rasa):
    await team.say("race", "hello, I have a question")
    gateway = team.client.app[GATEWAY]
    conversation = await gateway.store.conversation(rest_key("race"))
    placements = await asyncio.gather(
        *(gateway.handoff.open(conversation, "en", "request", None) for _ in range(5))
    )
    assert len({placement.ticket.id for placement in placements}) == 1
    assert len(await open_tickets(team.settings, conversation.id)) == 1


async def test_the_database_refuses_a_second_open_ticket(team, fake_rasa):
    await team.say("db", "hello, I have a question")
    conversation = await team.client.app[GATEWAY].store.conversation(rest_key("db"))
    engine = create_engine(team.settings.database_url)
    values = {**_TICKET, "conversation_id": conversation.id}
    try:
        now = utcnow()
        async with engine.begin() as connection:
            await connection.execute(
                tickets.insert().values(**values, sla_due_at=now, created_at=now)
            )
            # A resolved ticket beside an open one is history, not a second open ticket.
            await connection.execute(
                tickets.insert().values(
                    **{**values, "status": "resolved"}, sla_due_at=now, created_at=now
                )
            )
        with pytest.raises(Conflict):  # the engine's IntegrityError (bot/db_errors.py)
            async with engine.begin() as connection:
                await connection.execute(
                    tickets.insert().values(
                        **{**values, "status": "assigned"}, sla_due_at=now, created_at=now
                    )
                )
    finally:
        await engine.dispose()


async def test_an_older_database_with_two_open_tickets_keeps_one(settings):
    engine = create_engine(settings.database_url)
    try:
        await migrations.upgrade(engine, "0001")  # the schema when migrations began
        async with engine.begin() as connection:
            # As a version without the index (and before migrations, bot/migrations/) left it.
            await connection.exec_driver_sql(f"DROP INDEX {OPEN_TICKET_INDEX.name}")
            await connection.exec_driver_sql("DROP TABLE alembic_version")
            now = utcnow()
            conversation = await connection.exec_driver_sql(
                "INSERT INTO conversations (sender, channel, created_at, updated_at) "
                "VALUES ('rest-old', 'rest', ?, ?)",
                (now.isoformat(" "), now.isoformat(" ")),  # as SQLAlchemy stores them
            )
            values = {**_TICKET, "conversation_id": conversation.lastrowid}
            for status in ("queued", "assigned", "queued"):
                await connection.execute(
                    tickets.insert().values(
                        **{**values, "status": status}, sla_due_at=now, created_at=now
                    )
                )
        await create_schema(engine)
        async with engine.connect() as connection:
            statuses = list(await connection.scalars(select(tickets.c.status).order_by("id")))
            indexed = await connection.scalar(
                select(func.count()).select_from(tickets).where(tickets.c.status != "resolved")
            )
        assert statuses == ["resolved", "assigned", "resolved"]  # the one a person holds
        assert indexed == 1
    finally:
        await engine.dispose()
