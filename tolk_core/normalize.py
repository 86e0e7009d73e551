"""Text normalisation shared by language detection, the NLU pipeline and slot parsing.

Customers type the same word in several byte sequences: Vietnamese keyboards often send
decomposed diacritics, Persian is typed on Arabic keyboards (ي/ك instead of ی/ک), the
zero-width non-joiner in "می‌خواهم" is as often a space or nothing, digits come in three
scripts, and Hebrew text copied from a source may carry niqqud. Training and run time
must see the same form, so both use :func:`for_nlu` (the Rasa tokenizer in
``nlu_components`` calls it).
"""

from __future__ import annotations

import re
import unicodedata

ZWNJ = "\u200c"

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits to ASCII.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")

# Invisible characters that copy-paste and RTL keyboards insert: zero-width space,
# word joiner, BOM, bidi marks and embeddings/isolates.
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[^\S\n]+")

# Arabic-keyboard letters folded to their Persian forms; only safe for text that goes
# to the NLU, which never sees Arabic itself (Arabic goes through the English pivot).
_PERSIAN_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه"})
# Hebrew points and cantillation (niqqud); letters and maqaf stay.
_NIQQUD = re.compile("[\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]")
# Arabic-script harakat and tatweel, which Persian writers add only for emphasis.
_HARAKAT = re.compile("[\u064b-\u065f\u0670\u0640]")
# The verbal prefixes می/نمی are written joined, with a ZWNJ or with a space.
_PERSIAN_PREFIX = re.compile(r"(?<![^\s])(ن?می) (?=[\u0600-\u06ff])")


def clean(text: str) -> str:
    """Script-neutral cleanup: NFC, ASCII digits, no invisible or control characters."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = text.translate(_DIGITS)
    return _SPACES.sub(" ", text).strip()


def for_nlu(text: str) -> str:
    """The one form the NLU is trained and queried on (native languages only)."""
    text = clean(text)
    text = _NIQQUD.sub("", text)
    text = _HARAKAT.sub("", text)
    text = text.translate(_PERSIAN_LETTERS)
    text = text.replace(ZWNJ, "")
    return _PERSIAN_PREFIX.sub(r"\1", text)
