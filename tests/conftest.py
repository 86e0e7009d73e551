"""What every test run shares, in either environment (Makefile): the figures the tests
report at the end, and which tests belong to the environment pytest runs in.

The gateway's tests (bot/, Python 3.12+) and Rasa's (actions/, nlu_components/, Rasa
itself, Python 3.10) live side by side; each environment collects its own, so that
`pytest` alone never fails on an import the other environment has.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPORTS: list[str] = []

RASA_ENVIRONMENT = importlib.util.find_spec("rasa") is not None
# Tests of Rasa's side, relative to tests/; everything else is the gateway's, but for the
# shared core (tolk_core/), tested in both.
_RASA_SIDE = (
    "actions",
    "nlu_components",
    "rasa_channels",
    "nlu",
    "handoff",
    "dialogue",
    "scripts/test_actions_server.py",
)
_BOTH = ("tolk_core", "bounded.py")
_TESTS = Path(__file__).parent


def _side(path: Path) -> str:
    relative = path.relative_to(_TESTS).as_posix()
    if relative.startswith(_BOTH):
        return "both"
    return "rasa" if relative.startswith(_RASA_SIDE) else "gateway"


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    if collection_path == _TESTS or _TESTS not in collection_path.parents:
        return None
    side = _side(collection_path)
    if side == "both":
        return None
    # A directory that holds both sides (tests/scripts) is entered; its files decide.
    if collection_path.is_dir() and any(
        _side(child) != side for child in collection_path.rglob("*.py")
    ):
        return None
    return (side == "rasa") != RASA_ENVIRONMENT or None


if not RASA_ENVIRONMENT:
    from tests.gateway_fixtures import client, engine, fake_rasa, rasa_url, settings  # noqa: F401


def pytest_terminal_summary(terminalreporter) -> None:
    """Figures measured by tests (NLU accuracy) are shown even when the tests pass."""
    for report in REPORTS:
        terminalreporter.write_sep("-", "measured")
        terminalreporter.write_line(report)
