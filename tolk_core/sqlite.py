"""How every process of ours opens the SQLite file they share (the default database)."""

from __future__ import annotations


def set_pragmas(dbapi_connection, _record=None) -> None:
    """On every new connection (an SQLAlchemy "connect" listener).

    WAL lets the console read while a message is written; with WAL, synchronous=NORMAL
    survives a crash of the process (not of the machine) and saves an fsync per commit.
    Foreign keys make erasing a conversation erase its messages; secure_delete overwrites
    what is deleted, so an erased customer's text does not stay readable in free pages.
    The busy timeout lets the gateway and the action server write the same file.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()
