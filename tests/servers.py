"""The private PostgreSQL and Redis that `make services` starts (scripts/services) for the
tests marked `postgres` and `redis`; the Makefile exports where they are:
TOLK_TEST_POSTGRES_URL (postgresql://tolk:tolk@127.0.0.1:15433/tolk), TOLK_TEST_REDIS_URL.

Each test gets a database of its own (created here, dropped afterwards), so that test
runs and people sharing one server never see each other's rows. Without the variable a
test is skipped with the reason, except in CI (CI set), where it fails: CI must run them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest

POSTGRES = "TOLK_TEST_POSTGRES_URL"
REDIS = "TOLK_TEST_REDIS_URL"
CONNECT_SECONDS = 10


def server_url(variable: str) -> str:
    url = os.environ.get(variable, "").strip()
    if url:
        return url
    message = f"needs {variable}: `make services` starts the server, the Makefile sets it"
    if os.environ.get("CI", "").strip():
        pytest.fail(message)
    pytest.skip(message)


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin(base: str, statement: str) -> None:
    import asyncpg

    try:
        admin = await asyncpg.connect(base, timeout=CONNECT_SECONDS)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        pytest.fail(f"PostgreSQL at {POSTGRES} does not answer ({error}): run `make services`")
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the test server; its URL (postgresql://)."""
    base = server_url(POSTGRES)
    name = f"tolk_test_{secrets.token_hex(6)}"
    await _admin(base, f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(base, name)
    finally:
        await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_database_sync() -> Iterator[str]:
    """postgres_database for tests without an event loop (the e2e ones)."""
    base = server_url(POSTGRES)
    name = f"tolk_test_{secrets.token_hex(6)}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(base, name)
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def redis_url() -> str:
    """The test Redis, checked to answer."""
    import redis

    url = server_url(REDIS)
    client = redis.Redis.from_url(url, socket_timeout=CONNECT_SECONDS)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {REDIS} does not answer ({error}): run `make services`")
    finally:
        client.close()
    return url
