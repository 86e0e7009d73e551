"""Fixtures of the gateway's tests: a fake Rasa on loopback and the app under test.
Registered by tests/conftest.py in the gateway's environment only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.appkeys import DELIVERY, GATEWAY, STORE
from bot.db import create_engine, create_schema
from bot.prepared import Prepared
from bot.retry import Retrier
from bot.settings import Settings
from tests.servers import postgres_database

# What Rasa sends to /nlg and operators send to the admin routes (tolk_core/internal_secrets.py).
NLG_SECRET = "nlg-secret-for-the-tests"
ADMIN_TOKEN = "admin-token-for-the-tests"
NLG_HEADERS = {"Authorization": f"Bearer {NLG_SECRET}"}
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class FakeRasa:
    """Speaks Rasa's REST webhook and the action server's /health, records what it got.

    With `nlg_url` and `responses` set it answers like Rasa with an NLG server: it asks
    the bot's /nlg to render each response for the conversation and returns the result.
    """

    replies: list[dict] = field(default_factory=lambda: [{"text": "an answer"}])
    received: list[dict] = field(default_factory=list)
    status: int = 200
    actions_up: bool = True
    nlg_url: str | None = None
    responses: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/", self._hello)
        app.router.add_get("/health", self._health)
        return app

    async def _webhook(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        if self.status != 200:
            return web.Response(status=self.status, text="boom")
        if self.nlg_url and self.responses:
            return web.json_response(await self._rendered(self.received[-1]))
        return web.json_response(self.replies)

    async def _rendered(self, message: dict) -> list[dict]:
        tracker = {
            "sender_id": message["sender"],
            "slots": {},
            "latest_message": {"text": message["message"], "metadata": message["metadata"]},
            "events": [],
        }
        rendered = []
        async with ClientSession() as session:
            for name in self.responses:
                body = {"response": name, "arguments": {}, "tracker": tracker, "channel": {}}
                async with session.post(self.nlg_url, json=body, headers=NLG_HEADERS) as response:
                    rendered.append(await response.json())
        return rendered

    async def _hello(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=200 if self.actions_up else 500)


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
async def rasa_url(aiohttp_server, fake_rasa) -> str:
    server = await aiohttp_server(fake_rasa.app())
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a new SQLite bot database with the current schema."""
    engine = create_engine(f"sqlite:///{tmp_path / 'tolk.db'}")
    await create_schema(engine)
    yield engine
    await engine.dispose()


# For tests that run on both databases the gateway runs on: a parametrized fixture's params.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@asynccontextmanager
async def engine_on(database: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a new bot database of kind `database` (one of DATABASES) with the
    current schema; disposed (and on PostgreSQL dropped) afterwards."""
    if database != "sqlite":
        async with postgres_engine() as (engine, _url):
            yield engine
        return
    engine = create_engine(f"sqlite:///{tmp_path / 'tolk.db'}")
    await create_schema(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_engine() -> AsyncIterator[tuple[AsyncEngine, str]]:
    """An engine on a new PostgreSQL bot database with the current schema (on the test
    server, tests/servers.py), and that database's URL; disposed and dropped afterwards."""
    async with postgres_database() as url:
        engine = create_engine(url)
        await create_schema(engine)
        try:
            yield engine, url
        finally:
            await engine.dispose()


def statements_run(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements run on `engine` from now on, through SQLAlchemy or bot/prepared.py."""
    sent: list[str] = []

    def executing(_connection, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", executing)
    compiled_for = Prepared.compiled_for

    def running(statement: Prepared, dialect):
        compiled = compiled_for(statement, dialect)
        sent.append(compiled.sql)
        return compiled

    monkeypatch.setattr(Prepared, "compiled_for", running)
    return sent


@pytest.fixture
def settings(tmp_path: Path, rasa_url: str) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'tolk.db'}",
        tracker_url=f"sqlite:///{tmp_path / 'rasa-tracker.db'}",
        rasa_url=rasa_url,
        actions_url=rasa_url,
        rasa_timeout=5,
        nlg_secret=NLG_SECRET,
        admin_token=ADMIN_TOKEN,
        nlu_drafts=tmp_path / "review" / "nlu-drafts.yml",  # never the project's var/
    )


@pytest.fixture
async def client(aiohttp_client, settings):
    return await aiohttp_client(create_app(settings))


def retrier_of(app: web.Application) -> Retrier:
    """The retry sweep as bot/app.py builds it, for tests that run it by hand."""
    return Retrier(app[GATEWAY], app[STORE], app[DELIVERY])


async def settled(sent: list[dict], count: int, timeout: float) -> list[dict]:
    """Wait until a stand-in server (Telegram, Meta's Graph API) took `count` messages, and
    no more came after them; the bot sends after it answered the webhook's request."""
    for _ in range(int(timeout / 0.02)):
        if len(sent) >= count:
            await asyncio.sleep(0.05)  # nothing more should follow; a miscount shows here
            if len(sent) > count:
                raise AssertionError(f"expected {count} sent messages, got {sent}")
            return sent
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} sent messages, got {sent}")
