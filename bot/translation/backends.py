"""deep-translator's services behind one blocking interface, with one set of exceptions.

Every backend takes ISO 639-1 codes and maps them to the spelling its service wants. Every
failure leaves as TranslatorUnavailable (worth retrying) or TranslatorRejected (not), with a
message that never carries the text, the request URL or the API key: deep-translator's own
exception messages and requests' error messages contain one or the other, so they are
dropped (``from None``) and only their type name is kept.

Nothing here has a timeout or retries: deep-translator's requests have none, and the caller
(``resilience``) runs these blocking calls in a thread under a deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import requests
from deep_translator import (
    DeeplTranslator,
    GoogleTranslator,
    LibreTranslator,
    MicrosoftTranslator,
    MyMemoryTranslator,
)
from deep_translator import exceptions as dt
from deep_translator.constants import (
    DEEPL_LANGUAGE_TO_CODE,
    GOOGLE_LANGUAGES_TO_CODES,
    MY_MEMORY_LANGUAGES_TO_CODES,
)

BACKENDS = ("google", "deepl", "microsoft", "libre", "mymemory")

# Our own batch request to LibreTranslate gets a timeout although the caller has its own
# deadline: that deadline abandons the thread, this one ends it.
_HTTP_TIMEOUT = 30.0

# deep-translator refuses to build LibreTranslator without a key; servers without keys get
# this placeholder at construction only, it is never sent (see LibreBackend).
_NO_KEY = "unused"

# A language code as LibreTranslate and Microsoft spell them: "fa", "zh-Hans", "pt-BR".
_CODE_SHAPE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


class TranslatorError(Exception):
    """The translator gave no translation; the message says why, never what the text was."""


class TranslatorUnavailable(TranslatorError):
    """Worth retrying: not reachable, timed out, rate limited, 5xx, garbage, circuit open."""


class TranslatorRejected(TranslatorError):
    """Not worth retrying: unsupported language, refused key, other 4xx."""


@dataclass(frozen=True)
class BackendInfo:
    name: str
    max_chars: int  # per request (all texts of a batch together)
    batch: bool  # one request may carry several texts


class Backend(Protocol):
    info: BackendInfo

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Blocking; one answer per text, in order."""
        ...

    def supports(self, language: str) -> bool:
        """Whether the ISO 639-1 code can be used as source or target."""
        ...


def create_backend(name: str, *, url: str | None = None, key: str | None = None) -> Backend | None:
    """The backend called `name`; None for "none".

    ValueError for an unknown name, for deepl and microsoft without a key, for libre without
    the server's URL. Builds no connection: the first translation does.
    """
    name = name.strip().lower()
    if name == "none":
        return None
    if name not in BACKENDS:
        raise ValueError(f"unknown translator {name!r}; choose one of: none, {', '.join(BACKENDS)}")
    if name in ("deepl", "microsoft") and not key:
        raise ValueError(f"translator {name!r} needs an API key")
    if name == "libre" and not url:
        raise ValueError("translator 'libre' needs the URL of a LibreTranslate server")
    if name == "google":
        return GoogleBackend()
    if name == "mymemory":
        return MyMemoryBackend()
    if name == "deepl":
        return DeeplBackend(key or "")
    if name == "microsoft":
        return MicrosoftBackend(key or "")
    return LibreBackend(url or "", key)


# --- exception mapping ---------------------------------------------------------------------

# deep-translator turns HTTP statuses into these names and forgets the status; turn them back.
_STATUS_BY_SERVER_ERROR = {name: status for status, name in dt.ServerException.errors.items()}


def _status_error(backend: str, status: int) -> TranslatorError:
    if status == 429:
        return TranslatorUnavailable(f"{backend}: too many requests (HTTP 429)")
    if status in (401, 402, 403):
        return TranslatorRejected(f"{backend}: API key refused (HTTP {status})")
    # 501 is what deep-translator calls "language not supported": no retry fixes that.
    if status == 408 or (status >= 500 and status != 501):
        return TranslatorUnavailable(f"{backend}: server error (HTTP {status})")
    return TranslatorRejected(f"{backend}: request refused (HTTP {status})")


def _microsoft_error(backend: str, error: dt.MicrosoftAPIerror) -> TranslatorError:
    # Microsoft's error codes are the HTTP status followed by three digits (429001, 401000).
    code = re.search(r"'code':\s*(\d{6})", error.api_message)
    if code is None:
        return TranslatorUnavailable(f"{backend}: unusable error answer")
    return _status_error(backend, int(code.group(1)[:3]))


@contextmanager
def _mapped_errors(backend: str, source: str, target: str) -> Iterator[None]:
    pair = f"{source}->{target}"
    try:
        yield
    except TranslatorError:
        raise
    except dt.ServerException as error:
        status = _STATUS_BY_SERVER_ERROR.get(str(error.args[0]) if error.args else "")
        if status is None:  # a status deep-translator has no name for: 502, 504, 456, ...
            raise TranslatorUnavailable(f"{backend}: server error (unlisted HTTP status)") from None
        raise _status_error(backend, status) from None
    except dt.AuthorizationException:
        raise TranslatorRejected(f"{backend}: API key refused (HTTP 403)") from None
    except dt.ApiKeyException:
        raise TranslatorRejected(f"{backend}: API key missing") from None
    except dt.MicrosoftAPIerror as error:
        raise _microsoft_error(backend, error) from None
    except (dt.LanguageNotSupportedException, dt.InvalidSourceOrTargetLanguage):
        raise TranslatorRejected(f"{backend}: language pair {pair} not supported") from None
    except (dt.NotValidPayload, dt.NotValidLength):
        raise TranslatorRejected(f"{backend}: text not accepted (too long or not text)") from None
    except dt.TooManyRequests:
        raise TranslatorUnavailable(f"{backend}: too many requests") from None
    except dt.RequestError:
        raise TranslatorUnavailable(f"{backend}: request failed") from None
    except dt.TranslationNotFound:
        raise TranslatorUnavailable(f"{backend}: no translation") from None
    except requests.exceptions.JSONDecodeError:
        raise TranslatorUnavailable(f"{backend}: unusable answer (not JSON)") from None
    except requests.exceptions.RequestException as error:
        # Its message holds the URL, and Google's and MyMemory's URLs hold the text.
        raise TranslatorUnavailable(f"{backend}: not reachable ({type(error).__name__})") from None
    except (dt.BaseError, KeyError, IndexError, TypeError, AttributeError, ValueError) as error:
        # deep-translator digs into answers without checking their shape; Microsoft's also
        # ends up here (AttributeError) when the request itself failed.
        raise TranslatorUnavailable(
            f"{backend}: unusable answer ({type(error).__name__})"
        ) from None
    except StopIteration:
        # MyMemory with no match at all; StopIteration must not cross into asyncio.
        raise TranslatorUnavailable(f"{backend}: no translation") from None


def _each(
    backend: str, texts: list[str], source: str, target: str, translate: Callable[[str], str]
) -> list[str]:
    """One request per text: what deep-translator's translate_batch does, with our errors."""
    with _mapped_errors(backend, source, target):
        return [translate(text) for text in texts]


# --- backends ------------------------------------------------------------------------------

_GOOGLE_CODES = {
    "he": "iw",
    "jv": "jw",
    "nb": "no",
    "fil": "tl",
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-tw": "zh-TW",
    "zh-hant": "zh-TW",
    "mni": "mni-Mtei",
}
_GOOGLE_KNOWN = frozenset(GOOGLE_LANGUAGES_TO_CODES.values())


class GoogleBackend:
    """Google Translate's free web endpoint, one request per text."""

    # deep-translator refuses 5000 characters and more.
    info = BackendInfo("google", max_chars=4999, batch=False)

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        source, target = self.code(source), self.code(target)

        def one(text: str) -> str:
            # A fresh translator per call: deep-translator keeps request state on the instance.
            translated = GoogleTranslator(source=source, target=target).translate(text)
            # None means Google's answer equals the input (names, numbers, punctuation).
            return text.strip() if translated is None else translated

        return _each("google", texts, source, target, one)

    def supports(self, language: str) -> bool:
        return self.code(language) in _GOOGLE_KNOWN

    @staticmethod
    def code(language: str) -> str:
        language = language.strip()
        return _GOOGLE_CODES.get(language.lower(), language.lower())


class DeeplBackend:
    """DeepL's API; keys ending in ":fx" are free-plan keys and use the free endpoint."""

    info = BackendInfo("deepl", max_chars=5000, batch=False)

    def __init__(self, key: str) -> None:
        self._key = key

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        source, target = self.code(source), self.code(target)

        def one(text: str) -> str:
            translator = DeeplTranslator(
                source=source, target=target, api_key=self._key, use_free_api=self._free
            )
            return translator.translate(text)

        return _each("deepl", texts, source, target, one)

    def supports(self, language: str) -> bool:
        return self.code(language) in DEEPL_LANGUAGE_TO_CODE.values()

    @property
    def _free(self) -> bool:
        return self._key.endswith(":fx")

    @staticmethod
    def code(language: str) -> str:
        # deep-translator knows DeepL's languages without regional variants only.
        return language.strip().lower().split("-")[0]


_MICROSOFT_CODES = {
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "zh-tw": "zh-hant",
    "no": "nb",
    "tl": "fil",
    "iw": "he",
    "sr": "sr-latn",
}


class _MicrosoftTranslator(MicrosoftTranslator):
    """deep-translator asks Microsoft for its languages on every construction; ask once."""

    def __init__(self, languages: dict[str, str], **kwargs: object) -> None:
        self._known_languages = languages
        super().__init__(**kwargs)

    def _get_supported_languages(self) -> dict[str, str]:
        if not self._known_languages:
            self._known_languages.update(super()._get_supported_languages())
        return self._known_languages


class MicrosoftBackend:
    """Azure AI Translator (global resource: deep-translator sends no region here)."""

    # The API takes 10,000 characters per request; stay well below.
    info = BackendInfo("microsoft", max_chars=5000, batch=False)

    def __init__(self, key: str) -> None:
        self._key = key
        # Filled by the first translation, which fetches the list (no I/O at construction).
        self._languages: dict[str, str] = {}

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        source, target = self.code(source), self.code(target)

        def one(text: str) -> str:
            translator = _MicrosoftTranslator(
                self._languages, source=source, target=target, api_key=self._key
            )
            return translator.translate(text)

        return _each("microsoft", texts, source, target, one)

    def supports(self, language: str) -> bool:
        """Checked against Microsoft's list once a translation has fetched it; until then any
        well-formed code is accepted (asking here would be blocking I/O)."""
        if self._languages:
            return self.code(language) in self._languages.values()
        return bool(_CODE_SHAPE.match(language.strip()))

    @staticmethod
    def code(language: str) -> str:
        language = language.strip().lower()
        return _MICROSOFT_CODES.get(language, language)


class LibreBackend:
    """A LibreTranslate server: one text through deep-translator, several in one request.

    deep-translator's LibreTranslator sends one request per text and only accepts the 17
    languages it lists; LibreTranslate takes `q` as a list and serves whatever models it
    has installed (Persian, Hebrew, ...). So a single text goes through deep-translator with
    its language check bypassed, and a batch is one JSON POST of our own.

    supports() does no I/O: it accepts any well-formed code, and a pair the server lacks is
    answered with HTTP 400, which becomes TranslatorRejected.
    """

    # Self-hosted servers have no limit unless --char-limit is set; libretranslate.com
    # allows 2000 per request, and a text over the limit is refused (400), not retried.
    info = BackendInfo("libre", max_chars=2000, batch=True)

    def __init__(self, url: str, key: str | None = None) -> None:
        # deep-translator appends "translate" to the URL as is.
        self._url = url.rstrip("/") + "/"
        self._key = key or None

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        source, target = source.strip(), target.strip()
        with _mapped_errors("libre", source, target):
            if len(texts) == 1:
                return [self._one(texts[0], source, target)]
            return self._batch(texts, source, target)

    def supports(self, language: str) -> bool:
        return bool(_CODE_SHAPE.match(language.strip()))

    def _one(self, text: str, source: str, target: str) -> str:
        translator = LibreTranslator(api_key=self._key or _NO_KEY, custom_url=self._url)
        # The setters skip deep-translator's outdated language list (see the class doc);
        # a None key is not sent, and a server with keys enabled refuses unknown keys.
        translator.source, translator.target = source, target
        translator.api_key = self._key
        return translator.translate(text)

    def _batch(self, texts: list[str], source: str, target: str) -> list[str]:
        payload: dict[str, object] = {"q": texts, "source": source, "target": target}
        payload["format"] = "text"
        if self._key:
            payload["api_key"] = self._key
        response = requests.post(self._url + "translate", json=payload, timeout=_HTTP_TIMEOUT)
        with response:
            if response.status_code == 403:
                raise TranslatorRejected("libre: API key refused (HTTP 403)")
            if not 200 <= response.status_code < 300:
                raise _status_error("libre", response.status_code)
            body = response.json()
        translated = body.get("translatedText") if isinstance(body, dict) else None
        if not isinstance(translated, list) or len(translated) != len(texts):
            raise TranslatorUnavailable("libre: unusable answer (not one translation per text)")
        return translated


# deep-translator wants MyMemory's locale codes; which locale a bare language code means.
_MYMEMORY_PREFERRED = {
    "ar": "ar-SA",
    "en": "en-GB",
    "no": "nb-NO",
    "nb": "nb-NO",
    "sr": "sr-Latn-RS",
    "zh": "zh-CN",
    "ta": "ta-IN",
    "iw": "he-IL",
}
_MYMEMORY_KNOWN = frozenset(MY_MEMORY_LANGUAGES_TO_CODES.values())
# MyMemory answers some errors with HTTP 200 and the error as the "translation".
_MYMEMORY_QUOTA = "MYMEMORY WARNING"
_MYMEMORY_REFUSALS = (
    "QUERY LENGTH LIMIT EXCEEDED",
    "INVALID SOURCE LANGUAGE",
    "INVALID TARGET LANGUAGE",
)


class MyMemoryBackend:
    """MyMemory's free API, one request per text."""

    # deep-translator refuses 500 characters and more.
    info = BackendInfo("mymemory", max_chars=499, batch=False)

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        source, target = self.code(source), self.code(target)

        def one(text: str) -> str:
            translated = MyMemoryTranslator(source=source, target=target).translate(text)
            if not isinstance(translated, str):
                raise TranslatorUnavailable("mymemory: unusable answer (not text)")
            if translated.startswith(_MYMEMORY_QUOTA):
                raise TranslatorUnavailable("mymemory: daily quota used up")
            if any(refusal in translated for refusal in _MYMEMORY_REFUSALS):
                raise TranslatorRejected("mymemory: request refused (error in the answer)")
            return translated

        return _each("mymemory", texts, source, target, one)

    def supports(self, language: str) -> bool:
        return self.code(language) in _MYMEMORY_KNOWN

    @staticmethod
    def code(language: str) -> str:
        language = language.strip()
        if language in _MYMEMORY_KNOWN:
            return language
        base = language.lower().split("-")[0]
        preferred = _MYMEMORY_PREFERRED.get(base, f"{base}-{base.upper()}")
        if preferred in _MYMEMORY_KNOWN:
            return preferred
        for known in sorted(_MYMEMORY_KNOWN):
            if known.split("-")[0] == base:
                return known
        return language
