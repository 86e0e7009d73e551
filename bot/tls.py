"""Whether a request reached us over TLS, for cookies that must then be `Secure`.

Directly (aiohttp serving https) or through a reverse proxy that terminates TLS and says
so in `X-Forwarded-Proto` (or `Forwarded: proto=`). The proxy's word counts only with
TOLK_TRUST_PROXY set: without a proxy in front, anyone could send the header.
"""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import SETTINGS


def came_over_tls(request: web.Request) -> bool:
    if request.secure:
        return True
    if not request.app[SETTINGS].trust_proxy:
        return False
    # The last value is the one our own proxy added (earlier ones came from the client).
    forwarded_proto = request.headers.get("X-Forwarded-Proto")
    if forwarded_proto is not None:
        return forwarded_proto.split(",")[-1].strip().lower() == "https"
    forwarded = request.forwarded
    return bool(forwarded) and str(forwarded[-1].get("proto", "")).lower() == "https"
