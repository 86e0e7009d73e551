"""`python -m bot ...`: the service and the operator commands."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from bot.errors import TolkError
from bot.settings import Settings, SettingsError

# Requests under way get this long after SIGTERM (scripts/stack.py kills at 6 s).
SHUTDOWN_SECONDS = 3.0


def main(argv: list[str] | None = None) -> int:
    # python-telegram-bot 22: durations (a flood limit's retry_after) as timedeltas, as its
    # next major version does; without this it warns on every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    parser = argparse.ArgumentParser(prog="python -m bot", description="Tolk customer-care gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the bot service (channels, /nlg, web chat)")
    content = commands.add_parser(
        "content", help="check and publish the questions and answers content editors maintain"
    )
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser(
        "check",
        help="check questions, answers and Rasa data, print coverage; exit 1 on errors",
    )
    check.add_argument(
        "--fast", action="store_true", help="skip `rasa data validate` (a few seconds)"
    )
    content_commands.add_parser(
        "reload",
        help="check the answers and make the running bot service serve them now",
    )
    translate = content_commands.add_parser(
        "translate", help="machine-translate missing answers into locales/drafts/ for review"
    )
    translate.add_argument("--lang", required=True, help="language code, e.g. es")
    bench = commands.add_parser("bench", help="measure the gateway's own latency (see README)")
    bench.add_argument(
        "--full",
        action="store_true",
        help="start the real stack on free ports and compare it with Rasa's REST webhook",
    )
    bench.add_argument(
        "--conversations", metavar="N,N,...", help="with --full: at once, per run (1,10,50)"
    )
    bench.add_argument("--messages", type=int, help="with --full: per conversation (12)")
    bench.add_argument(
        "--scaled",
        action="store_true",
        help="with --full: two of each process (make run-scaled) on TOLK_DATABASE_URL "
        "(PostgreSQL) and TOLK_REDIS_URL",
    )
    commands.add_parser("version", help="the interpreter and key library versions")
    db = commands.add_parser("db", help="the database schema (migrations, bot/migrations/)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser(
        "upgrade", help="apply the migrations to TOLK_DATABASE_URL (run once, before serving)"
    )
    db_commands.add_parser(
        "current", help="the database's revision and the newest; exit 1 if behind"
    )
    agents = commands.add_parser("agents", help="the support agents who take handed-over chats")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True)
    add = agent_commands.add_parser("add", help="create an agent; prints the API token once")
    add.add_argument("--name", required=True, help="shown to customers, e.g. Daan")
    add.add_argument("--languages", required=True, help="e.g. nl,en: the first is their own")
    add.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Europe/Amsterdam")
    add.add_argument(
        "--hours",
        default="mon-sun 00:00-24:00",
        help='working hours in their zone, e.g. "mon-fri 09:00-17:00, sat 10:00-14:00"',
    )
    add.add_argument("--max-tickets", type=int, default=3, help="open tickets at once")
    add.add_argument(
        "--lead",
        action="store_true",
        help="a lead: also publishes incident notices and reads the dashboard",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the console password from stdin (else one is generated and shown once)",
    )
    agent_commands.add_parser("list", help="the agents, their languages and hours")
    role = agent_commands.add_parser("role", help="make an agent a lead, or a lead an agent")
    role.add_argument("--name", required=True, help="the agent's name (agents list)")
    role.add_argument("--role", required=True, choices=("agent", "lead"))
    erase = commands.add_parser(
        "erase", help="erase everything stored about a customer, Rasa's tracker included"
    )
    erase.add_argument(
        "--sender",
        required=True,
        help="the conversation, channel first: rest-<REST sender> (rest-anna for the "
        'REST sender "anna"), telegram-<chat id>, web-<id>',
    )
    report = commands.add_parser(
        "report", help="the support figures of a period as a table, and PNG charts"
    )
    report.add_argument("--since", default="7d", help="the period up to now: 30m, 12h, 7d, 4w")
    report.add_argument("--language", help="only conversations in this language, e.g. nl")
    report.add_argument("--channel", help="only this channel, e.g. telegram")
    report.add_argument("--charts", type=Path, metavar="DIR", help="write PNG charts here")
    report.add_argument(
        "what",
        nargs="?",
        choices=["unanswered"],
        help="unanswered: what the bot did not understand, grouped, per language",
    )
    report.add_argument(
        "--limit", type=int, default=20, metavar="N", help="with unanswered: groups per language"
    )
    args = parser.parse_args(argv)
    if args.command == "version":  # also when the configuration is broken
        from bot.version import run

        return run()

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2

    try:
        return _run(args, settings)
    except TolkError as error:  # a locked database, say: why, and no traceback
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        return _serve(settings)
    if args.command == "db":
        from bot.migrations.commands import run_current, run_upgrade

        return run_upgrade(settings) if args.db_command == "upgrade" else run_current(settings)
    if args.command == "content":
        from tolk_tools.content import run_check, run_reload, run_translate

        if args.content_command == "translate":
            return run_translate(settings, args.lang)
        if args.content_command == "reload":
            return run_reload(settings)
        return run_check(settings, fast=args.fast)
    if args.command == "agents":
        from bot.handoff.commands import run_add, run_list, run_role

        if args.agents_command == "add":
            return run_add(settings, args)
        if args.agents_command == "role":
            return run_role(settings, args.name, args.role)
        return run_list(settings)
    if args.command == "erase":
        from bot.erase import run_erase

        return run_erase(settings, args.sender)
    if args.command == "report" and args.what == "unanswered":
        from bot.unanswered.report import run_unanswered

        if args.charts is not None:
            print("report unanswered: --charts is for the figures report", file=sys.stderr)
            return 2
        return run_unanswered(settings, args.since, args.language, args.channel, args.limit)
    if args.command == "report":
        from bot.metrics.report import run_report

        return run_report(settings, args.since, args.language, args.channel, args.charts)
    if args.command == "bench" and args.full:
        from tolk_tools.full_bench import make_scaled_stack, make_stack, run_full

        factory = make_scaled_stack if args.scaled else make_stack
        return run_full(settings.languages, args.conversations, args.messages, factory)
    if args.command == "bench":
        from tolk_tools.bench import run

        return run(settings)
    return 2


async def _freeze_heap(app) -> None:
    # What is loaded at start (lingua's models, SQLAlchemy, aiohttp) lives as long as the
    # service. Left to the collector, every full collection walks it again, a pause of
    # 0.1 s or more on the event loop; frozen, collections look at new objects only.
    gc.collect()
    gc.freeze()


def _serve(settings: Settings) -> int:
    from bot.migrations.commands import check_schema

    # Migrations are applied once, before (`db upgrade`; make run does it): never by
    # replicas racing at start. Behind, refuse with what to run (SchemaNotCurrent), and
    # before the seconds of importing the service.
    check_schema(settings)

    from aiohttp import web

    from bot.app import create_app
    from bot.logs import AccessLog, configure_logging, service_hosts
    from bot.translation.masking import Masker

    configure_logging(Masker(settings.glossary), services=service_hosts(settings.service_urls()))
    print(
        f"Tolk bot service on http://{settings.host}:{settings.port}/ (web chat), "
        f"Rasa at {', '.join(settings.rasa_urls)}"
    )
    # On SIGTERM aiohttp waits up to `shutdown_timeout` for every task to end, the
    # background loops of bot/app.py included, which only end in cleanup afterwards: 60 s
    # by default. make run allows 6 s before SIGKILL; a message in flight is stored first.
    app = create_app(settings)
    app.on_startup.append(_freeze_heap)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=SHUTDOWN_SECONDS,
        access_log_class=AccessLog,
    )
    return 0
