"""Issue 5 benchmark: the monthly evaluation aggregated over a province-sized dataset.

    python -m bench.aggregation --backend postgresql            # 2,000 cells, ~9.6 M answers
    python -m bench.aggregation --backend sqlite                # 200 cells, ~0.96 M answers
    python -m bench.aggregation --backend sqlite --cells 20     # quick check

Setup (timed, not a goal): a fresh database (the PostgreSQL schema dropped and
recreated, or an SQLite file in a temp dir), the migrations, the default framework,
a province committee over ward committees of ``--cells-per-committee`` cells, each
cell with ``--members`` members (one secretary), one period per month of 2026, and
every member's submitted self-assessment of the default framework's member questions
every month (answers chosen deterministically among each question's options, better
options more often), plus attendance and the secretary's cell facts. All of it is
bulk ``INSERT … SELECT`` inside the database, then ``ANALYZE``.

Measured (median of ``--runs`` runs after one warm-up, fresh session per run):
1. one cell's month: ``bot.services.evaluation.compute(session, period)`` for a random period;
2. one committee's year: ``bot.services.committee.committee_year`` once every month is closed
   (the scheduler stores each month's result when its deadline passes:
   ``bot.services.evaluation.close_months``, timed separately as setup);
3. the province's year: the same view from the province committee (every cell).
Then where the time goes (every SQL statement of one run, timed) and the query plans
(``EXPLAIN ANALYZE`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite) of the member
fractions query for one period and of the slowest statements. The product code is
never changed. Exit code 0 whether the goals pass or fail; 1 if the
run itself broke. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    case,
    cast,
    event,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bench.common import reset_postgres, run_bounded
from bot.rules.framework import CellMetric, CriterionSource, FrameworkSpec, QuestionKind
from bot.services.committee import committee_year as product_committee_year
from bot.services.evaluation import close_months, compute
from bot.services.setup import ensure_default_framework
from storage import evaluation as aggregates
from storage import orgs
from storage.db import Database
from storage.frameworks import load_spec
from storage.models import (
    Answer,
    Assessment,
    Attendance,
    Base,
    CellFact,
    Member,
    Organization,
    OrgKind,
    Period,
    Question,
    UTCDateTime,
)
from storage.schema import upgrade

POSTGRES_URL = os.environ.get(
    "CHIBO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
YEAR = 2026
GOALS_MS = {"cell month": 50.0, "committee year": 500.0, "province year": 5000.0}
LOADED_AT = datetime(YEAR, 12, 31, tzinfo=UTC)

# scratch tables of the generator, dropped after loading
scratch = MetaData()
SEQ = Table("bench_seq", scratch, Column("i", Integer, primary_key=True))
QUESTIONS = Table(
    "bench_question",
    scratch,
    Column("question_id", Integer, primary_key=True),
    Column("key", String(24)),
    Column("n", Integer),
    Column("member", Integer),  # 1: a member question, 0: the secretary's
)
CHOICES = Table(
    "bench_choice",
    scratch,
    Column("question_id", Integer, primary_key=True),
    Column("k", Integer, primary_key=True),
    Column("value", String(12)),
)


# --------------------------------------------------------------------------- statements


@dataclass
class Executed:
    statement: str
    parameters: Any
    ms: float

    @property
    def label(self) -> str:
        """The statement in one short line: its verb and main tables."""
        sql = " ".join(self.statement.split())
        tables = re.findall(r"\bFROM (\w+)|\bJOIN (\w+)", sql)
        names = []
        for pair in tables:
            name = pair[0] or pair[1]
            if name not in names:
                names.append(name)
        head = sql.split(" ", 1)[0]
        return f"{head} {'/'.join(names[:6])}"[:90]


@dataclass
class StatementLog:
    """Every SQL statement the engine runs while `recording` is on, with its time."""

    recording: bool = False
    entries: list[Executed] = field(default_factory=list)

    def attach(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine

        @event.listens_for(sync, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: Any):  # type: ignore[no-untyped-def]
            conn.info.setdefault("bench_t0", []).append(time.perf_counter())

        @event.listens_for(sync, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: Any):  # type: ignore[no-untyped-def]
            started = conn.info["bench_t0"].pop()
            if self.recording:
                ms = (time.perf_counter() - started) * 1000
                self.entries.append(Executed(statement, params, ms))

    @contextmanager
    def record(self):  # type: ignore[no-untyped-def]
        self.entries = []
        self.recording = True
        try:
            yield self
        finally:
            self.recording = False


# --------------------------------------------------------------------------- setup


@dataclass(frozen=True)
class Sizes:
    cells: int
    members: int
    per_committee: int
    months: int

    @property
    def committees(self) -> int:
        return math.ceil(self.cells / self.per_committee)


@dataclass
class Dataset:
    province_id: int
    committee_ids: list[int]
    framework_id: int
    counts: dict[str, int]
    setup_s: dict[str, float]
    size: str


def _choices(spec: FrameworkSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Scratch rows: each question's answer values, weighted (better options more often)."""
    questions: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    for group in spec.groups:
        for criterion in group.criteria:
            member = criterion.source is CriterionSource.MEMBER
            for question in criterion.questions:
                if question.kind is QuestionKind.TEXT:
                    values = ["Ý kiến"] if member else []
                elif question.kind is QuestionKind.SCORE:
                    values = [str(v) for v in range((question.max or 0) + 1)]
                else:
                    n = len(question.options)
                    values = [
                        o.value
                        for pos, o in enumerate(question.options)
                        for _ in range((n - pos) ** 2)
                    ]
                if not values:
                    continue
                questions.append(
                    {"question_id": 0, "key": question.key, "n": len(values), "member": int(member)}
                )
                choices.extend(
                    {"key": question.key, "k": k, "value": v} for k, v in enumerate(values)
                )
    return questions, choices


async def _index_definitions(conn: AsyncConnection, table: str) -> tuple[list[str], list[str]]:
    """(drop, create) statements for the secondary indexes and unique constraints of a table."""
    drops: list[str] = []
    creates: list[str] = []
    rows = await conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'u'"
        ),
        {"t": table},
    )
    for name, definition in rows:
        drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        creates.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    rows = await conn.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        ),
        {"t": table},
    )
    for name, definition in rows:
        drops.append(f'DROP INDEX "{name}"')
        creates.append(definition)
    return drops, creates


async def _bulk(conn: AsyncConnection, table: str, statement: Any, postgres: bool) -> None:
    """One INSERT … SELECT; on PostgreSQL the table's secondary indexes are rebuilt after it
    (same names and definitions as the migrations made them), which is much faster."""
    if not postgres:
        await conn.execute(statement)
        return
    drops, creates = await _index_definitions(conn, table)
    for sql in drops:
        await conn.execute(text(sql))
    await conn.execute(statement)
    for sql in creates:
        await conn.execute(text(sql))


def table_of(model: type[Base]) -> Table:
    """A model's table (``__table__`` is typed as any FromClause)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _dt(value: datetime) -> Any:
    return literal(value, UTCDateTime())


async def generate(db: Database, sizes: Sizes) -> Dataset:
    postgres = db.engine.dialect.name == "postgresql"
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    async with db.session() as session:
        framework = await ensure_default_framework(session)
        spec = await load_spec(session, framework.id)
        province = await orgs.create(session, "Đảng bộ tỉnh (bench)", OrgKind.COMMITTEE)
        committees = [
            await orgs.create(session, f"Đảng bộ phường {n + 1:02d}", OrgKind.COMMITTEE, province)
            for n in range(sizes.committees)
        ]
        question_ids = {
            q.key: q.id
            for q in await session.scalars(
                select(Question).where(Question.framework_id == framework.id)
            )
        }
    framework_id, province_id = framework.id, province.id
    committee_ids = [c.id for c in committees]
    questions, choices = _choices(spec)
    for row in questions:
        row["question_id"] = question_ids[row["key"]]
    for row in choices:
        row["question_id"] = question_ids[row.pop("key")]

    async with db.engine.begin() as conn:
        if postgres:
            superuser = await conn.scalar(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            )
            if superuser:  # the rows are consistent by construction: skip the FK triggers
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        await conn.run_sync(scratch.create_all)
        top = max(sizes.per_committee, sizes.members, sizes.months)
        await conn.execute(insert(SEQ), [{"i": i} for i in range(1, top + 1)])
        await conn.execute(insert(QUESTIONS), questions)
        await conn.execute(insert(CHOICES), choices)

        # cells: per committee, i = 1..per_committee (the last committee may have fewer)
        committee_rank = (
            select(
                Organization.id.label("id"),
                (func.row_number().over(order_by=Organization.id) - 1).label("rank"),
            )
            .where(Organization.parent_id == province_id)
            .subquery()
        )
        cell_no = committee_rank.c.rank * sizes.per_committee + SEQ.c.i
        await conn.execute(
            insert(table_of(Organization)).from_select(
                ["parent_id", "kind", "name", "timezone", "locale", "framework_id", "created_at"],
                select(
                    committee_rank.c.id,
                    literal(str(OrgKind.CELL)),
                    literal("Chi bộ số ") + cast(cell_no, String),
                    literal("Asia/Ho_Chi_Minh"),
                    literal("vi"),
                    literal(framework_id),
                    _dt(LOADED_AT),
                )
                .select_from(committee_rank.join(SEQ, SEQ.c.i <= sizes.per_committee))
                .where(cell_no <= sizes.cells)
                .order_by(cell_no),
            )
        )
        cells = select(Organization.id).where(Organization.kind == OrgKind.CELL).subquery()
        timings["organisations"] = time.perf_counter() - t0

        t = time.perf_counter()
        await _bulk(
            conn,
            "members",
            insert(table_of(Member)).from_select(
                ["org_id", "full_name", "role", "status", "reachable", "active", "muted",
                 "joined_at", "created_at"],
                select(
                    cells.c.id,
                    literal("Đảng viên ") + cast(SEQ.c.i, String),
                    case((SEQ.c.i == 1, literal("secretary")), else_=literal("member")),
                    literal("official"),
                    literal(True),
                    literal(True),
                    literal(False),
                    _dt(datetime(YEAR - 1, 1, 1, tzinfo=UTC)),
                    _dt(LOADED_AT),
                )
                .select_from(cells.join(SEQ, SEQ.c.i <= sizes.members))
                .order_by(cells.c.id, SEQ.c.i),
            ),
            postgres,
        )  # fmt: skip
        timings["members"] = time.perf_counter() - t

        t = time.perf_counter()
        for month in range(1, sizes.months + 1):
            meeting = datetime(YEAR, month, 5, 12, 30, tzinfo=UTC)  # 19:30 in Hà Nội
            await conn.execute(
                insert(table_of(Period)).from_select(
                    ["cell_id", "year", "month", "framework_id", "opens_at", "deadline_at",
                     "meeting_at", "thematic", "schedule_version", "planned_version", "state",
                     "created_at"],
                    select(
                        cells.c.id, literal(YEAR), literal(month), literal(framework_id),
                        _dt(meeting - timedelta(days=7)), _dt(meeting), _dt(meeting),
                        literal(month % 3 == 0), literal(1), literal(1), literal("closed"),
                        _dt(meeting - timedelta(days=7)),
                    ).order_by(cells.c.id),
                )
            )  # fmt: skip
        timings["periods"] = time.perf_counter() - t

        t = time.perf_counter()
        await _bulk(
            conn,
            "assessments",
            insert(table_of(Assessment)).from_select(
                ["period_id", "member_id", "state", "awaiting_comment", "started_at",
                 "updated_at", "submitted_at"],
                select(
                    Period.id, Member.id, literal("submitted"), literal(False),
                    Period.opens_at, Period.deadline_at, Period.deadline_at,
                )
                .join(Member, Member.org_id == Period.cell_id)
                .order_by(Period.id, Member.id),
            ),
            postgres,
        )  # fmt: skip
        timings["assessments"] = time.perf_counter() - t

        t = time.perf_counter()
        pick = (Assessment.id * 37 + QUESTIONS.c.question_id * 11 + Assessment.period_id) % (
            QUESTIONS.c.n
        )
        await _bulk(
            conn,
            "answers",
            insert(table_of(Answer)).from_select(
                ["assessment_id", "question_id", "value", "skipped", "answered_at"],
                select(
                    Assessment.id, QUESTIONS.c.question_id, CHOICES.c.value, literal(False),
                    Assessment.submitted_at,
                )
                .select_from(Assessment)
                .join(QUESTIONS, QUESTIONS.c.member == 1)
                .join(
                    CHOICES,
                    (CHOICES.c.question_id == QUESTIONS.c.question_id) & (CHOICES.c.k == pick),
                )
                .order_by(Assessment.id, QUESTIONS.c.question_id),
            ),
            postgres,
        )  # fmt: skip
        timings["answers"] = time.perf_counter() - t

        t = time.perf_counter()
        await _bulk(
            conn,
            "attendance",
            insert(table_of(Attendance)).from_select(
                ["period_id", "member_id", "present", "with_reason", "recorded_at"],
                select(
                    Assessment.period_id, Assessment.member_id, Assessment.id % 10 != 0,
                    Assessment.id % 20 == 0, Assessment.submitted_at,
                ),
            ),
            postgres,
        )  # fmt: skip
        cell_pick = (Period.id * 7 + QUESTIONS.c.question_id) % QUESTIONS.c.n
        await conn.execute(
            insert(table_of(CellFact)).from_select(
                ["period_id", "question_key", "value", "set_at"],
                select(Period.id, QUESTIONS.c.key, CHOICES.c.value, Period.deadline_at)
                .select_from(Period)
                .join(QUESTIONS, QUESTIONS.c.member == 0)
                .join(
                    CHOICES,
                    (CHOICES.c.question_id == QUESTIONS.c.question_id) & (CHOICES.c.k == cell_pick),
                ),
            )
        )
        timings["attendance, facts"] = time.perf_counter() - t
        await conn.run_sync(scratch.drop_all)

    t = time.perf_counter()
    if postgres:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE)"))
        timings["vacuum analyze"] = time.perf_counter() - t
    else:
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
        timings["analyze"] = time.perf_counter() - t

    counts = {}
    async with db.engine.connect() as conn:
        for name in ("organizations", "members", "periods", "assessments", "answers",
                     "attendance", "cell_facts"):  # fmt: skip
            counts[name] = int(await conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
        if postgres:
            size = await conn.scalar(
                text("SELECT pg_size_pretty(pg_database_size(current_database()))")
            )
            detail = await conn.execute(
                text(
                    "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                    "WHERE relname IN ('answers', 'assessments') ORDER BY relname"
                )
            )
            size = f"{size} ({', '.join(f'{n} {s}' for n, s in detail)})"
        else:
            path = Path(db.engine.url.database or "")
            size = f"{path.stat().st_size / 2**20:.0f} MB"
    return Dataset(province_id, committee_ids, framework_id, counts, timings, str(size))


# --------------------------------------------------------------------------- measurements


@dataclass
class Timing:
    name: str
    runs_ms: list[float]
    parts_ms: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)


async def measure(
    name: str, runs: int, once: Callable[[int, dict[str, float]], Awaitable[str]]
) -> Timing:
    """One warm-up, then `runs` timed runs; `once(i, parts)` returns a note, fills parts."""
    timing = Timing(name, [])
    await once(0, {})
    for i in range(1, runs + 1):
        parts: dict[str, float] = {}
        started = time.perf_counter()
        timing.note = await once(i, parts)
        timing.runs_ms.append((time.perf_counter() - started) * 1000)
        for key, value in parts.items():
            timing.parts_ms.setdefault(key, []).append(value)
    return timing


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


async def bench_cell_month(db: Database, samples: list[int], runs: int):  # type: ignore[no-untyped-def]

    async def once(i: int, parts: dict[str, float]) -> str:
        async with db.sessions() as session:
            period = await session.get(Period, samples[i])
            assert period is not None
            started = time.perf_counter()
            evaluation = await compute(session, period)
            parts["compute"] = _ms(started)
            completion = evaluation.metrics[CellMetric.COMPLETION_RATE]
            return (
                f"e.g. period {period.id}: total {evaluation.result.total:.1f}, "
                f"completion {completion:.0%}"
            )

    return await measure("cell month", runs, once)


YEAR_CLOSED_AT = datetime(YEAR + 1, 2, 1, tzinfo=UTC)  # every month of the year is closed


async def committee_year(session: AsyncSession, committee_id: int, parts: dict[str, float]) -> int:
    """The product's committee year (`bot.services.committee.committee_year`): closed months
    are read from the records the scheduler stored when each month closed."""
    started = time.perf_counter()
    years = await product_committee_year(session, committee_id, YEAR, YEAR_CLOSED_AT)
    parts["committee_year"] = _ms(started)
    return len(years)


async def close_all_months(db: Database) -> float:
    """What the scheduler does once a month per cell (`close_months`), for the whole year."""
    started = time.perf_counter()
    while True:
        async with db.session() as session:
            if not await close_months(session, YEAR_CLOSED_AT, limit=2000):
                break
    return time.perf_counter() - started


async def bench_committee_year(db: Database, data: Dataset, rng: random.Random, runs: int):  # type: ignore[no-untyped-def]
    samples = [rng.choice(data.committee_ids) for _ in range(runs + 1)]

    async def once(i: int, parts: dict[str, float]) -> str:
        async with db.sessions() as session:
            n = await committee_year(session, samples[i], parts)
        return f"{n} cells' years per committee"

    return await measure("committee year", runs, once)


async def province_year(session: AsyncSession, province_id: int, parts: dict[str, float]) -> int:
    """The same view one level up: every cell of the province."""
    started = time.perf_counter()
    years = await product_committee_year(session, province_id, YEAR, YEAR_CLOSED_AT)
    parts["committee_year (province)"] = _ms(started)
    return len(years)


async def bench_province_year(db: Database, data: Dataset, runs: int):  # type: ignore[no-untyped-def]
    async def once(i: int, parts: dict[str, float]) -> str:
        async with db.sessions() as session:
            n = await province_year(session, data.province_id, parts)
        return f"{n} cells' years"

    return await measure("province year", runs, once)


# --------------------------------------------------------------------------- plans


async def explain(
    db: Database, statement: str, parameters: Any, settings: Sequence[str] = ()
) -> list[str]:
    """The plan of a statement as the driver ran it (same SQL, same parameters)."""
    postgres = db.engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    async with db.engine.begin() as conn:
        for setting in settings:
            await conn.exec_driver_sql(f"SET LOCAL {setting}")
        result = await conn.exec_driver_sql(prefix + statement, parameters)
        rows = result.all()
    if postgres:
        return [row[0] for row in rows]
    return [f"{'  ' * _depth(rows, row)}{row[-1]}" for row in rows]


def _depth(rows: Sequence[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


INDEXED = re.compile(
    r"(?:Index(?: Only)? Scan(?: Backward)? using (\w+) on (\w+)|Bitmap Index Scan on (\w+)"
    r"|SEARCH (\w+) USING (?:AUTOMATIC )?(?:COVERING |INTEGER PRIMARY KEY|PRIMARY KEY)?\s*"
    r"(?:INDEX (\w+))?)"
)
SEQUENTIAL = re.compile(r"Seq Scan on (\w+)|^\s*SCAN (\w+)")


def index_use(plan: Sequence[str]) -> tuple[list[str], list[str]]:
    """(tables read through an index, tables read whole) from a plan's lines."""
    indexed: list[str] = []
    sequential: list[str] = []
    for n, line in enumerate(plan):
        for m in INDEXED.finditer(line):
            if m.group(1):
                if _has_index_cond(plan, n):
                    indexed.append(f"{m.group(2)} ({m.group(1)})")
                else:  # the whole index in order, no condition: as much as a Seq Scan
                    sequential.append(f"{m.group(2)} (whole index {m.group(1)})")
            elif m.group(3):
                indexed.append(f"({m.group(3)})")
            elif m.group(4):
                how = "automatic index" if "AUTOMATIC" in line else "primary key"
                indexed.append(f"{m.group(4)} ({m.group(5) or how})")
        for m in SEQUENTIAL.finditer(line):
            sequential.append(m.group(1) or m.group(2))
    return indexed, sequential


def _has_index_cond(plan: Sequence[str], node: int) -> bool:
    """Whether a PostgreSQL plan node (line `node`) has an Index Cond among its details."""
    for line in plan[node + 1 :]:
        if "->" in line or not line.startswith(" "):
            return False
        if "Index Cond:" in line:
            return True
    return False


BIG_TABLES = {"answers", "assessments", "attendance", "members", "periods", "cell_facts"}


def print_plan(title: str, plan: Sequence[str]) -> bool:
    """Print a plan and its index summary; True if no big table is read whole."""
    indexed, sequential = index_use(plan)
    whole_big = sorted({t for t in sequential if t.split(" ")[0] in BIG_TABLES})
    print(f"\n  {title}")
    for line in plan:
        print(f"    {line if len(line) <= 300 else line[:300] + ' …'}")
    print(f"    → indexes: {', '.join(dict.fromkeys(indexed)) or 'none'}")
    print(f"    → read whole: {', '.join(dict.fromkeys(sequential)) or 'nothing'}")
    return not whole_big


# --------------------------------------------------------------------------- statements


def _fmt(values: Sequence[float]) -> str:
    median = statistics.median(values)
    return f"median {median:9.1f} ms  (min {min(values):.1f}, max {max(values):.1f})"


def print_timing(t: Timing) -> None:
    print(f"\n{t.name}: {_fmt(t.runs_ms)}  — {t.note}")
    for key, values in t.parts_ms.items():
        print(f"    {key:<16} {_fmt(values)}")


def print_statements(title: str, entries: list[Executed], wall_ms: float, top: int = 10) -> None:
    total = sum(e.ms for e in entries)
    print(
        f"\n  {title}: {wall_ms:.1f} ms = {len(entries)} SQL statements {total:.1f} ms "
        f"(in the driver, rows fetched) + {wall_ms - total:.1f} ms Python (ORM, scoring)"
    )
    for e in sorted(entries, key=lambda e: -e.ms)[:top]:
        print(f"    {e.ms:9.1f} ms  {e.label}")


async def settings(db: Database) -> str:
    async with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            names = ("server_version", "shared_buffers", "work_mem", "jit",
                     "max_parallel_workers_per_gather", "random_page_cost")  # fmt: skip
            values = [f"{n}={await conn.scalar(text(f'SHOW {n}'))}" for n in names]
        else:
            values = [f"sqlite {await conn.scalar(text('SELECT sqlite_version()'))}"]
            for pragma in ("journal_mode", "cache_size", "mmap_size"):
                values.append(f"{pragma}={await conn.scalar(text(f'PRAGMA {pragma}'))}")
    return ", ".join(values)


async def run(args: argparse.Namespace) -> int:
    postgres = args.backend == "postgresql"
    sizes = Sizes(
        cells=args.cells or (2000 if postgres else 200),
        members=args.members,
        per_committee=args.cells_per_committee,
        months=12,
    )
    rng = random.Random(args.seed)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if postgres:
        url = args.postgres_url
        print(f"backend: PostgreSQL {url} (the public schema is dropped)")
        await reset_postgres(url, args.wait)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="chibo-aggregation-")
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
        print(f"backend: SQLite {url}")
    try:
        print(
            f"dataset: {sizes.cells} cells under {sizes.committees} committees "
            f"(≤ {sizes.per_committee} cells each) under one province, {sizes.members} members "
            f"per cell, {sizes.months} months of {YEAR}, every member submits every month"
        )
        started = time.perf_counter()
        await asyncio.to_thread(upgrade, url)
        migrate_s = time.perf_counter() - started
        db = Database(url)
        log = StatementLog()
        log.attach(db.engine)
        try:
            data = await generate(db, sizes)
            setup_s = time.perf_counter() - started
            print(f"\nsetup: {setup_s:.1f} s (migrate {migrate_s:.1f} s, " + ", ".join(
                f"{k} {v:.1f} s" for k, v in data.setup_s.items()) + ")")  # fmt: skip
            print("rows: " + ", ".join(f"{k} {v:,}" for k, v in data.counts.items()))
            print(f"database size: {data.size}")
            print(f"settings: {await settings(db)}")
            async with db.sessions() as session:
                period_ids = list(
                    await session.scalars(select(Period.id).where(Period.year == YEAR))
                )

            print(f"\n=== timings: median of {args.runs} runs after one warm-up ===")
            print(f"load average before: {_load()} (2 cores; other processes skew the figures)")
            cell_samples = [rng.choice(period_ids) for _ in range(args.runs + 1)]
            cell = await bench_cell_month(db, cell_samples, args.runs)
            print_timing(cell)
            closing = await close_all_months(db)
            print(
                f"closing the {len(period_ids):,} months (the scheduler stores each month's "
                f"result once, when it closes; setup, not a goal): {closing:.1f} s"
            )
            committee = await bench_committee_year(db, data, rng, args.runs)
            print_timing(committee)
            province = await bench_province_year(db, data, args.runs)
            print_timing(province)

            print(f"\nload average after: {_load()}")
            print("\n=== where the time goes: every SQL statement of one more run ===")
            sample = rng.choice(period_ids)
            async with db.sessions() as session:
                period = await session.get(Period, sample)
                assert period is not None
                started = time.perf_counter()
                with log.record():
                    await compute(session, period)
                cell_entries = list(log.entries)
            print_statements(f"compute(period {sample})", cell_entries, _ms(started))
            async with db.sessions() as session:
                started = time.perf_counter()
                with log.record():
                    await committee_year(session, data.committee_ids[0], {})
                committee_entries = list(log.entries)
            print_statements(
                f"committee {data.committee_ids[0]}'s year", committee_entries, _ms(started)
            )
            async with db.sessions() as session:
                started = time.perf_counter()
                with log.record():
                    await province_year(session, data.province_id, {})
                province_entries = list(log.entries)
            print_statements("province year", province_entries, _ms(started))

            print("\n=== query plans ===")
            async with db.sessions() as session:
                with log.record():
                    await aggregates.member_fractions(session, sample)
                hot = log.entries[-1]
            statement, parameters = hot.statement, hot.parameters
            hot_ok = print_plan(
                f"member_fractions_query([{sample}]) — the hot query of one month",
                await explain(db, statement, parameters),
            )
            for title, entries in (
                ("compute", cell_entries),
                ("committee year", committee_entries),
                ("province year", province_entries),
            ):
                slowest = max(entries, key=lambda e: e.ms)
                shown = " ".join(slowest.statement.split())
                if len(shown) > 600:
                    shown = shown[:600] + " …"
                print(f"\n  slowest statement of {title} ({slowest.ms:.1f} ms): {shown}")
                print_plan("its plan", await explain(db, slowest.statement, slowest.parameters))

            print("\n=== issue 5 goals ===")
            for timing in (cell, committee, province):
                goal = GOALS_MS[timing.name]
                verdict = "PASS" if timing.median < goal else "FAIL"
                print(
                    f"  {verdict}  {timing.name:<15} {timing.median:9.1f} ms"
                    f"  (goal < {goal:.0f} ms)"
                )
            print(
                "  hot query (member fractions of one month) reads answers and assessments "
                + ("through indexes" if hot_ok else "WHOLE (no index used)")
            )
        finally:
            await db.dispose()
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.aggregation",
        description="Issue 5: time the monthly evaluation over a province-sized dataset.",
    )
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], required=True)
    parser.add_argument(
        "--cells", type=int, default=0, help="cells (default 2000 on PostgreSQL, 200 on SQLite)"
    )
    parser.add_argument("--members", type=int, default=25, help="members per cell (25)")
    parser.add_argument(
        "--cells-per-committee", type=int, default=100, help="cells per ward committee (100)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the warm-up (5)")
    parser.add_argument("--seed", type=int, default=5, help="random cells and committees (5)")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument(
        "--wait",
        type=float,
        default=120,
        help="longest wait for other sessions to leave the PostgreSQL database (120 s)",
    )
    parser.add_argument(
        "--timeout", type=float, default=2400, help="global time limit in seconds (2400)"
    )
    args = parser.parse_args(argv)
    if args.cells < 0 or args.members < 1 or args.cells_per_committee < 1 or args.runs < 1:
        parser.error("sizes and runs must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_bounded(lambda: run(args), args.timeout)


if __name__ == "__main__":
    sys.exit(main())
