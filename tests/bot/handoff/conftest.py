"""A bot service with a team of agents, a fake Rasa and (optionally) a fake translator."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from bot.app import create_app
from bot.db import create_engine, create_schema
from bot.handoff.agents import AgentStore
from bot.handoff.hours import ALWAYS
from tests.translation_server import FakeLibreTranslate, serve


@dataclass
class Member:
    name: str
    token: str
    id: int

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Team:
    def __init__(self, client, settings) -> None:
        self.client = client
        self.settings = settings

    async def add(
        self,
        name: str,
        languages: str,
        *,
        hours: str = ALWAYS,
        limit: int = 3,
        zone: str = "UTC",
        role: str = "agent",
    ) -> Member:
        engine = create_engine(self.settings.database_url)
        try:
            await create_schema(engine)
            new = await AgentStore(engine).add(
                name,
                tuple(languages.split(",")),
                password="a long password",
                timezone=zone,
                hours=hours,
                max_tickets=limit,
                role=role,
            )
        finally:
            await engine.dispose()
        return Member(name, new.token, new.agent.id)

    async def online(self, *members: Member) -> None:
        """Agents show up (any API call counts)."""
        for member in members:
            response = await self.client.get("/api/v1/agent/tickets", headers=member.auth)
            assert response.status == 200

    async def say(self, sender: str, text: str, **extra) -> dict:
        response = await self.client.post(
            "/api/v1/messages", json={"sender": sender, "text": text, **extra}
        )
        assert response.status == 200, await response.text()
        return await response.json()

    async def call(self, method: str, path: str, member: Member, **kwargs):
        response = await self.client.request(
            method, f"/api/v1/agent{path}", headers=member.auth, **kwargs
        )
        return response.status, await response.json()

    async def transcript(self, sender: str) -> list[dict]:
        response = await self.client.get(f"/api/v1/conversations/{sender}/messages")
        return (await response.json())["messages"]


@pytest.fixture
def handoff_settings(settings):
    return settings


@pytest.fixture
def translator() -> FakeLibreTranslate:
    return FakeLibreTranslate()


@pytest.fixture
async def team(aiohttp_client, aiohttp_server, handoff_settings, translator) -> Team:
    url = await serve(aiohttp_server, translator)
    settings = replace(
        handoff_settings, translator="libre", translator_url=url, translator_timeout=2
    )
    client = await aiohttp_client(create_app(settings))
    return Team(client, settings)


def escalate(fake_rasa, reason: str, intent: str | None = None) -> None:
    """The next Rasa answer is action_handoff's custom payload."""
    fake_rasa.replies = [{"custom": {"handoff": {"reason": reason, "intent": intent}}}]
