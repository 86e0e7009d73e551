"""A real shop behind its HTTP API (TOLK_SHOP_URL), as specified in docs/shop-api.md.

The shop's refusals (4xx with `{"error": "..."}`) become ShopError with the shop's own
message, which the bot may show to the customer. Everything that means "the shop is down"
(network errors, timeouts, 5xx, 408, 429, a refused API key, an unreadable answer) becomes
ShopUnavailable: retrying later or a person can help, the customer cannot.

Nothing is retried here: a cancel or refund that timed out may have happened, and the
conversation (not this client) is the place to say "please try again".
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from actions.shop.errors import ShopUnavailable
from actions.shop.model import Customer, Order, Refund, ShopError
from actions.shop.wire import customer_from_json, order_from_json, refund_from_json

log = logging.getLogger(__name__)

T = TypeVar("T")

# The shop's refusal is shown to customers: keep a runaway error page out of the chat.
MAX_ERROR = 300

UNREACHABLE = "the shop is not reachable right now"


class _NoSuchPath(Exception):
    """A path segment that cannot name anything ("", ".", ".."): never sent."""


class HttpShop:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 5,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    async def order(self, number: str) -> Order | None:
        try:
            data = await self._call("GET", "/orders/{}", [number.strip()], lookup=True)
        except _NoSuchPath:
            return None
        return None if data is None else _parsed(order_from_json, data)

    async def customer(self, email: str) -> Customer | None:
        data = await self._call("GET", "/customers", query={"email": email.strip()}, lookup=True)
        return None if data is None else _parsed(customer_from_json, data)

    async def cancel_order(self, number: str) -> Order:
        data = await self._order_call("POST", "/orders/{}/cancel", number)
        return _parsed(order_from_json, data)

    async def change_address(self, number: str, address: str) -> Order:
        data = await self._order_call("POST", "/orders/{}/address", number, {"address": address})
        return _parsed(order_from_json, data)

    async def request_refund(self, number: str, reason: str) -> Refund:
        data = await self._order_call("POST", "/orders/{}/refunds", number, {"reason": reason})
        return _parsed(refund_from_json, data)

    async def send_password_reset(self, email: str) -> None:
        await self._call("POST", "/password-resets", body={"email": email.strip()})

    async def update_email(self, old: str, new: str) -> None:
        await self._call("POST", "/customers/email", body={"old": old.strip(), "new": new.strip()})

    async def delete_account(self, email: str) -> None:
        try:
            await self._call("DELETE", "/customers/{}", [email.strip()])
        except _NoSuchPath:
            raise ShopError(f"there is no account for {email.strip()!r}") from None

    async def _order_call(
        self, method: str, route: str, number: str, body: dict | None = None
    ) -> Any:
        try:
            return await self._call(method, route, [number.strip()], body=body)
        except _NoSuchPath:
            raise ShopError(f"there is no order {number.strip()!r}") from None

    async def _call(
        self,
        method: str,
        route: str,
        segments: Sequence[str] = (),
        *,
        query: dict[str, str] | None = None,
        body: dict | None = None,
        lookup: bool = False,
    ) -> Any:
        """The answer's JSON (None for an empty answer, or a 404 when `lookup`).

        `route` is the path with `{}` for each segment; it is what gets logged, so that no
        e-mail address or order number ends up in the logs.
        """
        if any(segment in ("", ".", "..") for segment in segments):
            raise _NoSuchPath
        path = route.format(*(quote(segment, safe="@") for segment in segments))
        url = URL(self._base + path, encoded=True)
        if query:
            url = url.with_query(query)
        try:
            async with self._session.request(
                method,
                url,
                json=body,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                status = response.status
                raw = await response.read()
                if lookup and status == 404:
                    return None
                if 200 <= status < 300:
                    return _json(raw, method, route) if raw.strip() else None
                raise _failure(status, raw, method, route)
        except asyncio.TimeoutError:
            log.warning("shop: %s %s: no answer within %gs", method, route, self._timeout)
            raise ShopUnavailable(
                f"{UNREACHABLE} (no answer within {self._timeout:g} seconds)"
            ) from None
        except aiohttp.ClientError as error:
            log.warning("shop: %s %s: %s", method, route, type(error).__name__)
            raise ShopUnavailable(f"{UNREACHABLE} (connection failed)") from None


def _failure(status: int, raw: bytes, method: str, route: str) -> ShopError:
    if status in (401, 403):
        # The bot's key is wrong: an operator's problem, and nothing the customer can fix.
        log.error("shop: %s %s: HTTP %s, check TOLK_SHOP_KEY", method, route, status)
        return ShopUnavailable(f"{UNREACHABLE} (it refused the bot's key, HTTP {status})")
    if status in (408, 429) or status >= 500 or status < 400:
        log.warning("shop: %s %s: HTTP %s", method, route, status)
        return ShopUnavailable(f"{UNREACHABLE} (HTTP {status})")
    message = _error_message(raw)
    if message is None:
        return ShopError(f"the shop refused the request (HTTP {status})")
    return ShopError(message)


def _error_message(raw: bytes) -> str | None:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    message = data.get("error") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message.strip():
        return None
    message = message.strip()
    return message if len(message) <= MAX_ERROR else message[: MAX_ERROR - 1] + "…"


def _json(raw: bytes, method: str, route: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        log.warning("shop: %s %s: the answer is not JSON", method, route)
        raise ShopUnavailable(f"{UNREACHABLE} (it sent an answer the bot cannot read)") from None


def _parsed(parse: Callable[[dict], T], data: Any) -> T:
    try:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return parse(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        log.warning("shop: answer does not follow docs/shop-api.md: %s", error)
        raise ShopUnavailable(f"{UNREACHABLE} (it sent an answer the bot cannot read)") from None
