"""What the agent console shows changed: one signal from wherever it changed (a ticket
opened, claimed, answered or resolved, a customer writing to an agent, an alert) to every
open console feed (bot/console/views.py), in this process and, with TOLK_REDIS_URL, in
every gateway replica.

`notify()` is called after such a write (bot/handoff/service.py, bot/alerts.py). It never
waits and never fails, and calls within COALESCE_SECONDS of the first make one signal: 25
customer messages a second wake the agents 20 times a second at most, not 25. A feed
`listen`s with an `asyncio.Event`, set on every signal; `version` counts the signals, so a
snapshot shared by the feeds (the console's queue) knows it is stale.

`LocalChanges` keeps the signal in the process: with several replicas on one database a
change made on another one is seen only by polling, so `shared` is False and feeds poll
every second. `RedisChanges` publishes each signal on one Redis channel, and one
subscriber task per process wakes the local feeds; while it listens `shared` is True and
feeds poll only now and then, as a safety net. When Redis does not answer nobody waits for
it: the local feeds are still woken, a failed publish is logged once per outage (not once
per signal), the subscriber reconnects with backoff, and `shared` is False meanwhile, so
the feeds go back to polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import urllib.parse
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

log = logging.getLogger(__name__)

# Signals closer together than this make one (seconds).
COALESCE_SECONDS = 0.05
# Pub/sub channels are not per Redis database: the database number is appended, so that
# deployments sharing a server on different databases do not wake each other's agents.
CHANNEL = "tolk:console-changes"
# Redis answers a publish in a millisecond or not at all.
TIMEOUT_SECONDS = 0.5
# After a failed publish, this long without trying (the feeds poll meanwhile).
DOWN_SECONDS = 2.0
# The subscriber's waits between reconnections: doubling from the first to the last.
BACKOFF_SECONDS = (0.5, 10.0)
# How long the subscriber waits for a message before looking again (and pinging).
LISTEN_SECONDS = 5.0


class LocalChanges:
    """The signal within this process (one replica, or no Redis)."""

    def __init__(self, coalesce: float = COALESCE_SECONDS) -> None:
        self.coalesce = coalesce
        self.version = 0
        self._listeners: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()
        self._pending: asyncio.TimerHandle | None = None

    @property
    def shared(self) -> bool:
        """Whether changes made on other replicas reach this one now."""
        return False

    def notify(self) -> None:
        """Something the console shows changed (call from the event loop)."""
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.coalesce, self._flush)

    def listen(self, wake: asyncio.Event) -> None:
        """Set `wake` on every change from now on, here or (when `shared`) elsewhere."""
        self._listeners.add(wake)

    def forget(self, wake: asyncio.Event) -> None:
        self._listeners.discard(wake)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[LocalChanges]:
        """While the service runs (bot/app.py); nothing to start here."""
        try:
            yield self
        finally:
            self._cancel_pending()

    def _flush(self) -> None:
        self._pending = None
        self._changed()
        self._send()

    def _changed(self) -> None:
        """Wake the feeds of this process."""
        self.version += 1
        for wake in list(self._listeners):
            wake.set()

    def _send(self) -> None:
        """Tell the other replicas (there is no way to, here)."""

    def _cancel_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None


class RedisChanges(LocalChanges):
    """The signal across replicas through Redis pub/sub. `running()` makes the client and
    runs the subscriber (nothing connects before: no I/O at import or construction);
    before it and after it, signals stay in this process."""

    def __init__(
        self,
        url: str,
        *,
        channel: str | None = None,
        coalesce: float = COALESCE_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
        down_seconds: float = DOWN_SECONDS,
        backoff: tuple[float, float] = BACKOFF_SECONDS,
        listen_seconds: float = LISTEN_SECONDS,
    ) -> None:
        super().__init__(coalesce)
        self._url = url
        parsed = urllib.parse.urlsplit(url)
        self.where = f"{parsed.hostname}:{parsed.port or 6379}"  # for the log: no password
        database = parsed.path.strip("/") or "0"
        self.channel = f"{channel or CHANNEL}:{database}"
        self.timeout = timeout
        self.down_seconds = down_seconds
        self.backoff = backoff
        self.listen_seconds = listen_seconds
        # Every process hears its own signals too; it woke its feeds already.
        self._origin = secrets.token_hex(8).encode()
        self._client: redis.asyncio.Redis | None = None
        self._subscriber: asyncio.Task | None = None
        self._publishing: asyncio.Task | None = None
        self._again = False
        self._subscribed = False
        self._publish_down = False
        self._retry_at = 0.0  # time.monotonic() before which no publish is tried

    def __repr__(self) -> str:
        return f"RedisChanges({self.where}, channel={self.channel!r})"

    @property
    def shared(self) -> bool:
        # Listening is what brings other replicas' changes here. Whether this replica's
        # publishes get through concerns the others' feeds, which cannot know: for a
        # Redis that answers one and not the other their safety tick is the net.
        return self._subscribed

    @asynccontextmanager
    async def running(self) -> AsyncIterator[RedisChanges]:
        # One retry on a fresh connection covers a pooled one that a Redis restart closed.
        self._client = redis.asyncio.Redis.from_url(
            self._url,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 1),
            health_check_interval=self.listen_seconds,
        )
        self._subscriber = asyncio.create_task(self._subscribe(), name="console changes")
        try:
            yield self
        finally:
            self._cancel_pending()
            self._subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._subscriber
            if self._publishing is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._publishing
            self._subscribed = False
            client, self._client = self._client, None
            await client.aclose()

    def _send(self) -> None:
        if self._client is None or time.monotonic() < self._retry_at:
            return  # not running, or down a moment ago: the feeds poll meanwhile
        if self._publishing is not None:
            self._again = True  # one more when this one is done, not one per signal
            return
        self._publishing = asyncio.create_task(self._publish())

    async def _publish(self) -> None:
        try:
            while self._client is not None:
                self._again = False
                try:
                    await self._client.publish(self.channel, self._origin)
                except (redis.RedisError, OSError, TimeoutError) as error:
                    self._retry_at = time.monotonic() + self.down_seconds
                    if not self._publish_down:
                        self._publish_down = True
                        log.warning(
                            "console changes: Redis at %s does not answer (%s: %s); consoles "
                            "on other replicas see changes made here by polling until it does",
                            self.where,
                            type(error).__name__,
                            error,
                        )
                    return
                if self._publish_down:
                    self._publish_down = False
                    log.warning("console changes: Redis at %s answers again", self.where)
                if not self._again:
                    return
        finally:
            self._publishing = None

    async def _subscribe(self) -> None:
        """Wake the local feeds on every other replica's signal, for as long as the
        service runs; reconnect with backoff when Redis goes away."""
        assert self._client is not None
        delay = self.backoff[0]
        down = False
        while True:
            try:
                async with self._client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed = True
                    self._retry_at = 0.0  # Redis is back: publish again at once too
                    delay = self.backoff[0]
                    if down:
                        down = False
                        log.warning("console changes: listening to Redis at %s again", self.where)
                    # Whatever other replicas said while nobody here listened.
                    self._changed()
                    while True:
                        message = await pubsub.get_message(timeout=self.listen_seconds)
                        if message is not None and message.get("data") != self._origin:
                            self._changed()
            except (redis.RedisError, OSError, TimeoutError) as error:
                if self._subscribed:
                    self._subscribed = False
                    # Feeds waiting out a long safety tick go back to polling now.
                    self._changed()
                if not down:
                    down = True
                    log.warning(
                        "console changes: lost Redis at %s (%s: %s); consoles poll every "
                        "second until it is back",
                        self.where,
                        type(error).__name__,
                        error,
                    )
            except Exception:  # a bug, not Redis: keep listening rather than die silently
                self._subscribed = False
                log.exception("console changes: the Redis subscriber failed; restarting it")
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])


def changes_for(redis_url: str | None) -> LocalChanges:
    """Through Redis with TOLK_REDIS_URL, else within this process."""
    return RedisChanges(redis_url) if redis_url else LocalChanges()
