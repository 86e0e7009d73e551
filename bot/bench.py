"""`python -m bot bench`: the gateway's own cost per message, measured on loopback.

Rasa is replaced by a stub that answers at once, so the figures are what the gateway adds
(storage, language choice, the Rasa call over HTTP, rendering), not NLU time.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from aiohttp import ClientSession, web

from bot.app import create_app
from bot.language import LanguageChooser
from bot.settings import Settings

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


async def _stub_rasa() -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response([{"text": "stub answer"}])

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/health", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def bench_gateway(settings: Settings, rounds: int = 300) -> list[str]:
    stub, stub_url = await _stub_rasa()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            replace(
                settings,
                database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
                rasa_url=stub_url,
                actions_url=stub_url,
                api_token=None,
            )
        )
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
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
                async with session.post(f"{url}/nlg", json=nlg_body) as response:
                    await response.read()
                nlg.append(time.perf_counter() - start)
        await runner.cleanup()
    await stub.cleanup()
    return [
        _summary("POST /api/v1/messages (stub Rasa, SQLite)", rest),
        _summary("POST /nlg (catalogue render)", nlg),
    ]


def run(settings: Settings) -> int:
    print("Tolk gateway benchmark (loopback, stub Rasa; figures are per message)")
    print(bench_language(settings))
    for line in asyncio.run(bench_gateway(settings)):
        print(line)
    return 0
