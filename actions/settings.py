"""The action server's configuration, read once at start (scripts/actions_server.py) and
kept by `actions.services`: an action never reads the environment itself, so a mistake
in a variable that only the gateway uses cannot break the actions."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from tolk_core import internal_secrets
from tolk_core.config import SettingsError, http_url, positive, value
from tolk_core.project import PROJECT_ROOT

__all__ = ["ActionSettings", "SettingsError"]


@dataclass(frozen=True)
class ActionSettings:
    # The demo shop's tables live in the gateway's database (the default SQLite file).
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'tolk.db'}"
    # A real shop's API (docs/shop-api.md); unset, the actions use the seeded demo shop.
    shop_url: str | None = None
    shop_key: str | None = field(default=None, repr=False)
    # Misunderstood messages in a row before a person takes over.
    handoff_after_misunderstandings: int = 2
    # What Rasa must send (endpoints.yml); from_env always has one.
    actions_secret: str | None = field(default=None, repr=False)

    @property
    def demo_shop(self) -> bool:
        """Whether the actions talk to the demo shop (which the action server seeds)."""
        return not self.shop_url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ActionSettings:
        env = os.environ if env is None else env
        defaults = cls()
        try:
            secrets = internal_secrets.resolve(env, PROJECT_ROOT / "var" / "secrets")
        except (internal_secrets.SecretError, OSError) as error:
            raise SettingsError(str(error)) from None
        return cls(
            database_url=value(env, "TOLK_DATABASE_URL", defaults.database_url) or "",
            shop_url=http_url("TOLK_SHOP_URL", value(env, "TOLK_SHOP_URL")),
            shop_key=value(env, "TOLK_SHOP_KEY"),
            handoff_after_misunderstandings=positive(
                "TOLK_HANDOFF_AFTER_MISUNDERSTANDINGS",
                value(env, "TOLK_HANDOFF_AFTER_MISUNDERSTANDINGS"),
                defaults.handoff_after_misunderstandings,
                int,
            ),
            actions_secret=secrets[internal_secrets.ACTIONS_SECRET],
        )
