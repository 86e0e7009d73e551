"""Reading a survey answer typed or tapped in any of the five languages and their scripts.

Customers answer "5", "۵" (Persian digits), "٥" (Arabic-Indic), "vijf", "năm" or "nam"
(Vietnamese typed without diacritics), "חמש", "پنج", "five", "5/5", "5 stars", "⭐⭐⭐⭐⭐",
or tap a button whose payload is "/csat 5", "/ces 5", "/nps 5" ("/survey skip" to skip).
Anything else is not an answer: the survey is dropped and the message goes to the bot
as usual, so that a real question is never swallowed.

Two number words are also the word for "no": Persian "نه" (9) and Vietnamese "không"
(0). Alone they are read as "no, thanks" (skip), since a "no" counted as a score would
put a detractor or a promoter into the figures; with a unit or a scale ("نه از ده",
"không điểm", "không trên mười") they are the number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tolk_core.normalize import for_nlu

# Number words 0-10 per native language, as people type them (genders, spellings).
NUMBER_WORDS: dict[str, dict[str, int]] = {
    "en": {
        "zero": 0, "nil": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4,
        "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    },
    "nl": {
        "nul": 0, "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5,
        "zes": 6, "zeven": 7, "acht": 8, "negen": 9, "tien": 10,
    },
    "he": {
        "אפס": 0, "אחת": 1, "אחד": 1, "שתיים": 2, "שתים": 2, "שניים": 2, "שנים": 2,
        "שלוש": 3, "שלושה": 3, "ארבע": 4, "ארבעה": 4, "חמש": 5, "חמישה": 5, "שש": 6,
        "שישה": 6, "שבע": 7, "שבעה": 7, "שמונה": 8, "תשע": 9, "תשעה": 9, "עשר": 10,
        "עשרה": 10,
    },
    "fa": {
        "صفر": 0, "یک": 1, "دو": 2, "سه": 3, "چهار": 4, "پنج": 5, "شش": 6, "هفت": 7,
        "هشت": 8, "نه": 9, "ده": 10,
    },
    "vi": {
        "không": 0, "một": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
        "sáu": 6, "bảy": 7, "tám": 8, "chín": 9, "mười": 10,
    },
}  # fmt: skip

# Words that also mean "no": a skip alone, a number with a unit or scale (module doc).
_ALSO_NO = {"نه", "không", "khong"}

SKIP_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("skip", "no", "no thanks", "no thank you", "not now", "pass", "later", "nope"),
    "nl": ("overslaan", "sla over", "nee", "nee bedankt", "nee dank je", "niet nu", "later"),
    "he": ("דלג", "לדלג", "דילוג", "לא", "לא תודה", "לא עכשיו", "אחר כך"),
    "fa": ("رد", "رد کردن", "رد شو", "نه", "نه ممنون", "نه مرسی", "بعدا", "الان نه"),
    "vi": ("bỏ qua", "không", "không cảm ơn", "để sau", "thôi"),
}

# "out of", "/" and units around a score: "5/5", "5 van de 5", "۵ از ۵", "5 trên 5",
# "5 stars", "vijf sterren", "5 כוכבים", "۵ ستاره", "5 sao", "5 điểm".
_OF = r"(?:/|out of|of|van de|van|uit|op|מתוך|מ-|از|trên|tren|trong)"
_UNITS = (
    "stars", "star", "points", "point", "sterren", "ster", "punten", "punt", "כוכבים",
    "כוכב", "נקודות", "ستاره", "امتیاز", "sao", "điểm", "diem",
)  # fmt: skip
_STARS = re.compile(r"^[⭐★]+$")
_PAYLOAD = re.compile(r"^/(csat|ces|nps|survey)\s+(\d{1,2}|skip)$")
# What may surround an answer: spaces, full stops, exclamation marks, stars after it.
_TRIM = " \t\n.!,;:)(\"'«»“”‏‎"


@dataclass(frozen=True)
class Skip:
    """The customer declined the question."""


SKIP = Skip()


def _fold(text: str) -> str:
    """Lower case, ASCII digits, one spelling of Persian letters, no diacritics (people
    type Vietnamese and Dutch without them: "nam", "een"), no Hebrew points."""
    text = for_nlu(text).lower()
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", text.replace("đ", "d"))


def _table(first: str | None) -> list[tuple[str, int]]:
    """(folded word, number), the customer's language first, so that a word two languages
    share means what it means in theirs; longest first within a language."""
    order = [first] if first in NUMBER_WORDS else []
    order += [code for code in NUMBER_WORDS if code not in order]
    found: list[tuple[str, int]] = []
    seen: set[str] = set()
    for code in order:
        for word, number in sorted(NUMBER_WORDS[code].items(), key=lambda kv: -len(kv[0])):
            folded = _fold(word)
            if folded not in seen:
                seen.add(folded)
                found.append((folded, number))
    return found


_TABLES = {code: _table(code) for code in (*NUMBER_WORDS, None)}
_PUNCTUATION = re.compile(r"[\s,.!;:،]+")


def _words(text: str) -> str:
    """Folded, with punctuation between words as one space ("nee, bedankt!")."""
    return _PUNCTUATION.sub(" ", _fold(text)).strip(_TRIM)


_SKIPS = {_words(word) for words in SKIP_WORDS.values() for word in words}
_ALSO_NO_FOLDED = {_fold(word) for word in _ALSO_NO}
_UNIT = "(?:" + "|".join(re.escape(_fold(u)) for u in _UNITS) + r"|[⭐★]+)"


def _pattern(table: list[tuple[str, int]]) -> re.Pattern[str]:
    words = "|".join(re.escape(word) for word, _ in table)
    number = rf"(\d{{1,2}}|{words})"
    return re.compile(
        rf"^{number}(?:\s*{_OF}\s*{number})?(?:\s*({_UNIT}))?$",
        re.IGNORECASE,
    )


_PATTERNS = {code: _pattern(table) for code, table in _TABLES.items()}


def _value(token: str, table: dict[str, int]) -> int | None:
    if token.isdigit():
        return int(token)
    return table.get(token)


def read_answer(text: str, low: int, high: int, language: str | None = None) -> int | Skip | None:
    """The score (`low`..`high`), SKIP, or None when the text is not an answer."""
    stripped = text.strip()
    payload = _PAYLOAD.match(stripped.lower())
    if payload:
        if payload.group(2) == "skip":
            return SKIP
        number = int(payload.group(2))
        return number if low <= number <= high else None
    if stripped.startswith("/"):
        return None  # a command or another button: for the bot
    folded = _fold(stripped).strip(_TRIM)
    if not folded:
        return None
    if _STARS.match(folded):
        return len(folded) if low <= len(folded) <= high else None
    key = language if language in _PATTERNS else None
    match = _PATTERNS[key].match(folded)
    if match:
        table = dict(_TABLES[key])
        number, scale, unit = match.group(1), match.group(2), match.group(3)
        if number in _ALSO_NO_FOLDED and scale is None and unit is None:
            return SKIP
        value = _value(number, table)
        if scale is not None and _value(scale, table) != high:
            return None  # "4/10" on a 1-5 scale: not a rating we can read
        if value is not None and low <= value <= high:
            return value
        return None
    if _words(folded) in _SKIPS:
        return SKIP
    return None


def is_skip(text: str) -> bool:
    """Whether the text declines (a skip word or the skip button), for free-text questions."""
    stripped = text.strip()
    if stripped.lower() == "/survey skip":
        return True
    return _words(stripped) in _SKIPS
