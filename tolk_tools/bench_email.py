"""`python -m bot bench`, e-mail: latency per message of a conversation continued by mail,
from the inbound-mail webhook (`POST /email/inbound`) to the answer arriving at a real SMTP
server on loopback (aiosmtpd), with the stub Rasa of bench.py.

Each round is a conversation of its own (a thread takes a bounded number of mails per
window, against mail loops): started over REST and moved to e-mail before the clock starts,
as an agent's "continue by e-mail" would.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from aiohttp import ClientSession
from aiosmtpd.controller import Controller

from bot.appkeys import CHANNELS
from bot.channels.email.channel import EmailChannel
from bot.channels.email.refs import subject_tag
from bot.settings import Settings
from tolk_tools.bench import SAMPLES, _gateway_on_loopback, _stub_rasa, _summary
from tolk_tools.full_bench import free_ports

TOKEN = "bench-inbound-token-0123456789"
SHOP = "support@shop.example"


class _Inbox:
    """Resolves the future waiting for a mail to an address when that mail arrives."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: dict[str, asyncio.Future] = {}

    def expect(self, address: str) -> asyncio.Future:
        future = self.loop.create_future()
        self.waiting[address] = future
        return future

    async def handle_DATA(self, server, session, envelope) -> str:
        arrived = time.perf_counter()
        for address in envelope.rcpt_tos:
            future = self.waiting.pop(address.lower(), None)
            if future is not None:
                # The SMTP server runs in a thread of its own.
                self.loop.call_soon_threadsafe(_resolve, future, arrived)
        return "250 OK"


def _resolve(future: asyncio.Future, value: float) -> None:
    if not future.done():
        future.set_result(value)


async def bench_email(settings: Settings, rounds: int = 100) -> list[str]:
    stub_rasa, rasa_url = await _stub_rasa()
    inbox = _Inbox(asyncio.get_running_loop())
    port = free_ports(1)[0]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    text = SAMPLES["en"]
    answered: list[float] = []
    try:
        async with _gateway_on_loopback(
            settings,
            rasa_url,
            smtp_url=f"smtp://127.0.0.1:{port}?starttls=0",
            email_from=SHOP,
            email_inbound_token=TOKEN,
        ) as (app, url):
            channel = next(c for c in app[CHANNELS] if isinstance(c, EmailChannel))
            assert channel.threads is not None
            async with ClientSession() as session:
                for i in range(rounds):
                    sender, address = f"bench-mail-{i}", f"customer{i}@example.org"
                    body = {"sender": sender, "text": text}
                    async with session.post(f"{url}/api/v1/messages", json=body) as response:
                        await response.read()
                    thread = await channel.threads.open(f"rest-{sender}", address)
                    mail = {
                        "from": address,
                        "to": SHOP,
                        "subject": f"Re: {subject_tag(thread.reference)} Your conversation",
                        "text": text,
                        "message_id": f"<bench-{i}@example.org>",
                    }
                    arrived = inbox.expect(address)
                    start = time.perf_counter()
                    async with session.post(
                        f"{url}/email/inbound",
                        json=mail,
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    ) as response:
                        await response.read()
                    answered.append(await asyncio.wait_for(arrived, 30) - start)
    finally:
        smtp.stop()
        await stub_rasa.cleanup()
    median = statistics.median(answered) * 1000
    return [
        _summary("E-mail: inbound webhook -> answer mailed", answered),
        f"{'E-mail median per message':<44} {median:7.3f} ms",
    ]
