"""The pipeline the gateway calls: mask -> memory -> translator -> memory -> unmask."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.translation.backends import TranslatorUnavailable
from bot.translation.masking import Masked, Masker
from bot.translation.memory import MACHINE, TranslationMemory
from bot.translation.resilience import ResilientTranslator

if TYPE_CHECKING:
    from bot.telemetry import Telemetry

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
        telemetry: Telemetry | None = None,
    ) -> None:
        self.translator = translator
        self.memory = memory
        self.masker = masker
        self._telemetry = telemetry

    @property
    def available(self) -> bool:
        return self.translator is not None

    async def translate(
        self,
        texts: list[str],
        source: str,
        target: str,
        names: Iterable[str] = (),
        conversation_id: int | None = None,
    ) -> list[Translation]:
        """Translations of `texts`, in order. Raises TranslatorUnavailable on a miss that
        the translator cannot serve.

        E-mail addresses, numbers and the `names` (the customer's, the agent's) are masked
        before the memory or the translator sees the text. Texts of a conversation (what
        the customer or the agent wrote) pass its `conversation_id`, so that erasing the
        customer erases what the memory kept of them; catalogue texts pass none."""
        if source == target:
            return [Translation(text, "same") for text in texts]
        names = [name for name in names if name]
        # In a worker thread: the first call loads spaCy (seconds), and a transcript is
        # many texts; the event loop keeps serving every other conversation meanwhile.
        masked = await asyncio.to_thread(self._mask, texts, names)
        keys = list(dict.fromkeys(m.text for m in masked if m.text.strip()))
        known = await self.memory.lookup(keys, source, target, conversation_id)
        missing = [key for key in keys if key not in known]
        if self._telemetry is not None:
            self._telemetry.memory_lookups(hits=len(keys) - len(missing), misses=len(missing))
        if missing:
            if self.translator is None:
                raise TranslatorUnavailable("no machine translator configured")
            translated = await self.translator.translate(missing, source, target)
            await self.memory.store(
                list(zip(missing, translated, strict=True)),
                source,
                target,
                conversation_id=conversation_id,
            )
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

    def _mask(self, texts: list[str], names: list[str]) -> list[Masked]:
        return [self.masker.mask(text, names) for text in texts]

    async def translate_one(
        self,
        text: str,
        source: str,
        target: str,
        names: Iterable[str] = (),
        conversation_id: int | None = None,
    ) -> Translation:
        return (await self.translate([text], source, target, names, conversation_id))[0]
