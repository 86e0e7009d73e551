"""Rules and stories checked by `rasa test core` on test conversations (stories.yml), and
the conversations' own words read by the trained NLU as the stories say.

`rasa test core` predicts the next actions from the labelled intents; it does not run the
NLU on the user's text, so the second test does that with the trained model.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.language import LanguageChooser
from tests.conftest import REPORTS
from tolk_core.project import NATIVE_LANGUAGES, PROJECT_ROOT

pytestmark = pytest.mark.nlu

STORIES = Path(__file__).with_name("stories.yml")
MODEL = PROJECT_ROOT / "models" / "tolk.tar.gz"
RASA = Path(sys.executable).with_name("rasa")


def user_turns() -> list[tuple[str, str]]:
    data = yaml.safe_load(STORIES.read_text(encoding="utf-8"))
    return [
        (step["user"].strip(), step["intent"])
        for story in data["stories"]
        for step in story["steps"]
        if "user" in step
    ]


def test_rasa_test_core_predicts_every_action(tmp_path):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    result = subprocess.run(
        [
            str(RASA),
            "test",
            "core",
            "--model",
            str(MODEL),
            "--stories",
            str(STORIES),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
            "--no-plot",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONWARNINGS": "ignore", "RASA_TELEMETRY_ENABLED": "false", "PATH": ""},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    correct = re.findall(r"Correct:\s+(\d+) / (\d+)", output)
    assert correct and correct[-1][0] == correct[-1][1] != "0", output[-3000:]
    REPORTS.append(
        f"rasa test core on tests/dialogue/stories.yml: {correct[-1][0]} actions correct"
    )


async def test_the_stories_words_are_read_as_their_intents():
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    agent = Agent.load(str(MODEL))
    chooser = LanguageChooser(NATIVE_LANGUAGES)
    wrong = []
    for text, intent in user_turns():
        metadata = {"language": chooser.choose(text, None, None)}
        parsed = await agent.processor.parse_message(UserMessage(text, metadata=metadata))
        if parsed["intent"]["name"] != intent:
            wrong.append(f"{text!r}: {parsed['intent']['name']} (story says {intent})")
    assert wrong == []
