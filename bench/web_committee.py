"""Issue 13: how long the web view's committee page takes on the province dataset.

The dataset of `bench.aggregation` (a province over ward committees of 100 cells, one
closed month per cell and month of 2026, the months' records stored as the scheduler
stores them), a committee officer signed in to the web view, then GET /web/committee
through the ASGI app (httpx, no network): the whole page, heat map included, for a
ward (100 cells) and for the province (every cell; goal < 500 ms at 2,000 cells on
PostgreSQL). A figure, not a test: see bench/README.md.

    .venv/bin/python -m bench.web_committee --backend sqlite --cells 200
    .venv/bin/python -m bench.web_committee --backend postgresql   # 2,000 cells
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.aggregation import (
    POSTGRES_URL,
    YEAR,
    YEAR_CLOSED_AT,
    Sizes,
    close_all_months,
    generate,
)
from bench.common import reset_postgres, run_bounded
from bot.app.web import build_app
from bot.core.config import load_settings
from bot.services import committee, web_access
from bot.services.runtime import Runtime
from bot.web import WebView
from bot.web.auth import COOKIE
from storage.db import Database
from storage.models import Member, Role
from storage.schema import upgrade

BASE = "http://bench.local"


async def officer_session(db: Database, committee_id: int) -> str:
    """A committee officer of `committee_id`, signed in: the session cookie's token."""
    async with db.session() as session:
        member = Member(
            org_id=committee_id, full_name="Cán bộ", role=Role.COMMITTEE_OFFICER, locale="vi"
        )
        session.add(member)
        await session.flush()
        await session.refresh(member, ["org"])
        link = await web_access.new_link(session, member, YEAR_CLOSED_AT, BASE)
        assert isinstance(link, web_access.SignInLink)
        signed = await web_access.redeem(session, link.url.rsplit("/", 1)[1], YEAR_CLOSED_AT)
        assert signed is not None
        return signed.token


async def time_page(db: Database, client: httpx.AsyncClient, committee_id: int, runs: int) -> None:
    token = await officer_session(db, committee_id)
    client.cookies.set(COOKIE, token, path="/web")
    pages, services = [], []
    for run in range(runs + 1):  # the first is a warm-up
        started = time.perf_counter()
        answer = await client.get(f"/web/committee?year={YEAR}")
        page_ms = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200, answer.text[:500]
        async with db.sessions() as session:
            started = time.perf_counter()
            years = await committee.committee_year(session, committee_id, YEAR, YEAR_CLOSED_AT)
            service_ms = (time.perf_counter() - started) * 1000
        if run:
            pages.append(page_ms)
            services.append(service_ms)
    squares = answer.text.count("<rect")
    print(
        f"committee {committee_id}: {len(years)} cells, {len(answer.content):,} bytes, "
        f"{squares:,} squares; page median {statistics.median(pages):.0f} ms "
        f"(runs {', '.join(f'{v:.0f}' for v in pages)}), of which committee_year "
        f"≈ {statistics.median(services):.0f} ms"
    )


async def run(args: argparse.Namespace) -> int:
    postgres = args.backend == "postgresql"
    sizes = Sizes(
        cells=args.cells or (2000 if postgres else 200),
        members=args.members,
        per_committee=args.cells_per_committee,
        months=12,
    )
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if postgres:
        url = args.postgres_url
        print(f"backend: PostgreSQL {url} (the public schema is dropped)")
        await reset_postgres(url, args.wait)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="chibo-web-")
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
        print(f"backend: SQLite {url}")
    try:
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        try:
            started = time.perf_counter()
            data = await generate(db, sizes)
            closing = await close_all_months(db)
            print(
                f"setup: {time.perf_counter() - started:.1f} s ({sizes.cells} cells, "
                f"{sizes.members} members each; closing the months {closing:.1f} s)"
            )
            settings = load_settings(database_url=url, public_base_url=BASE, _env_file=None)
            runtime = Runtime(settings, db, clock=lambda: YEAR_CLOSED_AT)
            app = build_app(WebView(runtime).routes())
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                await time_page(db, client, data.committee_ids[0], args.runs)
                await time_page(db, client, data.province_id, args.runs)
        finally:
            await db.dispose()
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.web_committee",
        description="Issue 13: time the web view's committee page over a province dataset.",
    )
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], required=True)
    parser.add_argument("--cells", type=int, default=0, help="cells (2000 PostgreSQL, 200 SQLite)")
    parser.add_argument("--members", type=int, default=5, help="members per cell (5)")
    parser.add_argument("--cells-per-committee", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the warm-up (5)")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--wait", type=float, default=120)
    parser.add_argument("--timeout", type=float, default=2400)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_bounded(lambda: run(args), args.timeout)


if __name__ == "__main__":
    sys.exit(main())
