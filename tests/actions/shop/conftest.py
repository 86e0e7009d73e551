"""A seeded demo shop on a temporary SQLite file, at a fixed "now" that tests can move."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from actions.database import create_engine, create_schema
from actions.shop import SqlShop, seed_demo

NOW = datetime(2025, 5, 10, 9, 30)
TODAY = NOW.date()


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)

    @property
    def today(self) -> date:
        return self.now.date()


def days(offset: int) -> date:
    """The day `offset` days from the seeding day."""
    return TODAY + timedelta(days=offset)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    await create_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def shop(engine, clock) -> SqlShop:
    assert await seed_demo(engine, clock) is True
    return SqlShop(engine, clock)
