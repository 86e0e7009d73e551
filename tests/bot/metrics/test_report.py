"""`python -m bot report`: the seeded week as a text table, and valid PNG charts."""

from __future__ import annotations

import struct
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.db import create_engine, create_schema
from bot.metrics.report import CHART_FILES, run_report
from bot.settings import Settings
from tests.bot.metrics.seed import seed

NOW = datetime(2026, 12, 2, 12, 0)

# The figures of test_figures.py, as the lead reads them.
EXPECTED = """\
Tolk report: 2026-11-25 12:00 to 2026-12-02 12:00 UTC

First response, bot (median / p90)                  2s / 5s   9 sessions
First response, agent (median / p90)         35m 00s / 1h 00m   2 tickets
Resolution time, tickets (mean)                      9h 43m   3 resolved
First-contact resolution                             50.0 %   4 of 8
Containment (no handoff)                             70.0 %   7 of 10
Handoff rate                                         30.0 %   3 of 10
  reason complaint                                   10.0 %   1 of 10
  reason request                                     10.0 %   1 of 10
  reason stuck                                       10.0 %   1 of 10
CSAT (% 4-5 / mean)                           50.0 % / 3.50   2 of 3 asked answered
  after bot-only sessions                    100.0 % / 5.00   1 of 2 asked answered
  after tickets                                0.0 % / 2.00   1 of 1 asked answered
NPS (promoters - detractors)                             +0   2 of 2 asked answered
CES (mean, 1-7)                                        6.00   1 of 1 asked answered
SLA breaches (first agent reply)                     66.7 %   2 of 3
  priority cold                                      50.0 %   1 of 2
  priority hot                                      100.0 %   1 of 1
Unanswered messages                                       3   of 16 messages
  still waiting (bot down)                                1
  language not supported                                  1
  not understood                                          1
Volume: messages / sessions                         16 / 10
  language de                                             1   messages
  language en                                             7   messages
  language fa                                             1   messages
  language he                                             2   messages
  language nl                                             3   messages
  language vi                                             2   messages
  channel rest                                           11   messages
  channel telegram                                        4   messages
  channel web                                             1   messages
  by hour (UTC): 08h 2, 09h 3, 10h 1, 11h 3, 14h 3, 15h 1, 16h 2, 20h 1

NPS reasons (in English where translated):
   9  Fast
   4  Delivery was slow"""


@pytest.fixture
async def seeded(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'tolk.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    await seed(engine, NOW)
    await engine.dispose()
    return Settings(database_url=url)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR" and data[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


def test_the_seeded_week_as_text_and_charts(seeded, tmp_path, capsys):
    charts = tmp_path / "charts"
    assert run_report(seeded, "7d", charts=charts, now=NOW) == 0
    out = capsys.readouterr().out
    text, _, written = out.partition("\n\ncharts: ")
    assert text == EXPECTED
    assert written.strip().split(", ") == [str(charts / name) for name in CHART_FILES]
    for name in CHART_FILES:
        width, height = _png_size(charts / name)
        assert width >= 600 and height >= 300, name


def test_a_language_and_a_channel(seeded, capsys):
    assert run_report(seeded, "7d", language="nl", now=NOW) == 0
    out = capsys.readouterr().out
    assert out.startswith("Tolk report: 2026-11-25 12:00 to 2026-12-02 12:00 UTC, language nl")
    assert "Containment (no handoff)                            100.0 %   1 of 1" in out
    assert run_report(seeded, "7d", channel="telegram", now=NOW) == 0
    assert "Handoff rate                                         50.0 %   1 of 2" in (
        capsys.readouterr().out
    )


def test_the_command_line(seeded, monkeypatch, capsys):
    monkeypatch.setenv("TOLK_DATABASE_URL", seeded.database_url)
    assert main(["report", "--since", "4w"]) == 0
    assert "First-contact resolution" in capsys.readouterr().out
    assert main(["report", "--since", "a week"]) == 2
    assert "--since takes a count and a unit" in capsys.readouterr().err
