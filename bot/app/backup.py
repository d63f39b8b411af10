"""`chibo backup FILE` and `chibo restore FILE`: a copy of the whole database, and back.

SQLite goes through its online backup API (a consistent copy while the bot runs and
writes); PostgreSQL through pg_dump's custom format and pg_restore. A backup restores
into the same kind of store it came from.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """Said to the administrator in one line."""


def backup(database_url: str, target: Path) -> str:
    """Copy the database to `target`; a line saying what was written."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"no database at {source}")
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy)  # page by page; writers may go on meanwhile
        return f"backed up {source} to {target} ({target.stat().st_size} bytes, SQLite)"
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(url)])
    return f"backed up {url.database} to {target} ({target.stat().st_size} bytes, pg_dump)"


def restore(database_url: str, source: Path, *, force: bool = False) -> str:
    """Put the backup `source` in place of the database (refused over data unless `force`)."""
    url = make_url(database_url)
    head = source.read_bytes()[:16] if source.is_file() else b""
    if url.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup")
        target = _sqlite_path(url)
        if target.exists() and not force:
            raise BackupError(f"{target} exists: stop the bot and add --force to replace it")
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)  # the old database's journal must not replay
        shutil.copyfile(source, target)
        return f"restored {source} to {target}"
    if not head.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{source} is not a pg_dump backup (custom format)")
    command = ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(url)}"]
    if force:
        command += ["--clean", "--if-exists"]
    elif _pg_tables(url):
        raise BackupError(f"{url.database} has data: stop the bot and add --force to replace it")
    _run([*command, str(source)])
    return f"restored {source} into {url.database}"


def _sqlite_path(url: URL) -> Path:
    return Path(url.database or "").resolve()


def _libpq(url: URL) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tables(url: URL) -> int:
    """How many tables the database's public schema holds (psql, beside pg_restore)."""
    sql = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    return int(_run(["psql", "--no-psqlrc", "--tuples-only", "--no-align", "-c", sql, _libpq(url)]))


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=3600)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed (the PostgreSQL client tools)") from exc
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["failed"]
        said = next((line for line in lines if "error" in line.lower()), lines[-1])
        raise BackupError(f"{command[0]}: {said}")
    return done.stdout
