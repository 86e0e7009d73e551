"""Edited answers are live without retraining or a restart: watched, or reloaded on request."""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from tests.gateway_fixtures import ADMIN_HEADERS, NLG_HEADERS
from tolk_tools.content import run_reload

NEW_GREETING = "Hi there, freshly edited!"


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(PROJECT_ROOT / "locales", target, ignore=shutil.ignore_patterns("drafts"))
    return target


@pytest.fixture
def settings(request, settings, locales):
    """The conftest's settings, serving a copy of locales/ watched every 50 ms; a test
    changes more with `@pytest.mark.parametrize("settings", [{...}], indirect=True)`."""
    overrides = getattr(request, "param", {})
    return replace(settings, **{"locales_dir": locales, "content_poll_seconds": 0.05, **overrides})


def nlg_body(response: str, language: str = "en") -> dict:
    return {
        "response": response,
        "arguments": {},
        "tracker": {
            "sender_id": "reload",
            "slots": {},
            "latest_message": {"text": "hi", "metadata": {"language": language}},
            "events": [],
        },
        "channel": {"name": "rest"},
    }


async def greeting(client) -> str:
    response = await client.post("/nlg", json=nlg_body("utter_greet"), headers=NLG_HEADERS)
    assert response.status == 200
    return (await response.json())["text"]


def edit_greeting(locales: Path, text: str) -> None:
    path = locales / "en.yml"
    answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = answers["utter_greet"]
    answers["utter_greet"] = {**entry, "text": text} if isinstance(entry, dict) else text
    path.write_text(yaml.safe_dump(answers, allow_unicode=True, sort_keys=False), "utf-8")


def break_yaml(locales: Path) -> None:
    path = locales / "en.yml"
    path.write_text(path.read_text(encoding="utf-8") + "utter_broken: [unclosed\n", "utf-8")


async def eventually(condition, seconds: float = 5.0) -> bool:
    """Whether the async `condition()` becomes true within `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return False


def greets_with(client, text: str):
    async def condition() -> bool:
        return await greeting(client) == text

    return condition


async def test_the_watcher_serves_an_edited_answer(client, locales):
    old = await greeting(client)
    assert old != NEW_GREETING
    edit_greeting(locales, NEW_GREETING)
    assert await eventually(greets_with(client, NEW_GREETING))


@pytest.mark.parametrize("settings", [{"content_poll_seconds": 3600}], indirect=True)
async def test_the_reload_route_serves_an_edited_answer_at_once(client, locales):
    edit_greeting(locales, NEW_GREETING)
    response = await client.post("/api/v1/content/reload", headers=ADMIN_HEADERS)
    assert response.status == 200
    body = await response.json()
    assert body["languages"] == ["en", "fa", "he", "nl", "vi"]
    assert body["answers"] >= 90
    assert await greeting(client) == NEW_GREETING


async def test_broken_yaml_keeps_the_old_answers(client, locales, caplog):
    old = await greeting(client)
    caplog.set_level(logging.ERROR, logger="bot.content_reload")
    english = (locales / "en.yml").read_text(encoding="utf-8")
    break_yaml(locales)

    async def logged() -> bool:
        return any("locales/en.yml" in record.getMessage() for record in caplog.records)

    assert await eventually(logged), caplog.text
    assert await greeting(client) == old

    response = await client.post("/api/v1/content/reload", headers=ADMIN_HEADERS)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error.startswith("locales/en.yml: not valid YAML")
    assert await greeting(client) == old

    # Fixed, the file is served again without anyone asking.
    (locales / "en.yml").write_text(english, encoding="utf-8")
    edit_greeting(locales, NEW_GREETING)
    assert await eventually(greets_with(client, NEW_GREETING))


@pytest.mark.parametrize("settings", [{}, {"api_token": "s3cret"}], indirect=True)
async def test_the_reload_route_needs_the_admin_token(client, settings):
    # Before: anyone (with TOLK_API_TOKEN unset), or any REST client, could reload.
    for headers in ({}, {"Authorization": "Bearer s3cret"}, NLG_HEADERS):
        response = await client.post("/api/v1/content/reload", headers=headers)
        assert response.status == 401
        assert "TOLK_ADMIN_TOKEN" in (await response.json())["error"]
    response = await client.post("/api/v1/content/reload", headers=ADMIN_HEADERS)
    assert response.status == 200


async def test_the_reload_command_without_the_token_is_refused(client, settings, capsys):
    target = replace(settings, host="127.0.0.1", port=client.server.port, admin_token="wrong" * 4)
    assert await asyncio.to_thread(run_reload, target) == 1
    assert "refused (401)" in capsys.readouterr().err


async def test_the_reload_command_reaches_the_running_service(client, locales, settings, capsys):
    edit_greeting(locales, NEW_GREETING)
    target = replace(settings, host="127.0.0.1", port=client.server.port)
    # run_reload blocks (urllib): off the loop that runs the service.
    assert await asyncio.to_thread(run_reload, target) == 0
    assert "are live" in capsys.readouterr().out
    assert await greeting(client) == NEW_GREETING


@pytest.mark.parametrize("settings", [{"content_poll_seconds": 3600}], indirect=True)
async def test_a_file_that_is_not_utf8_is_named_and_changes_nothing(client, locales):
    old = await greeting(client)
    (locales / "nl.yml").write_bytes("utter_greet: caf\u00e9\n".encode("latin-1"))
    response = await client.post("/api/v1/content/reload", headers=ADMIN_HEADERS)
    assert response.status == 422
    assert (await response.json())["error"].startswith("locales/nl.yml: cannot be read as UTF-8")
    assert await greeting(client) == old
