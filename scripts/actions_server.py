"""The action server as `make run` starts it: rasa-sdk's app, answering Rasa only.

.venv-rasa/bin/python -m scripts.actions_server --port 5055

The actions trust the tracker they are sent (a `verified_order` slot lets them cancel an
order), so a call without Rasa's secret (`Authorization: Bearer <TOLK_ACTIONS_SECRET>`,
endpoints.yml) is refused with 401 before it reaches them. Only `/health` is open: the
bot's /healthz asks it. SIGTERM and SIGINT stop the server within STOP_SECONDS even when
an action hangs (`rasa run actions` can outlive its stack that way).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from sanic import Sanic, response
from sanic.request import Request

from actions.settings import ActionSettings, SettingsError
from tolk_core.internal_secrets import bearer_matches

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
# Requests under way get this long to finish after SIGTERM; then the process exits anyway.
DRAIN_SECONDS = 2.0
STOP_SECONDS = 5.0


def create_app(secret: str, package: str = "actions") -> Sanic:
    from rasa_sdk.endpoint import create_app as create_sdk_app

    # No CORS origins: browsers have no business here, only Rasa does.
    app = create_sdk_app(package, cors_origins=None)
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = DRAIN_SECONDS

    @app.middleware("request")
    async def only_rasa(request: Request):
        if request.path in OPEN_PATHS:
            return None
        if bearer_matches(request.headers.get("authorization"), secret):
            return None
        log.warning("refused %s %s without the actions secret", request.method, request.path)
        return response.json(
            {"error": "the action server answers Rasa only (Authorization: Bearer "
             "<TOLK_ACTIONS_SECRET>, see endpoints.yml)"},
            status=401,
        )  # fmt: skip

    app.register_listener(_stop_within_bound, "after_server_start")
    return app


async def _stop_within_bound(app: Sanic, loop) -> None:
    """Sanic's own handler runs on the event loop, which a blocking action can hold; this
    one is a plain signal handler, and a timer ends the process if draining takes long."""

    def on_signal(signum: int, frame) -> None:
        timer = threading.Timer(STOP_SECONDS, os._exit, args=(128 + signum,))
        timer.daemon = True
        timer.start()
        loop.call_soon_threadsafe(app.stop)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(signum)
        signal.signal(signum, on_signal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.actions_server", description="Tolk's action server"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions", help="the package of actions")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    try:
        settings = ActionSettings.from_env()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    secret = settings.actions_secret
    if not secret:  # from_env always has one; a missing one would open the door
        print("configuration error: no TOLK_ACTIONS_SECRET", file=sys.stderr)
        return 2

    from rasa_sdk import utils

    utils.configure_colored_logging(args.log_level)
    utils.update_sanic_log_level()
    from actions.services import configure

    configure(settings)
    app = create_app(secret, args.actions)
    log.info("action server on http://%s:%d (Rasa's secret required)", args.host, args.port)
    # One process: the signal handling above, and the stack stops one process group.
    app.run(args.host, args.port, workers=1, access_log=False)
    # Stopped, requests drained. The database pool's aiosqlite threads are not daemons and
    # would hold the exit until the timer above fires; nothing of theirs is uncommitted.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
