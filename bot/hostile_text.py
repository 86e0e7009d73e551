"""Hostile texts, and every function that reads what customers, agents or translators write.

Each of these functions runs on text a stranger controls, up to the length the channels
accept (MAX_TEXT). A pattern that backtracks, or a step whose cost grows faster than the
text, freezes the gateway for every conversation at once: `choose("." * 1000)` once took
9 s. `python -m bot bench` times every function on every text below and prints the
slowest call; tests/bot/test_bounded_work.py holds each call to 50 ms on these texts and
on generated ones.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.catalogue import fill, placeholders
from bot.channels.rest import MAX_NAME, MAX_TEXT
from bot.handoff.classifier import EscalationClassifier
from bot.handoff.escalation import EscalationPolicy
from bot.handoff.service import _EMAIL as FOLLOW_UP_EMAIL
from bot.handoff.service import _rating
from bot.language import LanguageChooser
from bot.language_names import PIVOT_CANDIDATES, named_languages
from bot.logs import redact
from bot.normalize import clean, for_nlu
from bot.settings import NATIVE_LANGUAGES, PROJECT_ROOT
from bot.shop import slots
from bot.telegram.outbound import split_text
from bot.translation.masking import Masked, Masker
from bot.translation.resilience import _pieces as translator_pieces

# Repeated to MAX_TEXT characters, each is the worst case of some pattern or step we had
# or could have: runs of punctuation (the language filter), "@" and "http://" (address
# patterns), digit groups (phones, IBANs, orders), brackets (placeholders), punctuation
# glued to letters (spaCy's affix splitting), capitals (shouting), whitespace without a
# line break (the translator's sentence splitter), scripts and bidi controls.
UNITS = (
    ".",
    "!",
    "?!",
    "!!a",
    "a@",
    "a.b@",
    "x@y.",
    "http://",
    "www.",
    "x.com/",
    "localhost/",
    "1",
    "1 ",
    "1-",
    "1.",
    "12,",
    "123 ",
    "+(1) ",
    "$1 ",
    "1€",
    "NL12 ",
    "NL12",
    "#1",
    "a",
    "a ",
    "a.",
    "a-",
    "a:",
    "a:::",
    "a/",
    "(a",
    "{a}",
    "[[",
    "[[1]] ",
    "[ [",
    "<",
    "<a",
    "/.",
    "a=b",
    "…a",
    "😀",
    "a😀",
    "AB ",
    "AB, ",
    "Aa ",
    " \t",
    "  \n",
    "\u202ea\u202c",
    "\u200f\u2067ש\u2069",
    "שלום hello سلام привет 你好 xin chào ",
    "ب۱",
    "我的订单在哪里。",
)
# Names the masker looks for in every text (profile names are customer input too).
NAMES = ("Alex Smith", "Nguyễn Văn Đức")


def repeated(unit: str, length: int = MAX_TEXT) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def hostile_texts(length: int = MAX_TEXT) -> list[tuple[str, str]]:
    """(label, text) pairs, every text `length` characters long."""
    texts = [(f"{unit!r} repeated", repeated(unit, length)) for unit in UNITS]
    rng = random.Random(10)
    alphabet = "aA1 .,!?@/:-<>[]{}()#=\"'\n\u202e\u200fש۱😀é"
    texts += [
        ("spaces between two words", "a" + " " * (length - 2) + "b"),
        ("markup", repeated('<b class="x">hi</b><script>alert(1)</script>', length)),
        ("random symbols", "".join(rng.choice(alphabet) for _ in range(length))),
        ("prose", repeated("Where is my order? I have been waiting for two weeks now. ", length)),
    ]
    return texts


@dataclass(frozen=True)
class Readers:
    """The objects with real data that the text functions need."""

    chooser: LanguageChooser
    masker: Masker
    masked: Masked  # what the translator's output is unmasked against
    classifier: EscalationClassifier
    policy: EscalationPolicy

    @classmethod
    def load(cls, root: Path = PROJECT_ROOT) -> Readers:
        """As the services build them (takes seconds: lingua models, spaCy, training)."""
        masker = Masker(("Tolk Pro", "Wi-Fi"))
        classifier = EscalationClassifier.train(root, NATIVE_LANGUAGES)
        return cls(
            chooser=LanguageChooser(NATIVE_LANGUAGES + PIVOT_CANDIDATES),
            masker=masker,
            masked=masker.mask("Mail alex@example.com or call +31 6 1234 5678, Alex Smith", NAMES),
            classifier=classifier,
            policy=EscalationPolicy.load(root / "data" / "escalation", classifier=classifier),
        )


# Every function that reads customer, agent or translator text, by name.
_FUNCTIONS: dict[str, Callable[[Readers, str], object]] = {
    "language: choose (new conversation)": lambda r, t: r.chooser.choose(t, None),
    "language: choose (Dutch conversation)": lambda r, t: r.chooser.choose(t, "nl"),
    "language: detect": lambda r, t: r.chooser.detect(t),
    "language: names in /language": lambda r, t: named_languages(t),
    "normalize: clean": lambda r, t: clean(t),
    "normalize: for_nlu": lambda r, t: for_nlu(t),
    "masking: mask": lambda r, t: r.masker.mask(t, NAMES),
    "masking: mask with it as the name": lambda r, t: r.masker.mask(t, [t[:MAX_NAME]]),
    "masking: unmask translator output": lambda r, t: r.masker.unmask(t, r.masked),
    "masking: redact": lambda r, t: r.masker.redact(t, NAMES),
    "logs: redact": lambda r, t: redact(t, r.masker),
    "translator: cut into pieces": lambda r, t: translator_pieces(t, 500),
    "slots: order number": lambda r, t: slots.order_number(t),
    "slots: e-mail": lambda r, t: slots.email(t),
    "slots: postal address": lambda r, t: slots.postal_address(t),
    "telegram: split": lambda r, t: split_text(t, 1000),
    "escalation: assess (en)": lambda r, t: r.policy.assess(t, "en", "track_order"),
    "escalation: assess (he, asked again)": (
        lambda r, t: r.policy.assess(t, "he", "track_order", (t, t, t))
    ),
    "escalation: classifier": lambda r, t: r.classifier.probability(t),
    "handoff: follow-up e-mail": lambda r, t: FOLLOW_UP_EMAIL.search(t),
    "handoff: satisfaction rating": lambda r, t: _rating(t),
    "catalogue: fill": lambda r, t: fill(t, {"name": t, "order": t}),
    "catalogue: placeholders": lambda r, t: placeholders(t),
}
FUNCTION_NAMES = tuple(_FUNCTIONS)


def text_functions(readers: Readers) -> dict[str, Callable[[str], object]]:
    """Each function of one text, called once already so that what loads on first use
    (lingua's models, spaCy's vocabulary) is not timed later."""
    functions = {name: partial(call, readers) for name, call in _FUNCTIONS.items()}
    for function in functions.values():
        function("warm up: Alex Smith, alex@example.com, ordered 10001")
    return functions


def worst_case(
    functions: dict[str, Callable[[str], object]], texts: list[tuple[str, str]]
) -> list[str]:
    """One line per function: its slowest call on `texts` (wall clock and CPU).

    What is loaded before (lingua's models, spaCy, scikit-learn) lives as long as the process,
    and a full garbage collection walking it takes 0.2-0.5 s: frozen, as a long-running
    service should freeze it after start, so that collections time only the new objects.
    """
    gc.collect()
    gc.freeze()
    lines = []
    for name, function in functions.items():
        worst = (0.0, 0.0, "")
        for label, text in texts:
            wall, cpu = time.perf_counter(), time.thread_time()
            function(text)
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            worst = max(worst, (wall, cpu, label))
        wall, cpu, label = worst
        lines.append(
            f"{name:<44} worst {wall * 1000:7.1f} ms (CPU {cpu * 1000:6.1f} ms)  on {label}"
        )
    gc.unfreeze()
    return lines
