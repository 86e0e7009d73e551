"""The one failure kind the model does not name: the shop is down, not refusing."""

from __future__ import annotations

from actions.shop.model import ShopError


class ShopUnavailable(ShopError):
    """The shop could not be reached (network, timeout, 5xx, unreadable answer, database
    down). A ShopError, so `except ShopError` catches it; catch it first to tell "try again
    later / hand over to a person" apart from a refusal whose message the customer should read.
    """
