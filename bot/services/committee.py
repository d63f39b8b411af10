"""A committee's view of its cells: who confirmed the month, results side by side, ranking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.framework import CellMetric
from bot.rules.scoring import (
    DOCUMENTS_MIN_HOURS,
    YearResult,
    consultation_answer_rate,
    documents_lead_hours,
    metric_score,
    year_from_months,
)
from bot.services.evaluation import MonthFigures, month_figures
from storage import consultations as consultation_store
from storage import documents as document_store
from storage import orgs, records
from storage import tasks as task_store
from storage.db import chunks
from storage.frameworks import load_spec
from storage.models import CellEvaluation, Organization, Period


@dataclass(frozen=True)
class CycleFigures:
    """A cell month's figures of the monthly cycle, as a committee sees them: counts and
    shares only, never who answered, reported or read.

    ``tasks``: (done on time, carried) of the previous month's resolution's tasks (one per
    member who carries one, cancelled ones left out), as ``tasks_on_time`` counts them;
    ``consultations``: each of the month's consultations as (answers, roll);
    ``documents_in_time``: whether the first document went out early enough before the
    meeting (the ``documents_lead_hours`` rule); None: no such figure this month."""

    tasks: tuple[int, int] | None = None
    consultations: tuple[tuple[int, int], ...] = ()
    documents_in_time: bool | None = None

    @property
    def answer_rate(self) -> float | None:
        """The ``consultation_answer_rate`` criterion's value."""
        return consultation_answer_rate(self.consultations)


@dataclass(frozen=True)
class CellLine:
    cell: Organization
    period: Period | None
    record: CellEvaluation | None
    cycle: CycleFigures = CycleFigures()

    @property
    def confirmed(self) -> bool:
        return self.record is not None and self.record.confirmed_at is not None


@dataclass(frozen=True)
class CommitteeMonth:
    year: int
    month: int
    lines: list[CellLine]

    @property
    def ranked(self) -> list[CellLine]:
        confirmed = [line for line in self.lines if line.confirmed]
        return sorted(confirmed, key=lambda line: -line.record.total if line.record else 0)

    @property
    def four_good(self) -> int:
        return sum(1 for line in self.ranked if line.record is not None and line.record.four_good)

    @property
    def mean_total(self) -> float | None:
        totals = [line.record.total for line in self.ranked if line.record is not None]
        return sum(totals) / len(totals) if totals else None

    @property
    def tasks(self) -> tuple[int, int]:
        """(done on time, carried) over every cell."""
        counted = [line.cycle.tasks for line in self.lines if line.cycle.tasks]
        return sum(done for done, _ in counted), sum(total for _, total in counted)

    @property
    def consultations(self) -> tuple[int, int, int]:
        """(consultations, answers, roll) over every cell (answers at most the roll each)."""
        asked = [pair for line in self.lines for pair in line.cycle.consultations if pair[1] > 0]
        return (
            len(asked),
            sum(min(answered, roll) for answered, roll in asked),
            sum(roll for _, roll in asked),
        )

    @property
    def documents(self) -> tuple[int, int]:
        """(cells whose documents went out in time, cells with documents and a meeting time)."""
        known = [line.cycle.documents_in_time for line in self.lines]
        return sum(1 for k in known if k), sum(1 for k in known if k is not None)


async def committee_month(
    session: AsyncSession, committee_id: int, year: int, month: int
) -> CommitteeMonth:
    """The month's records of every cell below the committee (two queries, whatever the size)."""
    cells = await orgs.cells_under(session, committee_id)
    periods = {
        p.cell_id: p
        for p in await orgs.periods_of_cells(session, [c.id for c in cells], year, month)
    }
    stored = await records.records_of(session, [p.id for p in periods.values()])
    cycle = await cycle_figures(session, list(periods.values()))
    lines = [
        CellLine(c, p, stored.get(p.id), cycle[p.id]) if p else CellLine(c, None, None)
        for c in cells
        for p in [periods.get(c.id)]
    ]
    return CommitteeMonth(year, month, lines)


async def cycle_figures(session: AsyncSession, periods: list[Period]) -> dict[int, CycleFigures]:
    """period → its cycle figures, from a fixed number of grouped queries per chunk of months."""
    figures: dict[int, CycleFigures] = {}
    for batch in chunks(periods):
        ids = [p.id for p in batch]
        previous = await task_store.previous_periods(session, batch)
        carried = await task_store.on_time_counts(session, list(previous.values()))
        consulted = await consultation_store.answer_rates(session, ids)
        first_sent = await document_store.first_sent(session, ids)
        for period in batch:
            total, done = carried.get(previous.get(period.id, -1), (0, 0))
            lead = documents_lead_hours(period.meeting_at, [first_sent.get(period.id)])
            figures[period.id] = CycleFigures(
                (done, total) if total else None,
                tuple(consulted.get(period.id, [])),
                None if lead is None else await _in_time(session, period, lead),
            )
    return figures


async def _in_time(session: AsyncSession, period: Period, lead: float) -> bool:
    """The month's framework's rule for documents (its criterion's ``min_hours``), or the
    default threshold for a framework without the criterion."""
    spec = await load_spec(session, period.framework_id)
    criterion = next(
        (c for _g, c in spec.cell_criteria() if c.metric is CellMetric.DOCUMENTS_LEAD_HOURS), None
    )
    min_hours = criterion.min_hours if criterion is not None else DOCUMENTS_MIN_HOURS
    return metric_score(CellMetric.DOCUMENTS_LEAD_HOURS, lead, min_hours) >= 1


async def latest_month(session: AsyncSession, committee_id: int) -> tuple[int, int] | None:
    cells = await orgs.cells_under(session, committee_id)
    return await orgs.latest_month(session, [c.id for c in cells])


@dataclass(frozen=True)
class CellYear:
    cell: Organization
    result: YearResult
    months: tuple[MonthFigures | None, ...] = (None,) * 12  # January first; None: no record
    confirmed: tuple[bool, ...] = (False,) * 12  # January first: the secretary confirmed it


async def committee_year(
    session: AsyncSession,
    committee_id: int,
    year: int,
    now: datetime,
    cells_below: list[Organization] | None = None,
) -> list[CellYear]:
    """Every cell's year below the committee, best first: closed months are read from their
    stored records, open ones computed. `cells_below`: the committee's cells, when the
    caller has them already (the organisation tree is read whole to find them)."""
    if cells_below is None:
        cells_below = await orgs.cells_under(session, committee_id)
    cells = {c.id: c for c in cells_below}
    rows = await records.year_figures(session, list(cells), year, now)
    live = await month_figures(
        session, await orgs.periods_by_id(session, [r.period_id for r in rows if not r.stored]), now
    )
    by_cell: dict[int, list[records.PeriodFigures]] = {}
    for row in rows:
        by_cell.setdefault(row.cell_id, []).append(row)
    years = []
    for cell_id, cell_rows in by_cell.items():
        spec = await load_spec(session, max(cell_rows, key=lambda r: r.month).framework_id)
        shown: list[MonthFigures | None] = [None] * 12  # also the (total, level, four_good)
        confirmed = [False] * 12
        for row in cell_rows:
            shown[row.month - 1] = MonthFigures(*row.stored) if row.stored else live[row.period_id]
            confirmed[row.month - 1] = row.confirmed
        result = year_from_months(spec, shown)
        years.append(CellYear(cells[cell_id], result, tuple(shown), tuple(confirmed)))
    return sorted(
        years, key=lambda y: (not y.result.recognised, -(y.result.mean_total or 0), y.cell.name)
    )


class Trend:
    """The direction of a cell's last three confirmed months."""

    UP = "up"
    DOWN = "down"
    FLAT = "flat"


TREND_MONTHS = 3
TREND_STEP = 1.0
"""**Default**: a change of less than this many points from the first to the last of the
three months reads as holding steady (→)."""


def trend(item: CellYear) -> str | None:
    """Up, down or flat over the cell's last three confirmed months (the latest total
    against the earliest of them); None with fewer than two confirmed months."""
    totals = [f.total for f, done in zip(item.months, item.confirmed, strict=True) if f and done][
        -TREND_MONTHS:
    ]
    if len(totals) < 2:
        return None
    change = totals[-1] - totals[0]
    if abs(change) < TREND_STEP:
        return Trend.FLAT
    return Trend.UP if change > 0 else Trend.DOWN


def four_good_shares(years: list[CellYear]) -> list[float | None]:
    """Month by month (January first): the share of "4 tốt" among the cells that confirmed
    the month; None for a month no cell has confirmed."""
    shares: list[float | None] = []
    for index in range(12):
        done = [item.months[index] for item in years if item.confirmed[index]]
        figures = [f for f in done if f is not None]
        shares.append(sum(f.four_good for f in figures) / len(figures) if figures else None)
    return shares
