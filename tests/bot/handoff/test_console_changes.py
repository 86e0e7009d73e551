"""Which handoff operations tell the consoles that something changed (bot/changes.py,
`_shown` in bot/handoff/service.py): every one an agent sees, and nothing for the bot's
own chats or for an agent call that changes nothing."""

from __future__ import annotations

import pytest

from bot.appkeys import ALERTS, CHANGES


@pytest.fixture
def told(team) -> list[int]:
    """How many times the app's change signal was notified (one item per call)."""
    changes = team.client.app[CHANGES]
    calls: list[int] = []
    original = changes.notify

    def counting() -> None:
        calls.append(1)
        original()

    changes.notify = counting  # the handoff service and the alerts hold this object
    return calls


async def test_what_agents_see_is_signalled_and_the_bot_chat_is_not(team, told):
    def since(before: int) -> int:
        return len(told) - before

    await team.say("c1", "hello")  # the bot answers: no agent is concerned
    assert told == []

    emma = await team.add("Emma", "en")
    before = len(told)
    ticket = (await team.say("c1", "/human"))["handoff"]["ticket"]
    assert since(before) >= 1, "a ticket opened"

    before = len(told)
    await team.online(emma)  # coming online, she gets the queued ticket
    assert since(before) >= 1, "a ticket routed"
    before = len(told)
    await team.online(emma)  # seen again: nothing routed
    assert since(before) == 0

    before = len(told)
    await team.say("c1", "are you there?")
    assert since(before) >= 1, "a customer wrote into an open ticket"

    for path, body, status in (
        ("/messages", {"text": "yes, here"}, 201),
        ("/notes", {"text": "VIP"}, 201),
        ("/resolve", None, 200),
    ):
        before = len(told)
        got, answer = await team.call("POST", f"/tickets/{ticket}{path}", emma, json=body)
        assert got == status, answer
        assert since(before) >= 1, path

    before = len(told)
    await team.say("c1", "thanks, bye")  # back with the bot
    assert since(before) == 0

    before = len(told)
    await team.client.app[ALERTS].add("sla_warning", "SLA warning: ticket 1 due in 1 min", 1)
    assert since(before) == 1, "an alert raised"
