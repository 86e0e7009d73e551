"""The gateway's database (bot/db.py): an older database is brought up to date at start,
once; on PostgreSQL, reads open no transaction and a steady message makes few round trips."""

from __future__ import annotations

import asyncio
from asyncio import selector_events
from collections import defaultdict
from dataclasses import replace

import pytest
import sqlalchemy
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.appkeys import ENGINE
from bot.db import conversations, create_engine, create_schema, reading
from bot.prepared import Prepared
from bot.store import Store
from tests.gateway_fixtures import NLG_HEADERS, postgres_engine
from tests.servers import postgres_database


def old_database(path) -> str:
    """conversations as versions before channel-qualified keys made it: a REST
    conversation under the client's sender as sent."""
    url = f"sqlite:///{path}"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE conversations (id INTEGER PRIMARY KEY, sender VARCHAR(128) NOT NULL "
            "UNIQUE, channel VARCHAR(32) NOT NULL, language VARCHAR(16), created_at DATETIME "
            "NOT NULL, updated_at DATETIME NOT NULL)"
        )
        for sender, channel in [
            ("anna", "rest"),
            ("x", "rest"),
            ("rest-x", "rest"),  # must not collide with "x" once that is "rest-x"
            ("telegram-5", "rest"),  # a REST client that borrowed a Telegram-like name
            ("telegram-9", "telegram"),
            ("web-AAAAAAAAAAAAAAAAAAAAAAAA", "web"),
        ]:
            connection.exec_driver_sql(
                "INSERT INTO conversations (sender, channel, created_at, updated_at) "
                "VALUES (?, ?, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')",
                (sender, channel),
            )
    engine.dispose()
    return url


async def test_rest_conversations_get_their_channel_key_once(tmp_path):
    url = old_database(tmp_path / "old.db")
    engine = create_engine(url)
    try:
        await create_schema(engine)
        await create_schema(engine)  # a second start changes nothing more
        async with engine.connect() as connection:
            rows = (await connection.execute(select(conversations.c.sender))).scalars().all()
        assert sorted(rows) == [
            "rest-anna",
            "rest-rest-x",
            "rest-telegram-5",
            "rest-x",
            "telegram-9",
            "web-AAAAAAAAAAAAAAAAAAAAAAAA",
        ]
        # Telegram chat 5 now gets a conversation of its own.
        store = Store(engine)
        received = await store.receive(sender="telegram-5", channel="telegram", text="hi")
        assert received.conversation.channel == "telegram"
        assert (await store.conversation("rest-telegram-5")).channel == "rest"
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_read_on_postgresql_opens_no_transaction_and_leaves_none_behind():
    async with postgres_engine() as (engine, _url):
        sent: list[str] = []

        def log_simple_queries(dbapi_connection, _record) -> None:
            # asyncpg logs what it sends as simple queries: BEGIN, COMMIT, ROLLBACK.
            dbapi_connection.driver_connection.add_query_logger(lambda q: sent.append(q.query))

        event.listen(engine.sync_engine, "connect", log_simple_queries)
        await engine.dispose()  # the connection create_schema left in the pool has no logger
        store = Store(engine)
        received = await store.receive(sender="rest-anna", channel="rest", text="hi")
        await asyncio.sleep(0)  # asyncpg calls its query loggers on the loop's next turn
        sent.clear()
        async with reading(engine) as connection:
            found = await connection.scalar(select(conversations.c.sender))
        assert found == "rest-anna" and sent == []
        # The same pooled connection is transactional again: a failed write leaves nothing.
        with pytest.raises(RuntimeError):
            async with engine.begin() as connection:
                await connection.execute(conversations.delete())
                raise RuntimeError("changed my mind")
        assert [q.split()[0].rstrip(";") for q in sent] == ["BEGIN", "ROLLBACK"]
        assert await store.conversation("rest-anna") == received.conversation


# A steady customer message on PostgreSQL: stored, read for what it needs, one /nlg
# callback noted, answered. Counted at the socket: 47 while the pool pre-pinged (three per
# checkout) and reads and one-statement writes had BEGIN and ROLLBACK or COMMIT around
# them; 15 after that (with a background sweep's falling in the window now and then); 11
# since the INSERT of a message reads whether an older one waits and an answered message
# is finished in one statement (bot/store.py). A new statement on every message's way
# shows here: fold it into one that is already there, or raise the budget knowing what it
# costs.
ROUND_TRIPS_PER_MESSAGE = 12


@pytest.mark.postgres
async def test_a_steady_message_makes_few_round_trips_to_postgresql(
    aiohttp_client, settings, monkeypatch
):
    async with postgres_database() as url:
        client = await aiohttp_client(create_app(replace(settings, database_url=url)))
        port = make_url(url).port
        sent = 0
        write = selector_events._SelectorSocketTransport.write

        def counted(transport, data) -> None:
            nonlocal sent
            peer = transport.get_extra_info("peername")
            sent += bool(peer and peer[1] == port)
            write(transport, data)

        steady = SteadyMessages(client, monkeypatch)
        await steady.begin()
        monkeypatch.setattr(selector_events._SelectorSocketTransport, "write", counted)
        await steady.say_five(PREPARED_PER_MESSAGE["postgresql"])
        assert sent / 5 <= ROUND_TRIPS_PER_MESSAGE, sent / 5


async def test_a_steady_message_on_sqlite_runs_prepared_statements_only(
    aiohttp_client, settings, monkeypatch
):
    steady = SteadyMessages(await aiohttp_client(create_app(settings)), monkeypatch)
    await steady.begin()
    await steady.say_five(PREPARED_PER_MESSAGE["sqlite"])


# Stored, its conversation's row taken; context; said; the open ticket and survey; the
# /nlg outcome; finished (on SQLite the UPDATE and the reply's INSERT apart). As with the
# round trips, a statement added to every message's way shows here.
PREPARED_PER_MESSAGE = {"postgresql": 8, "sqlite": 9}


class SteadyMessages:
    """A customer's steady messages, each with Rasa's /nlg callback, and what ran for them.

    The statements on every message's way are built and compiled once and run without
    SQLAlchemy's execution around them (bot/prepared.py): building one costs more CPU
    than running it, and SQLAlchemy's execution as much again. Any that still goes through
    SQLAlchemy (a background sweep falling in the window) must not be built anew each time.
    """

    def __init__(self, client, monkeypatch) -> None:
        self.client = client
        self.monkeypatch = monkeypatch
        # (Each statement is kept, so that no id is reused by a later one.)
        self.invoked: defaultdict[str, list] = defaultdict(list)
        self.prepared_runs: list[Prepared] = []
        self.compiled: list[Prepared] = []

    async def begin(self) -> None:
        compiled_for, compile_ = Prepared.compiled_for, Prepared._compile

        def running(statement: Prepared, dialect):
            self.prepared_runs.append(statement)
            return compiled_for(statement, dialect)

        def compiling(statement: Prepared, dialect):
            self.compiled.append(statement)
            return compile_(statement, dialect)

        self.monkeypatch.setattr(Prepared, "compiled_for", running)
        self.monkeypatch.setattr(Prepared, "_compile", compiling)
        await self.say("hello")  # the conversation is new: its first message does more
        await self.say("where is my order?")
        self.prepared_runs.clear()
        self.compiled.clear()

    async def say_five(self, prepared_per_message: int) -> None:
        def executing(connection, statement, *args) -> None:
            if all(statement is not seen for seen in self.invoked[str(statement)]):
                self.invoked[str(statement)].append(statement)

        event.listen(self.client.app[ENGINE].sync_engine, "before_execute", executing)
        for _ in range(5):
            await self.say("where is my order?")
        runs, compiled = len(self.prepared_runs), self.compiled
        assert runs / 5 == prepared_per_message and compiled == [], (runs, compiled)
        again = [sql.split()[:4] for sql, objects in self.invoked.items() if len(objects) > 1]
        assert not again, again

    async def say(self, text: str) -> None:
        response = await self.client.post("/api/v1/messages", json={"sender": "anna", "text": text})
        assert response.status == 200, await response.text()
        # Rasa's callback for its answer (the fake Rasa here makes none itself).
        metadata = {"message": 1, "language": "en"}  # as the gateway sends it to Rasa
        tracker = {"sender_id": "rest-anna", "latest_message": {"metadata": metadata}}
        body = {"response": "utter_greet", "arguments": {}, "tracker": tracker}
        response = await self.client.post("/nlg", json=body, headers=NLG_HEADERS)
        assert response.status == 200, await response.text()
