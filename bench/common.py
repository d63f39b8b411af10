"""What every benchmark needs: a shared error, a PostgreSQL reset, /proc readings, a bound."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from storage.db import create_engine


class BenchError(Exception):
    """The run cannot go on: setup failed, a process died, the database is busy."""


async def reset_postgres(url: str, wait: float = 60) -> None:
    """``DROP SCHEMA public CASCADE; CREATE SCHEMA public``, once nobody else is connected."""
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + wait
        while True:
            async with engine.connect() as connection:
                others = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            if not others:
                break
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{others} other session(s) use the PostgreSQL database (the test suite?); "
                    "it is shared: run one thing at a time"
                )
            print(f"  waiting: {others} other session(s) on the PostgreSQL database", flush=True)
            await asyncio.sleep(2)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def proc_status_kb(pid: int, key: str) -> int:
    """A ``kB`` figure of /proc/PID/status (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_bounded(
    run: Callable[[], Awaitable[int]], timeout: float, cleanup: Callable[[], None] | None = None
) -> int:
    """Run a benchmark within `timeout` seconds; its exit code, or 1 if it broke."""

    async def bounded() -> int:
        async with asyncio.timeout(timeout):
            return await run()

    try:
        return asyncio.run(bounded())
    except TimeoutError:
        print(f"\nbenchmark stopped: over the {timeout:.0f} s time limit", file=sys.stderr)
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nbenchmark interrupted", file=sys.stderr)
    finally:
        if cleanup is not None:
            cleanup()
    return 1
