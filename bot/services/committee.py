"""A committee's view of its cells: who confirmed the month, results side by side, ranking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.scoring import YearResult, year_from_months
from bot.services.evaluation import MonthFigures, month_figures
from storage import orgs, records
from storage.frameworks import load_spec
from storage.models import CellEvaluation, Organization, Period


@dataclass(frozen=True)
class CellLine:
    cell: Organization
    period: Period | None
    record: CellEvaluation | None

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
    lines = [
        CellLine(c, periods.get(c.id), stored.get(periods[c.id].id) if c.id in periods else None)
        for c in cells
    ]
    return CommitteeMonth(year, month, lines)


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
