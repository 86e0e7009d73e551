"""Our own HTML pages with a strict Content-Security-Policy: the browser runs exactly the
page's inline script and style (by hash) and talks to this origin only, so text that a
customer or agent wrote can never become script, and no other site can frame the page."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from pathlib import Path

_INLINE = {
    "script": re.compile(rb"<script>(.*?)</script>", re.DOTALL),
    "style": re.compile(rb"<style>(.*?)</style>", re.DOTALL),
}
# Sent with every page: no MIME sniffing, no framing (old browsers), no referrer leaks.
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def inline_hashes(body: bytes, tag: str) -> str:
    """The CSP source list allowing the page's inline <tag> blocks, or 'none'."""
    hashes = [
        f"'sha256-{base64.b64encode(hashlib.sha256(block).digest()).decode()}'"
        for block in _INLINE[tag].findall(body)
    ]
    return " ".join(hashes) or "'none'"


def strict_policy(body: bytes) -> str:
    return (
        "default-src 'none'; "
        f"script-src {inline_hashes(body, 'script')}; "
        f"style-src {inline_hashes(body, 'style')}; "
        "connect-src 'self'; "
        "img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class CachedPage:
    """A page read once and again only when the file changed, with its policy."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._cached: tuple[int, bytes, str] | None = None

    async def get(self) -> tuple[bytes, str]:
        stat = await asyncio.to_thread(self._path.stat)
        if self._cached is None or self._cached[0] != stat.st_mtime_ns:
            body = await asyncio.to_thread(self._path.read_bytes)
            self._cached = (stat.st_mtime_ns, body, strict_policy(body))
        return self._cached[1], self._cached[2]
