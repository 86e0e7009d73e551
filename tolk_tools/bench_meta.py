"""`python -m bot bench`, WhatsApp and Messenger: latency per message through each Meta
channel, against a stub Graph API on loopback (and the stub Rasa of bench.py).

Measured like Telegram's: a new conversation per round (disclosure plus answer), from the
signed webhook post to the last reply arriving at the stub, beside the REST path. The
channels' reorder pause (META reorder, 0.15 s by default) is set to 0 here, as Telegram's
is, so the figures are what the code adds; in service, add the pause.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

from aiohttp import ClientSession, web

from bot.channels.meta.webhook import SIGNATURE_HEADER, sign
from bot.settings import Settings
from tolk_tools.bench import SAMPLES, _gateway_on_loopback, _serve, _stub_rasa, _summary

SECRET = "bench-app-secret"
PHONE = "1000"


class _StubGraph:
    """Takes `/{v}/{phone}/messages` and `/{v}/me/messages`; resolves who waits for a reply."""

    def __init__(self) -> None:
        self.waiting: dict[str, tuple[int, asyncio.Future]] = {}
        self._ids = 0

    def expect(self, recipient: str, messages: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[recipient] = (messages, future)
        return future

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        recipient = str(body.get("to") or (body.get("recipient") or {}).get("id"))
        self._ids += 1
        left, future = self.waiting.get(recipient, (0, None))
        if future is not None:
            self.waiting[recipient] = (left - 1, future)
            if left - 1 == 0 and not future.done():
                future.set_result(time.perf_counter())
        return web.json_response({"messages": [{"id": f"wamid.{self._ids}"}]})


def _whatsapp(n: int, text: str) -> dict:
    message = {
        "from": str(n),
        "id": f"wamid.in-{n}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": PHONE},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": str(n)}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def _messenger(n: int, text: str) -> dict:
    event = {
        "sender": {"id": str(n)},
        "recipient": {"id": "1"},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": f"m_{n}", "text": text},
    }
    return {"object": "page", "entry": [{"id": "1", "messaging": [event]}]}


async def bench_meta(settings: Settings, rounds: int = 100) -> list[str]:
    stub_rasa, rasa_url = await _stub_rasa()
    graph = _StubGraph()
    graph_app = web.Application()
    graph_app.router.add_post("/{version}/{phone}/messages", graph.send)
    graph_runner, graph_url = await _serve(graph_app)
    text = SAMPLES["en"]
    lines: list[str] = []
    async with _gateway_on_loopback(
        settings,
        rasa_url,
        whatsapp_token="bench",
        whatsapp_app_secret=SECRET,
        whatsapp_verify_token="v",
        whatsapp_phone_number_id=PHONE,
        whatsapp_api_base_url=graph_url,
        messenger_page_token="bench",
        messenger_app_secret=SECRET,
        messenger_verify_token="v",
        messenger_api_base_url=graph_url,
        meta_reorder_seconds=0,
    ) as (_, url):
        async with ClientSession() as session:
            for name, path, build, first in (
                ("WhatsApp", "/whatsapp/webhook", _whatsapp, 31_600_000_000),
                ("Messenger", "/messenger/webhook", _messenger, 7_000_000),
            ):
                acknowledged, answered = [], []
                for i in range(rounds):
                    user = first + i
                    raw = json.dumps(build(user, text)).encode()
                    headers = {
                        SIGNATURE_HEADER: sign(raw, SECRET),
                        "Content-Type": "application/json",
                    }
                    replied = graph.expect(str(user), 2)
                    start = time.perf_counter()
                    async with session.post(f"{url}{path}", data=raw, headers=headers) as response:
                        await response.read()
                    acknowledged.append(time.perf_counter() - start)
                    answered.append(await asyncio.wait_for(replied, 30) - start)
                lines += [
                    _summary(f"{name}: webhook 200 (signed, stored)", acknowledged),
                    _summary(f"{name}: webhook in -> last reply sent out", answered),
                ]
                median = statistics.median(answered) * 1000
                lines.append(f"{name + ' median per message':<44} {median:7.3f} ms")
    await graph_runner.cleanup()
    await stub_rasa.cleanup()
    return lines
