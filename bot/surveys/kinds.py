"""What a survey kind is; each kind is one module (csat.py, ces.py, nps.py) listed in KINDS.

A new survey is one module defining a `SurveyKind` and a line in `bot/surveys/__init__.py`'s
`KINDS`, plus its questions in every `locales/*.yml` (`python -m bot content check`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SurveyKind:
    # Stored in surveys.kind and used in button payloads ("/csat 4").
    name: str
    low: int
    high: int
    # Catalogue keys: the question (with a button per score and a skip button) and the
    # thanks once answered.
    ask: str
    thanks: str
    # A catalogue key asked after the score ("why?"), whose free-text answer is stored.
    follow_up: str | None = None
