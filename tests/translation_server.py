"""A LibreTranslate stand-in for tests, on loopback: no test ever calls a public translator.

It speaks LibreTranslate's API the way deep-translator and our batch request use it:
POST /translate with form, query or JSON parameters (q as a string or a list) and
GET /languages. Translations are deterministic: a phrase table for a short customer
conversation (es/de <-> en), else the text marked with its target language.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from aiohttp import web

MODES = ("ok", "slow", "429", "500", "garbage", "fail_n")

NAMES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "nl": "Dutch",
    "fa": "Persian",
    "he": "Hebrew",
    "ar": "Arabic",
    "vi": "Vietnamese",
}

# "[[#]]" stands for any placeholder ("[[1]]", "[[2]]", ...), filled in in order.
_CUSTOMER = {
    ("es", "en"): {
        "Hola": "Hello",
        "Hola, ¿cuánto tarda el envío?": "Hello, how long does shipping take?",
        "¿Cuánto tarda el envío?": "How long does shipping take?",
        "¿Eres un bot?": "Are you a bot?",
        "¿Dónde está mi pedido [[#]]?": "Where is my order [[#]]?",
        "Gracias": "Thank you",
        "Muchas gracias": "Thank you very much",
    },
    ("de", "en"): {
        "Hallo": "Hello",
        "Wie lange dauert der Versand?": "How long does shipping take?",
        "Bist du ein Bot?": "Are you a bot?",
        "Wo ist meine Bestellung [[#]]?": "Where is my order [[#]]?",
        "Danke": "Thank you",
        "Vielen Dank": "Thank you very much",
        # tests/e2e/test_faults.py's German customers.
        "Welche Zahlungsarten akzeptieren Sie?": "Which payment methods do you accept?",
        "Kann ich ein Produkt zurückschicken?": "Can I return a product?",
        "Danke, tschüss": "Thanks, bye",
    },
}
_SHOP = {
    ("en", "es"): {
        "Hello! How can I help you?": "¡Hola! ¿En qué puedo ayudarte?",
        "Shipping takes 2 to 4 business days.": "El envío tarda de 2 a 4 días hábiles.",
        "Yes, I am a virtual assistant.": "Sí, soy un asistente virtual.",
        "Your order [[#]] is on its way.": "Tu pedido [[#]] está en camino.",
        "You're welcome!": "¡De nada!",
    },
    ("en", "de"): {
        "Hello! How can I help you?": "Hallo! Wie kann ich dir helfen?",
        "Shipping takes 2 to 4 business days.": "Der Versand dauert 2 bis 4 Werktage.",
        "Yes, I am a virtual assistant.": "Ja, ich bin ein virtueller Assistent.",
        "Your order [[#]] is on its way.": "Deine Bestellung [[#]] ist unterwegs.",
        "You're welcome!": "Gern geschehen!",
    },
}
PHRASES: dict[tuple[str, str], dict[str, str]] = {**_CUSTOMER, **_SHOP}

_PLACEHOLDER = re.compile(r"\[\[\d+\]\]")
_LOOKUP = {
    pair: {source.casefold(): target for source, target in table.items()}
    for pair, table in PHRASES.items()
}


def marked(text: str, target: str) -> str:
    """What the fake answers for text outside its phrase table."""
    return f"[{target}] {text}"


def fake_translate(text: str, source: str, target: str) -> str:
    text = text.strip()
    if not text:
        return ""
    placeholders = _PLACEHOLDER.findall(text)
    key = _PLACEHOLDER.sub("[[#]]", text).casefold()
    phrase = _LOOKUP.get((source, target), {}).get(key)
    if phrase is None:
        return marked(text, target)
    filled = iter(placeholders)
    return re.sub(r"\[\[#\]\]", lambda _: next(filled), phrase)


@dataclass
class FakeLibreTranslate:
    """LibreTranslate's /translate and /languages; records what it got, fails on demand.

    mode: "ok"; "slow" (answers after `delay` seconds); "429" (with Retry-After when
    `retry_after` is set); "500"; "garbage" (`garbage` = "empty": empty translations,
    "invalid_json": an HTML page); "fail_n" (the next `fail_n` requests get 503).
    """

    mode: str = "ok"
    delay: float = 1.0
    retry_after: int | None = None
    garbage: str = "empty"
    fail_n: int = 0
    # Set: /translate wants exactly this key and answers 403 otherwise, like a server started
    # with --api-keys. None: keys are ignored.
    api_key: str | None = None
    languages: tuple[str, ...] = tuple(NAMES)
    received: list[str] = field(default_factory=list)  # every text that reached the server
    api_keys: list[str | None] = field(default_factory=list)  # the key of each request
    requests_count: int = 0  # POST /translate requests

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/translate", self._translate)
        app.router.add_get("/languages", self._languages)
        return app

    async def _translate(self, request: web.Request) -> web.Response:
        self.requests_count += 1
        params = await _params(request)
        q = params.get("q")
        source, target = params.get("source"), params.get("target")
        self.api_keys.append(params.get("api_key"))
        if isinstance(q, list):
            self.received.extend(str(text) for text in q)
        elif q is not None:
            self.received.append(str(q))
        if self.mode not in MODES:
            raise ValueError(f"unknown FakeLibreTranslate mode {self.mode!r}")

        if self.api_key is not None and params.get("api_key") != self.api_key:
            return _error(403, "Invalid API key")
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        elif self.mode == "429":
            headers = {"Retry-After": str(self.retry_after)} if self.retry_after else None
            return _error(429, "Too many request limits violations", headers)
        elif self.mode == "500":
            return _error(500, "Internal Server Error")
        elif self.mode == "fail_n" and self.fail_n > 0:
            self.fail_n -= 1
            return _error(503, "Service Unavailable")

        if q is None:
            return _error(400, "Invalid request: missing q parameter")
        if not source or not target:
            return _error(400, "Invalid request: missing source or target parameter")
        if source not in self.languages:
            return _error(400, f"{source} is not supported")
        if target not in self.languages:
            return _error(400, f"{target} is not supported")

        if self.mode == "garbage":
            if self.garbage == "invalid_json":
                return web.Response(text="<html>upstream hiccup</html>", content_type="text/html")
            empty = [""] * len(q) if isinstance(q, list) else ""
            return web.json_response({"translatedText": empty})
        if isinstance(q, list):
            return web.json_response(
                {"translatedText": [fake_translate(str(text), source, target) for text in q]}
            )
        return web.json_response({"translatedText": fake_translate(str(q), source, target)})

    async def _languages(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"code": code, "name": NAMES.get(code, code), "targets": list(self.languages)}
                for code in self.languages
            ]
        )


async def _params(request: web.Request) -> dict:
    """LibreTranslate reads JSON bodies, else form and query values alike."""
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    params: dict = dict(request.query)
    params.update(await request.post())
    return params


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


async def serve(aiohttp_server, fake: FakeLibreTranslate) -> str:
    """Start `fake` with pytest-aiohttp's aiohttp_server; its base URL, with a trailing /."""
    server = await aiohttp_server(fake.app())
    return str(server.make_url("/"))
