"""The agent console at /console: the page, login and logout, and a live websocket feed.

Mutations (claim, reply, note, resolve) go through the agent API (`bot.handoff.api`) with
the session cookie and the CSRF header; this module only signs agents in and out and
pushes changes: the queue, the alerts and the ticket the agent has open.

A feed reads them again when told that something changed (bot/changes.py: anywhere in
this process, and on every replica through Redis pub/sub with TOLK_REDIS_URL), and at
least every TICK_SECONDS without such a signal shared by the replicas, or every
SAFETY_TICK_SECONDS with it (a lost signal or a change nobody signals, such as an erased
customer or an expired session, shows by then).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import math
import re
import time
import weakref
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from bot.appkeys import ALERTS, CHANGES, HANDOFF, LOGIN_LIMITER, SESSIONS, SETTINGS
from bot.changes import LocalChanges
from bot.console.sessions import COOKIE, set_cookie
from bot.db import utcnow
from bot.errors import RateLimited, StoreUnavailable, TolkError, Unavailable
from bot.handoff.agents import Agent
from bot.handoff.service import HandoffService
from bot.http_errors import BadRequest, json_error, read_json, status_for
from bot.limits import client_address
from bot.ratelimit import Rate, RateLimiter

log = logging.getLogger(__name__)

PAGE = Path(__file__).resolve().parent.parent / "static" / "console.html"
WRONG_LOGIN = "wrong name or password"
# How often the live feed looks for changes made on other replicas when nothing tells it
# (no Redis, or Redis down), and when Redis pub/sub does; how many resolved tickets it shows.
TICK_SECONDS = 1.0
SAFETY_TICK_SECONDS = 10.0
# At most one round per feed this often: under a stream of changes (replicas signal up
# to 20 times a second each) an agent's screen need not follow faster than the eye.
ROUND_GAP_SECONDS = 0.2
# How far back a console that connects is shown alerts (bot/alerts.py).
ALERTS_SHOWN = timedelta(hours=12)
RESOLVED_SHOWN = 50
# Close code telling the page to show the login form again (4000-4999: application codes).
CLOSE_LOGGED_OUT = 4401
_MAX_NAME = 100
_MAX_PASSWORD = 1024
_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


class LoginThrottle:
    """Failed console logins, counted per address and name together: a stranger guessing
    slows down only their own address on that name and cannot lock the agent out. More
    loosely per address across names, for one address trying many names. The buckets are
    the login limiter's (bot/app.py `_limiters`: in Redis, shared by the replicas, when
    TOLK_REDIS_URL is set; refusing while Redis is down); the password hash is slow too."""

    def __init__(self, limiter: RateLimiter, per_name: Rate, per_address: Rate) -> None:
        self.limiter = limiter
        self.per_name = per_name
        self.per_address = per_address

    @staticmethod
    def _pair(address: str, name: str) -> str:
        return f"{address} {name.strip().casefold()}"

    async def retry_after(self, address: str, name: str) -> float:
        """Seconds until this address may try `name` again; 0 when it may now."""
        return max(
            await self.limiter.wait("login", self._pair(address, name), self.per_name),
            await self.limiter.wait("login-address", address, self.per_address),
        )

    async def failed(self, address: str, name: str) -> None:
        await self.limiter.hit("login", self._pair(address, name), self.per_name)
        await self.limiter.hit("login-address", address, self.per_address)

    async def succeeded(self, address: str, name: str) -> None:
        # Only the pair: logging in to one's own account does not clear guesses at others.
        await self.limiter.forget("login", self._pair(address, name))


class Console:
    """What the console keeps per application: the login brake, the open sockets and a
    shared queue snapshot (one database read per change however many agents watch)."""

    def __init__(self, throttle: LoginThrottle, changes: LocalChanges) -> None:
        self.throttle = throttle
        self.changes = changes
        self.sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._queue: tuple[float, int, list[dict]] | None = None
        self._queue_lock: asyncio.Lock | None = None
        self._page: tuple[int, bytes, str] | None = None

    async def queue(self, handoff: HandoffService) -> list[dict]:
        """Queued, assigned and recently resolved tickets: read after the last change
        signalled, and at most TICK_SECONDS / 2 old."""
        if self._queue_lock is None:
            self._queue_lock = asyncio.Lock()
        async with self._queue_lock:
            now = time.monotonic()
            version = self.changes.version  # before reading: a change meanwhile reads again
            if (
                self._queue is None
                or self._queue[1] != version
                or now - self._queue[0] >= TICK_SECONDS / 2
            ):
                # One status at a time: `listed(None)` keeps the oldest 200 tickets of any
                # status, so on a busy system new tickets would never show up.
                tickets = [
                    *await handoff.listed("queued"),
                    *await handoff.listed("assigned"),
                    *(await handoff.listed("resolved"))[:RESOLVED_SHOWN],
                ]
                self._queue = (time.monotonic(), version, tickets)
            return self._queue[2]

    async def page(self) -> tuple[bytes, str]:
        """The page and a Content-Security-Policy allowing exactly its inline script."""
        stat = await asyncio.to_thread(PAGE.stat)
        if self._page is None or self._page[0] != stat.st_mtime_ns:
            body = await asyncio.to_thread(PAGE.read_bytes)
            hashes = " ".join(
                f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
                for script in _SCRIPT.findall(body)
            )
            policy = (
                "default-src 'none'; "
                f"script-src {hashes}; "
                "style-src 'unsafe-inline'; "
                "connect-src 'self'; "
                "img-src 'self' data:; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            )
            self._page = (stat.st_mtime_ns, body, policy)
        return self._page[1], self._page[2]


CONSOLE = web.AppKey("console", Console)


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[CONSOLE] = Console(
        LoginThrottle(
            app[LOGIN_LIMITER], settings.login_failures, settings.login_failures_per_address
        ),
        app[CHANGES],
    )
    app.router.add_get("/console", page)
    app.router.add_get("/console/session", session)
    app.router.add_post("/console/login", login)
    app.router.add_post("/console/logout", logout)
    app.router.add_get("/console/ws", live)
    # Last: anything else under /console/ gets a JSON answer too, not an HTML error page.
    app.router.add_route("*", "/console/{rest:.*}", _no_route)
    app.on_shutdown.append(_close_sockets)


# Requests ---------------------------------------------------------------------------------

_ROUTES = {
    "/console/session": "GET",
    "/console/login": "POST",
    "/console/logout": "POST",
    "/console/ws": "GET",
}


async def _no_route(request: web.Request) -> web.Response:
    allowed = _ROUTES.get(request.path)
    if allowed is None:
        return json_error(404, f"no console route {request.path}")
    response = json_error(405, f"{request.path} takes {allowed} only")
    response.headers["Allow"] = allowed
    return response


def same_origin(request: web.Request) -> bool:
    """False when a browser says the request comes from another site; True without an
    Origin header (not a browser, or a same-origin GET)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" (sandboxed frames, file://) and anything odd
    return _authority(parts.scheme, parts.netloc) == _authority(parts.scheme, request.host)


def _authority(scheme: str, netloc: str) -> str:
    netloc = netloc.lower()
    default = ":443" if scheme == "https" else ":80"
    return netloc.removesuffix(default)


def _no_store(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Cache-Control"] = "no-store"
    return response


async def page(request: web.Request) -> web.Response:
    body, policy = await request.app[CONSOLE].page()
    return web.Response(
        body=body,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": policy,
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def _signed_in(request: web.Request) -> tuple[Agent, str] | None:
    """The agent of the session cookie and the session's CSRF token, or None."""
    found = await request.app[SESSIONS].find(request.cookies.get(COOKIE))
    if found is None:
        return None
    agent = await request.app[HANDOFF].agents.by_id(found.agent_id)
    return (agent, found.csrf_token) if agent else None


def _signed_in_json(agent: Agent, csrf: str) -> web.Response:
    return _no_store(
        web.json_response({"agent": {**agent.as_json(), "language": agent.language}, "csrf": csrf})
    )


async def session(request: web.Request) -> web.Response:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return _no_store(json_error(401, "not logged in"))
    return _signed_in_json(*signed_in)


async def login(request: web.Request) -> web.Response:
    # A cross-site form can post neither JSON (that needs a CORS preflight we never allow)
    # nor from this origin; both checks keep another site from logging a browser in.
    if not same_origin(request) or request.headers.get("Sec-Fetch-Site") == "cross-site":
        return json_error(403, "cross-origin login refused")
    body = await read_json(request)  # JSON only (415 otherwise): no cross-site form posts
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not name.strip() or not isinstance(password, str):
        raise BadRequest(400, "`name` and `password` are required strings")
    if len(name) > _MAX_NAME or len(password) > _MAX_PASSWORD:
        return json_error(401, WRONG_LOGIN)
    console = request.app[CONSOLE]
    address = client_address(request)
    wait = await console.throttle.retry_after(address, name)
    if wait > 0:
        raise RateLimited(wait, "failed logins")  # 429 with Retry-After (bot/http_errors.py)
    handoff = request.app[HANDOFF]
    agent = await handoff.agents.login(name.strip(), password)
    if agent is None:
        await console.throttle.failed(address, name)
        locked = await console.throttle.retry_after(address, name) > 0
        log.warning("console login failed%s", " (locked for a while)" if locked else "")
        return json_error(401, WRONG_LOGIN)
    await console.throttle.succeeded(address, name)
    sessions = request.app[SESSIONS]
    await sessions.end(request.cookies.get(COOKIE))  # never keep a session id set before
    session_id, started = await sessions.start(agent.id)
    log.info("agent %s logged in to the console", agent.id)
    response = _signed_in_json(agent, started.csrf_token)
    set_cookie(request, response, session_id)
    return response


async def logout(request: web.Request) -> web.Response:
    sessions = request.app[SESSIONS]
    try:
        found = await sessions.for_request(request)  # checks the CSRF header
    except web.HTTPException as error:
        return json_error(error.status, error.reason)
    if found is None:
        return json_error(401, "not logged in")
    await sessions.end(request.cookies.get(COOKIE))
    # The agent's open consoles, on any replica, close now rather than at their next tick.
    request.app[CHANGES].notify()
    log.info("agent %s logged out of the console", found.agent_id)
    response = _no_store(web.json_response({"logged_out": True}))
    response.del_cookie(COOKIE, path="/")
    return response


# Live feed --------------------------------------------------------------------------------


async def live(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        return json_error(403, "cross-origin websocket refused")
    signed_in = await _signed_in(request)
    if signed_in is None:
        return json_error(401, "console login required")
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
    if not socket.can_prepare(request).ok:
        return json_error(400, "this route speaks WebSocket only")
    await socket.prepare(request)
    console = request.app[CONSOLE]
    console.sockets.add(socket)
    feed = Feed(request, socket, signed_in[0], request.cookies.get(COOKIE, ""))
    pushing = asyncio.create_task(feed.run())
    try:
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await feed.receive(message.data)
            elif message.type == WSMsgType.BINARY:
                await feed.send({"type": "error", "error": "send JSON text messages"})
    finally:
        if not feed.closing:  # else let it finish the closing handshake it started
            pushing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pushing
        console.sockets.discard(socket)
    return socket


class Feed:
    """One console connection: pushes the queue and the watched ticket when they change
    and keeps the agent online while connected."""

    def __init__(
        self, request: web.Request, socket: web.WebSocketResponse, agent: Agent, session_id: str
    ) -> None:
        self.app = request.app
        self.socket = socket
        self.agent = agent
        self.session_id = session_id
        self.handoff: HandoffService = request.app[HANDOFF]
        self.changes = request.app[CHANGES]
        self.seen_every = request.app[SETTINGS].agent_timeout / 4
        self.watching: int | None = None
        self.wake = asyncio.Event()
        self._last_seen = -math.inf
        self._queue: str | None = None
        self._ticket: str | None = None
        self._alert = 0  # the last alert sent
        self._trouble = False
        self.closing = False

    async def receive(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("type") != "watch":
            await self.send({"type": "error", "error": 'expected {"type": "watch", "ticket": id}'})
            return
        ticket = message.get("ticket")
        if ticket is not None and (
            isinstance(ticket, bool) or not isinstance(ticket, int) or ticket < 1
        ):
            await self.send({"type": "error", "error": "`ticket` must be a ticket id or null"})
            return
        self.watching = ticket
        self._ticket = None  # send the watched ticket now, even when unchanged
        self.wake.set()

    async def send(self, message: dict) -> None:
        if not self.socket.closed:
            with contextlib.suppress(ConnectionError):
                await self.socket.send_str(json.dumps(message))

    async def run(self) -> None:
        self.changes.listen(self.wake)
        try:
            await self._pushing()
        finally:
            self.changes.forget(self.wake)

    async def _pushing(self) -> None:
        while not self.socket.closed:
            # Cleared before reading, so that a change or a "watch" arriving while this
            # round reads is not lost: it makes the next round start at once.
            self.wake.clear()
            started = time.monotonic()
            try:
                if not await self._still_signed_in():
                    await self.send({"type": "logout"})
                    self.closing = True
                    await self.socket.close(code=CLOSE_LOGGED_OUT, message=b"logged out")
                    return
                await self._push()
                if self._trouble:
                    self._trouble = False
                    await self.send({"type": "status", "ok": True})
            except StoreUnavailable as error:
                log.warning("console feed: database unavailable: %s", error)
                await self._trouble_once("the database is busy; retrying")
            except Exception:  # the feed keeps going; the next tick tries again
                log.exception("console feed failed for agent %s", self.agent.id)
                await self._trouble_once("live updates failed; retrying")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self._tick())
            await asyncio.sleep(max(0.0, started + ROUND_GAP_SECONDS - time.monotonic()))

    def _tick(self) -> float:
        """Seconds until the next look without a signal: long while changes on every
        replica are signalled here (and nothing failed), but often enough to keep the
        agent marked online."""
        if not self.changes.shared or self._trouble:
            return TICK_SECONDS
        return min(SAFETY_TICK_SECONDS, self.seen_every)

    async def _trouble_once(self, text: str) -> None:
        if not self._trouble:
            self._trouble = True
            await self.send({"type": "status", "ok": False, "error": text})

    async def _still_signed_in(self) -> bool:
        """False after a logout or expiry; marks the agent seen every agent_timeout / 4."""
        found = await self.app[SESSIONS].find(self.session_id)
        if found is None:
            return False
        if time.monotonic() - self._last_seen >= self.seen_every:
            agent = await self.handoff.agents.by_id(found.agent_id)
            if agent is None:
                return False
            self.agent = agent  # fresh last_seen_at: `seen` dispatches only on a comeback
            await self.handoff.seen(agent)
            self._last_seen = time.monotonic()
        return True

    async def _push(self) -> None:
        tickets = await self.app[CONSOLE].queue(self.handoff)
        encoded = json.dumps(tickets, sort_keys=True)
        if encoded != self._queue:
            self._queue = encoded
            await self.send({"type": "queue", "tickets": tickets})
        # On connecting, the alerts of the last hours; then each new one, on every replica.
        alerts = await self.app[ALERTS].after(self._alert, since=utcnow() - ALERTS_SHOWN)
        if alerts:
            self._alert = alerts[-1].id
            await self.send({"type": "alerts", "alerts": [a.as_json() for a in alerts]})
        watching = self.watching
        if watching is None:
            return
        try:
            detail = await self.handoff.detail(self.agent, watching)
        except TolkError as error:
            if isinstance(error, Unavailable):
                raise  # not the ticket's fault: run() says so and tries again
            # No such ticket, or erased: the agent reads what the HTTP API would say.
            if self.watching == watching:
                self.watching = None
            await self.send(
                {
                    "type": "error",
                    "ticket": watching,
                    "status": status_for(error),
                    "error": error.message,
                }
            )
            return
        encoded = json.dumps(detail, sort_keys=True)
        if encoded != self._ticket and self.watching == watching:
            self._ticket = encoded
            await self.send({"type": "ticket", "ticket": detail})


async def _close_sockets(app: web.Application) -> None:
    for socket in list(app[CONSOLE].sockets):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
