"""Schema migrations (Alembic) driven from code: upgrade, and check before start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
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


def is_ahead(current: str | None) -> bool:
    """The database was migrated by a newer chibo (a revision this code does not know)."""
    if current is None:
        return False
    try:
        return ScriptDirectory.from_config(alembic_config("")).get_revision(current) is None
    except CommandError:
        return True


def mismatch(current: str | None) -> str | None:
    """What is wrong with a database at revision `current`, and what to do; None if nothing."""
    head = head_revision()
    if current == head:
        return None
    if is_ahead(current):
        return (
            f"database schema is at {current}, newer than this chibo ({head}): "
            "install the newer chibo, or restore the backup taken before the upgrade"
        )
    return (
        f"database schema is at {current or 'nothing'}, this chibo needs {head}: run chibo migrate"
    )


async def ensure_current(db: Database) -> None:
    problem = mismatch(await current_revision(db))
    if problem is not None:
        raise SchemaOutdated(problem)


def downgrade(url: str, revision: str) -> None:
    """Step the schema back (for operators undoing an upgrade, and for tests)."""
    command.downgrade(alembic_config(url), revision)
