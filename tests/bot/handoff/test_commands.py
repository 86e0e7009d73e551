"""`python -m bot agents add|list|role`: a lead is named on purpose, and the command says
clearly what it could not do."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from bot.db import create_engine, create_schema
from bot.handoff.agents import AgentStore
from bot.handoff.commands import run_add, run_list, run_role
from bot.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env({"TOLK_DATABASE_URL": f"sqlite:///{tmp_path / 'tolk.db'}"})


def add_args(name: str, *, lead: bool = False) -> argparse.Namespace:
    return argparse.Namespace(
        name=name,
        languages="en,nl",
        timezone="Europe/Amsterdam",
        hours="mon-fri 09:00-17:00",
        max_tickets=2,
        lead=lead,
        password_stdin=False,
    )


def roles(settings: Settings) -> dict[str, str]:
    async def read() -> dict[str, str]:
        engine = create_engine(settings.database_url)
        try:
            await create_schema(engine)
            return {agent.name: agent.role for agent in await AgentStore(engine).all()}
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_lead_is_added_or_named_and_an_agent_by_default(settings, capsys):
    assert run_add(settings, add_args("Daan")) == 0
    assert "agent Daan (id 1) added: en, nl" in capsys.readouterr().out
    assert run_add(settings, add_args("Lena", lead=True)) == 0
    assert "lead Lena (id 2) added" in capsys.readouterr().out
    assert roles(settings) == {"Daan": "agent", "Lena": "lead"}

    assert run_role(settings, "Daan", "lead") == 0
    assert "Daan (id 1) is now a lead" in capsys.readouterr().out
    assert run_role(settings, "Lena", "agent") == 0
    assert "Lena (id 2) is now an agent" in capsys.readouterr().out
    assert roles(settings) == {"Daan": "lead", "Lena": "agent"}
    run_list(settings)
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].endswith("lead") and not listed[1].endswith("lead")


def test_an_unknown_agent_or_role_changes_nothing(settings, capsys):
    assert run_add(settings, add_args("Daan")) == 0
    capsys.readouterr()
    assert run_role(settings, "Nobody", "lead") == 2
    assert "no agent called 'Nobody'" in capsys.readouterr().err
    assert run_role(settings, "Daan", "boss") == 2
    assert "the role must be one of agent, lead" in capsys.readouterr().err
    assert roles(settings) == {"Daan": "agent"}
