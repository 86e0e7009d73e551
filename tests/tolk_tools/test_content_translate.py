"""`python -m bot content translate --lang L`: machine drafts for people to review."""

import shutil
from dataclasses import replace

import yaml

from bot.catalogue import Catalogue, placeholders
from bot.settings import PROJECT_ROOT
from tests.translation_server import FakeLibreTranslate, serve
from tolk_tools.content import check, translate_drafts


async def test_drafts_every_missing_answer_marked_as_machine_made(
    aiohttp_server, settings, tmp_path
):
    fake = FakeLibreTranslate()
    url = await serve(aiohttp_server, fake)
    root = tmp_path / "project"
    for name in ("locales", "actions", "data"):
        shutil.copytree(PROJECT_ROOT / name, root / name)
    shutil.copy(PROJECT_ROOT / "domain.yml", root / "domain.yml")

    path = await translate_drafts(
        replace(settings, translator="libre", translator_url=url), "es", root=root
    )

    assert path == root / "locales" / "drafts" / "es.yml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# MACHINE-TRANSLATED DRAFT (es)")
    drafts = yaml.safe_load(text)
    english = Catalogue.load(root / "locales")
    assert set(drafts) == english.keys("en")
    for key, entry in drafts.items():
        assert entry["machine_translated"] is True
        source = english.get(key, "en")[0]
        assert entry["text"].startswith("[es] ")
        assert placeholders(entry["text"]) == placeholders(source.text), key
        assert [b["payload"] for b in entry.get("buttons", [])] == [
            b.payload for b in source.buttons
        ]
    assert not any("{support_email}" in sent for sent in fake.received)
    # Drafts are never served: the catalogue has no Spanish, the check counts them apart.
    assert "es" not in Catalogue.load(root / "locales").languages
    report = check(root, ("en", "nl", "he", "fa", "vi"))
    human, machine, needed = report.answers["es"]
    assert (human, machine) == (0, needed)


def test_without_a_translator_it_says_what_to_set(tmp_path, capsys):
    from bot.settings import Settings
    from tolk_tools.content import run_translate

    assert run_translate(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"), "es") == 1
    assert "TOLK_TRANSLATOR" in capsys.readouterr().err
