"""Health for people and orchestrators.

GET /healthz: 200 when Rasa, the action server and the database answer, else 503.
GET /readyz:  200 when this process can serve a customer (database and Rasa), else 503.
GET /livez:   200 while the process answers at all (no checks: a restart would not help).

Anyone gets {"status": "ok"|"degraded"}; with `Authorization: Bearer <TOLK_ADMIN_TOKEN>`
the body also says which part is down and how, which names internal addresses and
exception types a stranger has no business reading.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.appkeys import RASA, SETTINGS, STORE
from bot.store import Store
from tolk_core.internal_secrets import bearer_matches


async def healthz(request: web.Request) -> web.Response:
    client = request.app[RASA]
    rasa, actions, database = await asyncio.gather(
        client.rasa_health(), client.actions_health(), _database(request.app[STORE])
    )
    return _report(request, {"rasa": rasa, "actions": actions, "database": database})


async def readyz(request: web.Request) -> web.Response:
    rasa, database = await asyncio.gather(
        request.app[RASA].rasa_health(), _database(request.app[STORE])
    )
    return _report(request, {"rasa": rasa, "database": database})


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _report(request: web.Request, checks: dict[str, str | None]) -> web.Response:
    """`checks` maps each part to None (answers) or why not."""
    down = sorted(name for name, problem in checks.items() if problem)
    body: dict = {"status": "degraded" if down else "ok"}
    if bearer_matches(request.headers.get("Authorization"), request.app[SETTINGS].admin_token):
        body["checks"] = {name: problem or "ok" for name, problem in checks.items()}
        if down:
            body["down"] = down
    return web.json_response(body, status=503 if down else 200)


async def _database(store: Store) -> str | None:
    try:
        await asyncio.wait_for(store.ping(), timeout=3)
    except Exception as error:  # any failure means "down"; the reason is reported
        return f"not answering ({type(error).__name__})"
    return None
