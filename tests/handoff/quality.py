"""Escalation quality on held-out messages per language: precision and recall.

The decision is the one the trained model makes: a message goes to a person when its
intent is `request_human` or `complain`, which the EscalationDetector in the pipeline
predicts for anger and sensitive topics (config.yml) — the rules then run action_handoff.
Messages are parsed with the metadata the service sends (the conversation's language).

Explicit requests for a person are easy (the words say so) and would flatter the figures,
so the report also gives the detector's own work apart: anger, complaints and sensitive
topics against calm messages and calm problem reports ("my card was charged twice" is a
problem for the bot to solve, not a complaint for a person).
Run alone: .venv-rasa/bin/python -m tests.handoff.quality
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu_components.escalation.classifier import ESCALATING_INTENTS
from tolk_core.project import PROJECT_ROOT

HELDOUT = PROJECT_ROOT / "tests" / "handoff" / "heldout"
LEXICONS = PROJECT_ROOT / "data" / "escalation"
MODEL = PROJECT_ROOT / "models" / "tolk.tar.gz"
# What a person should see without asking for one, and what the bot should keep.
DETECTED = ("angry", "complaint", "sensitive")
KEPT = ("calm", "problem")


@dataclass
class Quality:
    language: str
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0
    misses: list[str] = field(default_factory=list)
    # kind -> (escalated, messages)
    kinds: dict[str, list[int]] = field(default_factory=dict)

    def count(self, kind: str, escalated: bool) -> None:
        seen = self.kinds.setdefault(kind, [0, 0])
        seen[0] += int(escalated)
        seen[1] += 1

    def _escalated(self, kinds: tuple[str, ...]) -> tuple[int, int]:
        counts = [self.kinds.get(kind, [0, 0]) for kind in kinds]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    @property
    def detected_precision(self) -> float:
        """Of the messages without a request for a person that went to one, how many
        should have (anger, complaint, sensitive; not calm messages or problem reports)."""
        hits, _ = self._escalated(DETECTED)
        false_alarms, _ = self._escalated(KEPT)
        return hits / (hits + false_alarms) if hits + false_alarms else 0.0

    @property
    def detected_recall(self) -> float:
        hits, total = self._escalated(DETECTED)
        return hits / total if total else 0.0

    @property
    def request_recall(self) -> float:
        hits, total = self._escalated(("request",))
        return hits / total if total else 0.0

    @property
    def problems_kept(self) -> float:
        """Calm problem reports the bot keeps (does not hand to a person)."""
        escalated, total = self._escalated(("problem",))
        return (total - escalated) / total if total else 1.0

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

    return await evaluate_agent(Agent.load(str(model)))


async def evaluate_agent(agent) -> list[Quality]:
    from rasa.core.channels.channel import UserMessage

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
            quality.count(str(message.get("kind")), escalate)
            if escalate and expected:
                quality.true_positive += 1
            elif escalate:
                quality.false_positive += 1
                quality.misses.append(
                    f"false alarm on {message.get('kind')} ({intent}): {message['text']!r}"
                )
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
    lines = [
        "          all messages                  anger/complaint/sensitive  requests  problem",
        "language  messages  precision  recall   precision  recall          recall    reports kept",
        "--------  --------  ---------  ------   ---------  ------          ------    ------------",
    ]
    for q in results:
        total = q.true_positive + q.false_positive + q.false_negative + q.true_negative
        lines.append(
            f"{q.language:<8}  {total:>8}  {q.precision:>9.2f}  {q.recall:>6.2f}   "
            f"{q.detected_precision:>9.2f}  {q.detected_recall:>6.2f}          "
            f"{q.request_recall:>6.2f}    {q.problems_kept:>12.2f}"
        )
    lines += [f"  {q.language} {miss}" for q in results for miss in q.misses]
    return "\n".join(lines)


if __name__ == "__main__":
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not a debug line per parsed message
    print(report(asyncio.run(evaluate())))
