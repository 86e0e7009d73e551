"""Facts about the project both sides agree on: where it lives and its languages."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The languages the NLU is trained on (TOLK_LANGUAGES may name fewer, never others).
NATIVE_LANGUAGES = ("en", "nl", "he", "fa", "vi")
# What other languages are translated to and from.
PIVOT_LANGUAGE = "en"

# The two environments (Makefile): the gateway's (Python 3.12+) and Rasa's (Python 3.10).
GATEWAY_BIN = PROJECT_ROOT / ".venv" / "bin"
RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin"
