"""GET /healthz and GET /metrics on the process's HTTP server.

/healthz answers 200 when the database answers, its schema is current, the outbox
tick ran recently and nothing due waits too long; else 503 with the reasons. Both
carry the outbox backlog. /metrics is Prometheus' text format (prometheus-client).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage import notifications as outbox
from storage import schema
from storage.db import Database

log = logging.getLogger(__name__)
OUTBOX_LAG = timedelta(minutes=10)  # a due notification waiting longer: the outbox is behind

BACKLOG = Gauge("chibo_outbox_due", "Notifications due now and not sent yet.")
OVERDUE = Gauge("chibo_outbox_overdue", "Notifications due for over ten minutes, not sent.")
UNKNOWN = Gauge("chibo_outbox_unknown", "Notifications whose sending process died mid-send.")
LAG = Gauge("chibo_outbox_lag_seconds", "Age of the oldest due notification not sent yet.")
TICK_AGE = Gauge("chibo_scheduler_last_run_age_seconds", "Seconds since the outbox tick ran.")


@dataclass
class Heartbeat:
    """When the scheduler last finished a tick (set by it, read here)."""

    last: datetime | None = None
    started: datetime | None = None  # the process's start: a first tick is not late yet


class HealthRoutes:
    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime],
        heartbeat: Heartbeat,
        tick_every: float,
    ) -> None:
        self.database, self.clock, self.heartbeat = database, clock, heartbeat
        self.allowed_silence = timedelta(seconds=max(60.0, 3 * tick_every))
        self.needed = schema.head_revision()

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz, methods=["GET"], name="healthz"),
            Route("/metrics", self.metrics, methods=["GET"], name="metrics"),
        ]

    async def healthz(self, request: Request) -> Response:
        report, problems = await self._check()
        report["status"] = "fail" if problems else "ok"
        report["problems"] = problems
        status = HTTPStatus.SERVICE_UNAVAILABLE if problems else HTTPStatus.OK
        return JSONResponse(report, status_code=status, headers={"Cache-Control": "no-store"})

    async def metrics(self, request: Request) -> Response:
        await self._check()  # refreshes the outbox gauges
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def _check(self) -> tuple[dict[str, Any], list[str]]:
        now = self.clock()
        report: dict[str, Any] = {}
        problems: list[str] = []
        try:
            current, needed = await schema.current_revision(self.database), self.needed
            async with self.database.session() as session:
                backlog = await outbox.backlog(session, now, OUTBOX_LAG)
        except Exception as exc:  # the database is what is wrong
            log.warning("health check: database unreachable", exc_info=True)
            return {"database": "unreachable"}, [f"database unreachable: {type(exc).__name__}"]
        report["database"] = "ok"
        report["schema"] = {"current": current, "needed": needed}
        if (problem := schema.mismatch(current)) is not None:
            problems.append(problem)
        lag = (now - backlog.oldest_due_at).total_seconds() if backlog.oldest_due_at else 0.0
        report["outbox"] = {
            "due": backlog.due,
            "overdue": backlog.overdue,
            "unknown": backlog.unknown,
            "lag_seconds": round(lag, 1),
        }
        BACKLOG.set(backlog.due)
        OVERDUE.set(backlog.overdue)
        UNKNOWN.set(backlog.unknown)
        LAG.set(lag)
        if backlog.overdue:
            problems.append(f"outbox behind: {backlog.overdue} notifications overdue")
        since = self.heartbeat.last or self.heartbeat.started
        age = (now - since).total_seconds() if since else None
        report["scheduler_last_run_age_seconds"] = None if age is None else round(age, 1)
        if age is not None:
            TICK_AGE.set(age)
            if age > self.allowed_silence.total_seconds():
                problems.append(f"scheduler silent for {age:.0f} s")
        return report, problems
