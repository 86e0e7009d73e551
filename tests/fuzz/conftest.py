"""The fuzzed service: one real app per module on loopback, with Telegram in webhook mode
and a (fake) machine translator.

Hypothesis profiles (per test, never loaded globally, so other tests keep theirs):
  fuzz-ci   derandomized, the examples `make test` runs in CI (default when CI is set)
  fuzz-dev  random, the same number of examples (default otherwise)
  fuzz-long random, 20 times as many: TOLK_FUZZ_PROFILE=fuzz-long pytest tests/fuzz
Choose with TOLK_FUZZ_PROFILE, or HYPOTHESIS_PROFILE when it names one of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import fields, replace

import pytest
from hypothesis import HealthCheck, settings

from bot.ratelimit import Rate
from bot.settings import Settings
from tests.conftest import REPORTS
from tests.fuzz.contract import Client, Contract, Figures
from tests.fuzz.service import LiveService, Urls
from tests.gateway_fixtures import ADMIN_TOKEN, NLG_SECRET

TELEGRAM_SECRET = "fuzz-secret_token"

_COMMON = {
    "deadline": None,  # each request is timed by the contract (1 s) instead
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("fuzz-ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz-dev", **_COMMON)
settings.register_profile("fuzz-long", **_COMMON)
_SCALE = {"fuzz-ci": 1, "fuzz-dev": 1, "fuzz-long": 20}


def _profile() -> str:
    for variable in ("TOLK_FUZZ_PROFILE", "HYPOTHESIS_PROFILE"):
        if os.environ.get(variable, "") in _SCALE:
            return os.environ[variable]
    return "fuzz-ci" if os.environ.get("CI") else "fuzz-dev"


PROFILE = _profile()


def fuzz(examples: int) -> settings:
    """Settings for one fuzz test: `examples` in CI, scaled by the profile."""
    return settings(settings.get_profile(PROFILE), max_examples=examples * _SCALE[PROFILE])


def fuzz_settings(base: Settings, urls: Urls, **overrides) -> Settings:
    """The service as a stranger meets it, with the fakes for Rasa and Telegram.

    Rate limits are lifted (all fuzzing comes from one address, as fast as it can): the
    limits have tests of their own; here every request must reach the code behind them."""
    lifted = {
        field.name: Rate(1_000_000, 1)
        for field in fields(Settings)
        if isinstance(getattr(base, field.name), Rate)
    }
    return replace(
        base,
        rasa_url=urls.rasa,
        actions_url=urls.rasa,
        rasa_timeout=5,
        nlg_secret=NLG_SECRET,
        admin_token=ADMIN_TOKEN,
        telegram_token="123456:TEST-TOKEN",
        telegram_api_base_url=urls.telegram,
        telegram_webhook_url="https://shop.example/telegram/webhook",
        telegram_secret_token=TELEGRAM_SECRET,
        telegram_reorder_seconds=0.01,
        # A translator, so that other languages go through masking and the pivot.
        translator="libre",
        translator_url=urls.translator,
        translator_timeout=2,
        **lifted,
        **overrides,
    )


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[LiveService]:
    directory = tmp_path_factory.mktemp("fuzz")
    base = Settings(
        database_url=f"sqlite:///{directory / 'tolk.db'}",
        tracker_url=f"sqlite:///{directory / 'rasa-tracker.db'}",
        nlu_drafts=directory / "review" / "nlu-drafts.yml",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PTB_TIMEDELTA", "true")  # as bot/cli.py does
        service = LiveService(lambda urls: fuzz_settings(base, urls)).start()
        try:
            yield service
        finally:
            service.stop()


@pytest.fixture(scope="module")
def figures(request) -> Iterator[Figures]:
    found = Figures()
    yield found
    if found.requests > 1:  # not for a module that only sets something up
        REPORTS.append(found.summary(f"fuzzing ({request.module.__name__}, profile {PROFILE})"))


@pytest.fixture(scope="module")
def client(live, figures) -> Iterator[Client]:
    checked = Client(live.url, Contract(), figures)
    yield checked
    checked.close()
