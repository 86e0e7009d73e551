"""The background jobs' loop (bot/periodic.py): rounds, failures, and a stop that lets a
round under way finish."""

from __future__ import annotations

import asyncio

from bot.periodic import Periodic


async def test_rounds_run_first_then_every_period_and_a_failure_does_not_end_them(caplog):
    rounds: list[float] = []

    async def job() -> None:
        rounds.append(asyncio.get_running_loop().time())
        if len(rounds) == 1:
            raise RuntimeError("boom")

    job_loop = Periodic("test job", job, every=0.05, first=0)
    job_loop.start()
    await asyncio.sleep(0.2)
    await job_loop.stop()
    assert len(rounds) >= 3  # the failing first round did not stop the next ones
    assert "test job failed" in caplog.text


async def test_stop_lets_a_round_under_way_finish():
    finished = asyncio.Event()
    started = asyncio.Event()

    async def job() -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.set()

    job_loop = Periodic("slow job", job, every=60, first=0)
    job_loop.start()
    await started.wait()
    await job_loop.stop()
    assert finished.is_set()


async def test_nothing_runs_before_first_and_stop_ends_the_wait_at_once():
    rounds = 0

    async def job() -> None:
        nonlocal rounds
        rounds += 1

    job_loop = Periodic("late job", job, every=60, first=60)
    job_loop.start()
    started = asyncio.get_running_loop().time()
    await job_loop.stop()
    assert rounds == 0
    assert asyncio.get_running_loop().time() - started < 1
