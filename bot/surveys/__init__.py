"""Surveys: CSAT, CES and NPS questions, asked in the customer's language, at most one per
session, skippable, on every channel. `Surveys` (service.py) is what the gateway and the
handoff call; the state is the `surveys` table (store.py); answers are read by parsing.py.
See README "Surveys".
"""

from __future__ import annotations

from bot.surveys import ces, csat, nps
from bot.surveys.kinds import SurveyKind

KINDS: dict[str, SurveyKind] = {kind.name: kind for kind in (csat.KIND, ces.KIND, nps.KIND)}
