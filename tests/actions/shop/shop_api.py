"""The shop API of docs/shop-api.md, served over any Shop (here the demo shop) on loopback.

It also plays a broken shop: `mode` makes every answer slow, a 500, a 401, or not JSON.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from actions.shop import Shop, ShopError
from actions.shop.wire import customer_to_json, order_to_json, refund_to_json

MODES = ("ok", "slow", "500", "garbage", "400_plain")


@dataclass
class FakeShopApi:
    shop: Shop
    key: str | None = None
    mode: str = "ok"
    slow_seconds: float = 2.0
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/orders/{number}", self._order)
        app.router.add_get("/customers", self._customer)
        app.router.add_post("/orders/{number}/cancel", self._cancel)
        app.router.add_post("/orders/{number}/address", self._address)
        app.router.add_post("/orders/{number}/refunds", self._refund)
        app.router.add_post("/password-resets", self._reset)
        app.router.add_post("/customers/email", self._email)
        app.router.add_delete("/customers/{email}", self._delete)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler) -> web.StreamResponse:
        self.seen.append((request.method, request.raw_path, request.headers.get("Authorization")))
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        if self.mode == "500":
            return web.Response(status=500, text="Internal Server Error")
        if self.mode == "garbage":
            return web.Response(status=200, text="<html>maintenance</html>")
        if self.mode == "400_plain":
            return web.Response(status=400, text="Bad Request")
        if self.key and request.headers.get("Authorization") != f"Bearer {self.key}":
            return web.json_response({"error": "unknown API key"}, status=401)
        try:
            return await handler(request)
        except ShopError as error:
            return web.json_response({"error": str(error)}, status=_status(str(error)))

    async def _order(self, request: web.Request) -> web.Response:
        order = await self.shop.order(request.match_info["number"])
        if order is None:
            return web.json_response({"error": "no such order"}, status=404)
        return web.json_response(order_to_json(order))

    async def _customer(self, request: web.Request) -> web.Response:
        customer = await self.shop.customer(request.query.get("email", ""))
        if customer is None:
            return web.json_response({"error": "no such account"}, status=404)
        return web.json_response(customer_to_json(customer))

    async def _cancel(self, request: web.Request) -> web.Response:
        order = await self.shop.cancel_order(request.match_info["number"])
        return web.json_response(order_to_json(order))

    async def _address(self, request: web.Request) -> web.Response:
        body = await request.json()
        order = await self.shop.change_address(request.match_info["number"], body["address"])
        return web.json_response(order_to_json(order))

    async def _refund(self, request: web.Request) -> web.Response:
        body = await request.json()
        refund = await self.shop.request_refund(request.match_info["number"], body["reason"])
        return web.json_response(refund_to_json(refund), status=201)

    async def _reset(self, request: web.Request) -> web.Response:
        await self.shop.send_password_reset((await request.json())["email"])
        return web.Response(status=202)

    async def _email(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self.shop.update_email(body["old"], body["new"])
        return web.Response(status=204)

    async def _delete(self, request: web.Request) -> web.Response:
        await self.shop.delete_account(request.match_info["email"])
        return web.Response(status=204)


def _status(message: str) -> int:
    if message.startswith("there is no"):
        return 404
    if "not a valid" in message or "is empty" in message:
        return 422
    return 409
