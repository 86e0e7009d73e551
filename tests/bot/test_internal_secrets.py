"""Secrets between our own processes: from the environment, else generated once into var/."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError
from tolk_core import internal_secrets
from tolk_core.internal_secrets import VARIABLES, SecretError, bearer_matches, resolve

GIVEN = {name: f"given-{name.lower()}-0123456789" for name in VARIABLES}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_at_first_start_private_and_kept(tmp_path):
    directory = tmp_path / "var" / "secrets"
    first = resolve({}, directory)
    assert set(first) == set(VARIABLES)
    assert len(set(first.values())) == 4 and all(len(v) >= 40 for v in first.values())
    assert mode(directory) == 0o700
    files = sorted(directory.iterdir())
    assert [f.name for f in files] == ["actions_secret", "admin_token", "nlg_secret", "rasa_secret"]
    assert all(mode(f) == 0o600 for f in files)
    assert resolve({}, directory) == first  # the next start, and every other process


def test_the_environment_wins_and_writes_nothing(tmp_path):
    assert resolve(GIVEN, tmp_path / "secrets") == GIVEN
    assert not (tmp_path / "secrets").exists()


@pytest.mark.parametrize("value", ["short", "has a space in it ok", "dollar$sign-0123456789"])
def test_an_unusable_secret_is_named(tmp_path, value):
    with pytest.raises(SecretError, match="TOLK_NLG_SECRET"):
        resolve({**GIVEN, "TOLK_NLG_SECRET": value}, tmp_path)


def test_a_file_others_can_read_is_refused(tmp_path):
    resolve({}, tmp_path)
    os.chmod(tmp_path / "admin_token", 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        resolve({}, tmp_path)


def test_processes_starting_at_once_agree(tmp_path):
    code = (
        "import sys; from pathlib import Path; from tolk_core.internal_secrets import resolve; "
        "print(resolve({}, Path(sys.argv[1]))['TOLK_ACTIONS_SECRET'])"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE)
        for _ in range(6)
    ]
    values = {start.communicate(timeout=60)[0].strip() for start in starts}
    assert len(values) == 1 and all(start.returncode == 0 for start in starts)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "actions_secret",
        "admin_token",
        "nlg_secret",
        "rasa_secret",
    ]


def test_settings_read_them_once():
    settings = Settings.from_env(GIVEN)
    assert settings.rasa_secret == GIVEN["TOLK_RASA_SECRET"]
    assert settings.actions_secret == GIVEN["TOLK_ACTIONS_SECRET"]
    assert settings.nlg_secret == GIVEN["TOLK_NLG_SECRET"]
    assert settings.admin_token == GIVEN["TOLK_ADMIN_TOKEN"]
    assert GIVEN["TOLK_ADMIN_TOKEN"] not in repr(settings)  # logs never show them
    with pytest.raises(SettingsError, match="TOLK_ADMIN_TOKEN"):
        Settings.from_env({**GIVEN, "TOLK_ADMIN_TOKEN": "x"})


def test_settings_fall_back_to_var_secrets(monkeypatch, tmp_path):
    monkeypatch.setattr(
        internal_secrets, "resolve", lambda env, directory: resolve(env, tmp_path / "s")
    )
    settings = Settings.from_env({})
    assert settings.nlg_secret == (tmp_path / "s" / "nlg_secret").read_text().strip()


def test_bearer_matches_only_the_exact_header():
    assert bearer_matches("Bearer abc", "abc")
    for header in (None, "", "abc", "Bearer abcd", "bearer abc", "Bearer  abc", "Basic abc"):
        assert not bearer_matches(header, "abc")
    assert not bearer_matches("Bearer ", "")
    assert not bearer_matches("Bearer None", None)
