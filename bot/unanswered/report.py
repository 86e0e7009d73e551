"""`python -m bot report unanswered --since 7d [--language fa] [--channel web] [--limit N]`:
what the bot did not understand, as tables a content editor reads, one per language."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from bot.db import database, utcnow
from bot.metrics.query import Query, QueryError, since
from bot.settings import Settings
from bot.unanswered.grouping import Group, group, shown
from bot.unanswered.items import LOW_CONFIDENCE, MAX_ITEMS, Found, load_unanswered
from tolk_core.language_names import NAMES

# Groups shown per language unless --limit says otherwise.
DEFAULT_LIMIT = 20
_INTENT_WIDTH = 30
_HEADER = (
    f"{'count':>7}  {'not understood':>14}  {'unsure':>6}  {'to a person':>11}  "
    f"{'intent guessed':<{_INTENT_WIDTH}}  "
)
_LEGEND = (
    "not understood: the bot asked to rephrase. unsure: it answered, with a confidence\n"
    "below {threshold:g}. to a person: the customer was handed to an agent right after a\n"
    "fallback. Each group is one wording and those similar to it; the text shown is the\n"
    "wording written most often."
)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _language_name(code: str) -> str:
    if code == "?":
        return "Language unknown"
    english = NAMES.get(code, (code,))[0]
    return f"{english} ({code})" if english != code else code


def _row(found: Group) -> list[str]:
    whys = found.whys
    intents = found.intents
    intent = intents[0][0][:_INTENT_WIDTH] if intents else "-"
    if len(intents) > 1:
        intent = f"{intent[: _INTENT_WIDTH - 11]} (+{min(len(intents) - 1, 99)} other)"
    first = found.representative
    lines = [
        f"{found.count:>7}  {whys['fallback']:>14}  {whys['low_confidence']:>6}  "
        f"{whys['handoff_after_fallback']:>11}  {intent:<{_INTENT_WIDTH}}  {shown(first.text)}"
    ]
    indent = " " * len(_HEADER)
    if first.pivot_text:
        lines.append(f"{indent}(in English: {shown(first.pivot_text)})")
    for example in found.examples[1:]:
        lines.append(f"{indent}also: {shown(example.text)}")
    return lines


def text_report(found: Found, groups: list[Group], limit: int = DEFAULT_LIMIT) -> str:
    """The tables: per language, groups by count, with the counts of each kind."""
    lines = [f"What the bot did not understand: {found.query.describe()}", ""]
    if not found.items:
        lines.append("Nothing unanswered in this period.")
        return "\n".join(lines)
    total = Group("*", found.items, [""] * len(found.items)).whys
    lines += [
        f"{_plural(len(found.items), 'message')} in {_plural(len(groups), 'group')}: "
        f"{total['fallback']} not understood, {total['low_confidence']} unsure, "
        f"{total['handoff_after_fallback']} to a person.",
        _LEGEND.format(threshold=LOW_CONFIDENCE),
    ]
    if found.truncated:
        lines.append(
            f"Only the newest {MAX_ITEMS:,} such messages were read; there were more.\n"
            "Ask for a shorter period (--since) or one --language to see the rest."
        )
    for language in sorted({g.language for g in groups}):
        mine = [g for g in groups if g.language == language]
        count = sum(g.count for g in mine)
        lines += [
            "",
            f"{_language_name(language)}: {_plural(count, 'message')} in "
            f"{_plural(len(mine), 'group')}",
            _HEADER + "what customers wrote",
        ]
        for found_group in mine[:limit]:
            lines += _row(found_group)
        if len(mine) > limit:
            rest = mine[limit:]
            lines.append(
                f"{'':>7}  ... and {_plural(len(rest), 'more group')} "
                f"({_plural(sum(g.count for g in rest), 'message')}); "
                f"--limit {len(mine)} shows them all"
            )
    lines += [
        "",
        "To teach the bot a wording: add it as an example of its intent in data/nlu/, or",
        "propose it from the agent console's Not understood panel (a draft in the review",
        "file, TOLK_NLU_DRAFTS); then run `python -m bot content check`.",
    ]
    return "\n".join(lines)


def run_unanswered(
    settings: Settings,
    period: str,
    language: str | None = None,
    channel: str | None = None,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> int:
    now = now or utcnow()
    if limit < 1:
        print("report unanswered: --limit must be 1 or more (groups per language)", file=sys.stderr)
        return 2
    try:
        start, end = since(period, now)
        query = Query(start, end, language=language or None, channel=channel or None)
    except QueryError as error:
        print(f"report unanswered: {error}", file=sys.stderr)
        return 2

    async def work() -> Found:
        async with database(settings.database_url) as engine:
            return await load_unanswered(engine, query, settings.session_minutes)

    found = asyncio.run(work())
    print(text_report(found, group(found.items), limit))
    return 0
