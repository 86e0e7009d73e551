"""HttpShop against a shop API on loopback that speaks docs/shop-api.md (over the demo shop),
and against shops that are broken in the ways real ones are."""

from __future__ import annotations

import re
import socket

import aiohttp
import pytest

from actions.settings import ActionSettings, SettingsError
from actions.shop import HttpShop, ShopError, ShopUnavailable, SqlShop, create_shop
from tests.actions.shop.conftest import TODAY, days
from tests.actions.shop.shop_api import FakeShopApi

KEY = "shop-key-123"


@pytest.fixture
def api(shop) -> FakeShopApi:
    return FakeShopApi(shop, key=KEY)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def base_url(aiohttp_server, api) -> str:
    server = await aiohttp_server(api.app())
    return str(server.make_url("/api")).removesuffix("/api")


@pytest.fixture
def remote(session, base_url) -> HttpShop:
    return HttpShop(session, base_url + "/", api_key=KEY, timeout=1)


# --- lookups --------------------------------------------------------------------------------


async def test_an_order_arrives_as_the_shop_has_it(remote, shop):
    for number in ("10001", "10002", "10005"):
        assert await remote.order(number) == await shop.order(number)


async def test_the_key_is_sent_as_a_bearer_token(remote, api):
    await remote.order("10001")
    assert api.seen == [("GET", "/orders/10001", f"Bearer {KEY}")]


async def test_an_unknown_order_is_none(remote):
    assert await remote.order("99999") is None


async def test_order_numbers_cannot_walk_the_path(remote, api):
    assert await remote.order("..") is None
    assert await remote.order("10002/cancel") is None
    assert api.seen == [("GET", "/orders/10002%2Fcancel", f"Bearer {KEY}")]


async def test_a_customer_is_found_by_address(remote, shop):
    assert await remote.customer("alex@example.com") == await shop.customer("alex@example.com")
    assert await remote.customer("nobody@example.com") is None


# --- operations -----------------------------------------------------------------------------


async def test_cancelling_returns_the_cancelled_order(remote, shop):
    order = await remote.cancel_order("10002")
    assert order.status == "cancelled"
    assert order == await shop.order("10002")


async def test_a_refusal_carries_the_shops_own_words(remote):
    with pytest.raises(ShopError) as refused:
        await remote.cancel_order("10001")
    assert not isinstance(refused.value, ShopUnavailable)
    assert str(refused.value).startswith("order 10001 has already shipped on 2025-05-09")


async def test_an_operation_on_an_unknown_order_is_refused(remote):
    with pytest.raises(ShopError, match="there is no order 99999"):
        await remote.cancel_order("99999")
    with pytest.raises(ShopError, match="there is no order"):
        await remote.request_refund("..", "walk")


async def test_the_address_changes_and_422_explains(remote):
    order = await remote.change_address("10002", "Sam Rivera, 1 New Road, Leeds")
    assert order.shipping_address == "Sam Rivera, 1 New Road, Leeds"
    with pytest.raises(ShopError, match="the new address is empty"):
        await remote.change_address("10002", " ")


async def test_a_refund_is_created(remote, shop):
    refund = await remote.request_refund("10003", "too big")
    assert (refund.status, refund.requested_on, refund.expected_on) == (
        "requested",
        TODAY,
        days(10),
    )
    assert (await shop.order("10003")).refunds == (refund,)
    with pytest.raises(ShopError, match="the return window ended on 2025-04-10"):
        await remote.request_refund("10004", "old")


async def test_password_resets_are_accepted_for_any_address(remote, shop):
    await remote.send_password_reset("alex@example.com")
    await remote.send_password_reset("nobody@example.com")
    assert [m.to for m in await shop.outbox()] == ["alex@example.com"]


async def test_the_email_address_changes(remote, shop):
    await remote.update_email("alex@example.com", "alex@example.org")
    assert (await remote.order("10001")).email == "alex@example.org"
    assert {m.to for m in await shop.outbox()} == {"alex@example.com", "alex@example.org"}
    with pytest.raises(ShopError, match=re.escape("another account already uses sam@example.com")):
        await remote.update_email("alex@example.org", "sam@example.com")


async def test_an_account_is_deleted(remote, api):
    await remote.delete_account("sam@example.com")
    assert api.seen[-1][:2] == ("DELETE", "/customers/sam@example.com")
    assert await remote.customer("sam@example.com") is None
    assert await remote.order("10002") is None
    with pytest.raises(ShopError, match="there is no account"):
        await remote.delete_account("sam@example.com")


# --- broken shops ---------------------------------------------------------------------------


async def test_a_500_is_unreachable(remote, api):
    api.mode = "500"
    with pytest.raises(ShopUnavailable, match=r"^the shop is not reachable right now \(HTTP 500\)"):
        await remote.order("10001")
    with pytest.raises(ShopUnavailable):
        await remote.cancel_order("10002")


async def test_a_slow_shop_times_out(session, base_url, api):
    api.mode = "slow"
    remote = HttpShop(session, base_url, api_key=KEY, timeout=0.2)
    with pytest.raises(ShopUnavailable, match=re.escape("no answer within 0.2 seconds")):
        await remote.order("10001")


async def test_a_shop_nobody_listens_on_is_unreachable(session):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    remote = HttpShop(session, f"http://127.0.0.1:{port}")
    with pytest.raises(ShopUnavailable, match="connection failed"):
        await remote.send_password_reset("alex@example.com")


async def test_a_wrong_key_is_unreachable_not_a_refusal(session, base_url):
    remote = HttpShop(session, base_url, api_key="wrong")
    with pytest.raises(ShopUnavailable, match="refused the bot's key, HTTP 401"):
        await remote.order("10001")


async def test_an_answer_that_is_not_json_is_unreachable(remote, api):
    api.mode = "garbage"
    with pytest.raises(ShopUnavailable, match="cannot read"):
        await remote.order("10001")


async def test_a_4xx_without_an_error_message_still_says_what_happened(remote, api):
    api.mode = "400_plain"
    with pytest.raises(ShopError, match=r"the shop refused the request \(HTTP 400\)"):
        await remote.cancel_order("10002")


# --- choosing the backend -------------------------------------------------------------------


async def test_without_a_shop_url_the_demo_shop_is_used(engine, session):
    settings = ActionSettings.from_env({})
    assert settings.demo_shop
    assert isinstance(create_shop(settings, engine, session), SqlShop)


async def test_with_a_shop_url_the_shop_api_is_used(engine, session, base_url, shop):
    settings = ActionSettings.from_env({"TOLK_SHOP_URL": base_url + "/", "TOLK_SHOP_KEY": KEY})
    assert (settings.shop_url, settings.shop_key) == (base_url, KEY)
    chosen = create_shop(settings, engine, session)
    assert isinstance(chosen, HttpShop)
    assert await chosen.order("10001") == await shop.order("10001")


def test_a_shop_url_must_be_http():
    with pytest.raises(SettingsError, match="TOLK_SHOP_URL"):
        ActionSettings.from_env({"TOLK_SHOP_URL": "shop.example.com"})
