"""The production profile's stores for real: the bot database and Rasa's tracker store on
PostgreSQL, Rasa's RedisLockStore on Redis, through the launcher (scripts/stack.py) that
migrates the database before it starts anything. A stack of its own, on ports one above
the shared one's (tests/e2e/conftest.py), so that both may run in one session."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from scripts.stack import MODEL, Ports, Stack
from tests.e2e.conftest import PORT_OFFSET, post
from tests.servers import postgres_database_sync, redis_url

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


class LockCommands:
    """Redis's MONITOR in a thread: the commands Rasa sends for its conversation locks."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5)
        self.seen: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        import redis

        with self._client.monitor() as monitor:
            while not self._stop.is_set():
                try:
                    command = monitor.next_command()["command"]
                except (redis.TimeoutError, TimeoutError):
                    continue
                except redis.ConnectionError:
                    return
                if "tolk" in command and "lock" in command:
                    self.seen.append(command)

    def __enter__(self) -> LockCommands:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._client.close()


async def _tracker_events(url: str, sender: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=10)
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM events WHERE sender_id LIKE $1", f"%{sender}"
        )
    finally:
        await connection.close()


async def _bot_messages(url: str, sender: str) -> list[tuple[str, str]]:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=10)
    try:
        rows = await connection.fetch(
            "SELECT m.author, m.status FROM messages m JOIN conversations c "
            "ON c.id = m.conversation_id WHERE c.sender = $1 ORDER BY m.id",
            f"rest-{sender}",
        )
        version = await connection.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()
    return [(row["author"], row["status"]) for row in rows], version


def test_a_conversation_on_postgresql_and_redis(tmp_path):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    redis = redis_url()
    with postgres_database_sync() as database:
        stack = Stack(
            Ports(rasa=15006 + PORT_OFFSET, actions=15056 + PORT_OFFSET, bot=18081 + PORT_OFFSET),
            tmp_path,
            env={
                "TOLK_DATABASE_URL": database,
                "TOLK_TRACKER_URL": database,
                "TOLK_REDIS_URL": redis,
                "TOLK_RATE_NEW_CONVERSATIONS": "100000/10m",
            },
        )
        try:
            stack.start(timeout=300)
            sender = f"pg-{uuid.uuid4().hex[:10]}"
            with LockCommands(redis) as locks:
                replies = [
                    post(stack.bot_url, {"sender": sender, "text": text})
                    for text in ("hello", "how long does shipping take?", "thanks, bye")
                ]
            assert all(reply["messages"] for reply in replies), replies
            assert asyncio.run(_tracker_events(database, sender)) > 0  # Rasa's tracker
            stored, version = asyncio.run(_bot_messages(database, sender))
            assert [author for author, _ in stored].count("customer") == 3
            assert all(status == "answered" for author, status in stored if author == "customer")
            assert version  # the launcher migrated the database before the processes started
            assert locks.seen, "Rasa took no conversation lock in Redis"
        finally:
            stack.stop()
