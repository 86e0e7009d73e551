"""`python -m bot version`: the interpreter and key library versions of the gateway, and
of Rasa's environment beside it (read from its interpreter, never imported here)."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata

from tolk_core.project import RASA_BIN

GATEWAY_LIBRARIES = (
    "aiohttp",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "python-telegram-bot",
    "deep-translator",
    "lingua-language-detector",
    "spacy",
    "pyyaml",
)
RASA_LIBRARIES = ("rasa", "rasa-sdk", "sqlalchemy", "aiohttp", "scikit-learn", "tensorflow")
# Run by Rasa's interpreter: prints "name version" per library it has.
_RASA_PROBE = """
import sys, platform
from importlib import metadata
print("python", platform.python_version())
for name in sys.argv[1:]:
    try:
        print(name, metadata.version(name))
    except metadata.PackageNotFoundError:
        print(name, "not installed")
"""


def installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def gateway_versions() -> list[tuple[str, str]]:
    return [("python", platform.python_version()), *((n, installed(n)) for n in GATEWAY_LIBRARIES)]


def rasa_versions() -> list[tuple[str, str]] | None:
    """Rasa's environment's versions, or None when it is not set up."""
    python = RASA_BIN / "python"
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", _RASA_PROBE, *RASA_LIBRARIES],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        return None
    return [tuple(line.split(" ", 1)) for line in done.stdout.splitlines() if " " in line]


def run() -> int:
    print(f"gateway ({sys.executable})")
    for name, version in gateway_versions():
        print(f"  {name:<26} {version}")
    rasa = rasa_versions()
    print(f"rasa, action server, NLU components ({RASA_BIN / 'python'})")
    if rasa is None:
        print("  not set up (make install)")
    for name, version in rasa or []:
        print(f"  {name:<26} {version}")
    return 0
