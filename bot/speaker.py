"""What the bot says, by response name, in a language: catalogue text with values filled."""

from __future__ import annotations

from bot.rasa_client import BotMessage
from bot.render import Renderer
from bot.settings import Settings
from tolk_core.language_names import display_name, own_name


class Speaker:
    def __init__(self, settings: Settings, renderer: Renderer) -> None:
        self.settings = settings
        self.renderer = renderer

    def variables(self, language: str | None = None) -> dict[str, object]:
        """Values every answer may use as {placeholders}."""
        return {
            "support_email": self.settings.support_email,
            "languages": ", ".join(display_name(code) for code in self.settings.languages),
            "language": own_name(language) if language else "",
            # The privacy notice and /privacy say how long we keep a conversation.
            "retention_days": self.settings.retention_days,
        }

    async def say(
        self, key: str, language: str, about: str | None = None, **values: object
    ) -> BotMessage:
        variables = {**self.variables(about or language), **values}
        message = await self.renderer.render(key, language, variables)
        if message is None:
            raise KeyError(f"no response {key!r} in the catalogue")
        return BotMessage(message["text"], message.get("buttons", []))

    async def weekdays(self, language: str) -> list[str]:
        names = (await self.say("utter_weekdays", language)).text.split("|")
        return [name.strip() for name in names]
