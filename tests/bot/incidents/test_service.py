"""The incident service's own housekeeping (the flows are in test_flow.py)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from bot.incidents.service import Incidents


def test_settled_returns_when_a_check_finished_before_its_callback_ran():
    """A check that is done while its done callback waits for the next loop turn (what a
    stop right after a customer message meets): `settled` must not spin on it. Run in a
    thread of its own, so that a regression fails here instead of hanging the suite."""

    async def scenario() -> None:
        async def check() -> None:
            return None

        incidents = Incidents(
            None, None, None, None, None, languages=("en",), push_window=timedelta(hours=1)
        )
        incidents._background(check())
        await asyncio.sleep(0)  # the check runs and ends; its done callback comes next turn
        await incidents.settled()

    thread = threading.Thread(target=asyncio.run, args=(scenario(),), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
