"""ResilientTranslator: deadlines, retries, circuit breaker, chunking, answer checks.

Small fake backends stand in for the services, and a fake clock and sleep stand in for time,
except where the deadline itself is tested. The last tests go through the real libre backend
and the fake LibreTranslate server.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from bot.translation.backends import (
    BackendInfo,
    TranslatorRejected,
    TranslatorUnavailable,
    create_backend,
)
from bot.translation.resilience import ResilientTranslator
from tests.translation_server import FakeLibreTranslate, serve


def marked(texts: list[str]) -> list[str]:
    return [f"⟪{text}⟫" for text in texts]


class FakeBackend:
    """Answers with `answer(texts)` after raising the queued `errors`, one per call."""

    def __init__(self, *, max_chars=5000, batch=False, errors=(), answer=marked) -> None:
        self.info = BackendInfo("fake", max_chars=max_chars, batch=batch)
        self.calls: list[list[str]] = []
        self.errors = list(errors)
        self.answer = answer

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.calls.append(list(texts))
        if self.errors:
            raise self.errors.pop(0)
        return self.answer(texts)

    def supports(self, language: str) -> bool:
        return True

    @property
    def sent(self) -> list[str]:
        return [text for call in self.calls for text in call]


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make(clock):
    def make(backend, **options) -> ResilientTranslator:
        options = {"timeout": 0.5, "clock": clock.clock, "sleep": clock.sleep, **options}
        return ResilientTranslator(backend, **options)

    return make


def unavailable(n: int) -> list[Exception]:
    return [TranslatorUnavailable("fake: server error (HTTP 503)") for _ in range(n)]


# --- deadline ---------------------------------------------------------------------------------


async def test_a_hanging_backend_times_out_near_the_deadline(make):
    release = threading.Event()
    backend = FakeBackend(answer=lambda texts: release.wait(5) and texts)
    translator = make(backend, timeout=0.2, retries=0)
    started = time.monotonic()
    try:
        with pytest.raises(TranslatorUnavailable, match=r"timed out after 0\.2 s"):
            await translator.translate(["Hola"], "es", "en")
        assert 0.15 < time.monotonic() - started < 1.0
    finally:
        release.set()


async def test_the_event_loop_keeps_running_while_the_backend_blocks(make):
    def slow(texts):
        time.sleep(0.2)
        return marked(texts)

    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    assert await make(FakeBackend(answer=slow)).translate(["Hola"], "es", "en") == ["⟪Hola⟫"]
    ticker.cancel()
    assert ticks >= 5


# --- retries ----------------------------------------------------------------------------------


async def test_unavailable_is_retried_with_exponential_backoff(make, clock):
    backend = FakeBackend(errors=unavailable(2))
    translator = make(backend, retries=2, backoff=0.5)
    assert await translator.translate(["Hola"], "es", "en") == ["⟪Hola⟫"]
    assert clock.sleeps == [0.5, 1.0]
    assert len(backend.calls) == 3


async def test_retries_give_up_after_the_last_attempt(make, clock):
    backend = FakeBackend(errors=unavailable(4))
    translator = make(backend, retries=2, backoff=0.25)
    with pytest.raises(TranslatorUnavailable, match="503"):
        await translator.translate(["Hola"], "es", "en")
    assert clock.sleeps == [0.25, 0.5]
    assert len(backend.calls) == 3


async def test_rejected_is_never_retried(make, clock):
    backend = FakeBackend(errors=[TranslatorRejected("fake: language pair es->xx not supported")])
    with pytest.raises(TranslatorRejected, match="not supported"):
        await make(backend, retries=3).translate(["Hola"], "es", "xx")
    assert len(backend.calls) == 1 and clock.sleeps == []


async def test_a_timeout_is_retried(make, clock):
    release = threading.Event()
    first = True

    def hang_once(texts):
        nonlocal first
        if first:
            first = False
            release.wait(5)
        return marked(texts)

    try:
        translator = make(FakeBackend(answer=hang_once), timeout=0.1, retries=1)
        assert await translator.translate(["Hola"], "es", "en") == ["⟪Hola⟫"]
        assert clock.sleeps == [0.5]
    finally:
        release.set()


# --- circuit breaker --------------------------------------------------------------------------


async def test_circuit_opens_refuses_half_opens_and_closes(make, clock):
    backend = FakeBackend(errors=unavailable(3))
    translator = make(backend, retries=0, breaker_failures=3, breaker_reset=30)
    for _ in range(3):
        assert translator.state == "closed"
        with pytest.raises(TranslatorUnavailable, match="503"):
            await translator.translate(["Hola"], "es", "en")
    assert translator.state == "open"

    with pytest.raises(TranslatorUnavailable, match="translator circuit open"):
        await translator.translate(["Hola"], "es", "en")
    assert len(backend.calls) == 3  # refused without calling the backend

    clock.now += 29.9
    assert translator.state == "open"
    clock.now += 0.1
    assert translator.state == "half-open"
    assert await translator.translate(["Hola"], "es", "en") == ["⟪Hola⟫"]
    assert translator.state == "closed"
    assert len(backend.calls) == 4


async def test_a_failed_trial_reopens_the_circuit(make, clock):
    backend = FakeBackend(errors=unavailable(3))
    translator = make(backend, retries=0, breaker_failures=2, breaker_reset=10)
    for _ in range(2):
        with pytest.raises(TranslatorUnavailable):
            await translator.translate(["Hola"], "es", "en")
    clock.now += 10
    assert translator.state == "half-open"
    with pytest.raises(TranslatorUnavailable, match="503"):
        await translator.translate(["Hola"], "es", "en")
    assert translator.state == "open"
    with pytest.raises(TranslatorUnavailable, match="circuit open"):
        await translator.translate(["Hola"], "es", "en")
    assert len(backend.calls) == 3
    clock.now += 10
    assert await translator.translate(["Hola"], "es", "en") == ["⟪Hola⟫"]
    assert translator.state == "closed"


async def test_half_open_lets_exactly_one_trial_through(make, clock):
    entered, release = threading.Event(), threading.Event()

    def trial(texts):
        entered.set()
        release.wait(5)
        return marked(texts)

    backend = FakeBackend(errors=unavailable(1), answer=trial)
    translator = make(backend, retries=0, breaker_failures=1, breaker_reset=5, timeout=2)
    with pytest.raises(TranslatorUnavailable):
        await translator.translate(["Hola"], "es", "en")
    clock.now += 5
    try:
        first = asyncio.create_task(translator.translate(["Hola"], "es", "en"))
        assert await asyncio.to_thread(entered.wait, 2)
        with pytest.raises(TranslatorUnavailable, match="circuit open"):
            await translator.translate(["Gracias"], "es", "en")
    finally:
        release.set()
    assert await first == ["⟪Hola⟫"]
    assert translator.state == "closed"
    assert backend.sent == ["Hola", "Hola"]


async def test_retries_stop_once_the_circuit_opens(make, clock):
    backend = FakeBackend(errors=unavailable(10))
    translator = make(backend, retries=5, breaker_failures=2)
    with pytest.raises(TranslatorUnavailable, match="503"):
        await translator.translate(["Hola"], "es", "en")
    assert len(backend.calls) == 2 and clock.sleeps == [0.5]
    assert translator.state == "open"


async def test_refusals_do_not_open_the_circuit(make):
    refusals = [TranslatorRejected("fake: request refused (HTTP 400)") for _ in range(5)]
    translator = make(FakeBackend(errors=refusals), breaker_failures=2)
    for _ in range(5):
        with pytest.raises(TranslatorRejected):
            await translator.translate(["Hola"], "es", "en")
    assert translator.state == "closed"


# --- chunking and batching --------------------------------------------------------------------

SENTENCES = [
    "Thank you for contacting our support team about your recent order.",
    "We have checked the status of the parcel with the carrier this morning!",
    "سفارش شما امروز صبح از انبار ارسال شد و به زودی به دستتان می‌رسد.",
    "آیا شماره پیگیری مرسوله را دریافت کرده‌اید؟",
    "ההזמנה שלך נשלחה היום מהמחסן ותגיע בימים הקרובים.",
    "Did you receive the tracking number by email?",
    "If anything is missing, just reply to this message and we will sort it out.",
]


def long_text() -> str:
    paragraphs = []
    for n in range(6):
        paragraphs.append(" ".join(SENTENCES[(n + i) % len(SENTENCES)] for i in range(5)))
    return "\n\n".join(paragraphs)


async def test_long_text_is_cut_at_sentence_ends_and_put_back_in_order(make):
    text = long_text()
    assert 1750 <= len(text) <= 1850
    backend = FakeBackend(max_chars=500)
    [translated] = await make(backend).translate([text], "en", "de")

    assert len(backend.calls) >= 4
    assert all(len(chunk) <= 500 for chunk in backend.sent)
    assert all(chunk[-1] in ".!?؟" for chunk in backend.sent)
    # Every chunk's translation sits where the chunk was, separators untouched.
    assert translated.count("⟪") == len(backend.sent)
    assert translated.replace("⟪", "").replace("⟫", "") == text


async def test_long_text_is_reassembled_exactly_by_an_identity_translator(make):
    text = "  " + long_text() + "\n"
    backend = FakeBackend(max_chars=500, answer=list)
    assert await make(backend).translate([text], "fa", "he") == [text]


async def test_a_long_sentence_is_cut_between_words(make):
    words = [f"word{n}" for n in range(200)]
    text = " ".join(words)
    backend = FakeBackend(max_chars=100, answer=list)
    assert await make(backend).translate([text], "en", "de") == [text]
    assert all(len(chunk) <= 100 for chunk in backend.sent)
    assert [word for chunk in backend.sent for word in chunk.split()] == words


async def test_text_without_spaces_is_cut_hard(make):
    text = "ا" * 1200
    backend = FakeBackend(max_chars=500, answer=list)
    assert await make(backend).translate([text], "fa", "en") == [text]
    assert [len(chunk) for chunk in backend.sent] == [500, 500, 200]


async def test_surrounding_whitespace_is_kept_and_not_sent(make):
    backend = FakeBackend()
    assert await make(backend).translate(["  Hola\n"], "es", "en") == ["  ⟪Hola⟫\n"]
    assert backend.sent == ["Hola"]


async def test_batching_backend_gets_texts_together_within_its_limit(make):
    texts = [f"text {n}" for n in range(10)]  # 6 characters each
    backend = FakeBackend(batch=True, max_chars=20)
    assert await make(backend).translate(texts, "es", "en") == marked(texts)
    assert [len(call) for call in backend.calls] == [3, 3, 3, 1]
    assert all(sum(map(len, call)) <= 20 for call in backend.calls)


async def test_batching_backend_gets_one_call_when_everything_fits(make):
    backend = FakeBackend(batch=True)
    texts = ["Hola", "", "¿Eres un bot?", "Gracias"]
    assert await make(backend).translate(texts, "es", "en") == [
        "⟪Hola⟫",
        "",
        "⟪¿Eres un bot?⟫",
        "⟪Gracias⟫",
    ]
    assert backend.calls == [["Hola", "¿Eres un bot?", "Gracias"]]


async def test_one_call_per_text_keeps_the_order_when_answers_arrive_out_of_order(make):
    def later_first(texts):
        time.sleep(0.05 / int(texts[0]))
        return marked(texts)

    texts = [str(n) for n in range(1, 6)]
    backend = FakeBackend(answer=later_first)
    assert await make(backend).translate(texts, "es", "en") == marked(texts)
    assert sorted(map(len, backend.calls)) == [1] * 5


# --- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        lambda texts: [""],
        lambda texts: ["   "],
        lambda texts: [None],
        lambda texts: [],
        lambda texts: ["one", "two"],
        lambda texts: "Hello",
    ],
    ids=["empty", "blank", "none", "too-few", "too-many", "not-a-list"],
)
async def test_garbage_answers_are_unavailable(make, answer):
    translator = make(FakeBackend(answer=answer), retries=0)
    with pytest.raises(TranslatorUnavailable, match="garbled"):
        await translator.translate(["Hola"], "es", "en")


async def test_a_garbage_answer_is_retried(make, clock):
    answers = iter([[""], ["Hello"]])
    backend = FakeBackend(answer=lambda texts: next(answers))
    assert await make(backend).translate(["Hola"], "es", "en") == ["Hello"]
    assert clock.sleeps == [0.5]


async def test_blank_texts_come_back_without_a_call(make):
    backend = FakeBackend()
    assert await make(backend).translate(["", " \n"], "es", "en") == ["", " \n"]
    assert await make(backend).translate([], "es", "en") == []
    assert backend.calls == []


async def test_same_source_and_target_is_no_call(make):
    backend = FakeBackend()
    assert await make(backend).translate(["Hola"], "es", "ES") == ["Hola"]
    assert backend.calls == []


async def test_an_unmapped_backend_error_becomes_unavailable_without_its_message(make):
    backend = FakeBackend(errors=[KeyError("my card is 4111 1111 1111 1111")])
    with pytest.raises(TranslatorUnavailable, match="KeyError") as raised:
        await make(backend, retries=0).translate(["my card is 4111 1111 1111 1111"], "en", "de")
    assert "4111" not in str(raised.value)


async def test_failures_are_logged_without_the_text(make, caplog):
    secret = "Mi tarjeta es 4111 1111 1111 1111"
    backend = FakeBackend(errors=unavailable(3))
    with caplog.at_level(logging.WARNING, logger="bot.translation.resilience"):
        with pytest.raises(TranslatorUnavailable):
            await make(backend, retries=2).translate([secret], "es", "en")
    assert "fake" in caplog.text and "es->en" in caplog.text and "503" in caplog.text
    assert "4111" not in caplog.text


# --- through the real libre backend and the fake LibreTranslate -------------------------------


async def test_libre_recovers_after_two_503s_by_retrying(aiohttp_server, make, clock):
    fake = FakeLibreTranslate(mode="fail_n", fail_n=2)
    backend = create_backend("libre", url=await serve(aiohttp_server, fake))
    translator = make(backend, timeout=2, retries=2, backoff=0.5)
    texts = ["¿Cuánto tarda el envío?", "¿Eres un bot?"]
    assert await translator.translate(texts, "es", "en") == [
        "How long does shipping take?",
        "Are you a bot?",
    ]
    assert fake.requests_count == 3
    assert clock.sleeps == [0.5, 1.0]
    assert translator.state == "closed"


async def test_libre_that_answers_too_slowly_times_out(aiohttp_server, make):
    fake = FakeLibreTranslate(mode="slow", delay=0.5)
    backend = create_backend("libre", url=await serve(aiohttp_server, fake))
    started = time.monotonic()
    with pytest.raises(TranslatorUnavailable, match="timed out"):
        await make(backend, timeout=0.2, retries=0).translate(["Hola"], "es", "en")
    assert time.monotonic() - started < 0.45


async def test_libre_empty_translations_are_garbage(aiohttp_server, make, clock):
    fake = FakeLibreTranslate(mode="garbage", garbage="empty")
    backend = create_backend("libre", url=await serve(aiohttp_server, fake))
    with pytest.raises(TranslatorUnavailable, match="empty translation"):
        await make(backend, timeout=2, retries=1).translate(["Hola", "Gracias"], "es", "en")
    assert fake.requests_count == 2
