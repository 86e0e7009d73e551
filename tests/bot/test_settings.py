"""Configuration mistakes are named before anything starts."""

import pytest

from bot.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"TOLK_LANGUAGES": "en,xx"}, "xx has no trained NLU"),
        ({"TOLK_LANGUAGES": "nl,fa"}, "must include the pivot language"),
        ({"TOLK_TRANSLATOR": "babelfish"}, "unknown translator"),
        ({"TOLK_TRANSLATOR": "libre"}, "needs TOLK_TRANSLATOR_URL"),
        ({"TOLK_PORT": "eighty"}, "TOLK_PORT must be a number"),
        ({"TOLK_AGENT_TIMEOUT": "-5"}, "TOLK_AGENT_TIMEOUT must be positive"),
        ({"TELEGRAM_WEBHOOK_URL": "https://x.example/telegram/webhook"}, "TELEGRAM_TOKEN"),
        (
            {"TELEGRAM_TOKEN": "1:A", "TELEGRAM_WEBHOOK_URL": "https://x.example/t"},
            "needs TELEGRAM_SECRET_TOKEN",
        ),
        ({"TELEGRAM_TOKEN": "1:A", "TELEGRAM_SECRET_TOKEN": "not ok!"}, "A-Z a-z 0-9"),
    ],
)
def test_a_setting_that_cannot_work_is_named(env, says):
    with pytest.raises(SettingsError, match=says):
        Settings.from_env(env)


def test_telegram_polling_needs_only_the_token():
    settings = Settings.from_env({"TELEGRAM_TOKEN": "1:A", "TELEGRAM_API_BASE_URL": "http://h/"})
    assert settings.telegram_token == "1:A" and settings.telegram_webhook_url is None
    assert settings.telegram_api_base_url == "http://h"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "shop.example.com", "[::]"])
def test_listening_beyond_this_machine_needs_an_api_token(host):
    with pytest.raises(SettingsError, match=r"TOLK_HOST.*TOLK_API_TOKEN"):
        Settings.from_env({"TOLK_HOST": host})
    settings = Settings.from_env({"TOLK_HOST": host, "TOLK_API_TOKEN": "s3cret"})
    assert settings.host == host and settings.api_token == "s3cret"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost", "LOCALHOST"])
def test_loopback_needs_no_token(host):
    assert Settings.from_env({"TOLK_HOST": host}).api_token is None


def test_the_proxy_is_trusted_only_when_told():
    assert Settings.from_env({}).trust_proxy is False
    assert Settings.from_env({"TOLK_TRUST_PROXY": "1"}).trust_proxy is True
    assert Settings.from_env({"TOLK_TRUST_PROXY": "false"}).trust_proxy is False
    with pytest.raises(SettingsError, match="TOLK_TRUST_PROXY"):
        Settings.from_env({"TOLK_TRUST_PROXY": "maybe"})


def test_drafts_go_to_a_review_file_outside_data(tmp_path):
    from tolk_core.project import PROJECT_ROOT

    default = Settings.from_env({}).nlu_drafts
    assert default == PROJECT_ROOT / "var" / "review" / "nlu-drafts.yml"
    chosen = Settings.from_env({"TOLK_NLU_DRAFTS": str(tmp_path / "drafts.yml")})
    assert chosen.nlu_drafts == (tmp_path / "drafts.yml").resolve()
    relative = Settings.from_env({"TOLK_NLU_DRAFTS": "var/review/other.yml"}).nlu_drafts
    assert relative == (PROJECT_ROOT / "var" / "review" / "other.yml").resolve()
    for inside in ("data/nlu/drafts.yml", "var/../data/x.yml", str(PROJECT_ROOT / "data" / "d")):
        with pytest.raises(SettingsError, match="TOLK_NLU_DRAFTS must be outside data/"):
            Settings.from_env({"TOLK_NLU_DRAFTS": inside})
    with pytest.raises(SettingsError, match="must name a file"):
        Settings.from_env({"TOLK_NLU_DRAFTS": str(tmp_path)})
