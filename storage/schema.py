"""Schema migrations (Alembic) driven from code: upgrade, and check before start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutdated(Exception):
    """The database is not at the code's migration head."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("")).get_heads()
    return heads[0]


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations (synchronous: Alembic's env runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_current)


async def ensure_current(db: Database) -> None:
    current, head = await current_revision(db), head_revision()
    if current != head:
        raise SchemaOutdated(
            f"database schema is at {current or 'nothing'}, this chibo needs {head}: "
            "run `chibo migrate` first"
        )


def downgrade(url: str, revision: str) -> None:
    """Step the schema back (for operators undoing an upgrade, and for tests)."""
    command.downgrade(alembic_config(url), revision)
