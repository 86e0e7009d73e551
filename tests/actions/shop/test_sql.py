"""The demo shop: its seeded story, its rules and their refusals, the mail it "sends"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from actions.database import create_engine
from actions.shop import (
    Customer,
    Refund,
    ShopError,
    ShopUnavailable,
    SqlShop,
    seed_demo,
)
from actions.shop.tables import shop_customers, shop_items, shop_orders, shop_refunds
from tests.actions.shop.conftest import TODAY, Clock, days

RESET_LINK = re.compile(r"https://shop\.example/reset/[A-Za-z0-9_-]{24,}")


async def count(engine, table) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(table))


# --- the seed -------------------------------------------------------------------------------


async def test_order_10001_is_alexs_and_on_its_way_with_tracking(shop):
    order = await shop.order("10001")
    assert order.email == "alex@example.com"
    assert order.customer_name == "Alex Morgan"
    assert order.status == "shipped" and order.shipped
    shipment = order.shipment
    assert shipment.carrier == "PostNL"
    assert shipment.tracking_number == "3SDEMO10001NL"
    assert shipment.tracking_url == "https://shop.example/track/3SDEMO10001NL"
    assert shipment.shipped_on == days(-1)
    assert shipment.expected_on == days(2) and shipment.expected_on > TODAY
    assert shipment.delivered_on is None
    assert (
        order.total_cents == 7999 + 2 * 999 == sum(i.quantity * i.price_cents for i in order.items)
    )
    assert order.currency == "EUR"
    assert order.invoice_url == "https://shop.example/invoices/10001.pdf"


async def test_order_10002_is_sams_and_still_processing(shop):
    order = await shop.order("10002")
    assert order.email == "sam@example.com"
    assert order.status == "processing" and not order.shipped
    assert order.shipment is None
    assert order.placed_on == TODAY
    assert order.invoice_url is None


async def test_the_other_seeded_orders_tell_their_stories(shop):
    within = await shop.order("10003")
    assert (within.email, within.status, within.delivered_on) == (
        "alex@example.com",
        "delivered",
        days(-5),
    )
    outside = await shop.order("10004")
    assert (outside.email, outside.status, outside.delivered_on) == (
        "alex@example.com",
        "delivered",
        days(-60),
    )
    refunded = await shop.order("10005")
    assert refunded.email == "sam@example.com"
    assert refunded.refunds == (
        Refund(
            id="RF-10005-1",
            status="approved",
            amount_cents=refunded.total_cents,
            reason="The mugs arrived broken.",
            requested_on=days(-7),
            expected_on=days(3),
        ),
    )
    assert (await shop.order("10006")).status == "cancelled"
    abroad = await shop.order("10007")
    assert abroad.status == "shipped" and abroad.shipment.carrier == "DHL Express"


async def test_customers_list_their_orders_and_lookups_ignore_case(shop):
    assert await shop.customer("alex@example.com") == Customer(
        "alex@example.com", "Alex Morgan", ("10001", "10003", "10004")
    )
    assert (await shop.customer("  Sam@Example.COM ")).order_numbers == ("10002", "10005")


async def test_unknown_order_and_customer_are_none(shop):
    assert await shop.order("99999") is None
    assert await shop.order("") is None
    assert await shop.customer("nobody@example.com") is None


async def test_seeding_twice_changes_nothing(shop, engine, clock):
    before = [await count(engine, t) for t in (shop_customers, shop_orders, shop_items)]
    assert await seed_demo(engine, clock) is False
    assert [await count(engine, t) for t in (shop_customers, shop_orders, shop_items)] == before
    assert before[1] == 7


async def test_seeding_at_another_time_moves_the_story_along(engine):
    later = Clock()
    later.advance(400)
    await seed_demo(engine, later)
    order = await SqlShop(engine, later).order("10001")
    assert order.shipment.expected_on == later.today + (days(2) - TODAY)


# --- cancel ---------------------------------------------------------------------------------


async def test_a_processing_order_is_cancelled_and_the_customer_mailed(shop):
    order = await shop.cancel_order("10002")
    assert order.status == "cancelled"
    assert (await shop.order("10002")).status == "cancelled"
    [mail] = await shop.outbox("sam@example.com")
    assert mail.subject == "Order 10002 is cancelled"


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("10001", "order 10001 has already shipped on 2025-05-09, so it can no longer be"),
        ("10003", "order 10003 was already delivered on 2025-05-05, so it can no longer be"),
        ("10006", "order 10006 is already cancelled"),
        ("99999", "there is no order 99999"),
    ],
)
async def test_only_processing_orders_can_be_cancelled(shop, number, why):
    with pytest.raises(ShopError) as refused:
        await shop.cancel_order(number)
    assert str(refused.value).startswith(why)
    assert await shop.outbox() == []


async def test_cancelling_twice_says_it_is_cancelled_already(shop):
    await shop.cancel_order("10002")
    with pytest.raises(ShopError, match="already cancelled"):
        await shop.cancel_order("10002")


# --- address --------------------------------------------------------------------------------


async def test_the_address_changes_before_shipping(shop):
    order = await shop.change_address("10002", "  Sam Rivera, 1 New Road, Leeds  ")
    assert order.shipping_address == "Sam Rivera, 1 New Road, Leeds"
    [mail] = await shop.outbox("sam@example.com")
    assert "1 New Road" in mail.body


@pytest.mark.parametrize(
    ("number", "address", "why"),
    [
        ("10001", "Somewhere 1", "order 10001 has already shipped, so its delivery address"),
        ("10003", "Somewhere 1", "order 10003 was already delivered"),
        ("10006", "Somewhere 1", "order 10006 is cancelled"),
        ("10002", "   ", "the new address is empty"),
        ("10002", "x" * 501, "the new address is longer than 500 characters"),
        ("99999", "Somewhere 1", "there is no order 99999"),
    ],
)
async def test_the_address_cannot_change_after_shipping(shop, number, address, why):
    before = await shop.order(number)
    with pytest.raises(ShopError) as refused:
        await shop.change_address(number, address)
    assert str(refused.value).startswith(why)
    assert await shop.order(number) == before


# --- refunds --------------------------------------------------------------------------------


async def test_a_delivered_order_within_the_window_gets_a_refund(shop):
    refund = await shop.request_refund("10003", " It does not fit my desk. ")
    order = await shop.order("10003")
    assert refund == Refund(
        id="RF-10003-1",
        status="requested",
        amount_cents=order.total_cents,
        reason="It does not fit my desk.",
        requested_on=TODAY,
        expected_on=days(10),
    )
    assert order.refunds == (refund,)
    [mail] = await shop.outbox("alex@example.com")
    assert "RF-10003-1" in mail.body and "EUR 34.95" in mail.body


async def test_a_shipped_order_can_be_refunded_before_it_arrives(shop):
    refund = await shop.request_refund("10001", "I changed my mind")
    assert refund.status == "requested"


@pytest.mark.parametrize(
    ("number", "why"),
    [
        (
            "10004",
            "order 10004 was delivered on 2025-03-11, more than 30 days ago; "
            "the return window ended on 2025-04-10",
        ),
        ("10002", "order 10002 has not shipped yet; it can be cancelled instead"),
        ("10005", "a refund for order 10005 was already requested on 2025-05-03 (it is approved)"),
        ("10006", "order 10006 was cancelled, so there is nothing to refund"),
        ("99999", "there is no order 99999"),
    ],
)
async def test_refunds_are_refused_with_the_reason(shop, engine, number, why):
    with pytest.raises(ShopError) as refused:
        await shop.request_refund(number, "because")
    assert str(refused.value) == why
    assert await count(engine, shop_refunds) == 1  # the seeded one of 10005
    assert await shop.outbox() == []


async def test_one_open_refund_per_order(shop):
    await shop.request_refund("10003", "too big")
    with pytest.raises(ShopError, match="already requested on 2025-05-10 \\(it is requested\\)"):
        await shop.request_refund("10003", "too big, really")


async def test_the_return_window_is_thirty_days_from_delivery(shop, clock):
    clock.advance(25)  # 10003 was delivered 30 days ago: the last day
    assert (await shop.request_refund("10003", "late but in time")).expected_on == days(35)


async def test_a_day_after_the_window_the_refund_is_refused(shop, clock):
    clock.advance(26)
    with pytest.raises(ShopError, match="the return window ended on 2025-06-04"):
        await shop.request_refund("10003", "too late")


# --- password reset -------------------------------------------------------------------------


async def test_a_reset_link_is_mailed_to_a_known_address(shop):
    await shop.send_password_reset(" ALEX@example.com")
    [mail] = await shop.outbox()
    assert mail.to == "alex@example.com"
    assert mail.subject == "Reset your password"
    assert RESET_LINK.search(mail.body)
    assert mail.created_at == shop._clock()


async def test_every_reset_link_is_new(shop):
    await shop.send_password_reset("alex@example.com")
    await shop.send_password_reset("alex@example.com")
    links = [RESET_LINK.search(m.body).group() for m in await shop.outbox("alex@example.com")]
    assert len(set(links)) == 2


async def test_a_reset_for_an_unknown_address_writes_nothing(shop):
    assert await shop.send_password_reset("nobody@example.com") is None
    assert await shop.outbox() == []


# --- e-mail address -------------------------------------------------------------------------


async def test_changing_the_address_moves_account_and_orders_and_tells_both(shop):
    await shop.update_email("alex@example.com", " Alex.Morgan@Example.ORG ")
    assert await shop.customer("alex@example.com") is None
    moved = await shop.customer("alex.morgan@example.org")
    assert moved.order_numbers == ("10001", "10003", "10004")
    for number in moved.order_numbers:
        assert (await shop.order(number)).email == "alex.morgan@example.org"
    [to_old] = await shop.outbox("alex@example.com")
    [to_new] = await shop.outbox("alex.morgan@example.org")
    assert "alex.morgan@example.org" in to_old.body and "contact us" in to_old.body
    assert "alex@example.com" in to_new.body
    assert (await shop.order("10002")).email == "sam@example.com"


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("alex@example.com", "sam@example.com", "another account already uses sam@example.com"),
        ("alex@example.com", "ALEX@example.com", "the new address is the same as the current one"),
        ("alex@example.com", "not an address", "'not an address' is not a valid e-mail address"),
        ("nobody@example.com", "new@example.com", "there is no account for nobody@example.com"),
    ],
)
async def test_refused_address_changes_change_nothing(shop, old, new, why):
    with pytest.raises(ShopError) as refused:
        await shop.update_email(old, new)
    assert str(refused.value) == why
    assert (await shop.order("10001")).email == "alex@example.com"
    assert await shop.outbox() == []


# --- delete ---------------------------------------------------------------------------------


async def test_deleting_an_account_deletes_its_orders_and_mail(shop, engine):
    await shop.send_password_reset("alex@example.com")
    await shop.send_password_reset("sam@example.com")
    await shop.request_refund("10003", "broken")
    await shop.delete_account("Alex@example.com")
    assert await shop.customer("alex@example.com") is None
    for number in ("10001", "10003", "10004"):
        assert await shop.order(number) is None
    async with engine.connect() as connection:
        left = await connection.scalar(
            select(func.count()).where(shop_items.c.order_number.in_(["10001", "10003", "10004"]))
        )
    assert left == 0
    assert await count(engine, shop_refunds) == 1  # 10005's
    assert [m.to for m in await shop.outbox()] == ["sam@example.com"]
    assert (await shop.customer("sam@example.com")).order_numbers == ("10002", "10005")


async def test_deleting_an_unknown_account_is_refused(shop):
    with pytest.raises(ShopError, match=re.escape("there is no account for nobody@example.com")):
        await shop.delete_account("nobody@example.com")


# --- a database that cannot answer ---------------------------------------------------------


async def test_a_database_that_cannot_answer_is_shop_unavailable(tmp_path):
    # No schema: every query fails the way a locked or broken database does (OperationalError).
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(ShopUnavailable, match="not available"):
            await SqlShop(engine).order("10001")
        with pytest.raises(ShopUnavailable):
            await SqlShop(engine).cancel_order("10002")
    finally:
        await engine.dispose()
