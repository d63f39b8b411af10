"""aiosqlite connections whose statements cost one trip to the driver thread, not four.

aiosqlite runs every call on the connection's own thread. SQLAlchemy's adapter makes
four such calls per statement (open a cursor, execute, fetch all, close), and each
one waits for the GIL from the busy event loop. Here a cursor runs the whole
statement (execute, fetch, close) in one call and keeps the rows it fetched, which
is what the adapter does with them anyway (it buffers every row).

The connection is handed to SQLAlchemy through `create_async_engine(async_creator=…)`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiosqlite

Description = tuple[tuple[Any, ...], ...] | None


class OneTripCursor:
    """An aiosqlite-like cursor: `execute` runs, fetches and closes in one driver call."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = ()) -> OneTripCursor:
        run = self._connection.sqlite
        done = await self._connection.call(_execute, run, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = done
        return self

    async def executemany(self, sql: str, parameters: Any) -> OneTripCursor:
        run = self._connection.sqlite
        done = await self._connection.call(_execute_many, run, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = done
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


Done = tuple[Description, list[Any], int, int | None]


def _execute(get: Callable[[], sqlite3.Connection], sql: str, parameters: Any) -> Done:
    """On the driver thread: the statement with all its rows, in one call."""
    cursor = get().cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _execute_many(get: Callable[[], sqlite3.Connection], sql: str, parameters: Any) -> Done:
    cursor = get().cursor()
    try:
        cursor.executemany(sql, parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection with one-trip cursors (commit, rollback, close unchanged)."""

    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection (only to be used on the driver thread)."""
        return self._conn

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function(*args)` on the driver thread."""
        return await self._execute(function, *args)

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)


def connector(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Callable[[], Any]:
    """An `async_creator` opening `sqlite3.connect(*args, **kwargs)` as a OneTripConnection."""

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(lambda: sqlite3.connect(*args, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy's dialect does: never block exit
        await connection
        return connection

    return connect
