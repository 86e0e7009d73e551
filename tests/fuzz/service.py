"""The real service on loopback TCP ports, in an event loop of its own thread.

Hypothesis drives synchronous tests (it cannot run inside pytest-asyncio's loop), so the
app that `create_app(settings)` builds, the fake Rasa and the fake Telegram Bot API run in
a background thread, and the tests talk HTTP to them as any client does.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from bot.app import create_app
from bot.channels.telegram.channel import TELEGRAM
from bot.db import create_engine, create_schema
from bot.handoff.agents import AgentStore
from bot.settings import Settings
from tests.gateway_fixtures import FakeRasa
from tests.telegram_server import FakeTelegram
from tests.translation_server import FakeLibreTranslate

T = TypeVar("T")


@dataclass(frozen=True)
class Urls:
    rasa: str
    telegram: str
    translator: str


class Loopback:
    """aiohttp applications on 127.0.0.1 ports, served by an event loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve_forever, name="loopback", daemon=True)
        self._runners: list[web.AppRunner] = []
        self._thread.start()

    def _serve_forever(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, work: Awaitable[T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    async def serve(self, app: web.Application) -> str:
        """Serve `app` on a free port (call in the loop); its base URL."""
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        try:
            self.run(self._cleanup(), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()

    async def _cleanup(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()


class Fakes:
    """Rasa, the Telegram Bot API and a machine translator, faked on loopback."""

    def __init__(self, loopback: Loopback) -> None:
        self.rasa = FakeRasa()
        self.telegram = FakeTelegram()
        self.translator = FakeLibreTranslate()
        self.urls = loopback.run(self._start(loopback))

    async def _start(self, loopback: Loopback) -> Urls:
        return Urls(
            await loopback.serve(self.rasa.app()),
            await loopback.serve(self.telegram.app()),
            await loopback.serve(self.translator.app()),
        )


class LiveService:
    """The app that `create_app(settings)` builds, with its fakes, all on loopback.

    `url` is where it answers; `run(coroutine)` runs in its event loop."""

    def __init__(self, configure: Callable[[Urls], Settings]) -> None:
        self.configure = configure
        self.loopback = Loopback()
        self.fakes = Fakes(self.loopback)
        self.rasa, self.telegram = self.fakes.rasa, self.fakes.telegram
        self.app: web.Application | None = None
        self.settings: Settings | None = None
        self.url = ""
        self.agent_token = ""

    def run(self, work: Awaitable[T], timeout: float = 30) -> T:
        return self.loopback.run(work, timeout)

    def start(self) -> LiveService:
        try:
            self.run(self._start(), timeout=120)
        except BaseException:
            self.loopback.close()
            raise
        return self

    def stop(self) -> None:
        self.loopback.close()

    async def _start(self) -> None:
        self.settings = self.configure(self.fakes.urls)
        self.agent_token = await _add_agent(self.settings)
        self.app = create_app(self.settings)
        self.url = await self.loopback.serve(self.app)
        telegram = self.app.get(TELEGRAM)
        if telegram is not None:
            await asyncio.wait_for(telegram.ready.wait(), 30)


async def _add_agent(settings: Settings) -> str:
    """An English- and Dutch-speaking lead (every agent route open), always on duty; their
    API token."""
    engine = create_engine(settings.database_url)
    try:
        await create_schema(engine)
        new = await AgentStore(engine).add(
            "Fuzz", ("en", "nl"), password="a long password", role="lead"
        )
    finally:
        await engine.dispose()
    return new.token
