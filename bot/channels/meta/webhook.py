"""Meta's webhook rules, the same for WhatsApp, Messenger and Instagram.

Subscribing: Meta calls `GET <webhook>?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C`
and expects C back as the body when T is ours. Every delivery afterwards is a POST signed
`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>`;
the check runs on the bytes as received (re-encoding parsed JSON would change them), with a
constant-time comparison, before anything is parsed or stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from aiohttp import web

from bot.http_errors import json_error

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Meta's deliveries are small (a batch of messages); a body beyond this is not Meta's.
MAX_BODY = 1_000_000


def signature_ok(raw: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `header` is `sha256=<hex>` of `raw` keyed with `app_secret`."""
    if not header or not app_secret:
        return False
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or not given:
        return False
    expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().lower().encode(), expected.encode())


def sign(raw: bytes, app_secret: str) -> str:
    """The header value Meta sends for `raw` (for stand-ins and tools)."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def verification(request: web.Request, verify_token: str | None) -> web.Response:
    """The subscription handshake: the challenge back, or 403 for a wrong token."""
    query = request.query
    if query.get("hub.mode") != "subscribe" or "hub.challenge" not in query:
        return json_error(400, "expected hub.mode=subscribe with hub.challenge (Meta's handshake)")
    given = query.get("hub.verify_token", "")
    if not verify_token or not hmac.compare_digest(given.encode(), verify_token.encode()):
        return json_error(403, "wrong hub.verify_token")
    return web.Response(text=query["hub.challenge"], content_type="text/plain")


async def signed_body(request: web.Request, app_secret: str) -> dict | web.Response:
    """The delivery as a JSON object once its signature holds; else the error to answer
    (401 unsigned or wrongly signed, 400 not a JSON object, 413 too large)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return json_error(413, "a webhook delivery is at most 1 MB")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        return json_error(413, "a webhook delivery is at most 1 MB")
    if not signature_ok(raw, request.headers.get(SIGNATURE_HEADER), app_secret):
        return json_error(401, f"missing or wrong {SIGNATURE_HEADER}")
    try:
        body = json.loads(raw)
    except ValueError:
        return json_error(400, "the body is not JSON")
    if not isinstance(body, dict):
        return json_error(400, "the body must be a JSON object")
    return body
