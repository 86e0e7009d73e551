"""Logging: no message text, name, e-mail address or number of a customer in a log line.

Our own log calls never include what a customer or an agent wrote (ids, languages and
counts only). What could still carry it is redacted on the way out, in every record of
every logger (`RedactingFilter`) and in the output of Rasa and the action server, which the
stack launcher pipes through `redact_stream` into var/rasa.log and var/actions.log:
- e-mail addresses, phone, card, IBAN and order numbers and URLs become their kind
  ("[email]"), with the detection that masks text for the translator; a URL of one of
  our own services (the Rasa replicas, the action server, the databases, the translator,
  the messaging APIs: `service_hosts`) keeps its origin, so an operator can tell which
  replica is down, and loses its path and query ("http://rasa-2:5005/[path]");
- the bound values SQLAlchemy prints with a failed statement (`[parameters: ...]`, the
  texts and names being written) are dropped;
- conversation keys in URL paths (`/conversations/<key>/`), bot tokens in Telegram API
  URLs and bearer tokens;
- Rasa's structured log events (JSON lines off a terminal) lose the fields Rasa itself
  marks as user content ("text", "user_message", "slot_values", ...).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import BinaryIO
from urllib.parse import urlsplit

from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot.translation.masking import Masker

# What SQLAlchemy appends to an error: the statement's values, up to the end of the line.
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
_TELEGRAM_TOKEN = re.compile(r"bot\d{3,12}:[A-Za-z0-9_-]{20,64}")
_BEARER = re.compile(r"(Bearer )[A-Za-z0-9._~+/=-]{8,}")
# REST paths of Rasa and of the gateway that name a conversation.
_CONVERSATION_PATH = re.compile(r"(/conversations/)[^/\s?\"']{1,256}")
# The fields rasa.utils.log_utils._anonymizer lists as user content, and the like.
USER_CONTENT_KEYS = frozenset(
    (
        "text response_text user_text slot_values parse_data_text parse_data_entities "
        "prediction_events tracker_latest_message prefilled_slots message response "
        "slot_candidates rasa_event rasa_events tracker_states current_states old_states "
        "successes current_entity next_entity states entity token_text user_message "
        "json_message metadata tracker events slots value"
    ).split()
)
# Bounded work per record: longer texts are cut before redaction (a traceback fits), and
# other processes' output is read in lines of at most MAX_LINE bytes.
MAX_TEXT = 64_000
MAX_LINE = 16_000
# Personal kinds the Masker finds (glossary terms and catalogue placeholders are not).
_PERSONAL = frozenset({"email", "url", "phone", "card", "iban", "order", "name"})
# Not personal, but shaped like it: a line's own time stamp, an access log's status and
# size after the request line, a port number, and our own loopback services.
_NOT_PERSONAL = re.compile(
    r"^\s*\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?"
    r'|" \d{3} \d+'
    # "port=5005": which part is down must stay readable.
    r"|\bport[= ]\d{1,5}\b"
    # Only where an address starts: from every "localhost" inside one long path the
    # search ran to the path's end again (4 s for a 64,000-character line).
    r"|(?<![A-Za-z0-9/._-])(?:https?://)?(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\])(?::\d{1,5})?"
    r"(?:/[A-Za-z0-9/._-]*)?(?![^\s\"'<>,;)])"
)
_SHAPED_LIKE = frozenset({"url", "phone", "order"})
_URL_REST = re.compile(r"[^\s\"'<>,;)]*")
# A record our own code built from parts that cannot hold personal data: RedactingFilter
# lets it through as it is.
CLEAN = "tolk_clean"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Libraries whose INFO lines carry secrets: httpx logs every request URL, and Telegram's
# contain the bot token.
_QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING}


def redact(text: str, masker: Masker, services: frozenset[str] = frozenset()) -> str:
    """`text` fit for a log: personal data, bound SQL values and tokens taken out.
    `services`: the host names of our own services (`service_hosts`)."""
    text = _SQL_PARAMETERS.sub("[parameters: redacted]", text[:MAX_TEXT])
    text = _TELEGRAM_TOKEN.sub("bot[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    text = _CONVERSATION_PATH.sub(r"\1[key]", text)
    keep = [match.span() for match in _NOT_PERSONAL.finditer(text)]
    pieces: list[str] = []
    position = 0
    for span in masker.find(text):
        if span.start < position:  # inside a service's URL, already written
            continue
        if span.kind not in _PERSONAL or (
            span.kind in _SHAPED_LIKE and _inside(span.start, span.end, keep)
        ):
            continue
        service = _service_origin(span.value, services) if span.kind == "url" else None
        pieces += (text[position : span.start], service or f"[{span.kind}]")
        # A service's URL goes whole, with what an earlier step masked inside its path.
        position = _URL_REST.match(text, span.end).end() if service else span.end
    pieces.append(text[position:])
    return "".join(pieces)


def service_hosts(urls: Iterable[str | None]) -> frozenset[str]:
    """The host names in our own services' URLs (Settings.service_urls), for `redact`."""
    hosts = set()
    for url in urls:
        try:
            host = urlsplit(url or "").hostname
        except ValueError:
            continue
        if host:
            hosts.add(host.lower())
    return frozenset(hosts)


def _service_origin(url: str, services: frozenset[str]) -> str | None:
    """`url` as a log keeps it when it points at one of our services: the scheme, host and
    port, never a user, password, path or query, which can name a customer or hold a
    token ("/conversations/<sender>/tracker", "?access_token=")."""
    if not services:
        return None
    try:
        parts = urlsplit(url if "//" in url else f"//{url}")
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if host not in services:
        return None
    origin = (f"{parts.scheme}://" if parts.scheme else "") + (f"[{host}]" if ":" in host else host)
    origin += f":{port}" if port else ""
    return origin + ("/[path]" if parts.path.strip("/") or parts.query else "")


def _inside(start: int, end: int, regions: list[tuple[int, int]]) -> bool:
    return any(first <= start and end <= last for first, last in regions)


def redact_line(line: str, masker: Masker) -> str:
    """One line of Rasa's or the action server's output: a structured event loses its
    user-content fields, then everything is redacted as our own lines are."""
    stripped = line.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            event = json.loads(stripped)
        except ValueError:
            event = None
        if isinstance(event, dict):
            line = json.dumps(_without_user_content(event), ensure_ascii=False) + "\n"
    return redact(line, masker)


def _without_user_content(event: Mapping) -> dict:
    return {
        key: "[redacted]"
        if key in USER_CONTENT_KEYS
        else _without_user_content(value)
        if isinstance(value, Mapping)
        else value
        for key, value in event.items()
    }


def redact_stream(source: BinaryIO, destination: BinaryIO, masker: Masker | None = None) -> None:
    """Copy a process's output to its log file line by line, redacted, until the process
    closes it; closes both."""
    masker = masker or Masker()
    with source, destination:
        for raw in iter(lambda: source.readline(MAX_LINE), b""):
            try:
                line = redact_line(raw.decode("utf-8", errors="replace"), masker)
            except Exception as error:  # keep draining: a full pipe would stop the process
                line = f"[a line was left out: redacting it failed ({type(error).__name__})]\n"
            try:
                destination.write(line.encode("utf-8"))
                destination.flush()
            except OSError:
                pass  # disk full: the process must still not block on its output


def start_redacting(source: BinaryIO, destination: BinaryIO) -> threading.Thread:
    """`redact_stream` in a daemon thread (the stack launcher: one per process, each with
    its own Masker, since a spaCy pipeline is not shared between threads)."""
    thread = threading.Thread(
        target=redact_stream, args=(source, destination), name="log-redaction", daemon=True
    )
    thread.start()
    return thread


def quiet_environment(env: Mapping[str, str]) -> dict[str, str]:
    """Environment for `rasa run` and `rasa run actions`: never below INFO, where Rasa
    logs every user message and the slots (LOG_LEVEL=DEBUG, or --debug)."""
    wanted = env.get("LOG_LEVEL", "INFO").upper()
    level = logging.getLevelName(wanted)
    if not isinstance(level, int) or level < logging.INFO:
        wanted = "INFO"
    return {**env, "LOG_LEVEL": wanted, "LOG_LEVEL_LIBRARIES": "ERROR"}


class RedactingFilter(logging.Filter):
    """Redacts a record's message, exception and stack text (see the module docstring).
    On a handler it sees every record the handler writes, whichever logger made it."""

    def __init__(self, masker: Masker, services: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self._masker = masker
        self._services = services
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, CLEAN, False):
            return True
        message = record.getMessage()
        redacted = redact(message, self._masker, self._services)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._masker, self._services)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._masker, self._services)
        return True


def configure_logging(
    masker: Masker,
    level: int = logging.INFO,
    stream=None,
    services: frozenset[str] = frozenset(),
) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(masker, services))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, level))


# Requests that succeed many times a minute and say nothing an operator needs: Rasa's
# /nlg callback (one to three per customer message, a tenth of the gateway's CPU with its
# redaction) and orchestrators' probes. Their failures are still logged.
QUIET_PATHS = frozenset({"/nlg", "/livez", "/readyz", "/healthz", "/metrics"})


class AccessLog(AccessLogger):
    """The access log without the successful requests to QUIET_PATHS, a line per request
    from what cannot name a customer: the method, the route's template rather than the path
    ("/api/v1/conversations/{key}"), the status, the size and the time. No client address,
    query string, referrer or user agent, so that no line needs the Masker, which cost
    more than the rest of the line (a request with no route keeps its path, redacted)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if response.status < 400 and request.path in QUIET_PATHS:
            return
        template = _route_template(request)
        line = (
            f'"{request.method} {template or request.path}" {response.status} '
            f"{response.body_length} {time * 1000:.1f} ms"
        )
        clean = template is not None and request.method in _METHODS  # a method is any token
        self.logger.info(line, extra={CLEAN: clean})


def _route_template(request: BaseRequest) -> str | None:
    """The matched route's path with its placeholders; None without one (a 404, or a
    request aiohttp refused before routing it)."""
    match_info = getattr(request, "match_info", None)
    resource = getattr(getattr(match_info, "route", None), "resource", None)
    canonical = getattr(resource, "canonical", None)
    return canonical if isinstance(canonical, str) else None
