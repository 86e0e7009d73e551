"""`python -m bot report --since 7d [--language xx] [--channel yy] [--charts DIR]`: the
figures as a text table, and as PNG charts (matplotlib, drawn off-screen) when asked."""

from __future__ import annotations

import asyncio
import io
import sys
from datetime import datetime
from pathlib import Path

from bot.db import database, utcnow
from bot.metrics.figures import Durations, Figures, Score, Share, duration_text, figures
from bot.metrics.query import Query, QueryError, since
from bot.settings import Settings

CHART_FILES = ("volume_by_hour.png", "volume_by_language_channel.png", "rates.png", "surveys.png")
_WIDTH = 44


def _share(share: Share) -> tuple[str, str]:
    percent = share.percent
    return ("-" if percent is None else f"{percent:.1f} %", f"{share.part} of {share.whole}")


def _times(value: Durations, unit: str) -> tuple[str, str]:
    text = f"{duration_text(value.median)} / {duration_text(value.p90)}"
    return text, f"{value.count} {unit}"


def _score(score: Score, headline: str) -> tuple[str, str]:
    if score.headline is None:
        return "-", f"0 of {score.asked} asked answered"
    mean = f" / {score.mean:.2f}" if headline == "csat" else ""
    value = f"{score.headline:.1f} %{mean}" if headline == "csat" else f"{score.headline:+.0f}"
    if headline == "ces":
        value = f"{score.headline:.2f}"
    return value, f"{score.answered} of {score.asked} asked answered"


def rows(found: Figures) -> list[tuple[str, str, str]]:
    """(figure, value, what it is made of), in the report's order: for the text table, the
    console's dashboard and its CSV."""
    rows: list[tuple[str, str, str]] = [
        ("First response, bot (median / p90)", *_times(found.bot_first_response, "sessions")),
        ("First response, agent (median / p90)", *_times(found.agent_first_response, "tickets")),
        (
            "Resolution time, tickets (mean)",
            duration_text(found.resolution_time.mean),
            f"{found.resolution_time.count} resolved",
        ),
        ("First-contact resolution", *_share(found.first_contact_resolution)),
        ("Containment (no handoff)", *_share(found.containment)),
        ("Handoff rate", *_share(found.handoff_rate["all"])),
    ]
    for reason, share in found.handoff_rate.items():
        if reason != "all":
            rows.append((f"  reason {reason}", *_share(share)))
    rows += [
        ("CSAT (% 4-5 / mean)", *_score(found.csat, "csat")),
        ("  after bot-only sessions", *_score(found.csat_bot, "csat")),
        ("  after tickets", *_score(found.csat_ticket, "csat")),
        ("NPS (promoters - detractors)", *_score(found.nps, "nps")),
        ("CES (mean, 1-7)", *_score(found.ces, "ces")),
        ("SLA breaches (first agent reply)", *_share(found.sla_breaches["all"])),
    ]
    for priority, share in found.sla_breaches.items():
        if priority != "all":
            rows.append((f"  priority {priority}", *_share(share)))
    missed = found.unanswered
    rows += [
        ("Unanswered messages", str(missed.total), f"of {found.volume.messages} messages"),
        ("  still waiting (bot down)", str(missed.waiting), ""),
        ("  language not supported", str(missed.unsupported), ""),
        ("  not understood", str(missed.not_understood), ""),
        ("Volume: messages / sessions", f"{found.volume.messages} / {found.volume.sessions}", ""),
    ]
    volume = found.volume
    for language, count in volume.by_language.items():
        rows.append((f"  language {language}", str(count), "messages"))
    for channel, count in volume.by_channel.items():
        rows.append((f"  channel {channel}", str(count), "messages"))
    return rows


def table(found: Figures) -> str:
    """The figures as aligned text lines, with the counts they are made of."""
    lines = [f"Tolk report: {found.query.describe()}", ""]
    lines += [f"{name:<{_WIDTH}} {v:>14}   {basis}".rstrip() for name, v, basis in rows(found)]
    volume = found.volume
    busy = {hour: n for hour, n in volume.by_hour.items() if n}
    if busy:
        lines.append("  by hour (UTC): " + ", ".join(f"{h:02d}h {n}" for h, n in busy.items()))
    if found.nps_reasons:
        lines += ["", "NPS reasons (in English where translated):"]
        lines += [f"  {score:>2}  {reason}" for score, reason in found.nps_reasons]
    return "\n".join(lines)


def write_charts(found: Figures, directory: Path) -> list[Path]:
    """The PNG charts; the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CHART_FILES:
        path = directory / name
        path.write_bytes(chart_png(found, name))
        written.append(path)
    return written


def load_charting() -> None:
    """Import matplotlib (a second or two): at start, so that no dashboard request pays it,
    and the import's hold on the GIL stalls no customer (bot/app.py)."""
    from matplotlib import figure  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401


def chart_png(found: Figures, name: str) -> bytes:
    """One chart (a name of CHART_FILES) as PNG, drawn off-screen by matplotlib's object
    API: no pyplot, no global state, so that the console's dashboard may draw in threads."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    draw = _CHARTS[name]
    figure = Figure(figsize=(9, 3.5))
    FigureCanvasAgg(figure)
    draw(found, figure)
    figure.suptitle(found.query.describe(), fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100)
    return out.getvalue()


def _volume_by_hour(found: Figures, figure) -> None:
    volume = found.volume
    axes = figure.subplots()
    axes.bar(list(volume.by_hour), list(volume.by_hour.values()), color="#4C72B0")
    axes.set(title="Customer messages by hour (UTC)", xlabel="hour", ylabel="messages")
    axes.set_xticks(range(0, 24, 2))


def _volume_by_language_channel(found: Figures, figure) -> None:
    volume = found.volume
    by_language, by_channel = figure.subplots(1, 2)
    by_language.bar(list(volume.by_language), list(volume.by_language.values()), color="#55A868")
    by_language.set(title="Messages by language", ylabel="messages")
    by_channel.bar(list(volume.by_channel), list(volume.by_channel.values()), color="#C44E52")
    by_channel.set(title="Messages by channel")


def _rates(found: Figures, figure) -> None:
    rates = {
        "first-contact\nresolution": found.first_contact_resolution.percent,
        "containment": found.containment.percent,
        "handoff": found.handoff_rate["all"].percent,
        "SLA breached": found.sla_breaches["all"].percent,
    }
    axes = figure.subplots()
    axes.bar(list(rates), [value or 0 for value in rates.values()], color="#8172B2")
    axes.set(title="Rates", ylabel="%", ylim=(0, 100))


def _surveys(found: Figures, figure) -> None:
    csat, nps, ces = figure.subplots(1, 3)
    csat.bar(["CSAT % 4-5"], [found.csat.headline or 0], color="#4C72B0")
    csat.set(ylim=(0, 100), title=f"CSAT (n={found.csat.answered})")
    nps.bar(["NPS"], [found.nps.headline or 0], color="#DD8452")
    nps.set(ylim=(-100, 100), title=f"NPS (n={found.nps.answered})")
    nps.axhline(0, color="black", linewidth=0.8)
    ces.bar(["CES mean"], [found.ces.headline or 0], color="#55A868")
    ces.set(ylim=(0, 7), title=f"CES (n={found.ces.answered})")


_CHARTS = dict(
    zip(CHART_FILES, (_volume_by_hour, _volume_by_language_channel, _rates, _surveys), strict=True)
)


def run_report(
    settings: Settings,
    period: str,
    language: str | None = None,
    channel: str | None = None,
    charts: Path | None = None,
    now: datetime | None = None,
) -> int:
    now = now or utcnow()
    try:
        start, end = since(period, now)
        query = Query(start, end, language=language or None, channel=channel or None)
    except QueryError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2

    async def work() -> Figures:
        async with database(settings.database_url) as engine:
            return await figures(engine, query, settings.session_minutes, now)

    found = asyncio.run(work())
    print(table(found))
    if charts is not None:
        written = write_charts(found, charts)
        print("")
        print("charts: " + ", ".join(str(path) for path in written))
    return 0
