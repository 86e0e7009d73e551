"""`python -m bot agents add|list`: the team that answers handed-over conversations."""

from __future__ import annotations

import asyncio
import sys

from bot.db import database
from bot.handoff.agents import AgentError, AgentStore
from bot.handoff.hours import HoursError
from bot.settings import Settings


def run_add(settings: Settings, args) -> int:
    languages = tuple(code.strip().lower() for code in args.languages.split(",") if code.strip())
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    try:
        new = asyncio.run(
            _with_store(
                settings,
                lambda agents: agents.add(
                    args.name,
                    languages,
                    password=password,
                    timezone=args.timezone,
                    hours=args.hours,
                    max_tickets=args.max_tickets,
                    role="lead" if args.lead else "agent",
                ),
            )
        )
    except (AgentError, HoursError) as error:
        print(f"agent not added: {error}", file=sys.stderr)
        return 2
    agent = new.agent
    kind = "lead" if agent.lead else "agent"
    print(f"{kind} {agent.name} (id {agent.id}) added: {', '.join(agent.languages)}")
    print(f"working hours: {agent.hours} ({agent.timezone}); at most {agent.max_tickets} tickets")
    print(f"API token (shown once, keep it secret): {new.token}")
    if not args.password_stdin:
        print(f"console password (shown once): {new.password}")
    print(f"console: http://{settings.host}:{settings.port}/console")
    return 0


def run_list(settings: Settings) -> int:
    team = asyncio.run(_with_store(settings, lambda agents: agents.all()))
    if not team:
        print("no agents yet: python -m bot agents add --name N --languages en,nl")
    for agent in team:
        seen = agent.last_seen_at.isoformat(timespec="seconds") + "Z" if agent.last_seen_at else "-"
        print(
            f"{agent.id:>4}  {agent.name:<20} {','.join(agent.languages):<12} "
            f"{agent.hours} ({agent.timezone})  max {agent.max_tickets}  last seen {seen}"
            + ("  lead" if agent.lead else "")
        )
    return 0


def run_role(settings: Settings, name: str, role: str) -> int:
    try:
        agent = asyncio.run(_with_store(settings, lambda agents: agents.set_role(name, role)))
    except AgentError as error:
        print(f"role not changed: {error}", file=sys.stderr)
        return 2
    print(f"{agent.name} (id {agent.id}) is now {'a lead' if agent.lead else 'an agent'}")
    return 0


async def _with_store(settings: Settings, work):
    async with database(settings.database_url) as engine:
        return await work(AgentStore(engine))
