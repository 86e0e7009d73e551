"""Escalation quality on held-out messages per language: precision and recall.

The decision is the one the trained model makes: a message goes to a person when its
intent is `request_human` or `complain`, which the EscalationDetector in the pipeline
predicts for anger and sensitive topics (config.yml) — the rules then run action_handoff.
Run alone: .venv/bin/python -m tests.handoff.quality
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.handoff.classifier import ESCALATING_INTENTS
from bot.settings import PROJECT_ROOT

HELDOUT = PROJECT_ROOT / "tests" / "handoff" / "heldout"
LEXICONS = PROJECT_ROOT / "data" / "escalation"
MODEL = PROJECT_ROOT / "models" / "tolk.tar.gz"


@dataclass
class Quality:
    language: str
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else 0.0


def load(path: Path) -> list[dict]:
    return list((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("messages", []))


async def evaluate(model: Path = MODEL) -> list[Quality]:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    agent = Agent.load(str(model))
    results = []
    for path in sorted(HELDOUT.glob("*.yml")):
        quality = Quality(path.stem)
        for message in load(path):
            user_message = UserMessage(message["text"], metadata={"language": path.stem})
            parsed = await agent.processor.parse_message(user_message)
            intent = parsed["intent"]["name"]
            # The rules answer these with action_handoff (data/rules/conversation.yml).
            escalate = intent in ESCALATING_INTENTS
            expected = bool(message["escalate"])
            if escalate and expected:
                quality.true_positive += 1
            elif escalate:
                quality.false_positive += 1
                quality.misses.append(f"false alarm ({intent}): {message['text']!r}")
            elif expected:
                quality.false_negative += 1
                quality.misses.append(
                    f"missed {message.get('kind')} ({intent}): {message['text']!r}"
                )
            else:
                quality.true_negative += 1
        results.append(quality)
    return results


def report(results: list[Quality]) -> str:
    lines = ["language  messages  precision  recall", "--------  --------  ---------  ------"]
    for q in results:
        total = q.true_positive + q.false_positive + q.false_negative + q.true_negative
        lines.append(f"{q.language:<8}  {total:>8}  {q.precision:>9.2f}  {q.recall:>6.2f}")
    lines += [f"  {q.language} {miss}" for q in results for miss in q.misses]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(asyncio.run(evaluate())))
