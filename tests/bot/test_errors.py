"""The one mapping from domain errors (bot/errors.py) to HTTP (bot/http_errors.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from bot.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    RateLimited,
    Rejected,
    StoreConflict,
    StoreUnavailable,
    TolkError,
    Unavailable,
    UpstreamFailed,
)
from bot.handoff.agents import AgentError
from bot.http_errors import errors_as_json, status_for

BOT = Path(__file__).resolve().parents[2] / "bot"


async def answer(aiohttp_client, error: Exception) -> web.ClientResponse:
    async def handler(request: web.Request) -> web.Response:
        raise error

    app = web.Application(middlewares=[errors_as_json])
    app.router.add_get("/api/v1/x", handler)
    client = await aiohttp_client(app)
    return await client.get("/api/v1/x")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("no ticket 7"), 404),
        (Gone("the customer of ticket 7 was erased"), 410),
        (Forbidden("only the agent holding this customer's ticket can open their files"), 403),
        (Conflict("ticket 7 is held by Mina"), 409),
        (Rejected("locales/nl.yml: not valid YAML (the previous answers stay in service)"), 422),
        (AgentError("the password must be at least 10 characters"), 422),
        (Unavailable("the translator is unavailable, so nothing was sent"), 503),
        (UpstreamFailed("Telegram did not give the file: Bad Request"), 502),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
async def test_each_kind_has_its_status_and_the_message_as_json(aiohttp_client, error, status):
    response = await answer(aiohttp_client, error)
    assert response.status == status
    assert await response.json() == {"error": error.message}
    assert status_for(error) == status


async def test_a_locked_database_is_503_without_the_drivers_words(aiohttp_client, caplog):
    response = await answer(aiohttp_client, StoreUnavailable("database is locked"))
    assert response.status == 503
    assert await response.json() == {
        "error": "the message store is busy or unavailable; please retry shortly"
    }
    assert "database is locked" in caplog.text, "the log says what the driver said"


async def test_a_constraint_is_409_without_the_drivers_words(aiohttp_client):
    response = await answer(aiohttp_client, StoreConflict("UNIQUE constraint failed: agents.name"))
    assert response.status == 409
    body = await response.json()
    assert body == {"error": "this changed meanwhile; reload and try again"}


async def test_rate_limited_is_429_with_retry_after(aiohttp_client):
    response = await answer(aiohttp_client, RateLimited(2.2, "messages"))
    assert response.status == 429
    assert response.headers["Retry-After"] == "3"
    assert await response.json() == {
        "error": "too many messages; try again in 3 s",
        "retry_after": 3,
    }


async def test_a_kind_without_a_status_is_a_500_not_a_guess(aiohttp_client):
    class Unmapped(TolkError):
        pass

    assert status_for(Unmapped("x")) == 500
    assert (await answer(aiohttp_client, Unmapped("x"))).status == 500


def test_the_log_gets_the_detail_people_get_the_message():
    error = StoreUnavailable("database is locked")
    assert error.message == StoreUnavailable.MESSAGE
    assert str(error) == f"{StoreUnavailable.MESSAGE} (database is locked)"
    assert isinstance(error, Unavailable) and isinstance(StoreConflict(), Conflict)


def test_only_the_store_boundary_knows_the_drivers_exceptions():
    # Database errors are translated once (bot/db_errors.py); a service catching
    # sqlalchemy.exc again would split the handling anew.
    knowing = sorted(
        path.relative_to(BOT).as_posix()
        for path in BOT.rglob("*.py")
        if "sqlalchemy.exc" in path.read_text(encoding="utf-8")
    )
    assert knowing == ["db_errors.py"]


def test_services_raise_kinds_not_http_statuses():
    # HTTP statuses belong to the web layer (bot/http_errors.py and the route handlers).
    for name in ("handoff/service.py", "handoff/tickets.py", "handoff/agents.py", "store.py"):
        source = (BOT / name).read_text(encoding="utf-8")
        assert "aiohttp" not in source and "status=4" not in source, name
