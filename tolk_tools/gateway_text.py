"""The gateway's text functions (tolk_tools/hostile_text.py measures them): every function
of `python -m bot serve` that reads what customers, agents or translators write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from bot.catalogue import fill, placeholders
from bot.channels.rest import MAX_NAME
from bot.channels.telegram.outbound import split_text
from bot.handoff.service import _EMAIL as FOLLOW_UP_EMAIL
from bot.language import LanguageChooser
from bot.logs import redact, service_hosts
from bot.settings import NATIVE_LANGUAGES
from bot.surveys.parsing import read_answer
from bot.translation.masking import Masked, Masker
from bot.translation.resilience import _pieces as translator_pieces
from tolk_core.language_names import PIVOT_CANDIDATES, named_languages
from tolk_core.normalize import clean, for_nlu
from tolk_tools.hostile_text import warmed

# Names the masker looks for in every text (profile names are customer input too).
NAMES = ("Alex Smith", "Nguyễn Văn Đức")
# Hosts as a deployment names its services; the hostile texts hold URLs on them too.
SERVICES = service_hosts(["http://rasa-1:5005", "http://10.0.3.4:5055", "https://example.com"])


@dataclass(frozen=True)
class Readers:
    """The objects with real data that the text functions need."""

    chooser: LanguageChooser
    masker: Masker
    masked: Masked  # what the translator's output is unmasked against

    @classmethod
    def load(cls) -> Readers:
        """As the gateway builds them (takes seconds: lingua models, spaCy)."""
        masker = Masker(("Tolk Pro", "Wi-Fi"))
        return cls(
            chooser=LanguageChooser(NATIVE_LANGUAGES + PIVOT_CANDIDATES),
            masker=masker,
            masked=masker.mask("Mail alex@example.com or call +31 6 1234 5678, Alex Smith", NAMES),
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
    "logs: redact, keeping our services' hosts": lambda r, t: redact(t, r.masker, SERVICES),
    "translator: cut into pieces": lambda r, t: translator_pieces(t, 500),
    "telegram: split": lambda r, t: split_text(t, 1000),
    "handoff: follow-up e-mail": lambda r, t: FOLLOW_UP_EMAIL.search(t),
    "surveys: answer (0-10)": lambda r, t: read_answer(t, 0, 10),
    "catalogue: fill": lambda r, t: fill(t, {"name": t, "order": t}),
    "catalogue: placeholders": lambda r, t: placeholders(t),
}
FUNCTION_NAMES = tuple(_FUNCTIONS)


def text_functions(readers: Readers) -> dict[str, Callable[[str], object]]:
    """Each function of one text, called once already so that what loads on first use
    (lingua's models, spaCy's vocabulary) is not timed later."""
    return warmed({name: partial(call, readers) for name, call in _FUNCTIONS.items()})
