"""Verification is throttled per order number and per e-mail address, whoever asks:
senders are free, so a guesser with a new sender for every try is throttled all the same.
A wrong pair and an unknown order look alike, locked or not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from actions.shop.verification import MAX_FAILURES, WINDOW, Verifier


@pytest.fixture
def verifier(engine, shop, clock) -> Verifier:
    return Verifier(engine, shop, clock)


async def test_fresh_senders_guessing_orders_of_one_address_are_throttled(verifier, clock):
    """Someone who knows alex@example.com looks for Alex's orders, a new sender each time."""
    for n in range(MAX_FAILURES):
        verdict = await verifier.verify(f"web-new-{n}", f"2000{n}", "Alex@Example.com ")
        assert not verdict.verified
    verdict = await verifier.verify("web-new-x", "10001", "alex@example.com")
    assert verdict.locked and not verdict.verified, "the right pair is not checked now"
    # Other addresses are not held up.
    assert (await verifier.verify("web-sam", "10002", "sam@example.com")).verified
    clock.now += WINDOW + timedelta(seconds=1)
    assert (await verifier.verify("web-new-y", "10001", "alex@example.com")).verified


async def test_fresh_senders_guessing_one_orders_address_are_throttled(verifier):
    for n in range(MAX_FAILURES):
        await verifier.verify(f"rest-{n}", "10001", f"guess{n}@example.com")
    assert (await verifier.verify("rest-z", "10001", "alex@example.com")).locked


async def test_unknown_orders_and_wrong_pairs_are_locked_alike(verifier):
    for n in range(MAX_FAILURES):
        unknown = await verifier.verify(f"a-{n}", "99999", f"a{n}@example.com")
        wrong = await verifier.verify(f"b-{n}", "10002", f"b{n}@example.com")
        assert unknown == wrong
