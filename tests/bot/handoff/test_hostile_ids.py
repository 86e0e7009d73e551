"""Ticket ids in the agent API that str.isdigit() accepts but int() or SQLite do not."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("ticket", ["²", "١٢", "99999999999999999999999"])
async def test_a_ticket_id_that_is_no_number_here_is_a_404(team, ticket):
    emma = await team.add("Emma", "en")
    status, body = await team.call("GET", f"/tickets/{ticket}", emma)
    assert status == 404
    assert "no ticket" in body["error"]
