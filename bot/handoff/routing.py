"""Who takes a ticket, and how long the customer will wait.

First an online agent who speaks the customer's language, else any online agent (the
console translates both ways). Among equals, the one who got a ticket longest ago
(round-robin), and never more open tickets than the agent's limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from statistics import median

from bot.handoff.agents import Agent

DEFAULT_HANDLING = timedelta(minutes=5)


def pick_agent(
    language: str,
    candidates: Sequence[Agent],
    open_tickets: Mapping[int, int],
    now: datetime,
    presence: timedelta,
) -> Agent | None:
    available = [
        agent
        for agent in candidates
        if agent.online(now, presence) and open_tickets.get(agent.id, 0) < agent.max_tickets
    ]
    speakers = [agent for agent in available if language in agent.languages]
    pool = speakers or available
    if not pool:
        return None
    return min(pool, key=lambda agent: (agent.last_assigned_at or datetime.min, agent.id))


def wait_minutes(position: int, handling_times: Sequence[timedelta], agents_online: int) -> int:
    """Minutes until an agent is free for the customer at `position` (1 = next)."""
    typical = median(handling_times) if handling_times else DEFAULT_HANDLING
    per_agent = position / max(agents_online, 1)
    return max(1, math.ceil(per_agent * typical.total_seconds() / 60))


def team_opening(agents: Sequence[Agent], now: datetime) -> tuple[datetime, Agent] | None:
    """When the first agent's working hours start next, and whose they are."""
    openings = [
        (opening, agent)
        for agent in agents
        if (opening := agent.working_hours().next_opening(now)) is not None
    ]
    return min(openings, key=lambda pair: pair[0]) if openings else None


def team_at_work(agents: Sequence[Agent], now: datetime) -> bool:
    return any(agent.working_hours().is_open(now) for agent in agents)
