"""`python -m bot bench`'s per-channel lines run end to end (a few rounds each): the stub
servers answer and every message is timed to its answer, so a broken channel path fails
here rather than in the benchmark someone runs later."""

from __future__ import annotations

import re

from bot.settings import Settings
from tolk_tools.bench_email import bench_email
from tolk_tools.bench_meta import bench_meta

MEDIAN = re.compile(r"median per message\s+(\d+\.\d+) ms")


def medians(lines: list[str]) -> list[float]:
    return [float(m.group(1)) for line in lines if (m := MEDIAN.search(line))]


async def test_the_meta_channels_are_timed_to_their_answers() -> None:
    lines = await bench_meta(Settings.from_env({}), rounds=3)
    assert any(line.startswith("WhatsApp") for line in lines)
    assert len(medians(lines)) == 2 and all(m > 0 for m in medians(lines)), lines


async def test_e_mail_is_timed_from_the_inbound_webhook_to_the_mailed_answer() -> None:
    lines = await bench_email(Settings.from_env({}), rounds=3)
    assert lines[0].startswith("E-mail: inbound webhook -> answer mailed")
    assert "n=3 " in lines[0]
    assert len(medians(lines)) == 1 and medians(lines)[0] > 0, lines
