"""Secrets between our own processes: bot → Rasa, Rasa → action server, Rasa → /nlg,
operator → bot.

Each one is taken from the environment when set, else from `var/secrets/<name>` (mode
0600), which is generated on first use: `make run` needs nothing, and every process of
one checkout (the stack launcher, `python -m bot ...`, the action server) finds the same
value. Standard library only: the stack launcher and the action server import it too.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

# The bot sends this one to Rasa's REST channel (credentials.yml, rasa_channels/gateway.py).
RASA_SECRET = "TOLK_RASA_SECRET"
# Rasa sends this one to the action server (endpoints.yml `action_endpoint.headers`).
ACTIONS_SECRET = "TOLK_ACTIONS_SECRET"
# Rasa sends this one to the bot's /nlg (endpoints.yml `nlg.headers`).
NLG_SECRET = "TOLK_NLG_SECRET"
# Operators send this one: `content reload`, the details of /healthz and /readyz.
ADMIN_TOKEN = "TOLK_ADMIN_TOKEN"
VARIABLES = (RASA_SECRET, ACTIONS_SECRET, NLG_SECRET, ADMIN_TOKEN)

# Sent in an HTTP header and expanded into endpoints.yml by Rasa: no spaces, no `$`.
_SHAPE = re.compile(r"[A-Za-z0-9._~+/=-]{16,512}")


class SecretError(ValueError):
    """A secret that cannot be used; the message names the variable or the file."""


def resolve(env: Mapping[str, str], directory: Path) -> dict[str, str]:
    """Every internal secret by variable name: the environment's, else the stored one."""
    return {name: _one(name, env.get(name, "").strip(), directory) for name in VARIABLES}


def bearer_matches(header: str | None, secret: str | None) -> bool:
    """Whether an Authorization header carries `secret`, compared in constant time."""
    if not secret or not header:
        return False
    return secrets.compare_digest(header.encode(), f"Bearer {secret}".encode())


def _one(name: str, given: str, directory: Path) -> str:
    if given:
        if not _SHAPE.fullmatch(given):
            raise SecretError(
                f"{name} must be 16-512 characters of A-Z a-z 0-9 . _ ~ + / = - "
                "(it is sent in an HTTP header)"
            )
        return given
    return _stored(directory / name.removeprefix("TOLK_").lower())


def _stored(path: Path) -> str:
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Another user could read it and talk to our processes as Rasa does.
        raise SecretError(f"{path} is readable by other users: chmod 600 {path}")
    value = path.read_text(encoding="utf-8").strip()
    if not _SHAPE.fullmatch(value):
        raise SecretError(f"{path} does not hold a usable secret: delete it to get a new one")
    return value


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    # Written whole under a temporary name, then linked into place: two processes starting
    # at once both end up with the one that was linked first, never with half a file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
