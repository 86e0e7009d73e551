"""SQLAlchemy's aiosqlite dialect with the statements run on the event loop.

aiosqlite runs every sqlite3 call in the connection's own thread and hands the result
back to the event loop: a queue put, a future, a wake-up of the loop through its
self-pipe and two GIL hand-overs, each time. SQLAlchemy's adapter makes four such trips
per statement (create the cursor, execute, fetch the rows, close the cursor) and one more
to roll back every connection returned to the pool, even one that holds no transaction:
49 for one steady message, about a quarter of the gateway's busy samples under the bench.

Here a statement creates, executes, fetches and closes its cursor at once, on the event
loop itself: sqlite3 answers the gateway's statements (a row by its key, a conversation's
latest messages) in microseconds, less than one hand-over to the thread and back (the
bench measured about a tenth less gateway CPU per message than with one trip per
statement). SQLite must then never wait for a lock inside a statement, which would stop
the loop: connections open with a busy timeout of 0 and keep it (`no_busy_wait`, after
the shared pragmas), and a statement that finds the database locked (the action server
or another of our connections writing) is tried again after a pause in which the loop
goes on, for up to LOCK_WAIT_SECONDS, as long as the other processes wait.

Still in the thread: commit and rollback, and only when a transaction is open (a commit
may checkpoint the write-ahead log, which writes and syncs the database file); and every
statement of a connection with the execution option IN_THREAD (`bot.db.reading(engine,
scans=True)`: reports that read a large part of a table), with SQLite's own busy wait.
Everything else (errors, pool, pragmas) is aiosqlite's and SQLAlchemy's own.

The dialect is registered as `sqlite+tolk_aiosqlite` (bot/db.py picks it for sqlite://).
It leans on aiosqlite's private `Connection._execute(fn, ...)` and `_conn`, which is why
requirements/gateway.txt pins aiosqlite and tests/bot/test_sqlite_driver.py checks both.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

NAME = "tolk_aiosqlite"

# The execution option that sends a connection's statements to the SQLite thread.
IN_THREAD = "tolk_sqlite_in_thread"
# As long as the action server waits for a lock (tolk_core/sqlite.py: busy_timeout).
LOCK_WAIT_SECONDS = 15.0
# Between tries on a locked database: short, since our own transactions last about a
# millisecond, then longer while the lock is held (at most one try per 20 ms).
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.02

# (description, rowcount, lastrowid, rows, in_transaction) of one statement.
Outcome = tuple[Any, int, int | None, list[Any], bool]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """The whole life of one cursor (on the event loop, or in the SQLite thread)."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return (
            cursor.description,
            cursor.rowcount,
            cursor.lastrowid,
            rows,
            connection.in_transaction,
        )
    finally:
        cursor.close()


def _locked(error: sqlite3.OperationalError) -> bool:
    """The database was locked by another connection (SQLITE_BUSY itself: not the
    extended codes such as BUSY_SNAPSHOT, which trying again cannot cure)."""
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


async def _on_the_loop(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> Outcome:
    """`_run` on the event loop; while the database is locked, pause and try again."""
    pause, deadline = _FIRST_PAUSE, None
    while True:
        try:
            return _run(connection, operation, parameters, many)
        except sqlite3.OperationalError as error:
            if not _locked(error):
                raise
            now = time.monotonic()
            deadline = deadline or now + LOCK_WAIT_SECONDS
            if now >= deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)


def _waiting(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> Outcome:
    """`_run` in the SQLite thread, where SQLite itself may wait for a lock."""
    connection.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_SECONDS * 1000)}")
    try:
        return _run(connection, operation, parameters, many)
    finally:
        connection.execute("PRAGMA busy_timeout=0")


async def run_on_the_loop(
    dbapi_connection: Any, operation: str, parameters: Sequence[Any]
) -> list[Any]:
    """One statement on SQLAlchemy's pooled `dbapi_connection` (a OneTripConnection), run as
    every statement here is, and its rows: for bot/prepared.py, which needs nothing else
    of SQLAlchemy for it. The connection notes whether a transaction is open, so that its
    commit and rollback (and the pool's check-in) go to the thread only then."""
    try:
        outcome = await _on_the_loop(
            dbapi_connection._connection._conn, operation, parameters, False
        )
    except BaseException:
        dbapi_connection.in_transaction = True  # as OneTripCursor._one_trip
        raise
    dbapi_connection.in_transaction = outcome[4]
    return outcome[3]


def no_busy_wait(dbapi_connection: Any, _record: Any = None) -> None:
    """A "connect" listener after one that sets a busy timeout (tolk_core/sqlite.py): the
    connection opened with none (OneTripDBAPI.connect), and keeps none."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that exists in sqlite3 only while its statement runs; what SQLAlchemy
    reads afterwards (description, rowcount, lastrowid, rows) is kept here."""

    __slots__ = ("_description", "_lastrowid", "_rowcount", "in_thread")

    def __init__(self, adapt_connection: OneTripConnection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None
        self.in_thread = False  # set for each statement (OneTripDialect.do_execute)

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:  # type: ignore[override]
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        return None  # nothing is open in the SQLite thread

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._one_trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._one_trip(operation, seq_of_parameters, many=True)

    async def _one_trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapt = self._adapt_connection
        connection = self._connection
        async with adapt._execute_mutex:
            try:
                if self.in_thread:
                    outcome = await connection._execute(
                        _waiting, connection._conn, operation, parameters, many
                    )
                else:
                    outcome = await _on_the_loop(connection._conn, operation, parameters, many)
            except BaseException:
                # A failed statement may still have begun a transaction (sqlite3 begins
                # one before the first write, which then breaks a constraint): roll back.
                adapt.in_transaction = True
                raise
        self._description, self._rowcount, self._lastrowid, rows, adapt.in_transaction = outcome
        self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Commit and rollback skip the trip when no statement left a transaction open."""

    __slots__ = ("in_transaction",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.in_transaction = False

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            return super().cursor(server_side=True)
        return OneTripCursor(self)

    def commit(self) -> None:
        if self.in_transaction:
            super().commit()
            self.in_transaction = False

    def rollback(self) -> None:
        if self.in_transaction:
            super().rollback()
            self.in_transaction = False


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # No busy wait inside SQLite, whatever the URL asks: statements run on the loop.
        kw["timeout"] = 0
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = NAME
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))

    def do_execute(self, cursor: Any, statement: Any, parameters: Any, context: Any = None) -> None:
        _route(cursor, context)
        super().do_execute(cursor, statement, parameters, context)

    def do_execute_no_params(self, cursor: Any, statement: Any, context: Any = None) -> None:
        _route(cursor, context)
        super().do_execute_no_params(cursor, statement, context)

    def do_executemany(
        self, cursor: Any, statement: Any, parameters: Any, context: Any = None
    ) -> None:
        _route(cursor, context)
        super().do_executemany(cursor, statement, parameters, context)


def _route(cursor: Any, context: Any) -> None:
    """Tell the cursor where its statement runs (a server-side cursor: in the thread)."""
    if isinstance(cursor, OneTripCursor):
        cursor.in_thread = bool(context is not None and context.execution_options.get(IN_THREAD))


def register() -> None:
    """Make `sqlite+tolk_aiosqlite://` known to SQLAlchemy (idempotent)."""
    registry.register(f"sqlite.{NAME}", __name__, "OneTripDialect")
