"""The bot service: `create_app(settings)` builds it, resources live in `cleanup_ctx`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial

import aiohttp
from aiohttp import web

from bot.alerts import Alerts, AlertWebhook
from bot.appkeys import (
    ALERTS,
    CHANGES,
    CHANNELS,
    DELIVERY,
    ENGINE,
    ERASER,
    GATEWAY,
    HANDOFF,
    INCIDENTS,
    LIMITS,
    LOGIN_LIMITER,
    OUTCOMES,
    RASA,
    RENDERER,
    SESSIONS,
    SETTINGS,
    SPEAKER,
    STORE,
    SURVEYS,
    TELEMETRY,
)
from bot.catalogue import Catalogue
from bot.changes import LocalChanges, changes_for
from bot.channels.registry import CHANNELS as REGISTERED
from bot.channels.registry import ChannelFactory, build_channels
from bot.channels.rest import require_api_token
from bot.console.sessions import Sessions
from bot.content_reload import CONTENT_WATCHER, ContentWatcher
from bot.continuation import EmailContinuation
from bot.db import create_engine, create_schema
from bot.delivery import Delivery
from bot.erase import RETENTION_EVERY, Eraser
from bot.handoff.service import HandoffPolicy, HandoffService
from bot.handoff.sla import SlaWatch
from bot.handoff.tickets import TicketStore
from bot.http_errors import close_if_body_unread, errors_as_json
from bot.inbound import Gateway
from bot.incidents.service import Incidents
from bot.incidents.surge import SurgePolicy, SurgeWatch
from bot.language import LanguageChooser
from bot.leases import Leases
from bot.limits import CustomerLimits, rate_limits
from bot.metrics.report import load_charting
from bot.outcomes import Outcomes
from bot.periodic import Periodic
from bot.rasa_client import RasaClient
from bot.ratelimit import FallbackRateLimiter, MemoryRateLimiter, RateLimiter
from bot.redis_limiter import RedisRateLimiter
from bot.render import Renderer
from bot.retry import Retrier, RetryPolicy
from bot.routes import setup_routes
from bot.settings import Settings, SettingsError
from bot.speaker import Speaker
from bot.store import Store
from bot.surveys.service import Surveys
from bot.telemetry import Telemetry, measure_requests
from bot.translation.backends import create_backend
from bot.translation.masking import Masker
from bot.translation.memory import TranslationMemory
from bot.translation.resilience import ResilientTranslator
from bot.translation.service import TranslationService
from tolk_core.language_names import PIVOT_CANDIDATES

log = logging.getLogger(__name__)

# Room for a 4096-character message in any script plus JSON escaping; larger bodies get 413.
MAX_BODY = 64 * 1024


def create_app(
    settings: Settings, channels: tuple[ChannelFactory, ...] = REGISTERED
) -> web.Application:
    """The service; `channels` are the registered ones (bot/channels/registry.py)."""
    # Rate limits before the API token: a client guessing tokens is limited too. Measured
    # outermost, so that /metrics counts the status the client got.
    app = web.Application(
        middlewares=[measure_requests, errors_as_json, rate_limits, require_api_token],
        client_max_size=MAX_BODY,
    )
    app[SETTINGS] = settings
    app.on_response_prepare.append(close_if_body_unread)
    app[LIMITS], app[LOGIN_LIMITER] = _limiters(app, settings)
    app[CHANNELS] = build_channels(settings, channels)
    unknown = settings.sla.channels - {channel.name for channel in app[CHANNELS]}
    if unknown:
        raise SettingsError(
            f"TOLK_SLA names {', '.join(sorted(unknown))}, not a channel; channels are "
            + ", ".join(channel.name for channel in app[CHANNELS])
        )
    app[TELEMETRY] = Telemetry(
        settings.languages, PIVOT_CANDIDATES, (channel.name for channel in app[CHANNELS])
    )
    # Pushes to customers (agent replies, handoff notices, late answers) go through here.
    app[DELIVERY] = Delivery(app[CHANNELS])
    # What the console shows changed, told to every replica's feeds (bot/changes.py);
    # running before the services that notify it and stopped after them.
    changes = app[CHANGES] = changes_for(settings.redis_url)
    app.cleanup_ctx.append(partial(_running, changes))
    app.cleanup_ctx.append(_resources)
    setup_routes(app)
    return app


def _limiters(app: web.Application, settings: Settings) -> tuple[CustomerLimits, RateLimiter]:
    """Customers' limits and the login throttle's: in this process, or with TOLK_REDIS_URL
    in Redis, shared by every replica. When Redis does not answer, customers' limits count
    per replica (they keep being served; a flood is still limited by each replica) but
    console logins are refused (503): a stranger who can cut Redis off must not get a
    fresh, unshared budget of password guesses on every replica and every restart."""
    if not settings.redis_url:
        local = MemoryRateLimiter()
        return CustomerLimits.from_settings(settings, local), local
    shared = RedisRateLimiter(settings.redis_url)

    async def connected(app: web.Application) -> AsyncIterator[None]:
        async with shared.running():  # the client is made here and closed at shutdown
            yield

    app.cleanup_ctx.append(connected)
    limits = CustomerLimits.from_settings(
        settings, FallbackRateLimiter(shared, MemoryRateLimiter())
    )
    return limits, shared


async def _running(changes: LocalChanges, app: web.Application) -> AsyncIterator[None]:
    async with changes.running():
        yield


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = app[ENGINE] = create_engine(settings.database_url)
    await create_schema(engine)
    session = aiohttp.ClientSession()
    telemetry = app[TELEMETRY]
    translation = create_translation(settings, engine, telemetry)
    # Masking (translator and log redaction) loads spaCy on first use: 7 s of importing
    # that would stall the first customer, and with the GIL every other request too.
    await asyncio.to_thread(translation.masker.mask, "warm up", [])
    await asyncio.to_thread(load_charting)  # the dashboard's charts (bot/metrics/api.py)
    retry = RetryPolicy.from_settings(settings)
    store = app[STORE] = Store(engine, retry)
    renderer = app[RENDERER] = Renderer(Catalogue.load(settings.locales_dir), translation)
    speaker = app[SPEAKER] = Speaker(settings, renderer)
    delivery = app[DELIVERY]
    app[OUTCOMES] = Outcomes(engine)
    surveys = app[SURVEYS] = Surveys(
        engine,
        speaker,
        translation,
        session_minutes=settings.session_minutes,
        nps_sample=settings.nps_sample,
        delivery=delivery,
    )
    handoff = app[HANDOFF] = HandoffService(
        engine,
        store,
        speaker,
        translation,
        HandoffPolicy(
            presence=timedelta(seconds=settings.agent_timeout),
            sla=settings.sla,
            surge_window=timedelta(minutes=settings.surge_minutes),
            surge_count=settings.surge_count,
        ),
        delivery=delivery,
        surveys=surveys,
        changes=app[CHANGES],
    )
    rasa = app[RASA] = RasaClient(
        session,
        settings.rasa_urls,
        settings.actions_url,
        settings.rasa_timeout,
        secret=settings.rasa_secret,
        telemetry=telemetry,
    )
    eraser = app[ERASER] = Eraser(engine, settings.tracker_url)
    gateway = app[GATEWAY] = Gateway(
        settings=settings,
        store=store,
        rasa=rasa,
        speaker=speaker,
        languages=LanguageChooser(settings.languages + PIVOT_CANDIDATES),
        translation=translation,
        handoff=handoff,
        eraser=eraser,
        retry=retry,
        surveys=surveys,
        telemetry=telemetry,
        email=next((c for c in app[CHANNELS] if isinstance(c, EmailContinuation)), None),
    )
    app[SESSIONS] = Sessions(engine)
    webhook = (
        AlertWebhook(session, settings.alert_webhook_url, settings.alert_webhook_secret)
        if settings.alert_webhook_url
        else None
    )
    alerts = app[ALERTS] = Alerts(engine, webhook, app[CHANGES])
    # Incident notices and surge alerts (bot/incidents/); the gateway tells who asks.
    incidents = app[INCIDENTS] = Incidents(
        engine,
        store,
        speaker,
        translation,
        SurgeWatch(engine, alerts, SurgePolicy.from_settings(settings)),
        languages=settings.languages,
        push_window=timedelta(hours=settings.incident_push_hours),
        delivery=delivery,
    )
    gateway.incidents = incidents  # made before the alerts it needs
    for channel in app[CHANNELS]:
        await channel.start(app)
    # With several replicas on one database, each job runs in one of them (bot/leases.py).
    leases = Leases(engine)
    jobs = [
        Periodic(
            "handoff sweep",
            handoff.sweep,
            settings.sweep_seconds,
            settings.sweep_seconds,
            leases,
        ),
        Periodic(
            "sla watch",
            SlaWatch(TicketStore(engine), alerts, handoff.clock).run,
            settings.sweep_seconds,
            settings.sweep_seconds,
            leases,
        ),
        # At start too: messages a stop or a crash left unanswered.
        Periodic(
            "retry sweep",
            Retrier(gateway, store, delivery).sweep,
            settings.retry_seconds,
            first=0,
            leases=leases,
        ),
        # TOLK_RETENTION_DAYS: older conversations and all their data go (bot/erase.py).
        Periodic(
            "retention sweep",
            partial(eraser.expire, settings.retention_days),
            RETENTION_EVERY.total_seconds(),
            first=1,  # not while the service is still starting
            leases=leases,
        ),
    ]
    for job in jobs:
        job.start()
    # Edited answers in locales/ go live without a restart (bot/content_reload.py).
    watcher = app[CONTENT_WATCHER] = ContentWatcher(settings.locales_dir, speaker.renderer)
    watching = asyncio.create_task(watcher.watch(settings.content_poll_seconds))
    yield
    await incidents.settled()  # surge checks under way write to the database
    await asyncio.gather(*(job.stop() for job in jobs))
    try:
        await leases.release_all()  # another replica takes over now, not when they expire
    except Exception:  # the database is gone: the leases expire on their own
        log.warning("leases not given back; they expire on their own", exc_info=True)
    watching.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watching
    for channel in reversed(app[CHANNELS]):
        await channel.stop()
    await translation.memory.flush_hits()
    await session.close()
    await engine.dispose()


def create_translation(
    settings: Settings, engine, telemetry: Telemetry | None = None
) -> TranslationService:
    backend = create_backend(
        settings.translator, url=settings.translator_url, key=settings.translator_key
    )
    # One retry only: a customer is waiting, and the circuit breaker takes over when the
    # translator stays down.
    translator = (
        ResilientTranslator(
            backend, timeout=settings.translator_timeout, retries=1, telemetry=telemetry
        )
        if backend
        else None
    )
    memory = TranslationMemory(engine)
    return TranslationService(translator, memory, Masker(settings.glossary), telemetry)
