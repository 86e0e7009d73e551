"""An agent who goes away mid-conversation: the ticket returns to the queue."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from tests.texts import said


@pytest.fixture
def handoff_settings(settings):
    return replace(settings, agent_timeout=0.5, sweep_seconds=0.1)


async def test_an_agent_who_disconnects_loses_the_ticket_and_the_customer_is_told(team):
    emma = await team.add("Emma", "en")
    await team.online(emma)
    ticket = (await team.say("g1", "/human"))["handoff"]["ticket"]
    await asyncio.sleep(1.0)  # Emma's console closed; nothing from her since
    messages = await team.transcript("g1")
    assert messages[-1]["text"] == said("utter_handoff_requeued", "en", position=1, eta_minutes=5)
    daan = await team.add("Daan", "en")
    _, detail = await team.call("GET", f"/tickets/{ticket}", daan)
    # Daan showing up takes the ticket over.
    assert detail["status"] == "assigned" and detail["agent"]["name"] == "Daan"
