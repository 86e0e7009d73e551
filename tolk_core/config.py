"""Reading environment variables the same way in every process: one error type whose
message names the variable, and the parsers both settings classes use."""

from __future__ import annotations

import re
from collections.abc import Mapping


class SettingsError(ValueError):
    """A configuration value that cannot work; the message names the variable."""


def value(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """The variable, stripped; unset and blank both mean the default."""
    found = env.get(name, "").strip()
    return found or default


def positive(name: str, raw: str | None, default, kind: type):
    """A positive int or float, or the default when unset."""
    if raw is None:
        return default
    try:
        number = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if number <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return number


def http_url(name: str, raw: str | None) -> str | None:
    """An http(s) base address without its trailing slash, or None when unset."""
    url = (raw or "").rstrip("/") or None
    if url and not re.match(r"https?://[^/\s]+", url):
        raise SettingsError(f"{name} must be an http:// or https:// address, got {url!r}")
    return url
