"""Which language a conversation is in.

A conversation keeps its language unless a new message is clearly in another one: short
replies ("ok", "bedankt!", "👍") never switch it, a message in a script that only one of
the configured languages uses does, and a longer Latin-script message switches only when
the detector is confident.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from tolk_core.normalize import clean

# A short first message with no channel hint needs this much confidence, else English.
FIRST_MESSAGE_CONFIDENCE = 0.9
# A Latin-script message switches a running conversation only when the detector is this
# sure, this far ahead of the runner-up (confidences spread over many candidate
# languages), and the text this long; shorter texts are too often loanwords, names or "ok".
SWITCH_CONFIDENCE = 0.5
SWITCH_MARGIN = 3.0
SWITCH_MIN_WORDS = 3
SWITCH_MIN_LETTERS = 12

DEFAULT_LANGUAGE = "en"

# Vietnamese typed without diacritics is common in chat, and lingua (trained on written
# Vietnamese) reads it as English. These syllables are frequent in Vietnamese and are not
# English or Dutch words.
_BARE_VIETNAMESE = frozenset(
    "toi cua khong ko k dc duoc roi nhung minh giup voi nao bao gio hang tien hoan muon dau "
    "vay nhe nha thanh toan giao huy khau khoan xoa nhan chua oi gi j dang nhat lam sao cho "
    "hoi cam ad ak thi va la ban shop em anh chi da vs bn mk mik dat tai sp nhieu".split()
)
# Lingua reads this many characters at most: enough for any language it can tell apart,
# and a fixed cost per message whatever the channel accepts.
DETECTION_SAMPLE = 1000

_WORD = re.compile(r"\w+", re.UNICODE)
# Addresses, markup and code say nothing about the language a customer writes in. Tags are
# removed first (they may contain spaces); then every word that is an address or code.
# Word by word with string methods, not one pattern: the pattern this replaces backtracked
# cubically on a run of punctuation ("." * 1000 took seconds, on the event loop).
_MARKUP = re.compile(r"<[^<>]{0,200}>")
_WORDS_AND_SPACES = re.compile(r"(\s+)")
_ADDRESS_STARTS = ("http://", "https://", "www.")
_CODE_SYMBOLS = frozenset("._=/\\{}()[]<>#$%^&*|~`+")
# Letters no other configured Latin-script language uses: as telling as a script.
_VIETNAMESE_LETTERS = re.compile("[\u1ea0-\u1ef9đĐơƠưƯăĂĩĨũŨ]")
# Persian letters Arabic does not use (پ چ ژ گ, and the Persian forms of ye and kaf).
_PERSIAN_LETTERS = re.compile("[پچژگیک]")

# Greetings and function words that tell a short Latin-script first message apart ("hallo
# daar", "Hallo, sind Sie ein Bot?"), where the statistical detector is unsure. Words shared
# by two configured languages ("hallo" in Dutch and German) count for both, so only the
# others decide; a word in no list says nothing.
_CUES: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "en": "hi hello hey thanks thank please where my is are you the what how can i am "
        "morning evening there your do does this",
        "nl": "hallo hoi hey daar goedemorgen goedemiddag goedenavond goeiedag dag doei bedankt "
        "dankjewel bedank ik mijn jullie niet een graag alsjeblieft alstublieft waar hoe wat "
        "heb ben jij je u zijn het dit dank bestelling pakket wanneer kunt kun",
        "de": "hallo guten morgen tag abend servus moin danke bitte ich mein meine sind sie "
        "ist ein eine nicht und das der die wo wie bin haben bestellung können",
        "fr": "bonjour bonsoir salut merci je suis vous est où ma mon commande pourquoi",
        "es": "hola buenos buenas días gracias qué dónde mi pedido estoy usted por favor",
        "pt": "olá oi bom boa obrigado obrigada tudo você meu minha onde encomenda",
        "it": "ciao buongiorno buonasera grazie sono il mio vorrei dove ordine",
        "tr": "merhaba selam teşekkürler nerede siparişim",
        "id": "halo selamat pagi terima kasih saya apa",
    }.items()
}


@dataclass(frozen=True)
class Choice:
    """The language to answer in, and whether a person would be sure of it: an unsure
    first message is answered in `language` with the other languages offered."""

    language: str
    sure: bool = True


@dataclass(frozen=True)
class Detection:
    language: str | None
    confidence: float
    runner_up: float = 0.0


class LanguageChooser:
    """Detection restricted to the given languages, plus the stickiness rules.

    The gateway passes the native languages and the pivot candidates: a customer writing
    Spanish must be recognised as such even when no translator is configured, to be told
    which languages the bot speaks.
    """

    def __init__(self, languages: tuple[str, ...]) -> None:
        self.languages = languages
        lingua_languages = [
            Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages
        ]
        self._detector: LanguageDetector = (
            LanguageDetectorBuilder.from_languages(*lingua_languages)
            .with_preloaded_language_models()
            .build()
        )
        self._unique_scripts = _unique_scripts(languages)

    def detect(self, text: str) -> Detection:
        text = clean(text)
        words = _WORD.findall(text.lower())
        if "vi" in self.languages and _looks_like_bare_vietnamese(words):
            return Detection("vi", 0.9)
        values = self._detector.compute_language_confidence_values(_sample(text))
        if not values or values[0].value <= 0:
            return Detection(None, 0.0)
        top = values[0]
        runner_up = values[1].value if len(values) > 1 else 0.0
        return Detection(top.language.iso_code_639_1.name.lower(), top.value, runner_up)

    def choose(self, text: str, current: str | None, hint: str | None = None) -> str:
        """The language to answer in, given the conversation's language and a channel hint."""
        return self.decide(text, current, hint).language

    def decide(self, text: str, current: str | None, hint: str | None = None) -> Choice:
        """:meth:`choose`, saying whether a first message left any doubt."""
        hint = hint if hint in self.languages else None
        text = _prose(clean(text))
        letters = [char for char in text if char.isalpha()]
        if not letters:  # emoji, digits, punctuation
            return Choice(current or hint or DEFAULT_LANGUAGE, sure=bool(current or hint))
        detection = self.detect(text)
        if detection.language is None:
            return Choice(current or hint or DEFAULT_LANGUAGE, sure=bool(current or hint))
        script = _dominant_script(letters)
        decisive_script = self._unique_scripts.get(script)
        if detection.language == "vi" and _VIETNAMESE_LETTERS.search(text):
            decisive_script = "vi"
        if script == "ARABIC" and "fa" in self.languages and _PERSIAN_LETTERS.search(text):
            decisive_script = "fa"

        if current is None:
            if decisive_script:
                return Choice(decisive_script)
            if self._clearly(text, letters, detection):
                return Choice(detection.language)
            if script != "LATIN" and script in _scripts_of(detection.language):
                # "سلام" or "Где мой заказ?": the script narrows it to a few languages.
                return Choice(detection.language)
            cue, hits = _cue_language(text, self.languages) if script == "LATIN" else (None, 0)
            if cue and hits >= 2:  # "hallo daar": two words say Dutch, whatever the hint
                return Choice(cue)
            if hint:  # the browser's or the messaging app's language
                return Choice(hint)
            if cue:  # "hoi": Dutch, most likely
                return Choice(cue, sure=False)
            if detection.confidence >= FIRST_MESSAGE_CONFIDENCE:
                return Choice(detection.language, sure=False)
            return Choice(DEFAULT_LANGUAGE, sure=False)
        return Choice(self._running(text, letters, detection, script, decisive_script, current))

    def _running(
        self,
        text: str,
        letters: list[str],
        detection: Detection,
        script: str,
        decisive_script: str | None,
        current: str,
    ) -> str:
        """The language of a message in a conversation that has one."""
        if detection.language == current:
            return current
        if decisive_script:
            return decisive_script
        if (
            script != "LATIN"
            and script not in _scripts_of(current)
            and script in _scripts_of(detection.language)
        ):
            # A non-Latin script the conversation's language does not use: clearly not it.
            return detection.language
        # Otherwise only a long, confident message switches: a Latin "ok" in a Persian
        # conversation, or "thanks" in a Dutch one, says nothing about the language.
        return detection.language if self._clearly(text, letters, detection) else current

    @staticmethod
    def _clearly(text: str, letters: list[str], detection: Detection) -> bool:
        return (
            detection.confidence >= SWITCH_CONFIDENCE
            and detection.confidence >= SWITCH_MARGIN * detection.runner_up
            and len(_WORD.findall(text)) >= SWITCH_MIN_WORDS
            and len(letters) >= SWITCH_MIN_LETTERS
        )


def _prose(text: str) -> str:
    """`text` with markup, addresses, e-mail addresses and code replaced by spaces."""
    parts = _WORDS_AND_SPACES.split(_MARKUP.sub(" ", text))
    return "".join(part if part.isspace() or _is_prose(part) else " " for part in parts)


def _is_prose(word: str) -> bool:
    if "@" in word[1:-1]:  # someone@example.com, @handles alone are fine
        return False
    for start in _ADDRESS_STARTS:
        found = word.find(start)
        if found != -1 and len(word) > found + len(start):
            return False
    # Code: a symbol with a letter or digit after it ("window.pwned", "a=1", "(x)"); a
    # sentence's own punctuation ("ok!!", "bedankt.") has none.
    symbol = next((i for i, char in enumerate(word) if char in _CODE_SYMBOLS), None)
    return symbol is None or not any(char.isalnum() or char == "_" for char in word[symbol + 1 :])


def _sample(text: str) -> str:
    """The first DETECTION_SAMPLE characters, cut at a space when there is one."""
    if len(text) <= DETECTION_SAMPLE:
        return text
    cut = text.rfind(" ", DETECTION_SAMPLE // 2, DETECTION_SAMPLE)
    return text[: cut if cut != -1 else DETECTION_SAMPLE]


def _cue_language(text: str, languages: tuple[str, ...]) -> tuple[str | None, int]:
    """The one configured language whose greeting or function words the text uses most,
    and how many of its words it uses."""
    words = _WORD.findall(text.casefold())
    hits = {code: sum(word in _CUES[code] for word in words) for code in languages if code in _CUES}
    ranked = sorted(hits.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] == 0:
        return None, 0
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None, 0
    return ranked[0]


def _looks_like_bare_vietnamese(words: list[str]) -> bool:
    if len(words) < 2 or any(not word.isascii() for word in words):
        return False
    hits = sum(word in _BARE_VIETNAMESE for word in words)
    return hits >= 2 and hits / len(words) >= 0.5


_SCRIPTS = {
    "he": {"HEBREW"},
    "fa": {"ARABIC"},
    "ar": {"ARABIC"},
    "ru": {"CYRILLIC"},
    "uk": {"CYRILLIC"},
    "el": {"GREEK"},
    "hi": {"DEVANAGARI"},
    "zh": {"CJK"},
    "ja": {"HIRAGANA", "KATAKANA", "CJK"},
    "ko": {"HANGUL"},
}


def _scripts_of(code: str) -> set[str]:
    return _SCRIPTS.get(code, {"LATIN"})


def _unique_scripts(languages: tuple[str, ...]) -> dict[str, str]:
    """Scripts used by exactly one configured language (Latin never counts)."""
    by_script: dict[str, list[str]] = {}
    for code in languages:
        for script in _scripts_of(code):
            by_script.setdefault(script, []).append(code)
    return {
        script: codes[0]
        for script, codes in by_script.items()
        if len(codes) == 1 and script != "LATIN"
    }


def _dominant_script(letters: list[str]) -> str:
    counts: dict[str, int] = {}
    for char in letters:
        name = unicodedata.name(char, "")
        script = name.split(" ", 1)[0] if name else "UNKNOWN"
        counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.get)
