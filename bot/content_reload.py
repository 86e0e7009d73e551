"""Edited answers go live without retraining or a restart.

Rasa asks the bot's /nlg for every answer, and /nlg renders from the catalogue in
`locales/`. The service watches those files (their modification times, every
`content_poll_seconds`) and swaps in a freshly loaded catalogue when one changed;
`POST /api/v1/content/reload` (what `python -m bot content reload` calls) does it at once;
it needs `Authorization: Bearer <TOLK_ADMIN_TOKEN>` (var/secrets/admin_token by default).
A file that does not load (bad YAML, an answer without text) changes nothing: the previous
answers stay in service and the error, which names the file, is logged or returned.

The swap is one attribute assignment on the Renderer, of a catalogue loaded completely
beforehand: a request sees the old answers or the new ones, never a mix.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from bot.appkeys import SETTINGS
from bot.catalogue import Catalogue, CatalogueError
from bot.errors import Rejected
from bot.http_errors import json_error
from bot.render import Renderer
from tolk_core.internal_secrets import bearer_matches

log = logging.getLogger(__name__)

# (file name, modification time in ns, size) of every locale file
Signature = tuple[tuple[str, int, int], ...]


class ContentWatcher:
    def __init__(self, directory: Path, renderer: Renderer) -> None:
        self.directory = directory
        self.renderer = renderer
        self._seen = self.signature()
        self._lock = asyncio.Lock()

    def signature(self) -> Signature:
        files = []
        for path in sorted(self.directory.glob("*.yml")):
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed (or being replaced) right now
                continue
            files.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(files)

    async def reload(self) -> Catalogue:
        """Load `locales/` now and serve it; CatalogueError leaves the old answers in place."""
        async with self._lock:
            signature = self.signature()
            try:
                catalogue = await asyncio.to_thread(
                    Catalogue.load, self.directory, self.renderer.catalogue.fallback
                )
            except CatalogueError as error:
                # Named as editors know it (locales/nl.yml), not by the server's full path.
                raise CatalogueError(str(error).replace(f"{self.directory.parent}/", "")) from None
            except (UnicodeDecodeError, OSError) as error:
                raise CatalogueError(self._unreadable(error)) from None
            finally:
                # A failed load is not retried until a file changes again.
                self._seen = signature
            self.renderer.catalogue = catalogue
        log.info(
            "answers reloaded from %s: %d answers in %s",
            self.directory,
            len(answer_names(catalogue)),
            ", ".join(catalogue.languages),
        )
        return catalogue

    def _unreadable(self, error: Exception) -> str:
        for path in sorted(self.directory.glob("*.yml")):
            try:
                path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                return f"{self.directory.name}/{path.name}: cannot be read as UTF-8 text: {error}"
        return f"{self.directory.name}/: {error}"

    async def poll(self) -> bool:
        """Reload if a locale file changed since the last look; True when new answers serve."""
        if self.signature() == self._seen:
            return False
        try:
            await self.reload()
        except CatalogueError as error:
            log.error("answers not reloaded, the previous ones stay in service: %s", error)
            return False
        return True

    async def watch(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.poll()
            except Exception:  # the next round tries again; the service keeps serving
                log.exception("watching %s failed", self.directory)


CONTENT_WATCHER: web.AppKey[ContentWatcher] = web.AppKey("content_watcher", ContentWatcher)


def answer_names(catalogue: Catalogue) -> set[str]:
    return {key for answers in catalogue.entries.values() for key in answers}


async def reload_content(request: web.Request) -> web.Response:
    """POST /api/v1/content/reload → {"answers": n, "languages": [...]}, 422 if broken."""
    if not bearer_matches(request.headers.get("Authorization"), request.app[SETTINGS].admin_token):
        return json_error(401, "content reload needs Authorization: Bearer <TOLK_ADMIN_TOKEN>")
    watcher = request.app[CONTENT_WATCHER]
    try:
        catalogue = await watcher.reload()
    except CatalogueError as error:
        log.error("answers not reloaded, the previous ones stay in service: %s", error)
        raise Rejected(f"{error} (the previous answers stay in service)") from None  # 422
    return web.json_response(
        {"answers": len(answer_names(catalogue)), "languages": catalogue.languages}
    )
