"""Personal data and do-not-translate terms swapped for numbered placeholders.

Third-party translators must never see a customer's e-mail address, phone, card, IBAN,
order number or name, and must not "translate" product names or the ``{placeholders}`` of
catalogue templates. :class:`Masker` finds those spans, replaces them by ``[[1]]``,
``[[2]]``, ... and afterwards puts the original characters back, tolerating what
translators do to the placeholders. The same detection redacts log lines.

Detection is rule based. spaCy's multilingual tokenizer (``spacy.blank("xx")``) gives word
boundaries in every script, so glossary terms, profile names and bare domains are matched
on tokens. Everything whose shape spans several tokens, or that customers glue onto
Hebrew/Persian words without a space, is found with regular expressions and then validated
(Luhn for cards, mod-97 for IBANs, date/amount shapes for phones).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tolk_core.normalize import for_nlu

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc


@dataclass(frozen=True)
class Span:
    """One thing found in the text; ``value`` is ``text[start:end]``."""

    start: int
    end: int
    kind: str  # email, url, phone, card, iban, order, name, term, placeholder
    value: str


@dataclass(frozen=True)
class Masked:
    """Text with placeholders; ``values[i]`` is what placeholder number ``i + 1`` stands for."""

    text: str
    values: tuple[str, ...]
    kinds: tuple[str, ...]


# Personal data; glossary terms and catalogue placeholders are not secret and stay in logs.
_REDACTED = frozenset({"email", "url", "phone", "card", "iban", "order", "name"})

# When two candidates of the same length overlap, the earlier kind in this list wins.
_PRIORITY = {
    kind: rank
    for rank, kind in enumerate(
        ("placeholder", "email", "url", "iban", "card", "phone", "order", "name", "term")
    )
}

# ---------------------------------------------------------------------------------------
# Placeholders in masked and translated text

# Translators pad placeholders with (no-break) spaces and bidi marks, drop one bracket pair,
# switch to full-width brackets or digits, or write the number in Persian digits.
_GAP = "[\\s\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069]{0,3}"
_OPEN = "[\\[\uff3b\u3010]"
_CLOSE = "[\\]\uff3d\u3011]"
_LOOSE = re.compile(rf"{_OPEN}{_GAP}{_OPEN}?{_GAP}(\d{{1,9}}){_GAP}{_CLOSE}?{_GAP}{_CLOSE}")
# What mask() writes; restored first so that the loose pattern never reaches across one.
_STRICT = re.compile(r"\[\[([0-9]{1,9})\]\]")
_CATALOGUE = re.compile(r"\{[a-z_]+\}")

# ---------------------------------------------------------------------------------------
# E-mail addresses and URLs

# ASCII on purpose: the local part then stops at a Hebrew or Persian word glued before it.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@{_HOST}\.[A-Za-z]{{2,}}(?![A-Za-z0-9\-])"
)
_URL_CHAR = '[^\\s<>"\\[\\]{}|\\\\^`«»“”]'
_URL = re.compile(
    rf"(?:https?|ftp)://{_URL_CHAR}+"
    rf"|(?<![A-Za-z0-9.@\-])www\.{_HOST}(?::\d{{1,5}})?(?:[/?#]{_URL_CHAR}*)?"
    # A dotted word is only a URL without "www." if a path follows; see _is_domain otherwise.
    rf"|(?<![A-Za-z0-9.@\-]){_HOST}\.[A-Za-z]{{2,}}(?::\d{{1,5}})?[/?#]{_URL_CHAR}*",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?'\")»”’،؛؟…"
_DOMAIN = re.compile(rf"{_HOST}\.([A-Za-z]{{2,}})")
# spaCy's like_url also accepts "it.then" and "sara.ahmadi", so a bare dotted word must
# end in a TLD that customers actually send us.
_TLDS = frozenset(
    "com net org info biz io ai app dev co me shop store online site tech cloud eu nl be de "
    "fr uk us ca au nz ie il ir vn ae sa tr es it pt ch at se no dk fi pl cz gr ru cn jp kr "
    "in br mx".split()
)

# ---------------------------------------------------------------------------------------
# Numbers: phones, cards, IBANs, orders. \d covers Persian and Arabic-Indic digits too.

_SP = "[ \u00a0\u202f]"
_DASH = "[-\u2010-\u2013\u2212\u05be]"
_LINK = rf"(?:{_SP}?(?:{_DASH}|[./]){_SP}?|{_SP})"
_PAREN = r"\(\+?\d{1,5}\)"
# Digit groups joined by single separators. Groups never touch without a separator, which
# keeps the regex linear on long digit strings.
_NUMBER_RUN = re.compile(
    rf"(?<![A-Za-z\d])(?<!\d[.,])"
    rf"(?:\+{_SP}?)?(?:{_PAREN}{_SP}?)?\d+"
    rf"(?:(?:{_LINK}|{_SP}?{_PAREN}{_SP}?)\d+)*"
    rf"(?![A-Za-z\d])"
)
_ORDER = re.compile(
    rf"(?<![A-Za-z\d])(?<!\d[.,])#?"
    # "10 001" but not the middle of "1 000 000".
    rf"(?:\d{{5,6}}|(?<!\d{_SP})\d{{2,3}}{_SP}\d{{3}}(?!{_SP}\d{{3}}(?!\d)))"
    rf"(?![A-Za-z\d]|[.,]\d)"
)
_IBAN_HEAD = re.compile(r"(?<![A-Za-z\d])[A-Za-z]{2}\d{2}")
# What may follow the head: up to 30 letters and digits, single spaces between groups.
_IBAN_TAIL = re.compile(r"(?:[ \u00a0]?[A-Za-z\d]){1,30}")
_IBAN_LETTERS = str.maketrans(
    {chr(code): str(code - 55) for code in range(65, 91)}
    | {chr(code + 32): str(code - 55) for code in range(65, 91)}
)
_DIGIT_GROUP = re.compile(r"\d+")
_CURRENCY_SIGNS = "$€£¥₪₫﷼₹₽"
_CURRENCY_BEFORE = re.compile(
    rf"(?:[{_CURRENCY_SIGNS}]|(?<![A-Za-z])(?:usd|eur|gbp|vnd|irr|ils|nis))[ \u00a0]?\Z",
    re.IGNORECASE,
)
_CURRENCY_AFTER = re.compile(
    rf"[ \u00a0]?(?:[{_CURRENCY_SIGNS}]"
    # Vietnamese keyboards often send "đồng" decomposed.
    rf"|(?:đồng|{unicodedata.normalize('NFD', 'đồng')}|đ|vnd|usd|eur|euros?|dollars?|tomans?"
    r"|rials?|shekels?"
    r"|تومان|ریال|دلار|یورو|שקל|ש\"ח|ש״ח|דולר|יורו)(?![^\W\d_]))",
    re.IGNORECASE,
)

# ---------------------------------------------------------------------------------------
# Names

# Parts of a profile name that are ordinary words in our languages ("de" is Dutch "the",
# Vietnamese "văn"/"thị" are syllables of countless words); the full name still matches.
_NAME_PARTICLES = frozenset(
    "al el bin ibn ben bint abu da de del della der den des di du la le ten ter van von "
    "văn thị בן בת".split()
)
_NAME_SPLIT = re.compile("[\\s\\-\u2010]+")

# ---------------------------------------------------------------------------------------
# spaCy

_SYMBOL_RUN = re.compile(r"[^\w\s]{8,}")
# Longer than any name, term or domain that spaCy has to find.
_LONG_RUN = re.compile(r"\S{100,}")
# What names and domains may contain besides letters, digits and marks.
_NAME_PUNCTUATION = frozenset(".-'’\u2010")

# The shared spaCy vocabulary keeps every string it has seen; start afresh past this size
# so a long-running gateway does not grow without bound.
_MAX_STRINGS = 500_000


class Masker:
    """Finds, masks and restores personal data and glossary terms.

    One instance serves every request; the spaCy pipeline is built on first use.
    """

    def __init__(self, glossary: Iterable[str] = ()) -> None:
        terms = (" ".join(term.split()) for term in glossary)
        self._glossary = tuple(dict.fromkeys(term for term in terms if term))
        # (pipeline, glossary matcher), replaced as one so concurrent callers never mix them.
        self._spacy: tuple[Language, PhraseMatcher | None] | None = None
        # The gateway masks in worker threads (off the event loop); spaCy's tokenizer and
        # vocabulary are not safe to share between threads, so one thread uses them at a time.
        self._spacy_lock = threading.Lock()

    def find(self, text: str, names: Iterable[str] = ()) -> list[Span]:
        """Non-overlapping spans sorted by position; the longest candidate wins a conflict."""
        return _resolve(self._candidates(text, names), len(text))

    def mask(self, text: str, names: Iterable[str] = ()) -> Masked:
        """Replace every found span by ``[[n]]``; equal values share a number."""
        # Text that already looks like a placeholder is masked as well, or unmask would
        # "restore" it; this is what makes mask -> unmask the identity for any input.
        lookalikes = [
            Span(m.start(), m.end(), "placeholder", m.group()) for m in _LOOSE.finditer(text)
        ]
        spans = _resolve(self._candidates(text, names), len(text), lookalikes)
        numbers: dict[str, int] = {}
        kinds: list[str] = []
        pieces: list[str] = []
        position = 0
        for span in spans:
            if span.value not in numbers:
                numbers[span.value] = len(numbers) + 1
                kinds.append(span.kind)
            pieces += (text[position : span.start], f"[[{numbers[span.value]}]]")
            position = span.end
        pieces.append(text[position:])
        return Masked("".join(pieces), tuple(numbers), tuple(kinds))

    def unmask(self, translated: str, masked: Masked) -> str:
        """Put the values back; values whose placeholder the translator lost go at the end."""
        restored: set[int] = set()

        def restore(match: re.Match[str]) -> str:
            number = int(match.group(1))  # int() reads Persian and full-width digits too
            if not 1 <= number <= len(masked.values):
                return match.group()
            restored.add(number)
            return masked.values[number - 1]

        pieces: list[str] = []
        position = 0
        for match in _STRICT.finditer(translated):
            pieces += (_LOOSE.sub(restore, translated[position : match.start()]), restore(match))
            position = match.end()
        pieces.append(_LOOSE.sub(restore, translated[position:]))
        result = "".join(pieces)
        lost = [value for n, value in enumerate(masked.values, 1) if n not in restored]
        if lost:
            glue = " " if result and not result[-1].isspace() else ""
            result += glue + " ".join(lost)
        return result

    def redact(self, text: str, names: Iterable[str] = ()) -> str:
        """The text for logs: personal data becomes ``[email]``, ``[phone]``, ..."""
        pieces: list[str] = []
        position = 0
        for span in self.find(text, names):
            if span.kind in _REDACTED:
                pieces += (text[position : span.start], f"[{span.kind}]")
                position = span.end
        pieces.append(text[position:])
        return "".join(pieces)

    def _candidates(self, text: str, names: Iterable[str]) -> list[Span]:
        variants = _name_variants(names)
        with self._spacy_lock:
            tokens = list(self._token_spans(text, variants))
        return [*_pattern_spans(text), *tokens]

    def _token_spans(self, text: str, names: tuple[str, ...]) -> Iterator[Span]:
        nlp, terms = self._pipeline()
        doc = _keyed(nlp, text)
        # Token offsets read once: a name repeated through a long text matches thousands
        # of times, and each doc[i] builds a Token object.
        bounds: list[tuple[int, int]] = []
        for token in doc:
            start, end = token.idx, token.idx + len(token)
            bounds.append((start, end))
            if token.like_url and _is_domain(token.text):
                yield Span(start, end, "url", text[start:end])
        matchers = [(terms, "term")] if terms is not None else []
        if names:
            matchers.append((_phrase_matcher(nlp, names), "name"))
        for matcher, kind in matchers:
            for _, first, last in matcher(doc):
                start, end = bounds[first][0], bounds[last - 1][1]
                yield Span(start, end, kind, text[start:end])

    def _pipeline(self) -> tuple[Language, PhraseMatcher | None]:
        if self._spacy is None or len(self._spacy[0].vocab.strings) > _MAX_STRINGS:
            import spacy  # imported here: loading spaCy is slow and not every caller masks

            nlp = spacy.blank("xx")
            self._spacy = nlp, _phrase_matcher(nlp, self._glossary) if self._glossary else None
        return self._spacy


def _key(text: str) -> str:
    # Matching form: NFC (decomposed Vietnamese), Persian letters for Arabic-keyboard
    # ones, no niqqud or ZWNJ, ASCII digits, case-folded.
    return for_nlu(text).casefold()


def _keyed(nlp: Language, text: str) -> Doc:
    # spaCy splits affixes off one at a time, which is quadratic on a long run of symbols
    # (4,000 emoji take seconds). Such runs cannot be part of a name, term or domain;
    # blanking them keeps every other character at its offset.
    text = _SYMBOL_RUN.sub(lambda run: " " * len(run.group()), text)
    # The same holds for punctuation mixed with letters in a long run without spaces
    # ("a:" * 2000 took 50 ms of CPU, 4,000 characters of "a:::" 75 ms): inside such a run,
    # punctuation and symbols other than those of names and domains become spaces.
    text = _LONG_RUN.sub(_spaced_out, text)
    doc = nlp.make_doc(text)
    # A message repeats its words; keying each distinct word once halves the cost of a
    # long one.
    keys: dict[str, str] = {}
    for token in doc:
        word = token.text
        key = keys.get(word)
        if key is None:
            key = keys[word] = _key(word)
        token.norm_ = key
    return doc


def _spaced_out(run: re.Match[str]) -> str:
    return "".join(
        " " if unicodedata.category(char)[0] in "PS" and char not in _NAME_PUNCTUATION else char
        for char in run.group()
    )


def _phrase_matcher(nlp: Language, phrases: Iterable[str]) -> PhraseMatcher:
    from spacy.matcher import PhraseMatcher

    matcher = PhraseMatcher(nlp.vocab, attr="NORM")
    matcher.add("phrase", [_keyed(nlp, phrase) for phrase in phrases])
    return matcher


def _name_variants(names: Iterable[str]) -> tuple[str, ...]:
    """Each full name and each part of two or more letters, in first-seen order."""
    if isinstance(names, str):  # one name passed bare would otherwise be read letter by letter
        names = (names,)
    variants: dict[str, None] = {}
    for name in names:
        full = " ".join(name.split())
        for variant in (full, *_NAME_SPLIT.split(full)):
            letters = sum(char.isalpha() for char in variant)
            if letters >= 2 and (variant == full or _key(variant) not in _NAME_PARTICLES):
                variants[variant] = None
    return tuple(variants)


def _is_domain(word: str) -> bool:
    match = _DOMAIN.fullmatch(word)
    # "it.Then" is a missing space after a full stop, not a domain.
    return bool(match) and match.group(1).lower() in _TLDS and not match.group(1).istitle()


def _resolve(candidates: Iterable[Span], size: int, forced: Iterable[Span] = ()) -> list[Span]:
    """Keep forced spans, then the longest candidates that do not overlap what is kept."""
    taken = bytearray(size)
    chosen: list[Span] = []
    for span in forced:
        taken[span.start : span.end] = b"\x01" * (span.end - span.start)
        chosen.append(span)
    for span in sorted(candidates, key=lambda s: (s.start - s.end, s.start, _PRIORITY[s.kind])):
        if taken.find(1, span.start, span.end) == -1:
            taken[span.start : span.end] = b"\x01" * (span.end - span.start)
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _pattern_spans(text: str) -> Iterator[Span]:
    """Candidates found with regular expressions on the raw text."""
    for match in _CATALOGUE.finditer(text):
        yield Span(match.start(), match.end(), "placeholder", match.group())
    for match in _EMAIL.finditer(text):
        yield Span(match.start(), match.end(), "email", match.group())
    for match in _URL.finditer(text):
        end = _trim_url(text, match.start(), match.end())
        yield Span(match.start(), end, "url", text[match.start() : end])
    for match in _IBAN_HEAD.finditer(text):
        end = _iban_end(text, match.start())
        if end is not None:
            yield Span(match.start(), end, "iban", text[match.start() : end])
    for match in _NUMBER_RUN.finditer(text):
        kind = _number_kind(text, match.start(), match.end())
        if kind is not None:
            yield Span(match.start(), match.end(), kind, match.group())
    for match in _ORDER.finditer(text):
        if not _near_currency(text, match.start(), match.end()):
            yield Span(match.start(), match.end(), "order", match.group())


def _trim_url(text: str, start: int, end: int) -> int:
    """Sentence punctuation after a URL is not part of it; a closing bracket may be."""
    opened, closed = text.count("(", start, end), text.count(")", start, end)
    while end > start + 1:
        last = text[end - 1]
        if last == ")":
            if closed <= opened:
                break
            closed -= 1
        elif last not in _URL_TRAILING:
            break
        end -= 1
    return end


def _digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())


def _iban_end(text: str, start: int) -> int | None:
    """End of the IBAN starting at ``start`` (country code, check digits), if valid.

    The longest valid candidate wins: the word after an IBAN may itself look like a group
    of four. Candidates end where a group of characters ends; one pass over the groups
    carries the mod-97 remainder along instead of validating each candidate from scratch
    (which made 800 "NL12 " 60 ms of CPU).
    """
    tail = _IBAN_TAIL.match(text, start + 4)
    if tail is None:
        return None
    complete = tail.end() == len(text) or not _iban_char(text[tail.end()])
    # groups[0] is glued to the country code and check digits ("" when a space follows).
    groups = tail.group().replace("\u00a0", " ").split(" ")
    # The country code and check digits count as if they came last; letters are 10-35.
    head = text[start : start + 4].translate(_IBAN_LETTERS)
    head_scale, head_value = 10 ** len(head), int(head)
    longest = None
    remainder, count, position = 0, 0, tail.start()
    for index, group in enumerate(groups):
        position += len(group) + (index > 0)
        if not group:
            continue
        digits = group.translate(_IBAN_LETTERS)
        remainder = (remainder * 10 ** len(digits) + int(digits)) % 97
        count += len(group)
        length = len(group) + (4 if index == 0 else 0)
        # Written in groups, every group but the last has four characters.
        grouping = index == 0 or length <= 4
        if (
            (complete or index < len(groups) - 1)
            and 15 <= 4 + count <= 34
            and grouping
            and (remainder * head_scale + head_value) % 97 == 1
        ):
            longest = position
        if length != 4:  # no longer candidate can be grouped correctly
            break
    return longest


def _iban_char(char: str) -> bool:
    return (char.isascii() and char.isalpha()) or char.isdecimal()


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _number_kind(text: str, start: int, end: int) -> str | None:
    """``card``, ``phone`` or None for a run of digit groups."""
    raw = text[start:end]
    digits = _digits(raw)
    if not 8 <= len(digits) <= 19:  # neither a phone nor a card: most runs, cheaply
        return None
    groups = _DIGIT_GROUP.findall(raw)
    links = [_link(separator) for separator in _DIGIT_GROUP.split(raw)[1:-1]]
    formatted = raw.startswith("+") or "(" in raw
    if (
        not formatted
        and 13 <= len(digits) <= 19
        and set(links) <= {" ", "-"}
        and _card_grouping([len(group) for group in groups])
        and _luhn_valid(digits)
    ):
        return "card"
    if not 8 <= len(digits) <= 15 or _near_currency(text, start, end):
        return None
    if not formatted and (_date_like(groups) or _amount_like(groups, links)):
        return None
    return "phone"


def _link(separator: str) -> str:
    core = separator.strip(" \u00a0\u202f")
    if not core:
        return " "
    if "(" in core or ")" in core:
        return "("
    return core if core in "./" else "-"


def _card_grouping(lengths: list[int]) -> bool:
    # Compact, groups of four (the last may be shorter) or Amex/Diners 4-6-5 / 4-6-4.
    if len(lengths) == 1 or lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(length == 4 for length in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _date_like(groups: list[str]) -> bool:
    if len(groups) != 3:
        return False
    first, middle, last = (len(group) for group in groups)
    return middle <= 2 and ((first == 4 and last <= 2) or (first <= 2 and last == 4))


def _amount_like(groups: list[str], links: list[str]) -> bool:
    # "12 500 000" or "12.500.000" (thousands) and "12345678.99" (decimals); phone
    # numbers written like that start with 0 or +.
    thousands = (
        len(set(links)) == 1
        and links[0] in " ."
        and len(groups[0]) <= 3
        and _digits(groups[0][0]) != "0"
        and all(len(group) == 3 for group in groups[1:])
    )
    decimals = links.count(".") == 1 and links[-1] == "." and len(groups[-1]) <= 2
    return thousands or decimals


def _near_currency(text: str, start: int, end: int) -> bool:
    return bool(
        _CURRENCY_BEFORE.search(text, max(0, start - 5), start) or _CURRENCY_AFTER.match(text, end)
    )
