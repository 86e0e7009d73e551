"""Calls to Meta's Graph API (send a message, upload or look up a media file), with plain
aiohttp.

A 429 or a 5xx is tried again, a bounded number of times, waiting what `Retry-After` asks
(at most `max_wait` seconds a time) or a doubling pause; anything else, or the last try,
raises `GraphError` with Meta's own explanation, for the caller to record. The token goes
in the Authorization header, never in a URL that a log might keep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from bot.errors import UpstreamFailed

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=20)


class GraphError(UpstreamFailed):
    """Meta refused or could not be reached; `status` 0 when no answer came."""

    def __init__(self, message: str, *, status: int = 0, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_pause: float = 0.5
    max_wait: float = 30.0


class GraphClient:
    def __init__(
        self, base_url: str, version: str, token: str, retry: RetryPolicy | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._token = token
        self.retry = retry or RetryPolicy()
        self._session: aiohttp.ClientSession | None = None

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=TIMEOUT, headers={"Authorization": f"Bearer {self._token}"}
            )
        return self._session

    async def post(self, path: str, body: dict) -> dict:
        return await self._call("POST", self.url(path), body)

    async def upload(
        self,
        path: str,
        fields: dict[str, str],
        name: str,
        content: bytes,
        content_type: str,
        file_field: str = "file",
    ) -> dict:
        """A multipart POST with one file (WhatsApp's media upload, Messenger's attachment
        upload: `filedata`), retried like `post`."""

        def form() -> aiohttp.FormData:  # a FormData is spent once sent: one per try
            # Names as browsers send them (not percent-encoded); bot/attachments.py has
            # taken quotes and control characters out already.
            data = aiohttp.FormData(quote_fields=False)
            for key, value in fields.items():
                data.add_field(key, value)
            data.add_field(file_field, content, filename=name, content_type=content_type)
            return data

        return await self._call("POST", self.url(path), None, form=form)

    async def get(self, path: str) -> dict:
        return await self._call("GET", self.url(path), None)

    async def download(self, url: str) -> tuple[bytes, str]:
        """A media file from the URL the Graph API gave (same token), with its type."""
        try:
            async with self._client().get(url) as response:
                if response.status != 200:
                    raise GraphError(
                        f"the media download answered {response.status}", status=response.status
                    )
                return await response.read(), response.content_type
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise GraphError(f"the media download failed: {error}") from None

    async def _call(
        self,
        method: str,
        url: str,
        body: dict | None,
        form: Callable[[], aiohttp.FormData] | None = None,
    ) -> dict:
        pause = self.retry.first_pause
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            sending = {"data": form()} if form is not None else {"json": body}
            try:
                async with self._client().request(method, url, **sending) as response:
                    answer = await _json(response)
                    if response.status < 400:
                        return answer
                    error = _error(response.status, answer)
                    if not _worth_retrying(response.status) or last:
                        raise error
                    wait = _retry_after(response.headers.get("Retry-After"), pause)
            except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
                if last:
                    raise GraphError(f"the Graph API could not be reached: {failure}") from None
                wait = pause
            wait = min(wait, self.retry.max_wait)
            log.warning("Graph API call failed (try %d); again in %.1f s", attempt, wait)
            await asyncio.sleep(wait)
            pause *= 2
        raise AssertionError("unreachable")  # the loop returns or raises


def _worth_retrying(status: int) -> bool:
    return status == 429 or status >= 500


def _retry_after(header: str | None, default: float) -> float:
    try:
        return max(float(header), 0.0) if header is not None else default
    except ValueError:
        return default  # an HTTP date: rare from Meta; the backoff is as good


async def _json(response: aiohttp.ClientResponse) -> dict:
    try:
        answer = await response.json(content_type=None)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _error(status: int, answer: dict) -> GraphError:
    detail = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    code = detail.get("code") if isinstance(detail.get("code"), int) else None
    message = str(detail.get("message") or f"HTTP {status}")[:300]
    return GraphError(f"Meta refused the message: {message}", status=status, code=code)
