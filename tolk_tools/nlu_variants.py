"""Writes data/nlu/<lang>/variants.yml: how customers mistype the hand-written examples.

Real messages carry typos, missing spaces, Vietnamese without diacritics, Persian with a
space where the zero-width non-joiner belongs, and order numbers, e-mail addresses and
greetings around the request (issue 11). The normaliser (tolk_core/normalize.py) already folds
Arabic-keyboard letters, digits, niqqud and the ZWNJ itself; this script adds what it
cannot fold, derived from the hand-written examples of each intent until the intent has
TARGET examples, at most MAX_PER_EXAMPLE per source example. Deterministic (seeded by
language and intent), so a rerun writes the same file; never an example that is already
a training or held-out example of any intent once normalised.

    .venv/bin/python -m tolk_tools.nlu_variants        # rewrite the files
    .venv/bin/python -m tolk_tools.nlu_variants --check  # fail if they are out of date
"""

from __future__ import annotations

import random
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

from tolk_core.nlu_data import GENERATED_EXAMPLES, example_key, nlu_examples
from tolk_core.project import NATIVE_LANGUAGES, PROJECT_ROOT

TARGET = 82
MAX_PER_EXAMPLE = 3
FILE = GENERATED_EXAMPLES
ZWNJ = "\u200c"

# Intents about one order or account: an order number or e-mail address fits in them.
_ACCOUNT = {
    "track_order", "cancel_order", "change_shipping_address", "request_refund",
    "track_refund", "get_invoice", "payment_issue", "update_email", "delete_account",
    "recover_password", "complain", "leave_feedback", "continue_by_email",
}  # fmt: skip
# Short replies where a greeting or an order number in front would change the meaning.
_BARE = {"greet", "goodbye", "thank", "affirm", "deny"}

_GREETINGS = {
    "en": ["hi, ", "hello, ", "hey ", "good morning, "],
    "nl": ["hoi, ", "hallo, ", "goedemiddag, ", "hey "],
    "he": ["היי, ", "שלום, ", "אהלן, ", "ערב טוב, "],
    "fa": ["سلام، ", "سلام ", "وقت بخیر، ", "درود، "],
    "vi": ["chào shop, ", "shop ơi ", "alo ", "chao ad, "],
}
_ORDER = {
    "en": ["order {n}: ", "re order #{n} - ", " (order {n})", ", order nr {n}"],
    "nl": ["bestelling {n}: ", "order {n} - ", " (bestelnummer {n})", ", ordernr {n}"],
    "he": ["הזמנה {n}: ", "לגבי הזמנה {n} - ", " (הזמנה {n})", ", מספר הזמנה {n}"],
    "fa": ["سفارش {n}: ", "درباره سفارش {n} - ", " (سفارش {n})", "، شماره سفارش {n}"],
    "vi": ["đơn {n}: ", "don hang {n} - ", " (mã đơn {n})", ", ma don {n}"],
}
_EMAILS = ["jan.devries@example.nl", "m.jones@example.com", "noa.levi@example.co.il",
           "reza.k@example.ir", "lan.nguyen@example.vn", "sam@example.com"]  # fmt: skip
_POLITE = {
    "en": [" please", " pls", " thanks", " asap"],
    "nl": [" aub", " graag", " alsjeblieft", " bedankt"],
    "he": [" בבקשה", " תודה", " דחוף", " בבקשה!"],
    "fa": [" لطفا", " ممنون", " مرسی", " فوری"],
    "vi": [" ạ", " nhé", " với ạ", " giúp mình"],
}


def strip_vietnamese(text: str) -> str:
    """Vietnamese as typed on a keyboard without a Vietnamese layout."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if sum(c.isalpha() for c in word) >= 4]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap" and word[j].isalpha() and word[j + 1].isalpha():
        word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    elif kind == "drop" and word[j].isalpha():
        word = word[:j] + word[j + 1 :]
    elif word[j].isalpha():
        word = word[:j] + word[j] + word[j:]
    words[i] = word
    return " ".join(words)


def _joined(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) < 3:
        return text
    i = rng.randrange(len(words) - 1)
    return " ".join([*words[:i], words[i] + words[i + 1], *words[i + 2 :]])


def _with_order(text: str, language: str, rng: random.Random) -> str:
    pattern = rng.choice(_ORDER[language]).format(n=rng.randrange(10000, 99999))
    return pattern + text if not pattern.startswith((" ", ",", "،")) else text + pattern


def _with_email(text: str, rng: random.Random) -> str:
    return (
        f"{text} ({rng.choice(_EMAILS)})"
        if rng.random() < 0.5
        else f"{rng.choice(_EMAILS)} - {text}"
    )


def candidates(text: str, language: str, intent: str, rng: random.Random) -> list[str]:
    """Ways a customer might type `text`, most telling first."""
    out = []
    if language == "vi" and strip_vietnamese(text) != text:
        out.append(strip_vietnamese(text))
    if language == "fa" and ZWNJ in text:
        out.append(text.replace(ZWNJ, " "))
    kinds = ["typo", "joined", "lower"]
    if intent in _BARE:  # "yesss", "no no": chat stretches and repeats short replies
        kinds += ["stretch", "repeat"]
    if intent not in _BARE:
        kinds += ["greeting"]
    if intent not in _BARE | {"complain", "request_human"}:  # not "this is unacceptable thanks"
        kinds += ["polite"]
    if intent in _ACCOUNT:
        kinds += ["order", "order", "email"]
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "typo":
            variant = _typo(text, rng)
        elif kind == "joined":
            variant = _joined(text, rng)
        elif kind == "stretch":
            stripped = text.rstrip("?!.؟ ")
            variant = stripped + stripped[-1:] * 2 if stripped[-1:].isalpha() else text
        elif kind == "repeat":
            variant = f"{text.rstrip('?!.؟ ')} {text.rstrip('?!.؟ ')}" if len(text) < 12 else text
        elif kind == "lower":
            variant = text.lower().rstrip("?!.؟ ")
        elif kind == "polite":
            variant = text.rstrip("?!.؟ ") + rng.choice(_POLITE[language])
        elif kind == "greeting":
            first = text[:1].lower() + text[1:] if language in ("en", "nl", "vi") else text
            variant = rng.choice(_GREETINGS[language]) + first
        elif kind == "order":
            variant = _with_order(text, language, rng)
        else:
            variant = _with_email(text, rng)
        out.append(variant)
    return out


def variants_for(root: Path, language: str) -> dict[str, list[str]]:
    folder = root / "data" / "nlu" / language
    by_intent: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.glob("*.yml")):
        if path.name != FILE:
            for text, intent in nlu_examples(path):
                by_intent[intent].append(text)
    taken = {example_key(t) for texts in by_intent.values() for t in texts}
    # Held-out utterances of every language stay out of training (tests/nlu/test_data.py).
    for path in sorted((root / "tests" / "nlu" / "heldout").glob("*.yml")):
        taken |= {example_key(text) for text, _ in nlu_examples(path)}
    found: dict[str, list[str]] = {}
    for intent in sorted(by_intent):
        sources = by_intent[intent]
        needed = TARGET - len(sources)
        if needed <= 0:
            continue
        rng = random.Random(f"{language}/{intent}")
        made: list[str] = []
        per_source = {text: candidates(text, language, intent, rng) for text in sources}
        for round_ in range(MAX_PER_EXAMPLE):
            for text in sources:
                for variant in per_source[text][round_:]:
                    key = example_key(variant)
                    if key and key not in taken and "\n" not in variant:
                        taken.add(key)
                        made.append(variant)
                        per_source[text].remove(variant)
                        break
                if len(made) >= needed:
                    break
            if len(made) >= needed:
                break
        found[intent] = made
    return found


def render(language: str, found: dict[str, list[str]]) -> str:
    lines = [
        'version: "3.1"',
        "# Generated by `python -m tolk_tools.nlu_variants` from the other files in this folder:",
        "# typos, missing spaces, missing diacritics, order numbers and e-mail addresses.",
        "# Do not edit; edit the hand-written examples and rerun.",
        "nlu:",
    ]
    for intent, texts in found.items():
        if texts:
            lines += [f"- intent: {intent}", "  examples: |"]
            lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for language in NATIVE_LANGUAGES:
        path = PROJECT_ROOT / "data" / "nlu" / language / FILE
        text = render(language, variants_for(PROJECT_ROOT, language))
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(PROJECT_ROOT)))
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python -m tolk_tools.nlu_variants):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
