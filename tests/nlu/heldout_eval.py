"""Intent accuracy of the trained model on the held-out utterances, per language.

Two sets per language: `tests/nlu/heldout/` (written with the training data) and, when
present, `tests/nlu/heldout_blind/` (written by someone who never saw the training data,
from the vocabulary lists and real-world phrasing: never used for tuning). Messages are
parsed as the service sends them, with the conversation's language in the metadata (the
EscalationDetector reads it).

Used by tests/nlu/test_accuracy.py and runnable alone (`make nlu-eval`):
    .venv-rasa/bin/python -m tests.nlu.heldout_eval [models/tolk.tar.gz]
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tolk_core.nlu_data import nlu_examples

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout"
BLIND = ROOT / "tests" / "nlu" / "heldout_blind"
MODEL = ROOT / "models" / "tolk.tar.gz"
WORST_PAIRS = 15


@dataclass
class LanguageResult:
    language: str
    total: int = 0
    correct: int = 0
    errors: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def predicted_intent(parse: dict) -> str:
    intent = parse["intent"]["name"]
    if intent == "faq":
        selector = parse.get("response_selector", {}).get("faq", {})
        return selector.get("response", {}).get("intent_response_key") or "faq"
    return intent


def held_out(directory: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(language, [(text, intent)]) per file of a held-out set."""
    return [(path.stem, nlu_examples(path)) for path in sorted(directory.glob("*.yml"))]


async def evaluate(model: Path = MODEL, directory: Path = HELDOUT) -> list[LanguageResult]:
    from rasa.core.agent import Agent

    return await evaluate_with(Agent.load(str(model)), directory)


async def evaluate_with(agent, directory: Path) -> list[LanguageResult]:
    from rasa.core.channels.channel import UserMessage

    results = []
    for language, examples in held_out(directory):
        result = LanguageResult(language)
        for text, expected in examples:
            message = UserMessage(text, metadata={"language": language})
            got = predicted_intent(await agent.processor.parse_message(message))
            result.total += 1
            if got == expected:
                result.correct += 1
            else:
                result.errors.append((text, expected, got))
        results.append(result)
    return results


def confusions(results: list[LanguageResult]) -> Counter[tuple[str, str]]:
    """(expected, predicted) -> how many messages, over every language."""
    return Counter((expected, got) for r in results for _, expected, got in r.errors)


def report(results: list[LanguageResult], *, misses: bool = True) -> str:
    lines = ["language  examples  correct  accuracy", "--------  --------  -------  --------"]
    for r in results:
        lines.append(f"{r.language:<8}  {r.total:>8}  {r.correct:>7}  {r.accuracy:>8.1%}")
    if misses:
        for r in results:
            for text, expected, got in r.errors:
                lines.append(f"  {r.language} miss: {text!r}: expected {expected}, got {got}")
    return "\n".join(lines)


def confusion_table(results: list[LanguageResult], worst: int = WORST_PAIRS) -> str:
    pairs = confusions(results).most_common(worst)
    if not pairs:
        return "no confusions"
    by_language = {
        pair: Counter(r.language for r in results for _, e, g in r.errors if (e, g) == pair)
        for pair, _ in pairs
    }
    lines = [
        f"{'expected':<28}  {'predicted':<28}  count  languages",
        f"{'-' * 28}  {'-' * 28}  -----  ---------",
    ]
    for (expected, got), count in pairs:
        where = " ".join(f"{code}:{n}" for code, n in sorted(by_language[(expected, got)].items()))
        lines.append(f"{expected:<28}  {got:<28}  {count:>5}  {where}")
    return "\n".join(lines)


async def _main(model: Path) -> str:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    out = []
    for name, directory in (("held-out (with the training data)", HELDOUT), ("blind", BLIND)):
        if not directory.is_dir() or not any(directory.glob("*.yml")):
            out.append(f"== {name}: {directory.relative_to(ROOT)} is missing\n")
            continue
        results = await evaluate_with(agent, directory)
        out += [
            f"== {name}: {directory.relative_to(ROOT)}",
            # The blind set's texts are never shown: whoever tunes the data must not see them.
            report(results, misses=directory != BLIND),
            "",
            f"worst confusions ({name})",
            confusion_table(results),
            "",
        ]
    return "\n".join(out)


if __name__ == "__main__":
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not a debug line per parsed message
    print(asyncio.run(_main(Path(sys.argv[1]) if len(sys.argv) > 1 else MODEL)))
