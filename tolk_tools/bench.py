"""`python -m bot bench`: the gateway's own cost per message, measured on loopback.

Rasa is replaced by a stub that answers at once, so the figures are what the gateway adds
(storage, language choice, the Rasa call over HTTP, rendering), not NLU time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from aiohttp import ClientSession, web

from bot.app import create_app
from bot.language import LanguageChooser
from bot.ratelimit import Rate
from bot.settings import Settings
from tolk_core.project import PROJECT_ROOT, RASA_BIN
from tolk_tools.gateway_text import Readers, text_functions
from tolk_tools.hostile_text import hostile_texts, worst_case

SAMPLES = {
    "en": "Hello, where is my order? I ordered last week.",
    "nl": "Hoi, waar blijft mijn pakketje? Ik heb vorige week besteld.",
    "he": "שלום, איפה ההזמנה שלי? הזמנתי בשבוע שעבר.",
    "fa": "سلام، سفارشم کجاست؟ هفته‌ی پیش سفارش دادم.",
    "vi": "Chào shop, đơn hàng của mình đang ở đâu vậy? Tuần trước mình đặt rồi.",
}


def _summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"{name:<44} n={len(ms):<5} median={statistics.median(ms):7.3f} ms  p95={p95:7.3f} ms"


def bench_language(settings: Settings, rounds: int = 2000) -> str:
    chooser = LanguageChooser(settings.languages)
    texts = list(SAMPLES.values())
    timings = []
    for i in range(rounds):
        start = time.perf_counter()
        chooser.choose(texts[i % len(texts)], current="nl")
        timings.append(time.perf_counter() - start)
    return _summary("language choice (normalise + detect)", timings)


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Run `app` on a free loopback port; its runner (to clean up) and base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@contextlib.asynccontextmanager
async def _gateway_on_loopback(
    settings: Settings, rasa_url: str, **more
) -> AsyncIterator[tuple[web.Application, str]]:
    """The gateway under test, served on loopback with a database of its own (every
    per-channel bench starts it this way); its app and URL."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_on_loopback(settings, tmp, rasa_url, **more))
        runner, url = await _serve(app)
        try:
            yield app, url
        finally:
            await runner.cleanup()


async def _params(request: web.Request) -> dict:
    """Query, JSON or form parameters, as the stubbed services accept them."""
    params = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    else:
        params.update(await request.post())
    return params


# The bench is one client on 127.0.0.1 sending far faster than any customer: rate limits
# stay on (their cost is in the figures) but high enough never to answer 429.
_UNLIMITED = Rate(1_000_000, 1)


def _on_loopback(settings: Settings, tmp: str, rasa_url: str, **more) -> Settings:
    """The settings under test: a database of its own, the stub Rasa, no API token."""
    return replace(
        settings,
        database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
        rasa_url=rasa_url,
        actions_url=rasa_url,
        api_token=None,
        rate_per_sender=_UNLIMITED,
        rate_per_address=_UNLIMITED,
        rate_reads_per_address=_UNLIMITED,
        rate_new_conversations=_UNLIMITED,
        **more,
    )


async def _stub_rasa() -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response([{"text": "stub answer"}])

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/health", ok)
    return await _serve(app)


async def bench_gateway(settings: Settings, rounds: int = 300) -> list[str]:
    stub, stub_url = await _stub_rasa()
    async with _gateway_on_loopback(settings, stub_url) as (_, url):
        rest, nlg = [], []
        async with ClientSession() as session:
            for i in range(rounds):
                language = list(SAMPLES)[i % len(SAMPLES)]
                body = {"sender": f"bench-{language}-{i % 20}", "text": SAMPLES[language]}
                start = time.perf_counter()
                async with session.post(f"{url}/api/v1/messages", json=body) as response:
                    await response.read()
                rest.append(time.perf_counter() - start)
                nlg_body = {
                    "response": "utter_faq/shipping_time",
                    "tracker": {"latest_message": {"metadata": {"language": language}}},
                }
                start = time.perf_counter()
                # As Rasa calls it (endpoints.yml): a refused call would time nothing useful.
                nlg_headers = {"Authorization": f"Bearer {settings.nlg_secret}"}
                async with session.post(
                    f"{url}/nlg", json=nlg_body, headers=nlg_headers
                ) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"/nlg answered {response.status}")
                nlg.append(time.perf_counter() - start)
    await stub.cleanup()
    return [
        _summary("POST /api/v1/messages (stub Rasa, SQLite)", rest),
        _summary("POST /nlg (catalogue render)", nlg),
    ]


# Customers ask the same few things with different personal details; masking makes
# those one memory entry. (Spanish; the stub translator below answers for any language.)
_REPLAY = [
    "Hola, ¿dónde está mi pedido {order}?",
    "¿Cuánto tarda el envío?",
    "Quiero cancelar el pedido {order}, mi correo es {email}",
    "¿Puedo pagar con PayPal?",
    "Gracias",
    "¿Cuál es la política de devoluciones?",
    "Mi número es {phone}, llámenme por favor",
]


async def _stub_libretranslate() -> tuple[web.AppRunner, str]:
    """A LibreTranslate-compatible echo server on loopback: our overhead, not theirs."""

    async def translate(request: web.Request) -> web.Response:
        params = await _params(request)
        q = params.get("q", "")
        texts = q if isinstance(q, list) else [q]
        out = [f"[{params.get('target')}] {text}" for text in texts]
        return web.json_response({"translatedText": out if isinstance(q, list) else out[0]})

    app = web.Application()
    app.router.add_post("/translate", translate)
    runner, url = await _serve(app)
    return runner, f"{url}/"


async def bench_translation(settings: Settings, rounds: int = 300) -> list[str]:
    from bot.app import create_translation
    from bot.db import create_engine, create_schema

    stub, url = await _stub_libretranslate()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        await create_schema(engine)
        service = create_translation(
            replace(settings, translator="libre", translator_url=url), engine
        )
        text = SAMPLES["nl"].replace("Hoi", "Hola")  # any text; the stub echoes
        misses, hits = [], []
        for i in range(rounds):
            start = time.perf_counter()
            await service.translate_one(f"{text} ({i})", "es", "en")
            misses.append(time.perf_counter() - start)
        await service.translate_one(text, "es", "en")
        for _ in range(rounds):
            start = time.perf_counter()
            await service.translate_one(text, "es", "en")
            hits.append(time.perf_counter() - start)

        misses_replayed = total = 0
        for conversation in range(50):
            for template in _REPLAY:
                message = template.format(
                    order=10000 + conversation,
                    email=f"cliente{conversation}@example.es",
                    phone=f"+34 612 345 {conversation:03d}",
                )
                total += 1
                lookups = await service.memory.lookup(
                    [service.masker.mask(message).text], "es", "en"
                )
                misses_replayed += 0 if lookups else 1
                await service.translate_one(message, "es", "en")
        await service.memory.flush_hits()
        await engine.dispose()
    await stub.cleanup()
    hit_rate = 1 - misses_replayed / total
    return [
        _summary("translation, memory hit (mask+lookup+unmask)", hits),
        _summary("translation, miss (local LibreTranslate stub)", misses),
        f"{'memory hit rate, 50 replayed conversations':<44} {hit_rate:.1%} "
        f"({total - misses_replayed} of {total} customer messages served from memory)",
    ]


class _StubTelegram:
    """Enough of the Bot API for the bench: the bot's replies arrive here, timestamped."""

    def __init__(self) -> None:
        self.waiting: dict[int, tuple[int, asyncio.Future]] = {}
        self._ids = 0

    def expect(self, chat_id: int, messages: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = (messages, future)
        return future

    async def method(self, request: web.Request) -> web.Response:
        params = await _params(request)
        name = request.match_info["method"]
        if name == "getMe":
            result: object = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "b"}
        elif name == "sendMessage":
            chat_id = int(params["chat_id"])
            self._ids += 1
            result = {
                "message_id": self._ids,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": params.get("text", ""),
            }
            left, future = self.waiting.get(chat_id, (0, None))
            if future is not None:
                self.waiting[chat_id] = (left - 1, future)
                if left - 1 == 0 and not future.done():
                    future.set_result(time.perf_counter())
        else:
            result = True
        return web.json_response({"ok": True, "result": result})


def _update(update_id: int, chat_id: int, text: str) -> dict:
    person = {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Bench"},
            "from": person,
            "text": text,
        },
    }


async def bench_telegram(settings: Settings, rounds: int = 150, burst: int = 60) -> list[str]:
    """The Telegram path against the REST path in one run: added latency per message (a
    new conversation each time: disclosure plus answer) and throughput of a burst."""
    from bot.channels.telegram.channel import TELEGRAM

    stub_rasa, rasa_url = await _stub_rasa()
    telegram = _StubTelegram()
    telegram_app = web.Application()
    telegram_app.router.add_route("*", "/bot{token}/{method}", telegram.method)
    telegram_runner, telegram_url = await _serve(telegram_app)
    secret = {"X-Telegram-Bot-Api-Secret-Token": "bench"}
    text = SAMPLES["en"]
    async with _gateway_on_loopback(
        settings,
        rasa_url,
        telegram_token="1:BENCH",
        telegram_api_base_url=telegram_url,
        telegram_webhook_url="https://bench.example/telegram/webhook",
        telegram_secret_token="bench",
        telegram_reorder_seconds=0,
    ) as (app, url):
        await asyncio.wait_for(app[TELEGRAM].ready.wait(), 30)
        rest, via_telegram, acknowledged = [], [], []
        async with ClientSession() as session:
            for i in range(rounds):
                start = time.perf_counter()
                body = {"sender": f"rest-{i}", "text": text}
                async with session.post(f"{url}/api/v1/messages", json=body) as response:
                    await response.read()
                rest.append(time.perf_counter() - start)

                chat = 10_000 + i
                replied = telegram.expect(chat, 2)
                start = time.perf_counter()
                async with session.post(
                    f"{url}/telegram/webhook", json=_update(i + 1, chat, text), headers=secret
                ) as response:
                    await response.read()
                acknowledged.append(time.perf_counter() - start)
                via_telegram.append(await replied - start)

            start = time.perf_counter()
            await asyncio.gather(
                *(
                    _post(session, f"{url}/api/v1/messages", {"sender": f"burst-{i}", "text": text})
                    for i in range(burst)
                )
            )
            rest_rate = burst / (time.perf_counter() - start)
            chats = [20_000 + i for i in range(burst)]
            replies = [telegram.expect(chat, 2) for chat in chats]
            start = time.perf_counter()
            await asyncio.gather(
                *(
                    _post(session, f"{url}/telegram/webhook", _update(1000 + n, chat, text), secret)
                    for n, chat in enumerate(chats)
                )
            )
            await asyncio.gather(*replies)
            telegram_rate = burst / (time.perf_counter() - start)
    await telegram_runner.cleanup()
    await stub_rasa.cleanup()
    ratio = statistics.median(via_telegram) / statistics.median(rest)
    return [
        _summary("REST: new conversation, answer in response", rest),
        _summary("Telegram: webhook 200 (stored, not yet handled)", acknowledged),
        _summary("Telegram: webhook in -> last reply sent out", via_telegram),
        f"{'Telegram / REST median latency':<44} {ratio:.2f}x",
        f"{'burst throughput, REST':<44} {rest_rate:7.1f} conversations/s ({burst} at once)",
        f"{'burst throughput, Telegram':<44} {telegram_rate:7.1f} conversations/s "
        f"(2 messages each; Telegram's flood limit is 30 messages/s per bot)",
    ]


async def _post(session: ClientSession, url: str, body: dict, headers: dict | None = None):
    async with session.post(url, json=body, headers=headers) as response:
        await response.read()


def run(settings: Settings) -> int:
    print("Tolk gateway benchmark (loopback, stub Rasa; figures are per message)")
    print(bench_language(settings))
    for line in asyncio.run(bench_gateway(settings)):
        print(line)
    for line in asyncio.run(bench_translation(settings)):
        print(line)
    for line in asyncio.run(bench_telegram(settings)):
        print(line)
    from tolk_tools.bench_meta import bench_meta  # it imports this module's helpers

    for line in asyncio.run(bench_meta(settings)):
        print(line)
    from tolk_tools.bench_email import bench_email

    for line in asyncio.run(bench_email(settings)):
        print(line)
    print("Worst-case text: slowest single call per function (texts: tolk_tools/hostile_text.py)")
    for line in worst_case(text_functions(Readers.load()), hostile_texts()):
        print(line)
    print("... and inside Rasa and the action server (their own environment):")
    print(rasa_side_worst_case())
    return 0


def rasa_side_worst_case() -> str:
    """tolk_tools/rasa_text.py's lines, measured in Rasa's environment as Rasa runs them."""
    python = RASA_BIN / "python"
    if not python.exists():
        return f"  not measured: {python} is missing (make install)"
    done = subprocess.run(
        [str(python), "-m", "tolk_tools.rasa_text"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode != 0:
        return f"  not measured: {done.stderr.strip().splitlines()[-1:]}"
    return done.stdout.rstrip()
