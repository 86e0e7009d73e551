"""Configuration, read once from the environment and passed in."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NATIVE_LANGUAGES = ("en", "nl", "he", "fa", "vi")
PIVOT_LANGUAGE = "en"
TRANSLATORS = ("none", "google", "deepl", "microsoft", "libre", "mymemory")


class SettingsError(ValueError):
    """A configuration value that cannot work; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'tolk.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    actions_url: str = "http://127.0.0.1:5055"
    api_token: str | None = None
    languages: tuple[str, ...] = NATIVE_LANGUAGES
    host: str = "127.0.0.1"
    port: int = 8080
    support_email: str = "support@example.com"
    rasa_timeout: float = 30.0
    # A conversation idle this long starts a new session (matches domain.yml), and the
    # next reply discloses again that this is a bot.
    session_minutes: int = 60
    locales_dir: Path = field(default=PROJECT_ROOT / "locales")
    translator: str = "none"
    translator_url: str | None = None
    translator_key: str | None = None
    translator_timeout: float = 5.0
    # Terms never translated (brand, product names); order numbers are masked anyway.
    glossary: tuple[str, ...] = ("Tolk",)
    # An agent not seen for this long (no console connection, no API call) is offline;
    # their open tickets go back to the queue and the customers are told.
    agent_timeout: float = 60.0
    # Misunderstood messages in a row before a person takes over.
    handoff_after_misunderstandings: int = 2
    sweep_seconds: float = 5.0
    # Rasa's SQL tracker store (endpoints.yml), for erasing a customer's tracker.
    tracker_url: str | None = f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa-tracker.db'}"
    telegram_token: str | None = None
    # Webhook mode when set (the public https URL of /telegram/webhook), else polling.
    telegram_webhook_url: str | None = None
    telegram_secret_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    # Updates of one chat that arrive within this window are handled in update_id order.
    telegram_reorder_seconds: float = 0.15
    # A real shop's API (docs/shop-api.md); unset, the bot uses its seeded demo shop.
    shop_url: str | None = None
    shop_key: str | None = None
    # How often (seconds) the service looks for edited locales/*.yml and serves them.
    content_poll_seconds: float = 2.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default: str | None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, field: str, kind: type):
            return _number(name, get(name, None), getattr(defaults, field), kind)

        languages = tuple(
            code.strip().lower()
            for code in (get("TOLK_LANGUAGES", ",".join(defaults.languages)) or "").split(",")
            if code.strip()
        )
        unknown = [code for code in languages if code not in NATIVE_LANGUAGES]
        if unknown:
            raise SettingsError(
                f"TOLK_LANGUAGES: {', '.join(unknown)} has no trained NLU; "
                f"native languages are {', '.join(NATIVE_LANGUAGES)}"
            )
        if PIVOT_LANGUAGE not in languages:
            raise SettingsError(
                f"TOLK_LANGUAGES must include the pivot language '{PIVOT_LANGUAGE}'"
            )

        translator = (get("TOLK_TRANSLATOR", defaults.translator) or "none").lower()
        if translator not in TRANSLATORS:
            raise SettingsError(
                f"TOLK_TRANSLATOR: unknown translator {translator!r}; "
                f"one of {', '.join(TRANSLATORS)}"
            )
        translator_url = get("TOLK_TRANSLATOR_URL", None)
        if translator == "libre" and not translator_url:
            raise SettingsError("TOLK_TRANSLATOR=libre needs TOLK_TRANSLATOR_URL (your server)")
        if translator in ("deepl", "microsoft") and not get("TOLK_TRANSLATOR_KEY", None):
            raise SettingsError(f"TOLK_TRANSLATOR={translator} needs TOLK_TRANSLATOR_KEY")
        glossary = tuple(
            term.strip()
            for term in (get("TOLK_GLOSSARY", ",".join(defaults.glossary)) or "").split(",")
            if term.strip()
        )

        telegram_token = get("TELEGRAM_TOKEN", None)
        webhook_url = get("TELEGRAM_WEBHOOK_URL", None)
        secret = get("TELEGRAM_SECRET_TOKEN", None)
        if webhook_url and not telegram_token:
            raise SettingsError("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_TOKEN is not")
        if webhook_url and not secret:
            raise SettingsError(
                "TELEGRAM_WEBHOOK_URL needs TELEGRAM_SECRET_TOKEN (1-256 of A-Z a-z 0-9 _ -), "
                "so that only Telegram can post updates"
            )
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise SettingsError("TELEGRAM_SECRET_TOKEN may only use A-Z a-z 0-9 _ - (1-256)")

        shop_url = (get("TOLK_SHOP_URL", None) or "").rstrip("/") or None
        if shop_url and not re.match(r"https?://[^/\s]+", shop_url):
            raise SettingsError(
                f"TOLK_SHOP_URL must be an http:// or https:// address, got {shop_url!r}"
            )

        return cls(
            shop_url=shop_url,
            shop_key=get("TOLK_SHOP_KEY", None),
            telegram_token=telegram_token,
            telegram_webhook_url=webhook_url,
            telegram_secret_token=secret,
            telegram_api_base_url=(
                get("TELEGRAM_API_BASE_URL", defaults.telegram_api_base_url) or ""
            ).rstrip("/"),
            tracker_url=get("TOLK_TRACKER_URL", defaults.tracker_url),
            translator=translator,
            translator_url=translator_url,
            translator_key=get("TOLK_TRANSLATOR_KEY", None),
            translator_timeout=number("TOLK_TRANSLATOR_TIMEOUT", "translator_timeout", float),
            glossary=glossary,
            database_url=get("TOLK_DATABASE_URL", defaults.database_url) or "",
            rasa_url=(get("TOLK_RASA_URL", defaults.rasa_url) or "").rstrip("/"),
            actions_url=(get("TOLK_ACTIONS_URL", defaults.actions_url) or "").rstrip("/"),
            api_token=get("TOLK_API_TOKEN", None),
            languages=languages,
            host=get("TOLK_HOST", defaults.host) or defaults.host,
            port=number("TOLK_PORT", "port", int),
            support_email=get("TOLK_SUPPORT_EMAIL", defaults.support_email) or "",
            rasa_timeout=number("TOLK_RASA_TIMEOUT", "rasa_timeout", float),
            agent_timeout=number("TOLK_AGENT_TIMEOUT", "agent_timeout", float),
            handoff_after_misunderstandings=number(
                "TOLK_HANDOFF_AFTER_MISUNDERSTANDINGS", "handoff_after_misunderstandings", int
            ),
            sweep_seconds=number("TOLK_SWEEP_SECONDS", "sweep_seconds", float),
            content_poll_seconds=number("TOLK_CONTENT_POLL_SECONDS", "content_poll_seconds", float),
        )


def _number(name: str, raw: str | None, default, kind):
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value
