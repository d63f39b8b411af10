"""Engine and session factory; SQLite gets WAL, a busy timeout, foreign keys and one writer.

SQLite allows one writer at a time. A turn reads, then writes: in a deferred
transaction, the write has to wait for the lock while other turns hold it, and
under load it waits past the busy timeout ("database is locked"). So every
SQLite transaction takes the write lock up front (``BEGIN IMMEDIATE``, the
event recipe of SQLAlchemy's SQLite dialect documentation), the process's own
transactions queue for it in order on an asyncio lock instead of polling the
file lock, and the busy timeout covers the other processes (``chibo worker``).
What still fails on a transient lock or serialization error is run again as a
whole by `Database.retrying` (a rolled-back turn changed nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import sqlite_driver

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
SQLITE_SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005
POSTGRES_POOL_SIZE = 16  # connections kept open (SQLAlchemy's default: 5)
POSTGRES_POOL_OVERFLOW = 4  # more for a burst, closed after use (default: 10)
# PostgreSQL: serialization_failure, deadlock_detected (the transaction may simply run again)
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
TRANSIENT_SQLITE_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # the driver must not emit its own (deferred) BEGIN: `_sqlite_begin` does
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock when the transaction starts, not at its first write."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("postgresql"):
        # JIT compiling costs seconds on the big report queries and gains nothing here
        kwargs.setdefault("connect_args", {"server_settings": {"jit": "off"}})
        # Many chats at once: connections beyond the pool's size are opened for one turn
        # and closed after it (a server process forked, types introspected, statements
        # prepared again each time); keep that many open instead.
        kwargs.setdefault("pool_size", POSTGRES_POOL_SIZE)
        kwargs.setdefault("max_overflow", POSTGRES_POOL_OVERFLOW)
    opened: list[Callable[[], Any]] = []  # SQLite: the URL's connect arguments, once parsed
    if url.startswith("sqlite"):  # connections that make one driver-thread trip a statement
        kwargs.setdefault("async_creator", lambda: opened[0]())
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        args, params = engine.dialect.create_connect_args(engine.url)
        opened.append(sqlite_driver.connector(args, params))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


IN_LIST_CHUNK = 2000  # ids per IN (…) list: far below the drivers' 32,767 bound parameters


def chunks(items: Sequence[T], size: int = IN_LIST_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices small enough for one IN (…) list."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """INSERT … ON CONFLICT for the session's dialect (SQLite and PostgreSQL agree)."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def is_transient(error: BaseException) -> bool:
    """A lock or serialization conflict: the same transaction may succeed if run again."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    if getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in TRANSIENT_SQLITE_CODES


class Database:
    """Owns the engine; hands out one session per unit of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer: asyncio.Lock | None = None
        if self.engine.dialect.name == "sqlite":
            # SQLite has one writer: the process's transactions take turns here, in order
            self._writer = asyncio.Lock()
            # aiosqlite runs every call on the connection's thread, which needs the GIL to
            # take it and hand back the result; while the event loop is busy, each such
            # handoff waits up to the switch interval, and a turn makes about twenty
            sys.setswitchinterval(min(sys.getswitchinterval(), SQLITE_SWITCH_INTERVAL))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on error."""
        turn = self._writer if self._writer is not None else contextlib.nullcontext()
        async with turn, self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def retrying(self, work: Callable[[AsyncSession], Awaitable[T]], attempts: int = 4) -> T:
        """Run `work` in a session; run it again in a fresh one after a transient conflict."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.session() as session:
                    return await work(session)
            except DBAPIError as error:
                if attempt == attempts or not is_transient(error):
                    raise
                log.warning("transient database conflict, attempt %d: %s", attempt, error.orig)
            await asyncio.sleep(random.uniform(0.01, 0.05) * 2**attempt)
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        await self.engine.dispose()
