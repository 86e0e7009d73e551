"""Intent accuracy of the trained model on the held-out utterances, per language.

Used by tests/nlu/test_accuracy.py and runnable alone:
    .venv/bin/python -m tests.nlu.heldout_eval [models/tolk.tar.gz]
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.content import nlu_examples

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout"
MODEL = ROOT / "models" / "tolk.tar.gz"


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


async def evaluate(model: Path = MODEL) -> list[LanguageResult]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results = []
    for path in sorted(HELDOUT.glob("*.yml")):
        result = LanguageResult(path.stem)
        for text, expected in nlu_examples(path):
            parse = await agent.parse_message(text)
            got = predicted_intent(parse)
            result.total += 1
            if got == expected:
                result.correct += 1
            else:
                result.errors.append((text, expected, got))
        results.append(result)
    return results


def report(results: list[LanguageResult]) -> str:
    lines = ["language  examples  correct  accuracy", "--------  --------  -------  --------"]
    for r in results:
        lines.append(f"{r.language:<8}  {r.total:>8}  {r.correct:>7}  {r.accuracy:>8.1%}")
    for r in results:
        for text, expected, got in r.errors:
            lines.append(f"  {r.language} miss: {text!r}: expected {expected}, got {got}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(asyncio.run(evaluate(Path(sys.argv[1]) if len(sys.argv) > 1 else MODEL))))
