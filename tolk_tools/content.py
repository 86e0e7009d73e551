"""`python -m bot content ...`: what a content editor can break, found before users do.

`check` reads the files editors own (locales/, data/, domain.yml) as plain YAML, then
(unless `--fast`) runs `rasa data validate` for what only Rasa knows (stories, rules,
forms). Every problem names the file and the key or example to fix. `reload` puts edited
answers live in the running service, `translate` drafts answers for review.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# One locale file at a time, so that a broken file does not hide the others' problems.
from bot.catalogue import Catalogue, CatalogueError, Response, load_file, placeholders
from bot.settings import PROJECT_ROOT, Settings
from tolk_core.nlu_data import MIN_EXAMPLES, example_key, examples_in
from tolk_core.project import RASA_BIN

FALLBACK = "en"  # the catalogue's fallback language: the reference for translations
# Channel limits. Telegram: 4096 characters (counted in UTF-16 code units) per message,
# 64 characters per inline button title, 64 bytes of callback_data (our payload). The web
# chat and the REST API take the same 4096 characters.
MAX_ANSWER = 4096
MAX_BUTTON_TITLE = 64
MAX_BUTTON_PAYLOAD_BYTES = 64
FAQ = "faq/"
# Responses the actions and the bot service send by name, as string literals in the code.
_CODE_RESPONSE = re.compile(r"""["'](utter_[a-z0-9_]+(?:/[a-z0-9_]+)?)["']""")
CANNED = "canned/"
# The YAML files of the project, beyond those under data/ and locales/.
YAML_FILES = ("domain.yml", "config.yml", "endpoints.yml", "credentials.yml")
RASA_TIMEOUT = 600
# Notes of `rasa data validate` that are not problems: every faq/<name> response lists
# the retrieval intent `faq` again, and forms (not stories) ask their questions.
_HARMLESS = (
    re.compile(r"duplicated intents have been found across multiple domain files: faq\.?$"),
    re.compile(r"is not used in any story or rule"),
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
_RASA_SUMMARY = "Project validation completed with errors."


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # intent -> language -> number of training examples
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)
    # language -> (human-written answers, machine drafts awaiting review, answers needed)
    answers: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # "ok", "failed", or why `rasa data validate` did not run
    rasa: str = "skipped (--fast)"

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    file: str  # relative to the project root, e.g. data/nlu/fa/faq.yml


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


def check(root: Path, languages: tuple[str, ...], *, fast: bool = True) -> Report:
    """Everything an editor can break. `fast=False` also runs `rasa data validate`
    (what `python -m bot content check` does unless given `--fast`)."""
    report = Report()
    parsed = _check_yaml(root, _yaml_files(root), report)
    yaml_ok = report.ok
    _check_answers(root, languages, report, parsed)
    _check_training_data(root, languages, report, parsed)
    if not fast:
        if yaml_ok:
            _check_with_rasa(root, report)
        else:
            # Rasa would stop at the first broken file, with a less helpful message.
            report.rasa = "not run: fix the YAML errors first"
    return report


def check_answers(root: Path, languages: tuple[str, ...]) -> Report:
    """The answers only (locales/ against domain.yml and the code): before a reload."""
    report = Report()
    files = [root / "domain.yml", *sorted((root / "locales").glob("**/*.yml"))]
    parsed = _check_yaml(root, files, report)
    _check_answers(root, languages, report, parsed)
    report.rasa = "not needed for answers"
    return report


# --- YAML ------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice (PyYAML keeps the last one silently; Rasa
    refuses the file)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"{key!r} is given twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_files(root: Path) -> list[Path]:
    files = [root / name for name in YAML_FILES if (root / name).exists()]
    for tree in ("data", "locales"):
        files += sorted(
            path for pattern in ("*.yml", "*.yaml") for path in (root / tree).glob(f"**/{pattern}")
        )
    return files


def _check_yaml(root: Path, files: list[Path], report: Report) -> dict[str, object]:
    """Parse every file; a broken one is an error naming it. Returns relative path -> data."""
    parsed: dict[str, object] = {}
    for path in files:
        if not path.exists():
            continue
        where = _relative(root, path)
        try:
            parsed[where] = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
        except UnicodeDecodeError:
            report.errors.append(f"{where}: not UTF-8 text; save it as UTF-8")
        except yaml.YAMLError as error:
            report.errors.append(f"{where}: not valid YAML: {_yaml_problem(error)}")
    return parsed


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = " ".join(part for part in (error.context, error.problem) if part)
        if mark is not None:
            hint = ""
            if "found character '\\t'" in problem:
                hint = " (use spaces, not tabs)"
            elif "mapping values are not allowed" in problem:
                hint = ' (a ": " inside a text: put the text in quotes)'
            return f"line {mark.line + 1}, column {mark.column + 1}: {problem}{hint}"
        return problem
    return str(error)


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


# --- Answers ---------------------------------------------------------------------------


def _check_answers(
    root: Path, languages: tuple[str, ...], report: Report, parsed: dict[str, object]
) -> None:
    directory = root / "locales"
    entries: dict[str, dict[str, Response]] = {}
    for path in sorted(directory.glob("*.yml")):
        where = _relative(root, path)
        if where not in parsed:
            continue  # not valid YAML: reported already
        try:
            entries[path.stem] = load_file(path)
        except CatalogueError as error:
            report.errors.append(str(error).replace(f"{path}", where, 1))
    if FALLBACK not in entries:
        if not (directory / f"{FALLBACK}.yml").exists():
            report.errors.append(
                f"locales/{FALLBACK}.yml is missing: every answer falls back to it"
            )
        return  # else broken, and reported
    for language, answers in entries.items():
        for key, response in answers.items():
            _check_lengths(f"locales/{language}.yml: {key}", response, report)
    reference = entries[FALLBACK]
    for language, answers in entries.items():
        if language != FALLBACK:
            for key in sorted(set(answers) & set(reference)):
                _compare(language, key, reference[key], answers[key], report)

    if not (root / "domain.yml").exists():
        report.errors.append("domain.yml is missing")
        return
    if "domain.yml" not in parsed:
        return  # broken, and reported
    required = required_responses(root)
    drafted = {
        Path(where).stem: set(data) if isinstance(data, dict) else set()
        for where, data in parsed.items()
        if where.startswith("locales/drafts/")
    }
    for language in sorted(set(entries) | set(drafted)):
        human = required & set(entries.get(language, {}))
        machine = (required & drafted.get(language, set())) - human
        report.answers[language] = (len(human), len(machine), len(required))
    for language in languages:
        answers = entries.get(language)
        if answers is None:
            if not (directory / f"{language}.yml").exists():
                report.errors.append(f"locales/{language}.yml is missing")
            continue  # else broken, and reported
        for name in sorted(required - set(answers)):
            report.errors.append(f"locales/{language}.yml: no answer for {name}")
    for language, answers in entries.items():
        for name in sorted(set(answers) - required):
            report.warnings.append(f"locales/{language}.yml: {name} is never used")


def _check_lengths(where: str, response: Response, report: Report) -> None:
    # Telegram counts UTF-16 code units: an emoji counts twice.
    length = len(response.text.encode("utf-16-le")) // 2
    if length > MAX_ANSWER:
        report.errors.append(
            f"{where}: the answer is {length} characters; Telegram, the web chat and the "
            f"REST API take at most {MAX_ANSWER} per message: shorten it or split it"
        )
    for button in response.buttons:
        if len(button.title) > MAX_BUTTON_TITLE:
            report.errors.append(
                f"{where}: button title {button.title!r} is {len(button.title)} characters; "
                f"Telegram buttons take at most {MAX_BUTTON_TITLE}"
            )
        size = len(button.payload.encode("utf-8"))
        if size > MAX_BUTTON_PAYLOAD_BYTES:
            report.errors.append(
                f"{where}: button payload {button.payload!r} is {size} bytes; Telegram "
                f"buttons carry at most {MAX_BUTTON_PAYLOAD_BYTES}"
            )


def _compare(language, name, reference, answer, report: Report) -> None:
    where = f"locales/{language}.yml: {name}"
    if placeholders(answer.text) != placeholders(reference.text):
        report.errors.append(
            f"{where}: placeholders {sorted(placeholders(answer.text))} differ from "
            f"English {sorted(placeholders(reference.text))}"
        )
    if [b.payload for b in answer.buttons] != [b.payload for b in reference.buttons]:
        report.errors.append(
            f"{where}: buttons differ from English (same payloads, same order): "
            f"{[b.payload for b in answer.buttons]} instead of "
            f"{[b.payload for b in reference.buttons]}"
        )


# --- Training examples -----------------------------------------------------------------


def _check_training_data(
    root: Path, languages: tuple[str, ...], report: Report, parsed: dict[str, object]
) -> None:
    per_language: dict[str, list[Example]] = {}
    for language in languages:
        folder = root / "data" / "nlu" / language
        if not folder.is_dir():
            report.errors.append(
                f"data/nlu/{language}/ is missing: every native language needs its examples"
            )
        per_language[language] = _read_examples(root, folder, report, parsed)

    faqs = _faqs_in_domain(parsed.get("domain.yml"))
    intents = {example.intent for examples in per_language.values() for example in examples}
    if "domain.yml" in parsed:
        for intent in sorted(i for i in intents - faqs if i.startswith(FAQ)):
            files = sorted({e.file for v in per_language.values() for e in v if e.intent == intent})
            report.errors.append(
                f"domain.yml: responses: no utter_{intent} for the {intent} examples in "
                f"{', '.join(files)} (add `utter_{intent}: "
                '[{text: "rendered from locales/"}]`)'
            )
    intents |= faqs

    for language, examples in per_language.items():
        counts: dict[str, int] = defaultdict(int)
        for example in examples:
            counts[example.intent] += 1
        for intent in sorted(intents):
            count = counts[intent]
            report.coverage.setdefault(intent, {})[language] = count
            if count < MIN_EXAMPLES and (root / "data" / "nlu" / language).is_dir():
                where = _file_for(intent, language, per_language)
                report.errors.append(
                    f"{where}: {intent} has {count} examples, needs at least {MIN_EXAMPLES}"
                )
    _check_duplicates(per_language, report)


def _read_examples(
    root: Path, folder: Path, report: Report, parsed: dict[str, object]
) -> list[Example]:
    examples = []
    for path in sorted(folder.glob("*.yml")):
        where = _relative(root, path)
        if where not in parsed:
            continue  # not valid YAML: reported already
        data = parsed[where]
        if data is not None and not (isinstance(data, dict) and isinstance(data.get("nlu"), list)):
            report.errors.append(f"{where}: expected `nlu:` with a list of `- intent:` blocks")
            continue
        for block in (data or {}).get("nlu") or []:
            if isinstance(block, dict) and "intent" in block:
                if not isinstance(block.get("examples"), str):
                    report.errors.append(
                        f"{where}: {block['intent']}: `examples: |` must be followed by "
                        "indented lines `- an example`"
                    )
        examples += [Example(text, intent, where) for text, intent in examples_in(data)]
    return examples


def _faqs_in_domain(domain: object) -> set[str]:
    responses = domain.get("responses") if isinstance(domain, dict) else None
    return {
        name.removeprefix("utter_")
        for name in (responses if isinstance(responses, dict) else {})
        if isinstance(name, str) and name.startswith(f"utter_{FAQ}")
    }


def _file_for(intent: str, language: str, per_language: dict[str, list[Example]]) -> str:
    """Where examples of `intent` in `language` belong."""
    if intent.startswith(FAQ):
        return f"data/nlu/{language}/faq.yml"
    for example in per_language.get(language, []):
        if example.intent == intent:
            return example.file
    for examples in per_language.values():
        for example in examples:
            if example.intent == intent:
                return f"data/nlu/{language}/{Path(example.file).name}"
    return f"data/nlu/{language}/"


def _check_duplicates(per_language: dict[str, list[Example]], report: Report) -> None:
    """One example once per intent and language; never under two intents."""
    first: dict[tuple[str, str, str], Example] = {}
    owner: dict[str, Example] = {}
    for language, examples in per_language.items():
        for example in examples:
            key = example_key(example.text)
            if not key:
                continue
            earlier = first.setdefault((language, example.intent, key), example)
            if earlier is not example:
                also = f" (first in {earlier.file})" if earlier.file != example.file else ""
                if " ".join(earlier.text.casefold().split()) == " ".join(
                    example.text.casefold().split()
                ):
                    report.errors.append(
                        f"{example.file}: {example.intent}: {example.text!r} is listed "
                        f"twice{also}: keep one"
                    )
                else:
                    report.errors.append(
                        f"{example.file}: {example.intent}: {example.text!r} is the same "
                        f"example as {earlier.text!r}{also} once normalised (letter "
                        "variants, zero-width non-joiner, digits, diacritics): keep one"
                    )
                continue
            other = owner.setdefault(key, example)
            if other.intent != example.intent:
                report.errors.append(
                    f"{example.file}: {example.text!r} is under {other.intent} and "
                    f"{example.intent} (see {other.file}): an example belongs to one intent"
                )


# --- rasa data validate ----------------------------------------------------------------


def _check_with_rasa(root: Path, report: Report) -> None:
    rasa = RASA_BIN / "rasa"  # Rasa's own environment, beside the gateway's (Makefile)
    if not rasa.exists():
        report.rasa = "not run"
        report.errors.append(
            f"rasa data validate: {rasa} not found; set up the environment (make install), "
            "or use --fast to skip this step"
        )
        return
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        result = subprocess.run(
            [str(rasa), "data", "validate", "--fail-on-warnings"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=RASA_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        report.rasa = "failed"
        report.errors.append(f"rasa data validate: no answer within {RASA_TIMEOUT} s")
        return
    if result.returncode == 0:
        report.rasa = "ok"
        return
    report.rasa = "failed"
    output = f"{result.stdout}\n{result.stderr}"
    findings = rasa_findings(output)
    if not findings:
        findings = [line for line in _plain_lines(output) if line.strip()][-10:]
    report.errors += [f"rasa data validate: {finding}" for finding in findings]


def rasa_findings(output: str) -> list[str]:
    """The problems in `rasa data validate` output, one per finding, without the noise
    (library deprecation warnings, progress bars, harmless notes)."""
    lines = _plain_lines(output)
    findings: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "UserWarning:" in line or re.search(r"\w+(Exception|Error):", line):
            marker = "UserWarning:" if "UserWarning:" in line else None
            text = [line.split(marker, 1)[1].strip() if marker else line.strip()]
            i += 1
            while (
                i < len(lines)
                and len(text) < 12
                and lines[i].strip()
                and not _LOG_LINE.match(lines[i])
                and "Warning:" not in lines[i]
                and not lines[i].strip().startswith(("More info at", "You can use https://"))
            ):
                text.append(lines[i].strip())
                i += 1
            findings.append(" ".join(part for part in text if part))
            continue
        if re.search(r"error", line, re.IGNORECASE) and _RASA_SUMMARY not in line:
            findings.append(_LOG_LINE.sub("", line).strip())
        i += 1
    return [f for f in findings if not any(pattern.search(f) for pattern in _HARMLESS)]


def _plain_lines(output: str) -> list[str]:
    lines = []
    for line in _ANSI.sub("", output).splitlines():
        line = line.split("\r")[-1]  # progress bars redraw with carriage returns
        lines.append(line)
    return lines


# --- The report ------------------------------------------------------------------------


def format_report(report: Report, languages: tuple[str, ...]) -> str:
    intents = sorted(report.coverage, key=lambda name: (name.startswith(FAQ), name))
    width = max((len(intent) for intent in intents), default=6)
    lines = [f"training examples per intent and language (* = fewer than {MIN_EXAMPLES}):"]
    header = f"  {'intent':<{width}}  " + "".join(f"{lang:>6}" for lang in languages)
    lines += [header, "  " + "-" * (len(header) - 2)]
    for index, intent in enumerate(intents):
        if index and intent.startswith(FAQ) and not intents[index - 1].startswith(FAQ):
            lines.append("")
        counts = report.coverage[intent]
        cells = "".join(
            f"{counts.get(lang, 0):>5}{'*' if counts.get(lang, 0) < MIN_EXAMPLES else ' '}"
            for lang in languages
        )
        lines.append(f"  {intent:<{width}}  {cells}".rstrip())
    lines.append("")
    lines.append("answers per language (human-written / machine drafts / needed):")
    for language, (human, machine, needed) in sorted(report.answers.items()):
        native = "native" if language in languages else "through the English pivot"
        lines.append(f"  {language:<4} {human:>3} / {machine:>3} / {needed:>3}  ({native})")
    lines.append(f"rasa data validate: {report.rasa}")
    if report.warnings or report.errors:
        lines.append("")
    lines += [f"warning: {warning}" for warning in report.warnings]
    lines += [f"error: {error}" for error in report.errors]
    lines.append("content check: " + ("ok" if report.ok else f"{len(report.errors)} error(s)"))
    return "\n".join(lines)


def run_check(settings: Settings, root: Path = PROJECT_ROOT, fast: bool = False) -> int:
    if not fast:
        print("checking (rasa data validate takes a few seconds; --fast skips it) ...", flush=True)
    report = check(root, settings.languages, fast=fast)
    print(format_report(report, settings.languages), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


# --- Reload ----------------------------------------------------------------------------


def service_url(settings: Settings) -> str:
    host = settings.host
    if host in ("0.0.0.0", "", "::"):  # listening everywhere: ask it on this machine
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def run_reload(settings: Settings, root: Path = PROJECT_ROOT) -> int:
    """Check the answers, then make the running service serve them now."""
    report = check_answers(root, settings.languages)
    for warning in report.warnings:
        print(f"warning: {warning}")
    if not report.ok:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        print(
            f"content reload: {len(report.errors)} error(s); nothing reloaded, customers "
            "keep getting the previous answers",
            file=sys.stderr,
        )
        return 1
    base = service_url(settings)
    headers = {"Content-Type": "application/json"}
    # TOLK_ADMIN_TOKEN, from the environment or var/secrets/, as the service has it.
    if settings.admin_token:
        headers["Authorization"] = f"Bearer {settings.admin_token}"
    request = urllib.request.Request(
        f"{base}/api/v1/content/reload", data=b"{}", headers=headers, method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    try:
        with opener.open(request, timeout=30) as response:
            body = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read().decode("utf-8")).get("error", "")
        except (ValueError, AttributeError):
            message = error.reason
        print(f"content reload: {base} refused ({error.code}): {message}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError):
        print(
            f"content reload: the answers are fine, but no bot service is running at {base}: "
            "nothing to reload (the next start loads locales/ anyway)"
        )
        return 0
    print(
        f"content reload: {body.get('answers')} answers in "
        f"{', '.join(body.get('languages') or [])} are live (no retraining needed)"
    )
    return 0


# --- Machine drafts --------------------------------------------------------------------

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
    from bot.db import database

    catalogue = Catalogue.load(root / "locales")
    missing = sorted(catalogue.keys() - catalogue.keys(language))
    async with database(settings.database_url) as engine:
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
