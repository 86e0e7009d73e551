"""The locale catalogue is complete: every response in all five native languages."""

from pathlib import Path

import pytest

from bot.catalogue import Catalogue, CatalogueError, placeholders
from bot.settings import NATIVE_LANGUAGES, PROJECT_ROOT
from tolk_tools.content import check, format_report, required_responses


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load(PROJECT_ROOT / "locales")


def test_every_response_exists_in_every_native_language(catalogue):
    required = required_responses(PROJECT_ROOT)
    assert {
        "utter_greet",
        "utter_faq/shipping_time",
        "utter_handoff_queued",
        "canned/greeting",
        "utter_disclosure",
    } <= required
    for language in NATIVE_LANGUAGES:
        assert required <= catalogue.keys(language), language


def test_translations_keep_placeholders_and_buttons(catalogue):
    for language in NATIVE_LANGUAGES:
        for key in catalogue.keys("en"):
            english, _ = catalogue.get(key, "en")
            answer, found_in = catalogue.get(key, language)
            assert found_in == language
            assert placeholders(answer.text) == placeholders(english.text), (language, key)
            assert [b.payload for b in answer.buttons] == [b.payload for b in english.buttons]


def test_translations_are_not_copies_of_english(catalogue):
    for language in ("nl", "he", "fa", "vi"):
        same = [
            k
            for k in catalogue.keys("en")
            if catalogue.get(k, language)[0].text == catalogue.get(k, "en")[0].text
        ]
        assert same == [], (language, same)


def test_missing_language_falls_back_to_english(catalogue):
    response, language = catalogue.get("utter_greet", "de")
    assert language == "en" and response.text.startswith("Hello")


def test_content_check_passes_on_the_repository():
    report = check(PROJECT_ROOT, NATIVE_LANGUAGES)
    assert report.ok, format_report(report, NATIVE_LANGUAGES)


def test_content_check_finds_a_missing_answer_and_a_broken_placeholder(tmp_path: Path):
    for name in ("domain.yml",):
        (tmp_path / name).write_text((PROJECT_ROOT / name).read_text())
    (tmp_path / "actions").mkdir()
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "en.yml").write_text((PROJECT_ROOT / "locales" / "en.yml").read_text())
    dutch = (
        (PROJECT_ROOT / "locales" / "nl.yml").read_text().replace("{support_email}", "{support}")
    )
    dutch = dutch.replace("utter_goodbye:", "utter_goodbye_renamed:")
    (tmp_path / "locales" / "nl.yml").write_text(dutch)
    report = check(tmp_path, ("en", "nl"))
    assert any("nl.yml: no answer for utter_goodbye" in e for e in report.errors)
    assert any("placeholders" in e and "support" in e for e in report.errors)
    assert any("utter_goodbye_renamed is never used" in w for w in report.warnings)


def test_a_broken_locale_file_is_named(tmp_path: Path):
    (tmp_path / "en.yml").write_text("utter_greet: [unclosed")
    with pytest.raises(CatalogueError, match=r"en\.yml"):
        Catalogue.load(tmp_path)
