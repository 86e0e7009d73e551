"""The statements on every message's way, with little of SQLAlchemy around them.

SQLAlchemy spends 0.2-0.3 ms of CPU on each statement it runs on asyncpg (a Connection
and its execution options, an execution context, a greenlet, result objects), against
0.02-0.07 ms for asyncpg's own work: two fifths of the gateway's CPU per message on the
scaled profile (py-spy, 2026-12-07). On SQLite a read costs 0.15 ms through it against
0.06 ms without. So the dozen statements every message runs are still written once, with
SQLAlchemy, and compiled once per dialect, and then:

- on PostgreSQL they run on the asyncpg connection of a connection taken from the
  engine's own pool (the same pool, the same check at checkout, bot/db_errors.py), and
  asyncpg's errors become the domain's here;
- on SQLite they run on the sqlite3 connection of a pooled connection, on the event loop
  and waiting out a lock as bot/sqlite_driver.py runs every statement; a write's commit
  (or rollback) goes to the SQLite thread, as SQLAlchemy's does.

On PostgreSQL only statements whose columns need no conversion in Python are taken:
asyncpg returns integers, strings, booleans, floats and naive timestamps as they are; a
statement with a column SQLAlchemy would convert is refused when first compiled, not run
wrongly. On SQLite the columns go through SQLAlchemy's conversions (a timestamp from its
text), and parameters do everywhere.

Rows answer as SQLAlchemy's do: `row.id`, `row[0]`, `Said(*row)`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol, TypeVar

import asyncpg
from sqlalchemy import Boolean, DateTime, Float, Integer, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeEngine
from sqlalchemy.util import greenlet_spawn

from bot.db_errors import translated_asyncpg, translated_sqlite3
from bot.errors import StoreUnavailable
from bot.sqlite_driver import run_on_the_loop

T = TypeVar("T")


class Row(asyncpg.Record):
    """An asyncpg row that also answers `row.column`, as SQLAlchemy's rows do."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order of $1, $2, ...
    defaults: Mapping[str, Any]  # values the statement carries (literals, IN lists)
    # SQLAlchemy's own conversions of parameters, where a type has one (an ARRAY's: to a list)
    converting: Mapping[str, Callable[[Any], Any]]
    # SQLite: a row from what sqlite3 returns, its columns converted as SQLAlchemy does
    # (a timestamp from its text). On PostgreSQL asyncpg makes the rows.
    row: Callable[[Sequence[Any]], Any] | None = None

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = [params[name] if name in params else self.defaults[name] for name in self.names]
        if self.converting:
            for at, name in enumerate(self.names):
                if name in self.converting and values[at] is not None:
                    values[at] = self.converting[name](values[at])
        return values


class Prepared:
    """A statement built once, with named parameters.

    `columns`: for an INSERT, the columns its parameters give (SQLAlchemy compiles an
    INSERT for the keys it is given)."""

    def __init__(self, statement: Executable, *, columns: Iterable[str] | None = None) -> None:
        self.statement = statement
        self._columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self._columns)
        row = None
        if dialect.name == "postgresql":
            for column in compiled._result_columns:
                if not _as_asyncpg_returns_it(column[3]):
                    raise TypeError(
                        f"column {column[0]!r} needs converting; run it through SQLAlchemy"
                    )
        else:
            row = _sqlite_row(compiled._result_columns, dialect)
        # The IN lists of literals (status IN ('received', 'failed')) are expanded here,
        # once; their length never changes. Parameters without a value yet stand in as None.
        placeholders = {name: None for name, bind in compiled.binds.items() if bind.required}
        expanded = compiled.construct_expanded_state(placeholders, escape_names=False)
        names = tuple(expanded.positiontup or ())
        defaults = {
            name: value for name, value in expanded.parameters.items() if name not in placeholders
        }
        converting = {
            name: processor
            for name, processor in compiled._bind_processors.items()
            if processor is not None and name in names
        }
        return _Compiled(expanded.statement, names, defaults, converting, row)


def _sqlite_row(columns: Sequence[Any], dialect: Dialect) -> Callable[[Sequence[Any]], Any]:
    shape = namedtuple("Row", [column[0] for column in columns], rename=True)
    convert = [
        column[3].dialect_impl(dialect).result_processor(dialect, None) for column in columns
    ]
    if not any(convert):
        return shape._make
    return lambda values: shape._make(
        value if to is None else to(value) for to, value in zip(convert, values, strict=True)
    )


def _as_asyncpg_returns_it(kind: TypeEngine) -> bool:
    if isinstance(kind, Float):
        return not kind.asdecimal  # a double precision column comes as a float
    if isinstance(kind, DateTime):
        return not kind.timezone  # we store naive UTC (bot/db.utcnow)
    return isinstance(kind, (Integer, String, Boolean))


class Statements(Protocol):
    """Runs prepared statements on one connection."""

    async def rows(self, statement: Prepared, params: Mapping[str, Any] = ...) -> Sequence[Any]: ...

    async def first(self, statement: Prepared, params: Mapping[str, Any] = ...) -> Any | None: ...

    async def scalar(self, statement: Prepared, params: Mapping[str, Any] = ...) -> Any: ...


class _Rows:
    """`first` and `scalar` from `rows`, for the runners that make their own rows."""

    async def rows(self, statement: Prepared, params: Mapping[str, Any] = {}) -> Sequence[Any]:
        raise NotImplementedError

    async def first(self, statement: Prepared, params: Mapping[str, Any] = {}) -> Any | None:
        found = await self.rows(statement, params)
        return found[0] if found else None

    async def scalar(self, statement: Prepared, params: Mapping[str, Any] = {}) -> Any:
        row = await self.first(statement, params)
        return None if row is None else row[0]


class _OnAsyncpg(_Rows):
    def __init__(self, connection: asyncpg.Connection, dialect: Dialect) -> None:
        self._connection = connection
        self._dialect = dialect

    async def rows(self, statement: Prepared, params: Mapping[str, Any] = {}) -> list[Row]:
        compiled = statement.compiled_for(self._dialect)
        fetch = partial(
            self._connection.fetch, compiled.sql, *compiled.arguments(params), record_class=Row
        )
        return await _translating(fetch, self._connection)


class _OnSqliteLoop(_Rows):
    def __init__(self, connection: Any, dialect: Dialect) -> None:
        self._connection = connection  # SQLAlchemy's adapted connection (bot/sqlite_driver.py)
        self._dialect = dialect

    async def rows(self, statement: Prepared, params: Mapping[str, Any] = {}) -> list[Any]:
        compiled = statement.compiled_for(self._dialect)
        assert compiled.row is not None
        ran = run_on_the_loop(self._connection, compiled.sql, compiled.arguments(params))
        return [compiled.row(values) for values in await _sqlite3_translating(ran)]


@asynccontextmanager
async def statements(
    engine: AsyncEngine, *, writes: Literal["none", "one", "several"] = "none"
) -> AsyncIterator[Statements]:
    """A connection to run prepared statements on.

    `writes`: "none" for reads, "one" for a single write (atomic on its own), "several"
    for writes that must hold together (a transaction). As bot.db.reading, one_statement
    and engine.begin: on PostgreSQL reads and a single write run with no transaction
    around them."""
    on = _on_asyncpg if engine.dialect.name == "postgresql" else _on_sqlite
    async with _pooled(engine) as pooled:
        async with on(pooled, engine.dialect, writes) as run:
            yield run


@asynccontextmanager
async def _pooled(engine: AsyncEngine) -> AsyncIterator[PoolProxiedConnection]:
    """A connection from the engine's pool, given back afterwards."""
    try:
        pooled = await engine.raw_connection()
    except StoreUnavailable:
        raise
    except Exception as error:  # no connection to be had: refused, the pool exhausted
        raise StoreUnavailable(f"no database connection: {error}") from error
    try:
        yield pooled
    finally:
        # The pool may close the connection (one over its size): that awaits, in a greenlet.
        await greenlet_spawn(pooled.close)


@asynccontextmanager
async def _on_asyncpg(
    pooled: PoolProxiedConnection, dialect: Dialect, writes: str
) -> AsyncIterator[Statements]:
    connection = pooled.driver_connection
    try:
        if writes == "several":
            transaction = connection.transaction()
            await _translating(transaction.start, connection)
            try:
                yield _OnAsyncpg(connection, dialect)
            except BaseException:
                # For an error already on its way, which the caller is told of. A connection
                # that is gone took its transaction with it; one whose rollback fails is
                # still in it, and is not given out again (below).
                if not connection.is_closed():
                    with suppress(Exception):
                        await transaction.rollback()
                raise
            await _translating(transaction.commit, connection)
        else:
            yield _OnAsyncpg(connection, dialect)
    except BaseException as error:
        if not isinstance(error, Exception) or connection.is_in_transaction():
            # Cancelled in the middle of a statement, or a rollback that failed: the pool
            # must not hand this connection out again.
            pooled.invalidate()
        raise


@asynccontextmanager
async def _on_sqlite(
    pooled: PoolProxiedConnection, dialect: Dialect, writes: str
) -> AsyncIterator[Statements]:
    # sqlite3 begins a transaction before the first write and holds it until the commit,
    # so "one" and "several" are alike here. Commit and rollback go to the SQLite thread
    # (a commit may checkpoint), and only when a write began a transaction.
    connection = pooled.dbapi_connection
    try:
        yield _OnSqliteLoop(connection, dialect)
    except BaseException:
        if connection.in_transaction:
            # As on PostgreSQL, the error on its way is the one to tell; a rollback that
            # fails leaves the transaction open, for the pool's check-in to end.
            with suppress(Exception):
                await greenlet_spawn(connection.rollback)
        raise
    if connection.in_transaction:
        await _sqlite3_translating(greenlet_spawn(connection.commit))


async def _sqlite3_translating(step: Awaitable[T]) -> T:
    try:
        return await step
    except Exception as error:
        raise translated_sqlite3(error) or error from error


async def _translating(step: Callable[[], Awaitable[T]], connection: asyncpg.Connection) -> T:
    """asyncpg's `step`, its errors translated as SQLAlchemy's are (bot/db_errors.py).
    A callable: asyncpg raises at the call already when the connection is closed."""
    try:
        return await step()
    except Exception as error:
        raise translated_asyncpg(error, closed=connection.is_closed()) or error from error
