"""Rate limits on what customers' clients send (DESIGN "HTTP": 429 with `retry_after`).

- Per client address on every customer route (`/chat/...`, `/api/v1/...` but the agent
  and content routes), reads (polling) more loosely than writes.
- Per sender on every message, whatever the channel.
- Per address for new conversations: a sender costs nothing to invent, so one address
  inventing many is limited however few messages each sends.

The Telegram webhook has no per-address limit (Telegram posts everyone's updates from a
few addresses of its own) and gets no 429 (Telegram would retry and finally drop the
update): its chats are paced instead, see `pace`. The buckets live behind `RateLimiter`
(bot/ratelimit.py): in this process, or with TOLK_REDIS_URL in Redis, shared by every
replica and counted here again while Redis is down (bot/app.py `_limiters`).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from bot.appkeys import LIMITS, SETTINGS
from bot.errors import RateLimited as RateLimited  # defined with the other domain errors
from bot.ratelimit import Rate, RateLimiter
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.inbound import Inbound
    from bot.store import Store

_CUSTOMER_PREFIXES = ("/chat/", "/api/v1/")
_NOT_CUSTOMER = ("/api/v1/agent/", "/api/v1/content/")
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# A paced sender normally passes after one pause; a bound keeps a shared store's odd
# answer from holding a chat for ever.
_MAX_PAUSES = 10


def client_address(request: web.Request) -> str:
    """The client's address as limits count it: the peer's, or with TOLK_TRUST_PROXY the one
    our proxy saw (the last X-Forwarded-For entry, which it appended; earlier ones the
    client wrote). IPv6 counts per /64, the block one customer usually has."""
    address = request.remote or "unknown"
    if request.app[SETTINGS].trust_proxy:
        forwarded_for = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        forwarded = request.forwarded
        if forwarded_for:
            address = forwarded_for
        elif forwarded and forwarded[-1].get("for"):
            address = _without_port(str(forwarded[-1]["for"]))
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]  # not an address (a unix socket, a proxy's odd header)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _without_port(node: str) -> str:
    """RFC 7239 nodes: "192.0.2.1", "192.0.2.1:443", "[2001:db8::1]:443"."""
    if node.startswith("["):
        return node[1:].partition("]")[0]
    host, colon, port = node.rpartition(":")
    return host if colon and port.isdigit() and ":" not in host else node


def is_customer_route(path: str) -> bool:
    return path.startswith(_CUSTOMER_PREFIXES) and not path.startswith(_NOT_CUSTOMER)


class KnownSenders:
    """Senders this process saw a stored conversation for, the latest `size` of them: a
    conversation, once there, is not new again, so its messages skip the lookup. (One
    erased and started again counts as known: one conversation, not a flood of them.)"""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, sender: str) -> bool:
        if sender not in self._seen:
            return False
        self._seen.move_to_end(sender)
        return True

    def add(self, sender: str) -> None:
        self._seen[sender] = None
        self._seen.move_to_end(sender)
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)


@dataclass(frozen=True)
class CustomerLimits:
    limiter: RateLimiter
    per_sender: Rate
    per_address: Rate
    reads_per_address: Rate
    new_conversations: Rate
    known: KnownSenders = field(default_factory=KnownSenders)

    @classmethod
    def from_settings(cls, settings: Settings, limiter: RateLimiter) -> CustomerLimits:
        return cls(
            limiter=limiter,
            per_sender=settings.rate_per_sender,
            per_address=settings.rate_per_address,
            reads_per_address=settings.rate_reads_per_address,
            new_conversations=settings.rate_new_conversations,
        )

    async def request(self, request: web.Request) -> None:
        """Any request to a customer route, counted for its address."""
        if request.method in _READS:
            scope, rate = "address-reads", self.reads_per_address
        else:
            scope, rate = "address", self.per_address
        await self._hit(scope, client_address(request), rate, "requests from your address")

    async def message(self, request: web.Request, inbound: Inbound, store: Store) -> None:
        """A message about to be handled: counted for its sender, and for its address
        when it would start a conversation."""
        # The conversation key names the channel too (bot/senders.py).
        await self._hit("sender", inbound.sender, self.per_sender, "messages")
        if inbound.sender in self.known:
            return
        if await store.conversation(inbound.sender) is not None:
            self.known.add(inbound.sender)
        else:
            await self._hit(
                "new-conversation",
                client_address(request),
                self.new_conversations,
                "new conversations from your address",
            )

    async def pace(self, sender: str) -> None:
        """For channels that cannot be answered 429 (Telegram): wait until the sender's
        (the conversation key's) next message may be handled. The message stays stored
        meanwhile."""
        for _ in range(_MAX_PAUSES):
            wait = await self.limiter.hit("sender", sender, self.per_sender)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _hit(self, scope: str, key: str, rate: Rate, what: str) -> None:
        wait = await self.limiter.hit(scope, key, rate)
        if wait > 0:
            raise RateLimited(wait, what)


@web.middleware
async def rate_limits(request: web.Request, handler) -> web.StreamResponse:
    """Counts customer requests per address. A limit hit here or in a handler raises
    RateLimited, which bot/http_errors.py answers 429 with `retry_after`."""
    if is_customer_route(request.path):
        await request.app[LIMITS].request(request)
    return await handler(request)
