"""Shared fixtures: a migrated database on SQLite and on the local PostgreSQL server.

PostgreSQL tests run for real: if the server is unreachable they fail, they are
never skipped. Set CHIBO_TEST_POSTGRES_URL to use another server.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.core.config import load_settings
from bot.services import assessment
from bot.services.runtime import Runtime
from storage import frameworks, schema
from storage.db import Database, create_engine

SERVER_URL = os.environ.get(
    "CHIBO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1"… when the suite runs in parallel
POSTGRES_URL = (
    make_url(SERVER_URL)
    .set(database=f"{make_url(SERVER_URL).database}_{_WORKER}")
    .render_as_string(hide_password=False)
    if _WORKER
    else SERVER_URL
)
"""Each parallel worker has a database of its own on the server (made if missing)."""


def pytest_configure(config: pytest.Config) -> None:
    if POSTGRES_URL != SERVER_URL:
        asyncio.run(create_database(POSTGRES_URL))


async def fetch(url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql` on the database at `url` (SQLite or PostgreSQL), e.g. a process's."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def create_database(url: str) -> None:
    """The database `url` names, on the test server, made if missing."""
    name = make_url(url).database
    engine = create_engine(SERVER_URL)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


BACKENDS = ["sqlite", "postgresql"]


async def reset_postgres(url: str = POSTGRES_URL) -> None:
    """Drop everything in the test database's public schema."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def fresh_database_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'chibo.sqlite3'}"
    await reset_postgres()
    return POSTGRES_URL


@pytest.fixture(autouse=True)
def forget_cached_frameworks() -> None:
    """Framework versions are cached by id per process; ids repeat across test databases."""
    frameworks._specs.clear()
    assessment._questionnaires.clear()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database on each backend."""
    url = await fresh_database_url(request.param, tmp_path)
    await asyncio.to_thread(schema.upgrade, url)
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database, for tests of logic above storage."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'chibo.sqlite3'}"
    await asyncio.to_thread(schema.upgrade, url)
    database = Database(url)
    yield database
    await database.dispose()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(sqlite_db: Database, clock: FakeClock) -> Runtime:
    settings = load_settings(
        database_url=sqlite_db.url, telegram_bot_username="chibo_test_bot", _env_file=None
    )
    return Runtime(settings, sqlite_db, clock=clock, bot_username="chibo_test_bot")
