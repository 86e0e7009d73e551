"""`python -m bot content check` finds every mistake it claims to, naming file and key."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from bot.settings import NATIVE_LANGUAGES, PROJECT_ROOT, Settings
from tolk_tools import content
from tolk_tools.content import (
    MAX_ANSWER,
    MIN_EXAMPLES,
    check,
    check_answers,
    format_report,
    rasa_findings,
    run_check,
    run_reload,
)

LANGUAGES = ("en", "nl", "fa")

DOMAIN = """\
version: "3.1"
intents:
  - greet
  - faq
responses:
  utter_greet: [{text: "rendered from locales/"}]
  utter_faq/shipping_time: [{text: "rendered from locales/"}]
"""

ANSWERS = {
    "en": {
        "utter_greet": {
            "text": "Hello! You can also write to {support_email}.",
            "buttons": [{"title": "Talk to a person", "payload": "/request_human"}],
        },
        "utter_faq/shipping_time": "Orders arrive in 2 to 5 working days.",
    },
    "nl": {
        "utter_greet": {
            "text": "Hallo! U kunt ook schrijven naar {support_email}.",
            "buttons": [{"title": "Met een mens praten", "payload": "/request_human"}],
        },
        "utter_faq/shipping_time": "Bestellingen komen binnen 2 tot 5 werkdagen aan.",
    },
    "fa": {
        "utter_greet": {
            "text": "سلام! می‌توانید به {support_email} هم بنویسید.",
            "buttons": [{"title": "گفتگو با یک انسان", "payload": "/request_human"}],
        },
        "utter_faq/shipping_time": "سفارش‌ها در ۲ تا ۵ روز کاری می‌رسند.",
    },
}

# Words distinct in every language, numbered: enough examples, no two alike.
EXAMPLES = {
    "en": {"greet": "hello number", "faq/shipping_time": "how long does shipping take, case"},
    "nl": {"greet": "hallo nummer", "faq/shipping_time": "hoe lang duurt verzending, geval"},
    "fa": {"greet": "سلام شماره", "faq/shipping_time": "ارسال چقدر طول می‌کشد، مورد"},
}


def nlu(blocks: dict[str, list[str]]) -> str:
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in blocks.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def examples(language: str, intent: str, count: int = MIN_EXAMPLES) -> list[str]:
    return [f"{EXAMPLES[language][intent]} {n}" for n in range(1, count + 1)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The smallest project `content check` understands, which passes it."""
    root = tmp_path / "project"
    (root / "actions").mkdir(parents=True)
    (root / "locales").mkdir()
    (root / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    for language in LANGUAGES:
        write_answers(root, language, ANSWERS[language])
        folder = root / "data" / "nlu" / language
        folder.mkdir(parents=True)
        (folder / "conversation.yml").write_text(
            nlu({"greet": examples(language, "greet")}), encoding="utf-8"
        )
        (folder / "faq.yml").write_text(
            nlu({"faq/shipping_time": examples(language, "faq/shipping_time")}), encoding="utf-8"
        )
    return root


def write_answers(root: Path, language: str, answers: dict) -> None:
    text = yaml.safe_dump(answers, allow_unicode=True, sort_keys=False)
    (root / "locales" / f"{language}.yml").write_text(text, encoding="utf-8")


def errors(root: Path) -> list[str]:
    return check(root, LANGUAGES, fast=True).errors


def test_the_fixture_project_passes(project):
    report = check(project, LANGUAGES, fast=True)
    assert report.ok, format_report(report, LANGUAGES)
    assert report.coverage["faq/shipping_time"] == {lang: MIN_EXAMPLES for lang in LANGUAGES}
    assert report.answers["fa"] == (2, 0, 2)


def test_the_repository_passes():
    report = check(PROJECT_ROOT, NATIVE_LANGUAGES, fast=True)
    assert report.errors == [], format_report(report, NATIVE_LANGUAGES)


# --- Questions -------------------------------------------------------------------------


def test_too_few_faq_examples_in_one_language(project):
    faq = project / "data" / "nlu" / "nl" / "faq.yml"
    faq.write_text(nlu({"faq/shipping_time": examples("nl", "faq/shipping_time", 3)}))
    report = check(project, LANGUAGES, fast=True)
    assert report.errors == [
        f"data/nlu/nl/faq.yml: faq/shipping_time has 3 examples, needs at least {MIN_EXAMPLES}"
    ]
    assert report.coverage["faq/shipping_time"]["nl"] == 3


def test_an_faq_in_the_domain_without_examples_in_a_language(project):
    (project / "data" / "nlu" / "fa" / "faq.yml").unlink()
    assert errors(project) == [
        f"data/nlu/fa/faq.yml: faq/shipping_time has 0 examples, needs at least {MIN_EXAMPLES}"
    ]


def test_faq_examples_without_a_response_in_the_domain(project):
    for language in LANGUAGES:
        faq = project / "data" / "nlu" / language / "faq.yml"
        blocks = {
            "faq/shipping_time": examples(language, "faq/shipping_time"),
            "faq/gift_wrapping": [f"gift wrap {language} {n}" for n in range(MIN_EXAMPLES)],
        }
        faq.write_text(nlu(blocks), encoding="utf-8")
    found = errors(project)
    assert len(found) == 1
    assert found[0].startswith("domain.yml: responses: no utter_faq/gift_wrapping")
    assert "data/nlu/en/faq.yml" in found[0]


def test_a_missing_language_folder(project):
    for path in (project / "data" / "nlu" / "nl").iterdir():
        path.unlink()
    (project / "data" / "nlu" / "nl").rmdir()
    assert errors(project) == ["data/nlu/nl/ is missing: every native language needs its examples"]


def test_an_example_under_two_intents(project):
    faq = project / "data" / "nlu" / "en" / "faq.yml"
    texts = [*examples("en", "faq/shipping_time"), "Hello   Number 3"]
    faq.write_text(nlu({"faq/shipping_time": texts}), encoding="utf-8")
    found = errors(project)
    assert len(found) == 1
    assert found[0].startswith(
        "data/nlu/en/faq.yml: 'Hello   Number 3' is under greet and faq/shipping_time"
    )
    assert "data/nlu/en/conversation.yml" in found[0]


@pytest.mark.parametrize(
    ("language", "first", "again", "why"),
    [
        ("en", "where is my parcel", "Where is  my PARCEL", "listed twice"),
        # Arabic-keyboard ي/ك versus Persian ی/ک
        ("fa", "کی می‌رسد", "كي می‌رسد", "once normalised"),
        # zero-width non-joiner versus nothing versus a space
        ("fa", "می‌خواهم پیگیری کنم", "میخواهم پیگیری کنم", "once normalised"),
        ("fa", "می‌خواهم پیگیری کنم", "می خواهم پیگیری کنم", "once normalised"),
    ],
)
def test_a_duplicate_example_within_an_intent(project, language, first, again, why):
    faq = project / "data" / "nlu" / language / "faq.yml"
    texts = [*examples(language, "faq/shipping_time"), first, again]
    faq.write_text(nlu({"faq/shipping_time": texts}), encoding="utf-8")
    found = errors(project)
    assert len(found) == 1, found
    assert found[0].startswith(f"data/nlu/{language}/faq.yml: faq/shipping_time: {again!r}")
    assert why in found[0]


def test_the_same_text_in_two_intents_of_two_files_is_named_with_both(project):
    conversation = project / "data" / "nlu" / "nl" / "conversation.yml"
    texts = [*examples("nl", "greet"), "hoe lang duurt verzending, geval 1"]
    conversation.write_text(nlu({"greet": texts}), encoding="utf-8")
    found = errors(project)
    assert len(found) == 1
    assert "is under greet and faq/shipping_time (see data/nlu/nl/conversation.yml)" in found[0]


# --- Answers ---------------------------------------------------------------------------


def test_a_missing_answer(project):
    dutch = dict(ANSWERS["nl"])
    del dutch["utter_faq/shipping_time"]
    write_answers(project, "nl", dutch)
    assert errors(project) == ["locales/nl.yml: no answer for utter_faq/shipping_time"]


def test_a_missing_locale_file(project):
    (project / "locales" / "fa.yml").unlink()
    assert errors(project) == ["locales/fa.yml is missing"]


def test_a_placeholder_that_differs_from_english(project):
    dutch = {**ANSWERS["nl"], "utter_greet": {**ANSWERS["nl"]["utter_greet"]}}
    dutch["utter_greet"]["text"] = "Hallo! Schrijf naar {support_mail}."
    write_answers(project, "nl", dutch)
    found = errors(project)
    assert len(found) == 1
    assert found[0].startswith("locales/nl.yml: utter_greet: placeholders ['support_mail']")


def test_a_button_payload_that_differs_from_english(project):
    persian = {**ANSWERS["fa"], "utter_greet": {**ANSWERS["fa"]["utter_greet"]}}
    persian["utter_greet"]["buttons"] = [{"title": "انسان", "payload": "/human"}]
    write_answers(project, "fa", persian)
    found = errors(project)
    assert len(found) == 1
    assert found[0].startswith("locales/fa.yml: utter_greet: buttons differ from English")
    assert "/human" in found[0]


def test_an_answer_longer_than_a_telegram_message(project):
    answers = {**ANSWERS["nl"], "utter_faq/shipping_time": "x" * MAX_ANSWER}
    write_answers(project, "nl", answers)
    assert errors(project) == []
    # Telegram counts UTF-16 code units: one emoji is two.
    answers["utter_faq/shipping_time"] = "x" * (MAX_ANSWER - 1) + "📦"
    write_answers(project, "nl", answers)
    found = errors(project)
    assert len(found) == 1
    assert found[0].startswith(
        f"locales/nl.yml: utter_faq/shipping_time: the answer is {MAX_ANSWER + 1} characters"
    )


def test_a_button_title_or_payload_too_long_for_telegram(project):
    for language in LANGUAGES:
        answers = {**ANSWERS[language], "utter_greet": {**ANSWERS[language]["utter_greet"]}}
        answers["utter_greet"]["buttons"] = [{"title": "t" * 64, "payload": "/" + "p" * 63}]
        write_answers(project, language, answers)
    assert errors(project) == []
    english = {**ANSWERS["en"], "utter_greet": {**ANSWERS["en"]["utter_greet"]}}
    english["utter_greet"]["buttons"] = [{"title": "t" * 65, "payload": "/" + "é" * 32}]
    write_answers(project, "en", english)
    found = errors(project)
    assert any(
        e.startswith("locales/en.yml: utter_greet: button title") and "65 characters" in e
        for e in found
    )
    assert any(
        e.startswith("locales/en.yml: utter_greet: button payload") and "65 bytes" in e
        for e in found
    )


def test_an_answer_without_text(project):
    write_answers(project, "nl", {**ANSWERS["nl"], "utter_greet": {"buttons": []}})
    assert errors(project) == ["locales/nl.yml: utter_greet: needs a non-empty `text`"]


# --- YAML ------------------------------------------------------------------------------


def test_bad_yaml_in_a_locale_file_is_named_and_the_rest_still_checked(project):
    (project / "locales" / "nl.yml").write_text(
        'utter_greet: "Hallo\nutter_faq/shipping_time: [unclosed\n', encoding="utf-8"
    )
    dutch_missing = dict(ANSWERS["fa"])
    del dutch_missing["utter_faq/shipping_time"]
    write_answers(project, "fa", dutch_missing)
    found = errors(project)
    assert len(found) == 2, found
    assert found[0].startswith("locales/nl.yml: not valid YAML: line ")
    assert found[1] == "locales/fa.yml: no answer for utter_faq/shipping_time"


def test_a_key_given_twice_in_a_locale_file(project):
    path = project / "locales" / "nl.yml"
    path.write_text(
        path.read_text(encoding="utf-8") + "utter_greet: Nog een keer hallo\n", encoding="utf-8"
    )
    found = errors(project)
    assert len(found) == 1
    assert found[0].startswith("locales/nl.yml: not valid YAML: line ")
    assert "'utter_greet' is given twice" in found[0]


def test_bad_yaml_in_an_nlu_file_is_named(project):
    faq = project / "data" / "nlu" / "fa" / "faq.yml"
    faq.write_text(nlu({"faq/shipping_time": examples("fa", "faq/shipping_time")}) + "  - x: [\n")
    report = check(project, LANGUAGES, fast=True)
    assert report.errors[0].startswith("data/nlu/fa/faq.yml: not valid YAML: line ")
    # its examples are not counted, and the check says so for that file
    assert report.errors[1:] == [
        f"data/nlu/fa/faq.yml: faq/shipping_time has 0 examples, needs at least {MIN_EXAMPLES}"
    ]


def test_bad_yaml_in_the_domain_is_named(project):
    (project / "domain.yml").write_text(DOMAIN + "\tforms: {}\n", encoding="utf-8")
    found = errors(project)
    assert found[0].startswith("domain.yml: not valid YAML: line ")
    assert "tabs" in found[0]


def test_examples_not_written_as_a_block(project):
    faq = project / "data" / "nlu" / "en" / "faq.yml"
    faq.write_text(
        'version: "3.1"\nnlu:\n- intent: faq/shipping_time\n  examples:\n    - one\n    - two\n',
        encoding="utf-8",
    )
    found = errors(project)
    assert "data/nlu/en/faq.yml: faq/shipping_time: `examples: |` must be followed" in found[0]


# --- rasa data validate ----------------------------------------------------------------

RASA_OUTPUT = """\
/x/site-packages/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call
  declare_namespace(pkg)
\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The following duplicated intents have \
been found across multiple domain files: faq
  More info at https://rasa.com/docs/rasa/domain
\x1b[0m\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: Issue found in \
'data/rules/conversation.yml': \nFound intent 'greetz' in stories which is not part of the domain.
  More info at https://rasa.com/docs/rasa/stories
\x1b[0m2026-11-22 18:49:09 INFO     rasa.validator  - Validating utterances...
\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_ask_email' is not \
used in any story or rule.
\x1b[0m2026-11-22 18:49:09 INFO     rasa.validator  - Story structure validation...
\x1b[91mProject validation completed with errors.\x1b[0m
"""


def test_rasa_findings_keep_problems_and_drop_known_notes():
    assert rasa_findings(RASA_OUTPUT) == [
        "Issue found in 'data/rules/conversation.yml': "
        "Found intent 'greetz' in stories which is not part of the domain."
    ]


def fake_rasa(tmp_path: Path, monkeypatch, output: str, status: int) -> None:
    """A `rasa` in Rasa's environment that prints `output` and exits `status`."""
    bin_dir = tmp_path / "venv-bin"
    bin_dir.mkdir()
    (bin_dir / "output.txt").write_text(output, encoding="utf-8")
    rasa = bin_dir / "rasa"
    rasa.write_text(
        f"#!/bin/sh\n"
        f'[ "$PYTHONWARNINGS" = ignore ] || exit 3\n'
        f'cat "{bin_dir / "output.txt"}" >&2\n'
        f"exit {status}\n"
    )
    rasa.chmod(0o755)
    monkeypatch.setattr(content, "RASA_BIN", bin_dir)


def test_a_failing_rasa_data_validate_is_an_error(project, tmp_path, monkeypatch):
    fake_rasa(tmp_path, monkeypatch, RASA_OUTPUT, 1)
    report = check(project, LANGUAGES, fast=False)
    assert report.rasa == "failed"
    assert report.errors == [
        "rasa data validate: Issue found in 'data/rules/conversation.yml': "
        "Found intent 'greetz' in stories which is not part of the domain."
    ]


def test_a_passing_rasa_data_validate(project, tmp_path, monkeypatch):
    fake_rasa(tmp_path, monkeypatch, RASA_OUTPUT.replace("greetz", "greet"), 0)
    report = check(project, LANGUAGES, fast=False)
    assert report.ok and report.rasa == "ok"
    assert check(project, LANGUAGES, fast=True).rasa == "skipped (--fast)"


def test_rasa_is_not_run_on_files_that_are_already_broken(project, tmp_path, monkeypatch):
    fake_rasa(tmp_path, monkeypatch, "", 0)
    (project / "locales" / "nl.yml").write_text("utter_greet: [", encoding="utf-8")
    report = check(project, LANGUAGES, fast=False)
    assert report.rasa.startswith("not run")


# --- The commands ----------------------------------------------------------------------


def test_the_command_prints_the_tables_and_fails_on_errors(project, capsys):
    settings = Settings(languages=LANGUAGES)
    assert run_check(settings, root=project, fast=True) == 0
    out = capsys.readouterr().out
    assert "faq/shipping_time" in out and "content check: ok" in out
    assert "answers per language" in out
    (project / "data" / "nlu" / "vi").mkdir()
    dutch = dict(ANSWERS["nl"])
    del dutch["utter_greet"]
    write_answers(project, "nl", dutch)
    assert run_check(settings, root=project, fast=True) == 1
    err = capsys.readouterr().err
    assert "error: locales/nl.yml: no answer for utter_greet" in err
    assert "content check: 1 error(s)" in err


def test_check_answers_ignores_training_data(project):
    (project / "data" / "nlu" / "nl" / "faq.yml").write_text("nlu: [", encoding="utf-8")
    assert check_answers(project, LANGUAGES).ok
    write_answers(project, "nl", {"utter_greet": ANSWERS["nl"]["utter_greet"]})
    assert check_answers(project, LANGUAGES).errors == [
        "locales/nl.yml: no answer for utter_faq/shipping_time"
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_reload_without_a_running_service_says_so_and_succeeds(project, capsys):
    settings = Settings(languages=LANGUAGES, port=free_port())
    assert run_reload(settings, root=project) == 0
    assert "no bot service is running" in capsys.readouterr().out


def test_reload_with_broken_answers_reloads_nothing(project, capsys):
    (project / "locales" / "nl.yml").write_text("utter_greet: [", encoding="utf-8")
    settings = Settings(languages=LANGUAGES, port=free_port())
    assert run_reload(settings, root=project) == 1
    err = capsys.readouterr().err
    assert "locales/nl.yml: not valid YAML" in err and "nothing reloaded" in err


def test_rasa_runs_alongside_other_errors(project, tmp_path, monkeypatch):
    fake_rasa(tmp_path, monkeypatch, RASA_OUTPUT, 1)
    write_answers(project, "nl", {"utter_greet": ANSWERS["nl"]["utter_greet"]})
    found = check(project, LANGUAGES, fast=False).errors
    assert found[0] == "locales/nl.yml: no answer for utter_faq/shipping_time"
    assert found[1].startswith("rasa data validate: Issue found in 'data/rules/")
