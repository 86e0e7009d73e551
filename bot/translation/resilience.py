"""What makes a blocking translation backend safe to call from the event loop.

Each backend call runs in its own thread under a deadline, is retried with exponential
backoff while the failure is worth retrying, and goes through a circuit breaker so that a
dead service costs nothing after a few failures. Long texts are cut into pieces the service
accepts and put back together; answers are checked before anyone uses them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from bot.translation.backends import (
    Backend,
    TranslatorError,
    TranslatorRejected,
    TranslatorUnavailable,
)

if TYPE_CHECKING:
    from bot.telemetry import Telemetry

log = logging.getLogger(__name__)

# How many backend calls of one translate() run at once: enough to hide latency for a long
# text cut into pieces, few enough not to trip free services' rate limits.
_PARALLEL_CALLS = 4

# Sentence ends: after . ! ? ؟ । ۔ only when whitespace follows (so "3.5" and "example.com"
# stay whole), after CJK 。！？ always (no space follows them), and at every line break.
# A break takes the whole run of whitespace around a line break, so it is only looked for
# where such a run starts: from inside a long run of spaces the search was quadratic.
_SENTENCE_BREAK = re.compile(r"((?<=[.!?؟।۔])\s+|(?<=[。！？])\s*|(?<!\s)\s*\n\s*)")
_WHITESPACE = re.compile(r"(\s+)")

_T = TypeVar("_T")


class ResilientTranslator:
    """A Backend made safe for the event loop: deadline, retries, circuit breaker, chunks."""

    def __init__(
        self,
        backend: Backend,
        *,
        timeout: float = 8.0,
        retries: int = 2,
        backoff: float = 0.5,
        breaker_failures: int = 5,
        breaker_reset: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.backend = backend
        self._telemetry = telemetry
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff
        self._breaker_failures = breaker_failures
        self._breaker_reset = breaker_reset
        self._clock = clock
        self._sleep = sleep
        self._failures = 0  # consecutive failed backend calls
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        """Circuit state: "closed" (calls go through), "open" (refused at once), or
        "half-open" (the reset time has passed; one trial call goes through)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._breaker_reset:
            return "half-open"
        return "open"

    async def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """One translation per text, in order; blank texts come back as they are.

        Raises TranslatorUnavailable (the service failed, the circuit is open) or
        TranslatorRejected (it refused: language, key, request).
        """
        if source.strip().lower() == target.strip().lower():
            return list(texts)
        limit = self.backend.info.max_chars
        pieces = [_pieces(text, limit) for text in texts]
        cores = [piece for text_pieces in pieces for piece in text_pieces if piece.core]
        if not cores:
            return list(texts)
        sent = [piece.core for piece in cores]
        groups = _batches(sent, limit) if self.backend.info.batch else [[text] for text in sent]
        semaphore = asyncio.Semaphore(_PARALLEL_CALLS)

        async def call(group: list[str]) -> list[str]:
            async with semaphore:
                return await self._call(group, source, target)

        results = await _gather_or_cancel([call(group) for group in groups])
        translations = [translated for result in results for translated in result]
        for piece, translated in zip(cores, translations, strict=True):
            piece.translated = translated.strip()
        return ["".join(piece.joined() for piece in text_pieces) for text_pieces in pieces]

    async def _call(self, texts: list[str], source: str, target: str) -> list[str]:
        """One backend call through the circuit breaker, retried while worth it."""
        name = self.backend.info.name
        delay = self._backoff
        for attempt in range(1, self._retries + 2):
            trial = self._enter()
            try:
                result = await self._attempt(texts, source, target)
            except TranslatorRejected as error:
                # It answered, so it is up: a refusal does not count against the circuit.
                self._record_answer()
                log.warning("translator %s refused %s->%s: %s", name, source, target, error)
                raise
            except TranslatorUnavailable as error:
                self._record_failure(trial)
                log.warning(
                    "translator %s failed %s->%s (attempt %d of %d, %d texts, %d chars): %s",
                    name,
                    source,
                    target,
                    attempt,
                    self._retries + 1,
                    len(texts),
                    sum(map(len, texts)),
                    error,
                )
                if attempt > self._retries or self._opened_at is not None:
                    raise
                await self._sleep(delay)
                delay *= 2
            else:
                self._record_answer()
                return result
            finally:
                if trial:
                    self._trial_running = False
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _attempt(self, texts: list[str], source: str, target: str) -> list[str]:
        start = time.perf_counter()
        outcome = "unavailable"
        try:
            result = await self._timed_attempt(texts, source, target)
            outcome = "ok"
            return result
        except TranslatorRejected:
            outcome = "rejected"
            raise
        finally:
            if self._telemetry is not None:
                seconds = time.perf_counter() - start
                self._telemetry.translator_call(self.backend.info.name, outcome, seconds)

    async def _timed_attempt(self, texts: list[str], source: str, target: str) -> list[str]:
        try:
            result = await asyncio.wait_for(
                _in_daemon_thread(self.backend.translate, texts, source, target), self._timeout
            )
        except asyncio.TimeoutError:
            raise TranslatorUnavailable(f"translator timed out after {self._timeout:g} s") from None
        except TranslatorError:
            raise
        except Exception as error:
            # A backend is meant to map everything; if it did not, its message may hold text.
            raise TranslatorUnavailable(
                f"translator failed unexpectedly ({type(error).__name__})"
            ) from None
        _check_answer(texts, result)
        return result

    # --- circuit breaker ---------------------------------------------------------------------

    def _enter(self) -> bool:
        """Whether this call is the half-open trial; raises when the circuit refuses it."""
        state = self.state
        if state == "open" or (state == "half-open" and self._trial_running):
            raise TranslatorUnavailable("translator circuit open")
        if state == "half-open":
            self._trial_running = True
            return True
        return False

    def _record_answer(self) -> None:
        if self._opened_at is not None:
            log.info("translator %s circuit closed", self.backend.info.name)
        self._failures = 0
        self._opened_at = None

    def _record_failure(self, trial: bool) -> None:
        self._failures += 1
        if trial or self._failures >= self._breaker_failures:
            if self._opened_at is None or trial:
                log.error(
                    "translator %s circuit open for %g s after %d consecutive failures",
                    self.backend.info.name,
                    self._breaker_reset,
                    self._failures,
                )
            self._opened_at = self._clock()


def _check_answer(texts: list[str], result: object) -> None:
    if not isinstance(result, list) or len(result) != len(texts):
        raise TranslatorUnavailable("translator answer garbled (not one translation per text)")
    for text, translated in zip(texts, result, strict=True):
        if not isinstance(translated, str):
            raise TranslatorUnavailable("translator answer garbled (not text)")
        if text.strip() and not translated.strip():
            raise TranslatorUnavailable("translator answer garbled (empty translation)")


async def _in_daemon_thread(function: Callable[..., _T], *args: object) -> _T:
    """`function(*args)` in a new daemon thread.

    Not asyncio.to_thread: deep-translator's requests have no timeout, and a hung request in
    the default executor would hold a worker and block the interpreter's (and asyncio.run's)
    exit. A daemon thread is abandoned at the deadline and at exit.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def settle(result: object, error: BaseException | None) -> None:
        if future.done():  # the deadline passed and the caller moved on
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def run() -> None:
        result: object = None
        error: BaseException | None = None
        try:
            result = function(*args)
        except StopIteration:  # cannot be set on a Future
            error = RuntimeError("backend raised StopIteration")
        except BaseException as raised:
            error = raised
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop closed while the call hung
            pass

    threading.Thread(target=run, name="translator-call", daemon=True).start()
    return await future


async def _gather_or_cancel(calls: list[Awaitable[_T]]) -> list[_T]:
    """Like gather, but the first error cancels the calls still running."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


# --- chunking --------------------------------------------------------------------------------


@dataclass
class _Piece:
    """A part of a text: what is sent (core) and the whitespace kept around it."""

    lead: str
    core: str
    trail: str
    translated: str = ""

    def joined(self) -> str:
        return self.lead + (self.translated if self.core else "") + self.trail


def _pieces(text: str, limit: int) -> list[_Piece]:
    pieces = []
    for chunk, separator in _split(text, limit):
        core = chunk.strip()
        if not core:
            pieces.append(_Piece(chunk + separator, "", ""))
            continue
        start = len(chunk) - len(chunk.lstrip())
        pieces.append(_Piece(chunk[:start], core, chunk[start + len(core) :] + separator))
    return pieces


def _split(text: str, limit: int, level: int = 0) -> list[tuple[str, str]]:
    """(chunk, separator) pairs with every chunk at most `limit` long and
    ``"".join(chunk + separator ...) == text``: cut at sentence ends, then at whitespace,
    then anywhere; neighbours are joined again as long as they fit."""
    if len(text) <= limit:
        return [(text, "")]
    if level == 2:
        return [(text[start : start + limit], "") for start in range(0, len(text), limit)]
    parts = (_SENTENCE_BREAK if level == 0 else _WHITESPACE).split(text)
    pairs: list[tuple[str, str]] = []
    for index in range(0, len(parts), 2):
        part = parts[index]
        separator = parts[index + 1] if index + 1 < len(parts) else ""
        if len(part) <= limit:
            pairs.append((part, separator))
            continue
        smaller = _split(part, limit, level + 1)
        last, last_separator = smaller[-1]
        pairs.extend(smaller[:-1])
        pairs.append((last, last_separator + separator))
    return _merge(pairs, limit)


def _merge(pairs: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for chunk, separator in pairs:
        if merged and len(merged[-1][0]) + len(merged[-1][1]) + len(chunk) <= limit:
            previous, previous_separator = merged[-1]
            merged[-1] = (previous + previous_separator + chunk, separator)
        else:
            merged.append((chunk, separator))
    return merged


def _batches(texts: list[str], limit: int) -> list[list[str]]:
    """Consecutive texts grouped so that each group's total length stays within `limit`
    (LibreTranslate counts a batch's characters together)."""
    groups: list[list[str]] = []
    size = 0
    for text in texts:
        if groups and size + len(text) <= limit:
            groups[-1].append(text)
            size += len(text)
        else:
            groups.append([text])
            size = len(text)
    return groups
