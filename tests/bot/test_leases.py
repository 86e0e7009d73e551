"""Leases: one replica runs each background job; another takes over when it stops or dies.
On SQLite and on PostgreSQL, where replicas really race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.leases import Leases
from bot.periodic import Periodic
from tests.gateway_fixtures import DATABASES, engine_on


@pytest.fixture(params=DATABASES)
async def engine(request, tmp_path) -> AsyncIterator:
    async with engine_on(request.param, tmp_path) as engine:
        yield engine


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 12, 0)

    def __call__(self) -> datetime:
        return self.now


async def test_one_holder_until_it_expires_then_another(engine):
    clock = Clock()
    first, second = Leases(engine, "a", clock), Leases(engine, "b", clock)
    assert await first.hold("sweep", 30)
    assert not await second.hold("sweep", 30)
    assert await first.hold("sweep", 30)  # renewed
    assert await second.hold("other job", 30)  # leases are per job
    clock.now += timedelta(seconds=31)  # `a` died: its lease runs out
    assert await second.hold("sweep", 30)
    assert not await first.hold("sweep", 30)  # back, but `b` has it now


async def test_a_holder_that_stops_hands_over_at_once(engine):
    first, second = Leases(engine, "a"), Leases(engine, "b")
    assert await first.hold("sweep", 3600)
    await first.release_all()
    assert await second.hold("sweep", 3600)


async def test_replicas_racing_for_a_new_job_get_exactly_one_holder(engine):
    replicas = [Leases(engine, f"replica-{n}") for n in range(6)]
    for _ in range(3):  # a new job (INSERT races), then a held one (UPDATE races)
        held = await asyncio.gather(*(replica.hold("race", 60) for replica in replicas))
        assert sum(held) == 1, held


async def test_a_job_runs_in_one_replica_and_moves_when_it_stops(engine):
    ran: list[str] = []

    def job(replica: str):
        async def one_round() -> None:
            ran.append(replica)

        return one_round

    leases_a = Leases(engine, "a")
    first = Periodic("sweep", job("a"), 0.02, 0, leases_a)
    second = Periodic("sweep", job("b"), 0.02, 0.01, Leases(engine, "b"))
    first.start()
    second.start()
    await asyncio.sleep(0.5)
    assert len(ran) >= 5 and set(ran) == {"a"}
    await first.stop()
    await leases_a.release_all()  # as bot/app.py does at shutdown
    ran.clear()
    await asyncio.sleep(0.5)
    await second.stop()
    assert len(ran) >= 5 and set(ran) == {"b"}
