"""Database errors translated once, at the store boundary, for every engine of the gateway.

bot/db.create_engine installs `translate_errors` on each engine it makes, so every store
(conversations, tickets, agents, sessions, translation memory, Telegram updates and
files) raises the domain's errors (bot/errors.py) and none catches a driver's:

- a locked, busy or unreachable database (OperationalError, a dropped connection, a
  refused connect) → StoreUnavailable, which the web layer answers 503 and Telegram
  keeps the update for;
- a unique key or a foreign key the database enforces (IntegrityError) → StoreConflict,
  which the stores catch as Conflict where it is an expected race (one open ticket per
  conversation, a message or update delivered twice, a conversation erased meanwhile).

Other database errors are bugs and stay as they are, a 500 and a traceback: a NOT NULL or
CHECK constraint only our own code can break, a value the driver cannot bind.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import StoreConflict, StoreUnavailable, TolkError

# Constraints no other request can make us break (SQLite's words, PostgreSQL's SQLSTATEs
# not_null_violation and check_violation): a bug, not a conflict.
_BUGS = ("NOT NULL constraint failed", "CHECK constraint failed")
_BUG_STATES = frozenset({"23502", "23514"})


def translate_errors(engine: AsyncEngine) -> None:
    """Have `engine` raise StoreUnavailable / StoreConflict instead of the driver's errors."""
    event.listen(engine.sync_engine, "handle_error", _handle_error, retval=True)
    event.listen(engine.sync_engine, "do_connect", _connect)


def drop_closed_connections(engine: AsyncEngine) -> None:
    """Have the pool replace a PostgreSQL connection the server closed before handing it out."""
    event.listen(engine.sync_engine, "checkout", _closed_by_the_server)


def _closed_by_the_server(dbapi_connection, _record, _proxy) -> None:
    # Instead of the pool's pre-ping, which costs three round trips per checkout (BEGIN, ";",
    # ROLLBACK: SQLAlchemy wraps it for pgbouncer), nearly half of a message's round
    # trips when it was on (tests/bot/test_db.py counts them). A connection PostgreSQL
    # closed (a restart, a terminated backend) is already marked closed by asyncpg once the
    # event loop has read the EOF; DisconnectionError has the pool drop it and connect
    # again (up to three times) before the caller sees it.
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("PostgreSQL closed this pooled connection")


def translated(error: BaseException) -> TolkError | None:
    """The domain error for a database error, or None when it is not one we translate."""
    if isinstance(error, IntegrityError):
        return None if _a_bug(error) else StoreConflict(_driver_text(error))
    if isinstance(error, OperationalError):
        return StoreUnavailable(_driver_text(error))
    return None


def translated_asyncpg(error: BaseException, *, closed: bool) -> TolkError | None:
    """As `translated`, for an error asyncpg raised itself (bot/prepared.py runs the
    statements on every message's way without SQLAlchemy). `closed`: the connection is
    closed now, which SQLAlchemy counts as a disconnect whatever the error."""
    if closed or isinstance(error, (OSError, asyncpg.PostgresConnectionError)):
        return StoreUnavailable(str(error))  # dropped or refused
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return None if error.sqlstate in _BUG_STATES else StoreConflict(str(error))
    return None


def translated_sqlite3(error: BaseException) -> TolkError | None:
    """As `translated`, for an error sqlite3 raised itself (bot/prepared.py)."""
    if isinstance(error, sqlite3.IntegrityError):
        return None if str(error).startswith(_BUGS) else StoreConflict(str(error))
    if isinstance(error, sqlite3.OperationalError):
        return StoreUnavailable(str(error))  # locked for too long, or unreadable
    return None


def _handle_error(context: ExceptionContext) -> BaseException | None:
    # Every failed statement, begin and commit. (No engine pre-pings: bot/db.py checks a
    # pooled PostgreSQL connection at checkout without a round trip; a refused reconnect is
    # caught in _connect.)
    error = context.sqlalchemy_exception
    if error is None:
        return None
    if context.is_disconnect:  # the connection dropped: unavailable, whatever the driver says
        return StoreUnavailable(_driver_text(error))
    return translated(error)


def _connect(dialect: Dialect, _record, cargs, cparams):
    # asyncpg raises a bare OSError for a refused or timed-out connect, which never reaches
    # handle_error; SQLite's "unable to open" is an OperationalError and does.
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as error:
        raise StoreUnavailable(str(error)) from error


def _a_bug(error: IntegrityError) -> bool:
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in _BUG_STATES or str(error.orig).startswith(_BUGS)


def _driver_text(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error)
