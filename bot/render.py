"""Rendering an answer in the customer's language.

Human-written catalogue text first; for a language without one, the English text is
machine-translated through the translation memory and says so in one short line; when
that fails too, the English text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.catalogue import Button, Catalogue, Response
from bot.translation.backends import TranslatorError
from bot.translation.service import TranslationService

log = logging.getLogger(__name__)

MT_NOTE = "utter_machine_translation_note"


class Renderer:
    def __init__(self, catalogue: Catalogue, translation: TranslationService) -> None:
        self.catalogue = catalogue
        self.translation = translation

    async def render(self, key: str, language: str, variables: Mapping[str, object]) -> dict | None:
        """{"text", "buttons"?, "language"} or None for an unknown response name."""
        found = self.catalogue.get(key, language)
        if found is None:
            return None
        response, found_language = found
        if found_language != language and self.translation.available:
            translated = await self._machine_translated(response, found_language, language)
            if translated is not None:
                response, found_language = translated, language
        message = response.render(variables)
        message["language"] = found_language
        return message

    async def _machine_translated(
        self, response: Response, source: str, target: str
    ) -> Response | None:
        note = self.catalogue.get(MT_NOTE, source)
        titles = [button.title for button in response.buttons]
        # Templates are translated before their {placeholders} are filled, so one memory
        # entry serves every customer.
        texts = [response.text, *titles, note[0].text if note else ""]
        try:
            results = await self.translation.translate(texts, source, target)
        except TranslatorError as error:
            log.warning("answer left in %s: %s", source, error)
            return None
        text, *button_titles, note_text = (result.text for result in results)
        machine_made = any(result.origin == "machine" for result in results[:-1])
        if machine_made and note_text:
            text = f"{text}\n{note_text}"
        buttons = tuple(
            Button(title, button.payload)
            for button, title in zip(response.buttons, button_titles, strict=True)
        )
        return Response(text, buttons)
