"""GET /healthz: 200 when Rasa, the action server and the database answer, else 503 with which."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.appkeys import GATEWAY


async def healthz(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    rasa, actions, database = await asyncio.gather(
        gateway.rasa.rasa_health(), gateway.rasa.actions_health(), _database(gateway)
    )
    checks = {"rasa": rasa, "actions": actions, "database": database}
    down = {name: problem for name, problem in checks.items() if problem}
    body = {
        "status": "ok" if not down else "degraded",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    if down:
        body["down"] = sorted(down)
    return web.json_response(body, status=503 if down else 200)


async def _database(gateway) -> str | None:
    try:
        await asyncio.wait_for(gateway.store.ping(), timeout=3)
    except Exception as error:  # any failure means "down"; the reason is reported
        return f"not answering ({type(error).__name__})"
    return None
