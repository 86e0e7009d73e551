"""What reaches a log line: no customer's text, name, address or number, in any log we write."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine
from sqlalchemy.exc import IntegrityError

from bot.logs import (
    RedactingFilter,
    configure_logging,
    quiet_environment,
    redact_line,
    redact_stream,
    service_hosts,
)
from bot.settings import Settings
from bot.translation.masking import Masker


@pytest.fixture
def log_output():
    """Logging as `python -m bot serve` configures it, written to a buffer."""
    stream = io.StringIO()
    configure_logging(Masker(), stream=stream)
    yield stream
    logging.basicConfig(force=True)  # back to pytest's defaults for the next tests


def test_personal_data_never_reaches_a_log_line(caplog):
    logger = logging.getLogger("tolk.test")
    logger.addFilter(RedactingFilter(Masker()))
    with caplog.at_level(logging.INFO, logger="tolk.test"):
        logger.info("customer wrote %s", "mail me at ana@example.es or call +31 6 1234 5678")
    assert "ana@example.es" not in caplog.text
    assert "1234 5678" not in caplog.text
    assert "[email]" in caplog.text and "[phone]" in caplog.text


def test_a_failed_statement_logs_without_the_values_it_wrote(log_output):
    engine = create_engine("sqlite://")
    table = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("t", Text))
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(table.insert().values(id=1, t="first"))
    said = "Ik ben Marijke, bel 0612345678"  # (a traceback shows the source line below)
    try:
        with engine.begin() as connection:
            connection.execute(table.insert().values(id=1, t=said))
    except IntegrityError:
        logging.getLogger("bot.http_errors").exception("unexpected error on POST /api/v1/x")
    written = log_output.getvalue()
    assert "IntegrityError" in written and "INSERT INTO notes" in written, "still useful"
    assert "Marijke" not in written and "0612345678" not in written
    assert "[parameters: redacted]" in written


def test_tokens_and_conversation_keys_stay_out_of_third_party_lines(log_output):
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    logging.getLogger("telegram.ext").warning(
        "POST https://api.telegram.org/bot%s/sendMessage failed", token
    )
    logging.getLogger("aiohttp.access").info(
        '127.0.0.1 "GET /api/v1/conversations/rest-ana@example.es/messages HTTP/1.1" 200 512'
    )
    # httpx logs every request URL, Telegram's with the token, at INFO.
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s", token)
    written = log_output.getvalue()
    assert token not in written and "AAHdqTcv" not in written
    assert "ana@example.es" not in written and "/conversations/[key]/messages" in written
    assert '" 200 512' in written, "status and size are not order numbers"
    assert "HTTP Request" not in written


def test_rasas_structured_events_lose_the_users_text():
    masker = Masker()
    line = json.dumps(
        {
            "event": "rest.message.received.failure",
            "text": "my husband Rob took the parcel",
            "level": "error",
            "exception": "ShopError: there is no account for rob@example.nl",
        }
    )
    redacted = json.loads(redact_line(line + "\n", masker))
    assert redacted["event"] == "rest.message.received.failure"
    assert redacted["text"] == "[redacted]"
    assert redacted["exception"] == "ShopError: there is no account for [email]"
    plain = (
        "2026-12-01 22:17:56 INFO     rasa.core.run  - Rasa server is up on http://127.0.0.1:5005"
    )
    assert redact_line(plain, masker) == plain, "time stamps and loopback URLs stay readable"


def test_the_output_of_rasa_and_the_action_server_reaches_its_log_redacted(tmp_path):
    read, write = os.pipe()
    with os.fdopen(write, "wb") as child_output:
        child_output.write(b"2026-12-01 22:00:00 ERROR action failed for ana@example.es\n")
        child_output.write(b'{"event": "x", "user_message": "Ik ben Marijke"}\n')
        child_output.write("\u05e9\u05dc\u05d5\u05dd +972 50 123 4567\n".encode())
    log = tmp_path / "rasa.log"
    redact_stream(os.fdopen(read, "rb"), open(log, "ab"), Masker())
    written = log.read_text(encoding="utf-8")
    assert "ana@example.es" not in written and "Marijke" not in written
    assert "123 4567" not in written and "\u05e9\u05dc\u05d5\u05dd [phone]" in written
    assert written.count("\n") == 3


@pytest.mark.parametrize(
    ("given", "used"), [(None, "INFO"), ("DEBUG", "INFO"), ("warning", "WARNING"), ("x", "INFO")]
)
def test_rasa_never_runs_with_the_debug_log_that_holds_every_message(given, used):
    env = {"PATH": "/bin"} | ({"LOG_LEVEL": given} if given else {})
    quiet = quiet_environment(env)
    assert quiet["LOG_LEVEL"] == used and quiet["PATH"] == "/bin"


def test_a_port_number_stays_readable():
    masker = Masker()
    assert redact_line("Rasa not reachable (port=5005)", masker) == "Rasa not reachable (port=5005)"
    assert "[order]" in redact_line("order 10001 port 5055", masker)


def test_which_of_our_services_failed_stays_readable_and_nothing_else_does():
    settings = Settings.from_env(
        {
            "TOLK_RASA_URL": "http://rasa-1:5005,http://rasa-2:5005",
            "TOLK_DATABASE_URL": "postgresql://tolk:s3cret@tolk-db.internal:5432/tolk",
        }
    )
    services = service_hosts(settings.service_urls())
    assert {"rasa-1", "rasa-2", "tolk-db.internal", "graph.facebook.com"} <= services
    stream = io.StringIO()
    configure_logging(Masker(), stream=stream, services=services)
    logger = logging.getLogger("tolk.test.services")
    try:
        logger.warning("Rasa replica %s refused the connection", "http://rasa-2:5005")
        # Paths and queries can name a customer or carry a token, even on our services.
        logger.warning("failed: http://rasa-1:5005/conversations/rest-anna/tracker?x=1")
        logger.warning("failed: https://graph.facebook.com/v19.0/me/messages?access_token=EAAB")
        logger.warning("PostgreSQL at %s:5432 went away", "http://tolk-db.internal")
        # A look-alike host and a customer's own link are masked as before.
        logger.warning("link: http://rasa-1.example.com/a and http://shop.example/x?m=ana@x.es")
    finally:
        logging.basicConfig(force=True)
    lines = stream.getvalue().splitlines()

    assert [line.split(": ", 1)[1] for line in lines] == [
        "Rasa replica http://rasa-2:5005 refused the connection",
        "failed: http://rasa-1:5005/[path]",
        "failed: https://graph.facebook.com/[path]",
        "PostgreSQL at http://tolk-db.internal:5432 went away",
        "link: [url] and [url]",
    ]


@pytest.mark.parametrize(
    ("method", "path", "status", "logged"),
    [
        ("POST", "/nlg", 200, False),  # Rasa's callback, several per customer message
        ("GET", "/livez", 200, False),
        ("GET", "/metrics", 200, False),
        ("POST", "/nlg", 401, True),  # a caller without the secret: worth a line
        ("GET", "/readyz", 503, True),
        ("POST", "/api/v1/messages", 200, True),
        ("GET", "/nlg/other", 200, True),
    ],
)
def test_the_access_log_leaves_out_routine_successes(caplog, method, path, status, logged):
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from bot.logs import AccessLog

    logger = logging.getLogger("test.access")
    access = AccessLog(logger, "%r %s")
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(make_mocked_request(method, path), web.Response(status=status), 0.01)
    assert bool(caplog.records) is logged
    if logged:
        assert f"{method} {path}" in caplog.records[0].getMessage()


async def test_an_access_line_names_the_route_not_the_customer(log_output):
    """Built from the route's template, status, size and time: no key, query, address or
    agent reaches it, and the Masker is not run on it."""
    import aiohttp
    from aiohttp import web

    from bot.logs import AccessLog

    async def conversation(request: web.Request) -> web.Response:
        return web.json_response({"key": request.match_info["key"]})

    app = web.Application()
    app.router.add_get("/api/v1/conversations/{key}", conversation)
    # As `python -m bot serve` runs it (bot/cli.py: web.run_app(access_log_class=...)).
    runner = web.AppRunner(app, access_log_class=AccessLog, access_log=logging.getLogger("a"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession(f"http://{host}:{port}") as session:
            async with session.get(
                "/api/v1/conversations/rest-ana@example.es?email=ana@example.es",
                headers={"User-Agent": "Ana Jansen 0612345678", "Referer": "https://x.test/a"},
            ) as response:
                assert response.status == 200
            async with session.get("/ana@example.es/0612345678") as missing:
                assert missing.status == 404
    finally:
        await runner.cleanup()
    lines = [line for line in log_output.getvalue().splitlines() if " a: " in line]
    assert len(lines) == 2, lines
    assert lines[0].endswith(" ms") and '"GET /api/v1/conversations/{key}" 200 ' in lines[0]
    # An unknown path has no template: it is logged, redacted as every other line is.
    assert '"GET /[email]/' in lines[1] and '" 404 ' in lines[1]
    written = "\n".join(lines)
    for personal in ("ana@example.es", "Ana Jansen", "0612345678", "x.test", "127.0.0.1"):
        assert personal not in written
