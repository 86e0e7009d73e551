"""The pipeline the gateway calls: mask -> memory -> translator -> memory -> unmask."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot.translation.backends import TranslatorUnavailable
from bot.translation.masking import Masker
from bot.translation.memory import MACHINE, TranslationMemory
from bot.translation.resilience import ResilientTranslator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Translation:
    text: str
    origin: str  # "human" | "machine" (from memory or the translator) | "same"


class TranslationService:
    def __init__(
        self,
        translator: ResilientTranslator | None,
        memory: TranslationMemory,
        masker: Masker,
    ) -> None:
        self.translator = translator
        self.memory = memory
        self.masker = masker

    @property
    def available(self) -> bool:
        return self.translator is not None

    async def translate(
        self, texts: list[str], source: str, target: str, names: Iterable[str] = ()
    ) -> list[Translation]:
        """Translations of `texts`, in order. Raises TranslatorUnavailable on a miss that
        the translator cannot serve; nothing personal ever reaches the translator."""
        if source == target:
            return [Translation(text, "same") for text in texts]
        names = [name for name in names if name]
        masked = [self.masker.mask(text, names) for text in texts]
        keys = list(dict.fromkeys(m.text for m in masked if m.text.strip()))
        known = await self.memory.lookup(keys, source, target)
        missing = [key for key in keys if key not in known]
        if missing:
            if self.translator is None:
                raise TranslatorUnavailable("no machine translator configured")
            translated = await self.translator.translate(missing, source, target)
            await self.memory.store(list(zip(missing, translated, strict=True)), source, target)
            known.update(
                {key: (text, MACHINE) for key, text in zip(missing, translated, strict=True)}
            )
        results = []
        for original, m in zip(texts, masked, strict=True):
            if not m.text.strip():
                results.append(Translation(original, "same"))
                continue
            text, origin = known[m.text]
            results.append(Translation(self.masker.unmask(text, m), origin))
        return results

    async def translate_one(
        self, text: str, source: str, target: str, names: Iterable[str] = ()
    ) -> Translation:
        return (await self.translate([text], source, target, names))[0]
