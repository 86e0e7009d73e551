"""`python -m bot content check`: what a content editor can break, found before users do.

Reads the files editors own (locales/, data/nlu/, domain.yml) as plain YAML: no Rasa needed.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.catalogue import Catalogue, CatalogueError, placeholders
from bot.settings import PROJECT_ROOT, Settings

MIN_EXAMPLES = 15
# Responses the gateway itself sends (not Rasa).
# Responses the actions and the bot service send by name, as string literals in the code.
_CODE_RESPONSE = re.compile(r"""["'](utter_[a-z0-9_]+(?:/[a-z0-9_]+)?)["']""")
CANNED = "canned/"


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # intent -> language -> number of training examples
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)
    # language -> (human-written answers, machine drafts awaiting review, answers needed)
    answers: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def required_responses(root: Path) -> set[str]:
    """Every response name the bot can be asked to render."""
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8")) or {}
    names = set(domain.get("responses") or {})
    # What a form asks for a slot: utter_ask_<form>_<slot> if listed, else utter_ask_<slot>.
    for form, spec in (domain.get("forms") or {}).items():
        for slot in (spec or {}).get("required_slots") or []:
            specific = f"utter_ask_{form}_{slot}"
            names.add(specific if specific in names else f"utter_ask_{slot}")
    for folder in ("actions", "bot"):
        for path in (root / folder).glob("**/*.py"):
            names.update(_CODE_RESPONSE.findall(path.read_text(encoding="utf-8")))
    # Canned replies for agents: whatever the reference language has, every language needs.
    reference = yaml.safe_load((root / "locales" / "en.yml").read_text(encoding="utf-8")) or {}
    return names | {name for name in reference if name.startswith(CANNED)}


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from one Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- ") and line[2:].strip():
                pairs.append((line[2:].strip(), block["intent"]))
    return pairs


def training_examples(root: Path, language: str) -> dict[str, list[str]]:
    """intent -> examples, from data/nlu/<language>/*.yml."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted((root / "data" / "nlu" / language).glob("*.yml")):
        for text, intent in nlu_examples(path):
            found[intent].append(text)
    return found


def check(root: Path, languages: tuple[str, ...]) -> Report:
    report = Report()
    _check_answers(root, languages, report)
    _check_training_data(root, languages, report)
    return report


def _check_answers(root: Path, languages: tuple[str, ...], report: Report) -> None:
    try:
        catalogue = Catalogue.load(root / "locales")
    except CatalogueError as error:
        report.errors.append(str(error))
        return
    required = required_responses(root)
    reference = catalogue.entries[catalogue.fallback]
    drafts_dir = root / "locales" / "drafts"
    drafted = {
        path.stem: set(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        for path in sorted(drafts_dir.glob("*.yml"))
    }
    for language in sorted(set(catalogue.entries) | set(drafted)):
        human = required & set(catalogue.entries.get(language, {}))
        machine = (required & drafted.get(language, set())) - human
        report.answers[language] = (len(human), len(machine), len(required))
    for language in languages:
        answers = catalogue.entries.get(language)
        if answers is None:
            report.errors.append(f"locales/{language}.yml is missing")
            continue
        for name in sorted(required - set(answers)):
            report.errors.append(f"locales/{language}.yml: no answer for {name}")
        for name in sorted(set(answers) - required):
            report.warnings.append(f"locales/{language}.yml: {name} is never used")
        for name in sorted(required & set(answers) & set(reference)):
            _compare(language, name, reference[name], answers[name], report)


def _compare(language, name, reference, answer, report: Report) -> None:
    where = f"locales/{language}.yml: {name}"
    if placeholders(answer.text) != placeholders(reference.text):
        report.errors.append(
            f"{where}: placeholders {sorted(placeholders(answer.text))} differ from "
            f"English {sorted(placeholders(reference.text))}"
        )
    if [b.payload for b in answer.buttons] != [b.payload for b in reference.buttons]:
        report.errors.append(f"{where}: buttons differ from English (same payloads, same order)")


def _check_training_data(root: Path, languages: tuple[str, ...], report: Report) -> None:
    owner: dict[str, str] = {}
    all_intents: set[str] = set()
    per_language = {language: training_examples(root, language) for language in languages}
    for examples in per_language.values():
        all_intents.update(examples)
    for language, examples in per_language.items():
        for intent in sorted(all_intents):
            count = len(examples.get(intent, []))
            report.coverage.setdefault(intent, {})[language] = count
            if count < MIN_EXAMPLES:
                report.errors.append(
                    f"data/nlu/{language}: {intent} has {count} examples, needs {MIN_EXAMPLES}"
                )
        for intent, texts in examples.items():
            for text in texts:
                key = " ".join(text.lower().split())
                other = owner.setdefault(key, intent)
                if other != intent:
                    report.errors.append(
                        f"data/nlu/{language}: {text!r} is under {other} and {intent}"
                    )


def format_report(report: Report, languages: tuple[str, ...]) -> str:
    width = max((len(intent) for intent in report.coverage), default=6)
    lines = ["training examples per intent and language:"]
    lines.append(f"{'intent':<{width}}  " + "  ".join(f"{lang:>4}" for lang in languages))
    for intent in sorted(report.coverage):
        counts = report.coverage[intent]
        lines.append(
            f"{intent:<{width}}  " + "  ".join(f"{counts.get(lang, 0):>4}" for lang in languages)
        )
    lines.append("answers per language (human-written / machine drafts / needed):")
    for language, (human, machine, needed) in sorted(report.answers.items()):
        native = "native" if language in languages else "through the English pivot"
        lines.append(f"  {language:<4} {human:>3} / {machine:>3} / {needed:>3}  ({native})")
    lines += [f"warning: {warning}" for warning in report.warnings]
    lines += [f"error: {error}" for error in report.errors]
    lines.append("content check: " + ("ok" if report.ok else f"{len(report.errors)} error(s)"))
    return "\n".join(lines)


def run_check(settings: Settings, root: Path = PROJECT_ROOT) -> int:
    report = check(root, settings.languages)
    print(format_report(report, settings.languages), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


DRAFT_HEADER = """\
# MACHINE-TRANSLATED DRAFT ({language}), made by `python -m bot content translate`.
# Nothing here is shown to customers. Review every answer (meaning, tone, the
# {{placeholders}}, button titles), then move the approved entries to
# locales/{language}.yml, where they become human-approved and win over machine
# translation.
"""


async def translate_drafts(settings: Settings, language: str, root: Path = PROJECT_ROOT) -> Path:
    """Draft every answer missing in `language` by machine translation, for review."""
    from bot.app import create_translation
    from bot.db import create_engine, create_schema

    catalogue = Catalogue.load(root / "locales")
    missing = sorted(catalogue.keys() - catalogue.keys(language))
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    try:
        translation = create_translation(settings, engine)
        if not translation.available:
            raise CatalogueError("no machine translator configured: set TOLK_TRANSLATOR")
        drafts: dict[str, dict] = {}
        for key in missing:
            response, _ = catalogue.get(key, catalogue.fallback)
            texts = [response.text, *(button.title for button in response.buttons)]
            text, *titles = (t.text for t in await translation.translate(texts, "en", language))
            entry: dict = {"text": text, "machine_translated": True}
            if response.buttons:
                entry["buttons"] = [
                    {"title": title, "payload": button.payload}
                    for title, button in zip(titles, response.buttons, strict=True)
                ]
            drafts[key] = entry
    finally:
        await engine.dispose()
    path = root / "locales" / "drafts" / f"{language}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(drafts, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(DRAFT_HEADER.format(language=language) + body, encoding="utf-8")
    return path


def run_translate(settings: Settings, language: str) -> int:
    import asyncio

    from bot.translation.backends import TranslatorError

    language = language.strip().lower()
    try:
        path = asyncio.run(translate_drafts(settings, language))
    except (CatalogueError, TranslatorError) as error:
        print(f"content translate: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}: review it, then move approved answers to locales/{language}.yml")
    return 0
