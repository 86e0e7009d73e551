"""Hostile texts, and how the slowest call of a text function on them is measured.

Every function that reads what customers, agents or translators write runs on text a
stranger controls, up to the length the channels accept (TEXT_LENGTH). A pattern that
backtracks, or a step whose cost grows faster than the text, freezes a process for every
conversation at once: `choose("." * 1000)` once took 9 s. The functions are listed per
process: the gateway's in tolk_tools/gateway_text.py, Rasa's and the action server's in
tolk_tools/rasa_text.py (run in Rasa's environment). `python -m bot bench` times each on
every text below and prints the slowest call; tests/bot/test_bounded_work.py and
tests/nlu_components/test_bounded_work.py hold each call to 50 ms on these texts and on
generated ones. Standard library only: both environments import it.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable

# The longest text a channel accepts (bot/channels/rest.py MAX_TEXT; a test checks).
TEXT_LENGTH = 4096

# Repeated to TEXT_LENGTH characters, each is the worst case of some pattern or step we had
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
    "http://rasa-1:5005/",  # a service's URL, kept whole (bot/logs.py)
    "http://10.0.3.4:5055/a?b ",
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


def repeated(unit: str, length: int = TEXT_LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def hostile_texts(length: int = TEXT_LENGTH) -> list[tuple[str, str]]:
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


def warmed(functions: dict[str, Callable[[str], object]]) -> dict[str, Callable[[str], object]]:
    """The functions, each called once already so that what loads on first use (lingua's
    models, spaCy's vocabulary, a classifier's vocabulary) is not timed later."""
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
