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
# Responses the gateway itself sends (not Rasa): the bot disclosure and the apology.
GATEWAY_RESPONSES = frozenset({"utter_disclosure", "utter_service_unavailable"})
_ACTION_RESPONSE = re.compile(r"""response\s*=\s*["'](utter_[\w/]+)["']""")


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # intent -> language -> number of training examples
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def required_responses(root: Path) -> set[str]:
    """Every response name the bot can be asked to render."""
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8")) or {}
    names = set(domain.get("responses") or {})
    for path in (root / "actions").glob("**/*.py"):
        names.update(_ACTION_RESPONSE.findall(path.read_text(encoding="utf-8")))
    return names | GATEWAY_RESPONSES


def training_examples(root: Path, language: str) -> dict[str, list[str]]:
    """intent -> examples, from data/nlu/<language>/*.yml."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted((root / "data" / "nlu" / language).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- ") and line[2:].strip():
                    found[block["intent"]].append(line[2:].strip())
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
    lines += [f"warning: {warning}" for warning in report.warnings]
    lines += [f"error: {error}" for error in report.errors]
    lines.append("content check: " + ("ok" if report.ok else f"{len(report.errors)} error(s)"))
    return "\n".join(lines)


def run_check(settings: Settings, root: Path = PROJECT_ROOT) -> int:
    report = check(root, settings.languages)
    print(format_report(report, settings.languages), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1
