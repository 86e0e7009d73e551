"""The translation backends as an operator sees them: real deep-translator code, no network.

LibreTranslate runs as a fake on loopback; for the public services, `requests` is replaced
by a stub that answers the way the service does.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
import requests

from bot.translation.backends import (
    TranslatorRejected,
    TranslatorUnavailable,
    create_backend,
)
from tests.translation_server import FakeLibreTranslate, serve


@pytest.fixture
def fake() -> FakeLibreTranslate:
    return FakeLibreTranslate()


@pytest.fixture
async def libre_url(aiohttp_server, fake) -> str:
    return await serve(aiohttp_server, fake)


async def translate(backend, texts: list[str], source: str, target: str) -> list[str]:
    # deep-translator blocks (requests); the fake server needs this loop free to answer.
    return await asyncio.to_thread(backend.translate, texts, source, target)


# --- LibreTranslate, through deep-translator's LibreTranslator --------------------------------


async def test_libre_translates_a_spanish_question_to_english(libre_url, fake):
    backend = create_backend("libre", url=libre_url)
    assert await translate(backend, ["¿Cuánto tarda el envío?"], "es", "en") == [
        "How long does shipping take?"
    ]
    assert fake.received == ["¿Cuánto tarda el envío?"]
    assert fake.requests_count == 1
    # deep-translator insists on a key; without one configured, none is sent.
    assert fake.api_keys == [None]


async def test_libre_url_without_trailing_slash_works(libre_url, fake):
    backend = create_backend("libre", url=libre_url.rstrip("/"))
    assert await translate(backend, ["Hallo"], "de", "en") == ["Hello"]


async def test_libre_sends_the_configured_key(libre_url, fake):
    fake.api_key = "s3cret"
    backend = create_backend("libre", url=libre_url, key="s3cret")
    assert await translate(backend, ["Danke"], "de", "en") == ["Thank you"]
    assert fake.api_keys == ["s3cret"]


async def test_libre_batch_is_one_request_answered_in_order(libre_url, fake):
    backend = create_backend("libre", url=libre_url)
    texts = ["Hola", "¿Eres un bot?", "¿Dónde está mi pedido [[1]]?", "Gracias"]
    assert await translate(backend, texts, "es", "en") == [
        "Hello",
        "Are you a bot?",
        "Where is my order [[1]]?",
        "Thank you",
    ]
    assert fake.requests_count == 1
    assert fake.received == texts


async def test_libre_serves_languages_deep_translator_does_not_list(libre_url, fake):
    # deep-translator's own list for LibreTranslate has neither Persian nor Hebrew.
    backend = create_backend("libre", url=libre_url)
    assert backend.supports("fa") and backend.supports("he")
    assert await translate(backend, ["سلام"], "fa", "en") == ["[en] سلام"]
    assert await translate(backend, ["שלום", "תודה"], "he", "en") == ["[en] שלום", "[en] תודה"]


@pytest.mark.parametrize("texts", [["Hola"], ["Hola", "Gracias"]], ids=["single", "batch"])
@pytest.mark.parametrize(("mode", "status"), [("429", "429"), ("500", "500"), ("fail_n", "503")])
async def test_libre_overload_and_server_errors_are_worth_retrying(
    libre_url, fake, texts, mode, status
):
    fake.mode, fake.fail_n = mode, 1
    backend = create_backend("libre", url=libre_url)
    with pytest.raises(TranslatorUnavailable, match=status) as raised:
        await translate(backend, texts, "es", "en")
    assert "Hola" not in str(raised.value)


@pytest.mark.parametrize("texts", [["Hola"], ["Hola", "Gracias"]], ids=["single", "batch"])
async def test_libre_garbage_answer_is_worth_retrying(libre_url, fake, texts):
    fake.mode, fake.garbage = "garbage", "invalid_json"
    backend = create_backend("libre", url=libre_url)
    with pytest.raises(TranslatorUnavailable, match="not JSON"):
        await translate(backend, texts, "es", "en")


@pytest.mark.parametrize("texts", [["Hola"], ["Hola", "Gracias"]], ids=["single", "batch"])
async def test_libre_refused_key_is_rejected_without_leaking_key_or_text(libre_url, fake, texts):
    fake.api_key = "the-right-key"
    backend = create_backend("libre", url=libre_url, key="a-wrong-key")
    with pytest.raises(TranslatorRejected, match="403") as raised:
        await translate(backend, texts, "es", "en")
    assert "a-wrong-key" not in str(raised.value) and "Hola" not in str(raised.value)


async def test_libre_language_the_server_lacks_is_rejected(libre_url, fake):
    backend = create_backend("libre", url=libre_url)
    with pytest.raises(TranslatorRejected, match="400"):
        await translate(backend, ["Hola"], "es", "sw")


async def test_libre_server_not_running_is_unavailable():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = create_backend("libre", url=f"http://127.0.0.1:{port}")
    with pytest.raises(TranslatorUnavailable, match="not reachable"):
        await translate(backend, ["Hola"], "es", "en")


# --- choosing a backend ---------------------------------------------------------------------


def test_none_means_no_translator():
    assert create_backend("none") is None


def test_unknown_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown translator 'yandex'.*google.*libre"):
        create_backend("yandex")


@pytest.mark.parametrize("name", ["deepl", "microsoft"])
def test_backends_needing_a_key_refuse_to_start_without(name):
    with pytest.raises(ValueError, match=f"{name}.*needs an API key"):
        create_backend(name)


def test_libre_needs_the_server_url():
    with pytest.raises(ValueError, match=r"libre.*URL"):
        create_backend("libre", key="k")


def test_creating_backends_makes_no_requests(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a request at construction")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(requests, "post", no_network)
    limits = {
        name: create_backend(name, url="http://libre.invalid", key="k").info
        for name in ("google", "deepl", "microsoft", "libre", "mymemory")
    }
    assert {name: (info.max_chars, info.batch) for name, info in limits.items()} == {
        "google": (4999, False),
        "deepl": (5000, False),
        "microsoft": (5000, False),
        "libre": (2000, True),
        "mymemory": (499, False),
    }


# --- public services, with `requests` stubbed ------------------------------------------------


class Answer:
    """What deep-translator reads from a requests.Response."""

    def __init__(self, status: int = 200, body: object = None, text: str = "") -> None:
        self.status_code = status
        self._body = body
        self.text = text

    def json(self) -> object:
        return self._body

    def close(self) -> None:
        pass


class Network:
    """Stands in for requests.get/post: records each call, answers from `answers` in order."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.answers: list[Answer] = []

    def method(self, name: str):
        def call(url, params=None, json=None, **kwargs):
            self.calls.append({"method": name, "url": url, "params": dict(params or {})})
            return self.answers.pop(0)

        return call


@pytest.fixture
def net(monkeypatch) -> Network:
    network = Network()
    monkeypatch.setattr(requests, "get", network.method("get"))
    monkeypatch.setattr(requests, "post", network.method("post"))
    return network


def google_page(translation: str) -> Answer:
    return Answer(text=f'<html><div class="result-container">{translation}</div></html>')


@pytest.mark.parametrize(("ours", "googles"), [("he", "iw"), ("zh", "zh-CN"), ("es", "es")])
def test_google_gets_its_own_language_codes(net, ours, googles):
    net.answers.append(google_page("translated"))
    backend = create_backend("google")
    assert backend.supports(ours)
    assert backend.translate(["Where is my order?"], "en", ours) == ["translated"]
    assert net.calls[0]["params"]["tl"] == googles and net.calls[0]["params"]["sl"] == "en"


def test_google_knows_which_languages_it_lacks():
    assert not create_backend("google").supports("xx")


def test_google_answer_equal_to_the_text_is_kept(net):
    # deep-translator returns None when Google hands the text back unchanged.
    net.answers.append(google_page("?!"))
    assert create_backend("google").translate(["?!"], "en", "he") == ["?!"]


def test_google_rate_limit_is_worth_retrying(net):
    net.answers.append(Answer(status=429))
    with pytest.raises(TranslatorUnavailable, match="too many requests"):
        create_backend("google").translate(["Hola"], "es", "en")


@pytest.mark.parametrize("name", ["google", "mymemory"])
def test_longest_allowed_text_passes_deep_translators_length_check(net, name):
    backend = create_backend(name)
    net.answers.append(
        google_page("ok")
        if name == "google"
        else Answer(body={"responseData": {"translatedText": "ok"}, "matches": []})
    )
    assert backend.translate(["a" * backend.info.max_chars], "en", "de") == ["ok"]


def test_mymemory_gets_locale_codes(net):
    net.answers.append(Answer(body={"responseData": {"translatedText": "سلام"}, "matches": []}))
    backend = create_backend("mymemory")
    assert backend.translate(["Hello"], "en", "fa") == ["سلام"]
    assert net.calls[0]["params"]["langpair"] == "en-GB|fa-IR"


def test_mymemory_quota_warning_is_not_taken_for_a_translation(net):
    warning = "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY."
    net.answers.append(Answer(body={"responseData": {"translatedText": warning}, "matches": []}))
    with pytest.raises(TranslatorUnavailable, match="quota"):
        create_backend("mymemory").translate(["Hello"], "en", "de")


def test_mymemory_without_any_match_is_no_translation(net):
    net.answers.append(Answer(body={"responseData": {"translatedText": ""}, "matches": []}))
    with pytest.raises(TranslatorUnavailable, match="no translation"):
        create_backend("mymemory").translate(["Hello"], "en", "de")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, TranslatorRejected),
        (400, TranslatorRejected),
        (429, TranslatorUnavailable),
        (456, TranslatorUnavailable),  # DeepL's "quota exceeded", unknown to deep-translator
        (503, TranslatorUnavailable),
    ],
)
def test_deepl_statuses_map_to_retry_or_not_without_leaking_the_key(net, status, error):
    net.answers.append(Answer(status=status))
    with pytest.raises(error) as raised:
        create_backend("deepl", key="deepl-key:fx").translate(["Hallo"], "de", "en")
    assert "deepl-key" not in str(raised.value)
    assert net.calls[0]["url"].startswith("https://api-free.deepl.com/")


def test_microsoft_fetches_its_languages_once_and_maps_errors(net):
    languages = {"translation": {"en": {"name": "English"}, "he": {"name": "Hebrew"}}}
    translation = [{"translations": [{"text": "שלום", "to": "he"}]}]
    net.answers.extend(
        [
            Answer(body=languages),
            Answer(body=translation),
            Answer(body=translation),
            Answer(body={"error": {"code": 429001, "message": "too many"}}),
            Answer(body={"error": {"code": 401000, "message": "bad key"}}),
        ]
    )
    backend = create_backend("microsoft", key="ms-key")
    assert backend.translate(["Hello", "Hello"], "en", "he") == ["שלום", "שלום"]
    assert [call["method"] for call in net.calls] == ["get", "post", "post"]
    assert backend.supports("he") and not backend.supports("fa")
    with pytest.raises(TranslatorUnavailable, match="429"):
        backend.translate(["Hello"], "en", "he")
    with pytest.raises(TranslatorRejected, match="401"):
        backend.translate(["Hello"], "en", "he")
