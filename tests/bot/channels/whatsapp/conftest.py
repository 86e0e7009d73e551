from __future__ import annotations

import pytest

from tests.bot.channels.meta_fixtures import meta_client
from tests.graph_server import FakeGraph


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
async def wa_client(aiohttp_client, aiohttp_server, settings, graph):
    return await meta_client(aiohttp_client, aiohttp_server, settings, graph)
