"""Configuration, read once from the environment and passed in."""

from __future__ import annotations

import ipaddress
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.handoff.sla import DEFAULT_WARN_AT, SlaPolicy, SlaPolicyError
from bot.ratelimit import Rate, parse_rate
from tolk_core import internal_secrets
from tolk_core.config import SettingsError, positive
from tolk_core.project import NATIVE_LANGUAGES, PIVOT_LANGUAGE, PROJECT_ROOT

TRANSLATORS = ("none", "google", "deepl", "microsoft", "libre", "mymemory")


# Rate limit defaults (TOLK_RATE_*, TOLK_LOGIN_FAILURES*): so many per so many seconds.
_RATES = {
    "sender": Rate(20, 10),
    "address": Rate(60, 10),
    "reads": Rate(300, 10),
    "new_conversations": Rate(30, 600),
    "login": Rate(5, 60),
    "login_address": Rate(20, 600),
}


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'tolk.db'}"
    # One URL, or Rasa replicas separated by commas (bot/rasa_client.py).
    rasa_url: str = "http://127.0.0.1:5005"
    actions_url: str = "http://127.0.0.1:5055"
    api_token: str | None = None
    languages: tuple[str, ...] = NATIVE_LANGUAGES
    host: str = "127.0.0.1"
    port: int = 8080
    support_email: str = "support@example.com"
    rasa_timeout: float = 30.0
    # A conversation idle this long starts a new session (matches domain.yml), and the
    # next reply discloses again that this is a bot.
    session_minutes: int = 60
    locales_dir: Path = field(default=PROJECT_ROOT / "locales")
    translator: str = "none"
    translator_url: str | None = None
    translator_key: str | None = None
    translator_timeout: float = 5.0
    # Terms never translated (brand, product names); order numbers are masked anyway.
    glossary: tuple[str, ...] = ("Tolk",)
    # An agent not seen for this long (no console connection, no API call) is offline;
    # their open tickets go back to the queue and the customers are told.
    agent_timeout: float = 60.0
    sweep_seconds: float = 5.0
    # Messages stored but not answered (Rasa or actions were down): looked for this often,
    # first retried this long after failing (doubling), handed to a person after this many
    # tries (bot/retry.py).
    retry_seconds: float = 30.0
    retry_attempts: int = 6
    # Conversations (and all their data) idle longer than this are erased (bot/erase.py).
    retention_days: int = 365
    # The share of conversations (0..1) asked the NPS question instead of CSAT/CES
    # (bot/surveys/nps.py); TOLK_NPS_SAMPLE.
    nps_sample: float = 0.1
    # First-response targets per priority and channel (TOLK_SLA, bot/handoff/sla.py), and
    # where alerts go besides the console.
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = field(default=None, repr=False)
    # Surges and incidents (bot/incidents/): leads are alerted when this many customers
    # ask about one topic (intent) within so many minutes (also what makes a ticket hot);
    # a notice published with "push" reaches those who asked in the last so many hours.
    surge_count: int = 3
    surge_minutes: int = 10
    incident_push_hours: int = 24
    # Rasa's SQL tracker store (endpoints.yml), for erasing a customer's tracker.
    tracker_url: str | None = f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa-tracker.db'}"
    telegram_token: str | None = None
    # Webhook mode when set (the public https URL of /telegram/webhook), else polling.
    telegram_webhook_url: str | None = None
    telegram_secret_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    # Updates of one chat that arrive within this window are handled in update_id order.
    telegram_reorder_seconds: float = 0.15
    # WhatsApp Business Cloud API (bot/channels/whatsapp/): on when the token is set.
    whatsapp_token: str | None = field(default=None, repr=False)
    whatsapp_app_secret: str | None = field(default=None, repr=False)
    whatsapp_verify_token: str | None = field(default=None, repr=False)
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_base_url: str = "https://graph.facebook.com"
    # The approved template offered to agents outside the 24-hour window (unset: none).
    whatsapp_template_name: str | None = None
    whatsapp_template_language: str = "en"
    # Messenger and Instagram (Messenger Platform, bot/channels/messenger/).
    messenger_page_token: str | None = field(default=None, repr=False)
    messenger_app_secret: str | None = field(default=None, repr=False)
    messenger_verify_token: str | None = field(default=None, repr=False)
    messenger_api_base_url: str = "https://graph.facebook.com"
    # The Graph API version of both; Meta's messages of one customer that arrive within
    # meta_reorder_seconds are handled in the order the customer sent them.
    graph_api_version: str = "v21.0"
    meta_reorder_seconds: float = 0.15
    # E-mail (bot/channels/email/): sending on when TOLK_SMTP_URL and TOLK_EMAIL_FROM are
    # set; replies by IMAP polling (TOLK_IMAP_URL) or POST /email/inbound (its token).
    smtp_url: str | None = field(default=None, repr=False)
    imap_url: str | None = field(default=None, repr=False)
    email_from: str | None = None
    email_inbound_token: str | None = field(default=None, repr=False)
    email_poll_seconds: float = 30.0
    # How often (seconds) the service looks for edited locales/*.yml and serves them.
    content_poll_seconds: float = 2.0
    # Where agents' training-example drafts go for the content team's review
    # (bot/unanswered/drafts.py); TOLK_NLU_DRAFTS. Never inside data/: a person decides.
    nlu_drafts: Path = field(default=PROJECT_ROOT / "var" / "review" / "nlu-drafts.yml")
    # Behind a TLS-terminating reverse proxy: believe its X-Forwarded-Proto, so that
    # cookies are Secure (bot/tls.py). Off: anyone could send the header.
    trust_proxy: bool = False
    # Rate limits on customer routes (bot/limits.py): messages per sender; requests per
    # client address (writes, and reads such as the web chat's polling); new conversations
    # per address. Console logins: failures per address and name, and per address.
    rate_per_sender: Rate = _RATES["sender"]
    rate_per_address: Rate = _RATES["address"]
    rate_reads_per_address: Rate = _RATES["reads"]
    rate_new_conversations: Rate = _RATES["new_conversations"]
    login_failures: Rate = _RATES["login"]
    login_failures_per_address: Rate = _RATES["login_address"]
    # TOLK_REDIS_URL: the rate limits and the login throttle live in Redis, shared by every
    # gateway replica (bot/redis_limiter.py); unset, in this process. Has the password.
    redis_url: str | None = field(default=None, repr=False)
    # Secrets between our own processes (tolk_core/internal_secrets.py); from_env always has
    # them, from the environment or var/secrets/. Unset, /nlg and the admin routes refuse.
    rasa_secret: str | None = field(default=None, repr=False)
    actions_secret: str | None = field(default=None, repr=False)
    nlg_secret: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)
    # Bearer token for GET /metrics from other hosts (bot/telemetry.py).
    metrics_token: str | None = field(default=None, repr=False)

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        """`rasa_url` as its replicas (from_env has checked and tidied each one)."""
        return tuple(url for url in self.rasa_url.split(",") if url)

    def service_urls(self) -> tuple[str | None, ...]:
        """Every URL of a service the gateway talks to, none of them a customer's: their
        hosts stay readable in logs (bot/logs.py)."""
        return (
            *self.rasa_urls,
            self.actions_url,
            self.tracker_url,
            self.database_url,
            self.redis_url,
            self.translator_url,
            self.smtp_url,
            self.imap_url,
            self.telegram_api_base_url,
            self.whatsapp_api_base_url,
            self.messenger_api_base_url,
            self.alert_webhook_url,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default: str | None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, field: str, kind: type):
            return positive(name, get(name, None), getattr(defaults, field), kind)

        def rate(name: str, field: str) -> Rate:
            return _rate(name, get(name, None), getattr(defaults, field))

        languages = tuple(
            code.strip().lower()
            for code in (get("TOLK_LANGUAGES", ",".join(defaults.languages)) or "").split(",")
            if code.strip()
        )
        unknown = [code for code in languages if code not in NATIVE_LANGUAGES]
        if unknown:
            raise SettingsError(
                f"TOLK_LANGUAGES: {', '.join(unknown)} has no trained NLU; "
                f"native languages are {', '.join(NATIVE_LANGUAGES)}"
            )
        if PIVOT_LANGUAGE not in languages:
            raise SettingsError(
                f"TOLK_LANGUAGES must include the pivot language '{PIVOT_LANGUAGE}'"
            )

        translator = (get("TOLK_TRANSLATOR", defaults.translator) or "none").lower()
        if translator not in TRANSLATORS:
            raise SettingsError(
                f"TOLK_TRANSLATOR: unknown translator {translator!r}; "
                f"one of {', '.join(TRANSLATORS)}"
            )
        translator_url = get("TOLK_TRANSLATOR_URL", None)
        if translator == "libre" and not translator_url:
            raise SettingsError("TOLK_TRANSLATOR=libre needs TOLK_TRANSLATOR_URL (your server)")
        if translator in ("deepl", "microsoft") and not get("TOLK_TRANSLATOR_KEY", None):
            raise SettingsError(f"TOLK_TRANSLATOR={translator} needs TOLK_TRANSLATOR_KEY")
        glossary = tuple(
            term.strip()
            for term in (get("TOLK_GLOSSARY", ",".join(defaults.glossary)) or "").split(",")
            if term.strip()
        )

        telegram_token = get("TELEGRAM_TOKEN", None)
        webhook_url = get("TELEGRAM_WEBHOOK_URL", None)
        secret = get("TELEGRAM_SECRET_TOKEN", None)
        if webhook_url and not telegram_token:
            raise SettingsError("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_TOKEN is not")
        if webhook_url and not secret:
            raise SettingsError(
                "TELEGRAM_WEBHOOK_URL needs TELEGRAM_SECRET_TOKEN (1-256 of A-Z a-z 0-9 _ -), "
                "so that only Telegram can post updates"
            )
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise SettingsError("TELEGRAM_SECRET_TOKEN may only use A-Z a-z 0-9 _ - (1-256)")

        meta = _meta_settings(get, defaults)
        email = _email_settings(get)

        host = get("TOLK_HOST", defaults.host) or defaults.host
        api_token = get("TOLK_API_TOKEN", None)
        if not api_token and not _loopback(host):
            raise SettingsError(
                f"TOLK_HOST={host} listens beyond this machine, so TOLK_API_TOKEN must be "
                "set: without it anyone who can reach the port can post and read as any "
                "REST sender (or keep TOLK_HOST=127.0.0.1 behind a reverse proxy)"
            )

        try:
            internal = internal_secrets.resolve(env, PROJECT_ROOT / "var" / "secrets")
        except (internal_secrets.SecretError, OSError) as error:
            raise SettingsError(str(error)) from None

        return cls(
            rasa_secret=internal[internal_secrets.RASA_SECRET],
            actions_secret=internal[internal_secrets.ACTIONS_SECRET],
            nlg_secret=internal[internal_secrets.NLG_SECRET],
            admin_token=internal[internal_secrets.ADMIN_TOKEN],
            telegram_token=telegram_token,
            telegram_webhook_url=webhook_url,
            telegram_secret_token=secret,
            telegram_api_base_url=(
                get("TELEGRAM_API_BASE_URL", defaults.telegram_api_base_url) or ""
            ).rstrip("/"),
            **meta,
            **email,
            email_poll_seconds=number("TOLK_EMAIL_POLL_SECONDS", "email_poll_seconds", float),
            tracker_url=get("TOLK_TRACKER_URL", defaults.tracker_url),
            translator=translator,
            translator_url=translator_url,
            translator_key=get("TOLK_TRANSLATOR_KEY", None),
            translator_timeout=number("TOLK_TRANSLATOR_TIMEOUT", "translator_timeout", float),
            glossary=glossary,
            database_url=get("TOLK_DATABASE_URL", defaults.database_url) or "",
            rasa_url=_rasa_urls(get("TOLK_RASA_URL", defaults.rasa_url) or ""),
            actions_url=(get("TOLK_ACTIONS_URL", defaults.actions_url) or "").rstrip("/"),
            api_token=api_token,
            metrics_token=get("TOLK_METRICS_TOKEN", None) or None,
            languages=languages,
            host=host,
            trust_proxy=_flag("TOLK_TRUST_PROXY", get("TOLK_TRUST_PROXY", None)),
            port=number("TOLK_PORT", "port", int),
            support_email=get("TOLK_SUPPORT_EMAIL", defaults.support_email) or "",
            rasa_timeout=number("TOLK_RASA_TIMEOUT", "rasa_timeout", float),
            agent_timeout=number("TOLK_AGENT_TIMEOUT", "agent_timeout", float),
            sweep_seconds=number("TOLK_SWEEP_SECONDS", "sweep_seconds", float),
            retry_seconds=number("TOLK_RETRY_SECONDS", "retry_seconds", float),
            retry_attempts=number("TOLK_RETRY_ATTEMPTS", "retry_attempts", int),
            retention_days=number("TOLK_RETENTION_DAYS", "retention_days", int),
            nps_sample=_share("TOLK_NPS_SAMPLE", get("TOLK_NPS_SAMPLE", None), defaults.nps_sample),
            sla=_sla(get("TOLK_SLA", None), get("TOLK_SLA_WARN_AT", None)),
            alert_webhook_url=_webhook_url(get("TOLK_ALERT_WEBHOOK_URL", None)),
            alert_webhook_secret=get("TOLK_ALERT_WEBHOOK_SECRET", None),
            surge_count=number("TOLK_SURGE_COUNT", "surge_count", int),
            surge_minutes=number("TOLK_SURGE_MINUTES", "surge_minutes", int),
            incident_push_hours=number("TOLK_INCIDENT_PUSH_HOURS", "incident_push_hours", int),
            content_poll_seconds=number("TOLK_CONTENT_POLL_SECONDS", "content_poll_seconds", float),
            nlu_drafts=_drafts_path(get("TOLK_NLU_DRAFTS", None), defaults.nlu_drafts),
            rate_per_sender=rate("TOLK_RATE_PER_SENDER", "rate_per_sender"),
            rate_per_address=rate("TOLK_RATE_PER_ADDRESS", "rate_per_address"),
            rate_reads_per_address=rate("TOLK_RATE_READS_PER_ADDRESS", "rate_reads_per_address"),
            rate_new_conversations=rate("TOLK_RATE_NEW_CONVERSATIONS", "rate_new_conversations"),
            login_failures=rate("TOLK_LOGIN_FAILURES", "login_failures"),
            login_failures_per_address=rate(
                "TOLK_LOGIN_FAILURES_PER_ADDRESS", "login_failures_per_address"
            ),
            redis_url=_redis_url(get("TOLK_REDIS_URL", None)),
        )


def _meta_settings(get, defaults: Settings) -> dict:
    """WHATSAPP_* and MESSENGER_*: a channel with a token needs its app secret (its
    webhooks are signed with it; unsigned ones are never taken) and a verify token."""
    values: dict = {}
    tokens = (("whatsapp", "WHATSAPP_TOKEN"), ("messenger", "MESSENGER_PAGE_TOKEN"))
    for channel, token_name in tokens:
        prefix = channel.upper()
        token = get(token_name, None)
        secret = get(f"{prefix}_APP_SECRET", None)
        verify = get(f"{prefix}_VERIFY_TOKEN", None)
        if token and not secret:
            raise SettingsError(
                f"{token_name} is set but {prefix}_APP_SECRET is not: without the app secret "
                "the webhook's X-Hub-Signature-256 cannot be checked, and unsigned posts are "
                "never accepted"
            )
        if token and not verify:
            raise SettingsError(
                f"{token_name} needs {prefix}_VERIFY_TOKEN, the word you give Meta when you "
                "subscribe the webhook"
            )
        base = f"{channel}_api_base_url"
        values[base] = (get(f"{prefix}_API_BASE_URL", getattr(defaults, base)) or "").rstrip("/")
        values[f"{channel}_app_secret"] = secret
        values[f"{channel}_verify_token"] = verify
    values["whatsapp_token"] = get("WHATSAPP_TOKEN", None)
    values["messenger_page_token"] = get("MESSENGER_PAGE_TOKEN", None)
    phone = get("WHATSAPP_PHONE_NUMBER_ID", None)
    if values["whatsapp_token"] and not (phone and phone.isdigit()):
        raise SettingsError(
            "WHATSAPP_TOKEN needs WHATSAPP_PHONE_NUMBER_ID (the number's id, digits)"
        )
    values["whatsapp_phone_number_id"] = phone
    values["whatsapp_template_name"] = get("WHATSAPP_TEMPLATE_NAME", None)
    values["whatsapp_template_language"] = (
        get("WHATSAPP_TEMPLATE_LANGUAGE", defaults.whatsapp_template_language) or ""
    )
    version = get("GRAPH_API_VERSION", defaults.graph_api_version) or ""
    if not re.fullmatch(r"v\d+\.\d+", version):
        raise SettingsError(f"GRAPH_API_VERSION must look like v21.0, got {version!r}")
    values["graph_api_version"] = version
    return values


def _email_settings(get) -> dict:
    """TOLK_SMTP_URL, TOLK_IMAP_URL, TOLK_EMAIL_FROM, TOLK_EMAIL_INBOUND_TOKEN: checked
    here (bot/channels/email/urls.py), so that a typo stops the start, not the first mail."""
    from bot.channels.email.urls import check_address, parse_imap_url, parse_smtp_url

    smtp, imap = get("TOLK_SMTP_URL", None), get("TOLK_IMAP_URL", None)
    sender = get("TOLK_EMAIL_FROM", None)
    token = get("TOLK_EMAIL_INBOUND_TOKEN", None)
    try:
        if smtp:
            parse_smtp_url(smtp)
        if imap:
            parse_imap_url(imap)
        if sender:
            check_address(sender)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if (smtp or imap or token) and not sender:
        raise SettingsError(
            "TOLK_SMTP_URL, TOLK_IMAP_URL and TOLK_EMAIL_INBOUND_TOKEN need TOLK_EMAIL_FROM, "
            "the address customers' replies go to"
        )
    if token is not None and len(token) < 16:
        raise SettingsError("TOLK_EMAIL_INBOUND_TOKEN must be at least 16 characters")
    return {"smtp_url": smtp, "imap_url": imap, "email_from": sender, "email_inbound_token": token}


def _loopback(host: str) -> bool:
    """Whether a listen address is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def _flag(name: str, raw: str | None) -> bool:
    if raw is None:
        return False
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true or false), got {raw!r}")


def _share(name: str, raw: str | None, default: float) -> float:
    """A share from 0 to 1 (0.1 = one in ten)."""
    if raw is None:
        return default
    try:
        share = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number from 0 to 1, got {raw!r}") from None
    if not 0 <= share <= 1:
        raise SettingsError(f"{name} must be from 0 to 1 (0.1 = one in ten), got {raw!r}")
    return share


def _sla(raw: str | None, warn_at: str | None) -> SlaPolicy:
    try:
        share = float(warn_at) if warn_at is not None else DEFAULT_WARN_AT
    except ValueError:
        raise SettingsError(f"TOLK_SLA_WARN_AT must be a number, got {warn_at!r}") from None
    try:
        return SlaPolicy.parse(raw, share)
    except SlaPolicyError as error:
        raise SettingsError(str(error)) from None


def _webhook_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    parsed = urllib.parse.urlsplit(raw)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SettingsError(f"TOLK_ALERT_WEBHOOK_URL must be an http(s) URL, got {raw[:80]!r}")
    return raw


def _redis_url(raw: str | None) -> str | None:
    """redis://[:password@]host[:port][/db], as scripts/stack.py reads it for Rasa too."""
    if raw is None:
        return None
    parsed = urllib.parse.urlsplit(raw)
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        raise SettingsError(f"TOLK_REDIS_URL has a bad port: {error}") from None
    database = parsed.path.strip("/") or "0"
    if parsed.scheme != "redis" or not parsed.hostname or not database.isdigit():
        raise SettingsError(
            f"TOLK_REDIS_URL must look like redis://[:password@]host:6379/0, got "
            f"{parsed._replace(netloc=parsed.hostname or '').geturl()!r}"
        )
    return raw


def _drafts_path(raw: str | None, default: Path) -> Path:
    """TOLK_NLU_DRAFTS: a file (relative to the project) outside data/, which is training
    data only a person edits."""
    if raw is None:
        return default
    path = Path(raw).expanduser()
    path = (path if path.is_absolute() else PROJECT_ROOT / path).resolve()
    if path.is_dir():
        raise SettingsError(f"TOLK_NLU_DRAFTS must name a file, not the directory {raw!r}")
    if path.is_relative_to((PROJECT_ROOT / "data").resolve()):
        raise SettingsError(
            "TOLK_NLU_DRAFTS must be outside data/: drafts are reviewed before they become "
            "training data (default var/review/nlu-drafts.yml)"
        )
    return path


def _rate(name: str, raw: str | None, default: Rate) -> Rate:
    if raw is None:
        return default
    try:
        return parse_rate(raw)
    except ValueError as error:
        raise SettingsError(f"{name}: {error}") from None


def _rasa_urls(raw: str) -> str:
    """One Rasa, or replicas separated by commas (bot/rasa_client.py spreads over them)."""
    urls = [u.strip().rstrip("/") for u in raw.split(",") if u.strip()]
    if not urls:
        raise SettingsError("TOLK_RASA_URL is empty: give Rasa's URL, http://127.0.0.1:5005")
    for url in urls:
        if not url.startswith(("http://", "https://")) or not url.split("://", 1)[1]:
            raise SettingsError(f"TOLK_RASA_URL: {url[:80]!r} is not an http(s) URL")
    if len(set(urls)) != len(urls):
        raise SettingsError("TOLK_RASA_URL names one replica twice")
    return ",".join(urls)
