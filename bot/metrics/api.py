"""The leads' dashboard over HTTP (agent token or console login): the report's figures for a
period, language and channel, as JSON, as CSV, and as the report's charts (PNG, matplotlib).

`GET /api/v1/agent/dashboard?since=7d&language=nl&channel=web`
`GET /api/v1/agent/dashboard.csv?...` (a download)
`GET /api/v1/agent/dashboard/charts/{chart}?...` (one of `report.CHART_FILES`)
"""

from __future__ import annotations

import asyncio
import csv
import io
import re

from aiohttp import web

from bot.appkeys import CHANNELS, ENGINE, SETTINGS
from bot.db import utcnow
from bot.errors import NotFound
from bot.handoff.agents import require_lead
from bot.handoff.api import authenticate
from bot.http_errors import BadRequest
from bot.metrics.figures import Figures, figures
from bot.metrics.query import Query, QueryError, since
from bot.metrics.report import CHART_FILES, chart_png, rows

# What a language code and a channel name look like ("nl", "zh-cn"; "whatsapp"): a filter
# is written on the charts, and matplotlib reads "$...$" in a text as mathematics.
_FILTERS = {
    "language": re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})?"),
    "channel": re.compile(r"[a-z]{1,32}"),
}


def query_from(request: web.Request) -> Query:
    """The slice a request asks for: `since` (30m, 12h, 7d, 4w; 7d when absent), and
    optionally `language` and `channel`; 400 with the reason otherwise."""
    filters = {}
    for name, pattern in _FILTERS.items():
        value = request.query.get(name, "").strip().lower()
        if value and not pattern.fullmatch(value):
            raise BadRequest(
                400,
                f"`{name}` must be a {name} name such as "
                + ("nl or zh-cn" if name == "language" else "web or telegram"),
            )
        filters[name] = value or None
    try:
        start, end = since(request.query.get("since", "7d"))
        return Query(start, end, **filters)
    except QueryError as error:
        raise BadRequest(400, str(error).replace("--since", "`since`")) from None


async def _figures(request: web.Request) -> Figures:
    require_lead(await authenticate(request), "read the dashboard")
    query = query_from(request)
    settings = request.app[SETTINGS]
    return await figures(request.app[ENGINE], query, settings.session_minutes, utcnow())


async def dashboard(request: web.Request) -> web.Response:
    found = await _figures(request)
    query = found.query
    settings = request.app[SETTINGS]
    return web.json_response(
        {
            "period": query.describe(),
            "start": query.start.isoformat() + "Z",
            "end": query.end.isoformat() + "Z",
            "language": query.language,
            "channel": query.channel,
            # What the filters may name, for the console's choices.
            "languages": sorted({*settings.languages, *found.volume.by_language}),
            "channels": [channel.name for channel in request.app[CHANNELS]],
            "rows": [
                {
                    "figure": name.strip(),
                    "value": value,
                    "basis": basis,
                    "detail": name != name.strip(),
                }
                for name, value, basis in rows(found)
            ],
            "charts": list(CHART_FILES),
        }
    )


async def dashboard_csv(request: web.Request) -> web.Response:
    found = await _figures(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "value", "basis", "period"])
    for name, value, basis in rows(found):
        writer.writerow([_cell(name.strip()), value, _cell(basis), found.query.describe()])
    stamp = f"{found.query.end:%Y%m%d-%H%M}"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="tolk-dashboard-{stamp}.csv"'},
    )


async def dashboard_chart(request: web.Request) -> web.Response:
    name = request.match_info["chart"]
    if name not in CHART_FILES:
        raise NotFound(f"no chart {name[:40]!r}; charts are {', '.join(CHART_FILES)}")
    found = await _figures(request)
    # Drawing takes a fraction of a second of CPU: not on the event loop.
    png = await asyncio.to_thread(chart_png, found, name)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


def _cell(text: str) -> str:
    """A spreadsheet reads a cell starting with = + - @ as a formula: never from us."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent/dashboard", dashboard)
    app.router.add_get("/api/v1/agent/dashboard.csv", dashboard_csv)
    app.router.add_get("/api/v1/agent/dashboard/charts/{chart}", dashboard_chart)
