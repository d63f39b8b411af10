"""/healthz and /metrics: over HTTP from the real process, and each reason for a 503."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.app.health import HealthRoutes, Heartbeat
from bot.app.web import build_app
from storage import notifications as outbox
from storage import schema
from storage.db import Database
from storage.models import Member, Period
from tests.deployment import deployed
from tests.harness import BotProcess
from tests.test_e2e_zalo import free_port
from tests.test_outbox_channels import Outbox, box  # noqa: F401 (fixture)


def client(routes: HealthRoutes) -> httpx.AsyncClient:
    app = build_app(routes.routes())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://chibo")


async def test_a_running_bot_is_healthy_and_counts_what_it_does(tmp_path: Path) -> None:
    port = free_port()
    async with deployed(tmp_path, HTTP_PORT=str(port), SCHEDULER_INTERVAL_SECONDS="1") as d:
        await d.secretary()  # /start CODE: one command answered
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            await asyncio.sleep(1.5)  # a scheduler tick
            health = await http.get("/healthz")
            assert health.status_code == 200, health.text
            report = health.json()
            assert report["status"] == "ok" and report["problems"] == []
            assert report["schema"]["current"] == report["schema"]["needed"]
            assert report["outbox"]["overdue"] == 0
            assert report["scheduler_last_run_age_seconds"] < 5
            metrics = (await http.get("/metrics")).text
            line = 'chibo_updates_total{channel="telegram",kind="command",outcome="ok"}'
            assert any(
                m.startswith(line) and float(m.split()[-1]) >= 1 for m in metrics.split("\n")
            )
            assert 'chibo_turn_seconds_count{channel="telegram"}' in metrics
            assert "chibo_outbox_due 0.0" in metrics

            # someone steps the schema back under the running bot: it says so
            await asyncio.to_thread(schema.downgrade, d.env["DATABASE_URL"], "0007")
            broken = await http.get("/healthz")
            assert broken.status_code == 503
            assert any("chibo migrate" in p for p in broken.json()["problems"])


async def test_a_worker_serves_its_own_health_and_metrics(tmp_path: Path) -> None:
    async with deployed(tmp_path, SCHEDULER_INTERVAL_SECONDS="1") as d:
        port = free_port()
        env = {**d.env, "HTTP_PORT": str(port)}
        async with BotProcess(env, args=("worker",), workdir=tmp_path / "worker") as worker:
            worker.launch()
            await worker.wait_for_log("chibo worker is dispatching", timeout=30)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                await asyncio.sleep(1.5)  # a tick of the worker's own scheduler
                health = await http.get("/healthz")
                assert health.status_code == 200, health.text
                assert health.json()["scheduler_last_run_age_seconds"] < 5
                assert "chibo_outbox_due 0.0" in (await http.get("/metrics")).text
            assert await worker.stop() == 0, worker.log_tail()


async def test_an_outbox_behind_and_a_silent_scheduler_fail_the_check(box: Outbox) -> None:  # noqa: F811
    await box.tick()  # plans and sends the month's opening
    now = box.clock()
    heartbeat = Heartbeat(started=now - timedelta(hours=1), last=now)
    routes = HealthRoutes(box.db, box.clock, heartbeat, tick_every=20)
    async with client(routes) as http:
        assert (await http.get("/healthz")).status_code == 200
        async with box.db.session() as session:
            member = await session.scalar(select(Member.id).order_by(Member.id))
            period = await session.scalar(select(Period.id))
            assert member is not None and period is not None
            late = outbox.row(member, period, "manual_nudge", "x", now - timedelta(hours=1),
                              now + timedelta(days=1))  # fmt: skip
            await outbox.plan(session, [late])
        behind = await http.get("/healthz")
        assert behind.status_code == 503
        assert behind.json()["outbox"]["overdue"] == 1
        assert behind.json()["problems"] == ["outbox behind: 1 notifications overdue"]
        assert "chibo_outbox_overdue 1.0" in (await http.get("/metrics")).text

        heartbeat.last = now - timedelta(minutes=5)  # 3 ticks (20 s) or a minute: late
        silent = (await http.get("/healthz")).json()["problems"]
        assert "scheduler silent for 300 s" in silent


async def test_an_unreachable_database_is_a_503_with_the_reason(tmp_path: Path) -> None:
    missing = Database(f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite3'}")
    routes = HealthRoutes(missing, lambda: datetime.now(UTC), Heartbeat(), tick_every=20)
    async with client(routes) as http:
        answer = await http.get("/healthz")
    await missing.dispose()
    assert answer.status_code == 503
    assert answer.json()["problems"][0].startswith("database unreachable")
