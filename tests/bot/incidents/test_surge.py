"""Surge alerts: the leads hear when `count` different customers ask about one intent
within the window, not before, once per window, once whatever the number of replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.alerts import Alerts
from bot.appkeys import ALERTS, INCIDENTS
from bot.db import alerts, conversations, create_engine, create_schema, messages, utcnow
from bot.incidents.surge import KIND, SurgePolicy, SurgeWatch
from bot.settings import Settings, SettingsError
from tests.bot.incidents.conftest import ASKS, PAYMENTS
from tests.gateway_fixtures import statements_run
from tests.servers import postgres_database

POLICY = SurgePolicy(count=3, window=timedelta(minutes=10))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tolk.db'}"
        return
    async with postgres_database() as database_url:
        yield database_url


@pytest.fixture
async def engine(url):
    engine = create_engine(url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


async def asks(engine, sender: str, intent: str, when) -> None:
    """A customer message Rasa took for `intent`, as /nlg records it (bot/outcomes.py)."""
    async with engine.begin() as connection:
        found = await connection.scalar(
            select(conversations.c.id).where(conversations.c.sender == sender)
        )
        if found is None:
            found = (
                await connection.execute(
                    conversations.insert().values(
                        sender=sender, channel="rest", created_at=when, updated_at=when
                    )
                )
            ).inserted_primary_key[0]
        await connection.execute(
            messages.insert().values(
                conversation_id=found,
                author="customer",
                text="my card payment fails",
                intent=intent,
                created_at=when,
            )
        )


async def surge_alerts(engine) -> list:
    async with engine.connect() as connection:
        return (await connection.execute(select(alerts).where(alerts.c.kind == KIND))).all()


async def test_alerted_at_the_third_customer_once_per_window(engine):
    clock = Clock()
    watch = SurgeWatch(engine, Alerts(engine), POLICY, clock)
    for _ in range(3):  # one customer asking three times is one customer
        await asks(engine, "rest-a", PAYMENTS, clock.now)
    await asks(engine, "rest-b", PAYMENTS, clock.now)
    await asks(engine, "rest-c", "faq/shipping_time", clock.now)  # another topic
    assert not await watch.check(PAYMENTS)
    await asks(engine, "rest-old", PAYMENTS, clock.now - timedelta(minutes=11))  # too long ago
    assert not await watch.check(PAYMENTS)
    assert await surge_alerts(engine) == []

    await asks(engine, "rest-d", PAYMENTS, clock.now)
    assert await watch.check(PAYMENTS)
    [alert] = await surge_alerts(engine)
    assert (alert.ticket_id, alert.intent) == (None, PAYMENTS)
    assert alert.text.startswith(f"3 customers asked about {PAYMENTS} within 10 minutes")

    await asks(engine, "rest-e", PAYMENTS, clock.now)
    assert not await watch.check(PAYMENTS), "once per window"
    clock.now += timedelta(minutes=9)
    await asks(engine, "rest-f", PAYMENTS, clock.now)
    await asks(engine, "rest-g", PAYMENTS, clock.now)
    assert not await watch.check(PAYMENTS)
    assert len(await surge_alerts(engine)) == 1

    # A window later, still many customers: the leads hear again.
    clock.now += timedelta(minutes=2)
    await asks(engine, "rest-h", PAYMENTS, clock.now)
    assert await watch.check(PAYMENTS)
    assert len(await surge_alerts(engine)) == 2


async def test_once_alerted_the_checks_leave_the_database_alone_until_the_window_ends(
    engine, monkeypatch
):
    clock = Clock()
    watch = SurgeWatch(engine, Alerts(engine), POLICY, clock)
    other = SurgeWatch(engine, Alerts(engine), POLICY, clock)  # a second replica
    for name in ("rest-a", "rest-b", "rest-c"):
        await asks(engine, name, PAYMENTS, clock.now)
    assert await watch.check(PAYMENTS)
    assert not await other.check(PAYMENTS)  # lost the claim: it counted and tried

    statements = statements_run(engine, monkeypatch)
    for _ in range(5):
        assert not await watch.check(PAYMENTS)
        assert not await other.check(PAYMENTS)
    assert statements == []  # the surge goes on: no count, no claim, no write
    clock.now += timedelta(seconds=31)
    assert not await other.check(PAYMENTS)  # the loser looks again after a while
    assert statements and not await watch.check(PAYMENTS)
    clock.now += timedelta(minutes=10)
    await asks(engine, "rest-d", PAYMENTS, clock.now)
    for name in ("rest-e", "rest-f"):
        await asks(engine, name, PAYMENTS, clock.now)
    assert await watch.check(PAYMENTS)  # a window later: alerted again


async def test_intents_that_name_no_problem_never_make_a_surge(engine):
    watch = SurgeWatch(engine, Alerts(engine), POLICY)
    for n in range(5):
        await asks(engine, f"rest-{n}", "greet", utcnow())
        await asks(engine, f"rest-{n}", "nlu_fallback", utcnow())
    assert not await watch.check("greet")
    assert not await watch.check("nlu_fallback")
    assert not await watch.check(None)
    assert await surge_alerts(engine) == []


async def test_two_replicas_alert_once(engine, url):
    other = create_engine(url)  # the second replica: its own engine on the same database
    try:
        for n in range(4):
            await asks(engine, f"rest-{n}", PAYMENTS, utcnow())
        replicas = [
            SurgeWatch(engine, Alerts(engine), POLICY),
            SurgeWatch(other, Alerts(other), POLICY),
        ]
        results = await asyncio.gather(*(w.check(PAYMENTS) for w in replicas for _ in range(3)))
        assert sorted(results) == [False] * 5 + [True]
        assert len(await surge_alerts(engine)) == 1
    finally:
        await other.dispose()


async def test_customers_asking_through_the_bot_alert_the_leads_once(bot):
    app = bot.client.server.app
    await bot.say("rest-s1", ASKS["en"])
    await bot.say("rest-s2", ASKS["nl"], language="nl")
    await bot.say("rest-s2", ASKS["nl"], language="nl")
    await app[INCIDENTS].settled()
    assert await app[ALERTS].after(0, utcnow() - timedelta(hours=1)) == []

    await bot.say("rest-s3", ASKS["fa"], language="fa")
    await bot.say("rest-s4", ASKS["en"])
    await app[INCIDENTS].settled()
    [alert] = await app[ALERTS].after(0, utcnow() - timedelta(hours=1))
    assert (alert.kind, alert.ticket_id, alert.intent) == ("surge", None, PAYMENTS)
    assert alert.text.startswith(f"3 customers asked about {PAYMENTS} within 10 minutes")


def test_the_window_and_the_count_are_configurable():
    settings = Settings.from_env(
        {"TOLK_SURGE_COUNT": "5", "TOLK_SURGE_MINUTES": "15", "TOLK_INCIDENT_PUSH_HOURS": "6"}
    )
    assert (settings.surge_count, settings.surge_minutes, settings.incident_push_hours) == (
        5,
        15,
        6,
    )
    assert SurgePolicy.from_settings(settings) == SurgePolicy(5, timedelta(minutes=15))
    defaults = Settings.from_env({})
    assert (defaults.surge_count, defaults.surge_minutes, defaults.incident_push_hours) == (
        3,
        10,
        24,
    )
    for name in ("TOLK_SURGE_COUNT", "TOLK_SURGE_MINUTES", "TOLK_INCIDENT_PUSH_HOURS"):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: "0"})
