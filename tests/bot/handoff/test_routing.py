"""Who gets a ticket: language first, then anyone online, round-robin, within limits."""

from datetime import datetime, timedelta

from bot.handoff.agents import Agent
from bot.handoff.hours import ALWAYS
from bot.handoff.routing import pick_agent, wait_minutes

NOW = datetime(2026, 11, 23, 10, 0)
PRESENCE = timedelta(seconds=60)


def agent(id_: int, languages: str, *, seen=NOW, assigned=None, limit=2, hours=ALWAYS) -> Agent:
    return Agent(id_, f"a{id_}", tuple(languages.split(",")), "UTC", hours, limit, seen, assigned)


def test_a_speaker_of_the_customers_language_comes_first():
    team = [agent(1, "en"), agent(2, "nl,en")]
    assert pick_agent("nl", team, {}, NOW, PRESENCE).id == 2


def test_without_a_speaker_any_online_agent_takes_it_with_translation():
    team = [agent(1, "en", seen=NOW - timedelta(minutes=5)), agent(2, "nl,en")]
    assert pick_agent("fa", team, {}, NOW, PRESENCE).id == 2


def test_round_robin_gives_the_ticket_to_who_waited_longest():
    team = [agent(1, "en", assigned=NOW), agent(2, "en", assigned=NOW - timedelta(minutes=3))]
    assert pick_agent("en", team, {}, NOW, PRESENCE).id == 2


def test_an_agent_at_the_limit_gets_no_more_and_then_the_ticket_waits():
    team = [agent(1, "fa", limit=1), agent(2, "en", limit=1)]
    assert pick_agent("fa", team, {1: 1}, NOW, PRESENCE).id == 2
    assert pick_agent("fa", team, {1: 1, 2: 1}, NOW, PRESENCE) is None


def test_outside_working_hours_an_agent_is_not_online():
    team = [agent(1, "en", hours="sat 09:00-17:00")]  # NOW is a Monday
    assert pick_agent("en", team, {}, NOW, PRESENCE) is None


def test_the_wait_grows_with_the_position_and_shrinks_with_agents():
    recent = [timedelta(minutes=4), timedelta(minutes=6), timedelta(minutes=8)]
    assert wait_minutes(1, recent, 1) == 6
    assert wait_minutes(3, recent, 1) == 18
    assert wait_minutes(3, recent, 3) == 6
    assert wait_minutes(1, [], 0) == 5  # no history yet: five minutes per customer
