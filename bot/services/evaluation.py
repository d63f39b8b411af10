"""The cell's monthly evaluation record: computed from SQL aggregates, adjusted, confirmed.

`compute` gathers the aggregates (storage/evaluation.py) and the cell facts,
and applies the framework's rules (bot/rules/scoring.py, the reference). A confirmed
month is frozen: answers can no longer change, and every later change needs a
reopening with a logged reason. Every change is in the audit log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.framework import CellMetric, CriterionSource, FrameworkSpec
from bot.rules.scoring import (
    Adjustment,
    CellMonth,
    CriterionAnswers,
    cell_facts_from_answers,
    cell_month,
    consultation_answer_rate,
    documents_lead_hours,
    member_from_fractions,
)
from bot.services import periods
from bot.services import tasks as task_service
from storage import consultations as consultation_store
from storage import documents as document_store
from storage import evaluation as aggregates
from storage import records
from storage.db import chunks
from storage.frameworks import load_spec
from storage.models import AuditEntry, CellEvaluation, CellFact, Member, Period


class RecordFrozen(Exception):
    """The month is confirmed: reopen it (with a reason) before changing it."""


@dataclass(frozen=True)
class MemberScore:
    total: float
    level: str
    four_good: bool  # every group has answers and reaches the threshold


@dataclass
class MonthEvaluation:
    period: Period
    spec: FrameworkSpec
    result: CellMonth
    metrics: dict[str, float | None]
    progress: list[periods.MemberProgress]
    member_scores: dict[int, MemberScore]
    record: CellEvaluation | None

    @property
    def confirmed(self) -> bool:
        return self.record is not None and self.record.confirmed_at is not None


def member_score(
    spec: FrameworkSpec, fractions: Mapping[str, CriterionAnswers]
) -> MemberScore | None:
    """A member's month from their criterion fractions, by the rules of `bot.rules.scoring`."""
    result = member_from_fractions(spec, fractions)
    if result.total is None or result.level is None:
        return None
    return MemberScore(result.total, result.level, result.four_good)


async def facts_of(session: AsyncSession, period_id: int) -> dict[str, str]:
    return (await records.facts_of(session, [period_id])).get(period_id, {})


async def compute(session: AsyncSession, period: Period) -> MonthEvaluation:
    """One month with everything the secretary sees: the result, members' progress, scores."""
    spec = await load_spec(session, period.framework_id)
    month = (await _months(session, [period]))[period.id]
    per_member = await aggregates.member_fractions(session, period.id)
    scores = {
        member_id: score
        for member_id, fractions in per_member.items()
        if (score := member_score(spec, fractions)) is not None
    }
    return MonthEvaluation(
        period,
        spec,
        month.result,
        month.metrics,
        await periods.cell_progress(session, period),
        scores,
        await records.record_of(session, period.id),
    )


def _member_criteria(spec: FrameworkSpec) -> list[str]:
    return [c.key for g in spec.groups for c in g.criteria if c.source is CriterionSource.MEMBER]


async def _audit(
    session: AsyncSession,
    period: Period,
    by: Member | None,
    now: datetime,
    action: str,
    detail: dict[str, Any],
    reason: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            period_id=period.id,
            member_id=by.id if by else None,
            at=now,
            action=action,
            detail=detail,
            reason=reason,
        )
    )


async def _ensure_record(
    session: AsyncSession, evaluation: MonthEvaluation, now: datetime
) -> CellEvaluation:
    record = evaluation.record
    if record is None:
        record = CellEvaluation(period_id=evaluation.period.id, adjustments={})
        session.add(record)
        evaluation.record = record
    _fill(record, evaluation.result, now)
    await session.flush()
    return record


def _fill(record: CellEvaluation, result: CellMonth, now: datetime) -> None:
    record.total, record.level, record.four_good = result.total, result.level, result.four_good
    record.result = _jsonable(dataclasses.asdict(result))
    record.computed_at = now


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    return value


async def set_fact(
    session: AsyncSession, period: Period, by: Member, question_key: str, value: str, now: datetime
) -> None:
    """The secretary's answer to a cell criterion's question (validated against the spec)."""
    if await records.is_confirmed(session, period.id):
        raise RecordFrozen
    question = (await load_spec(session, period.framework_id)).question(question_key)
    if question is None or question.option(value) is None:
        raise ValueError(f"no option {value!r} for {question_key!r}")
    fact = await records.fact_of(session, period.id, question_key)
    if fact is None:
        session.add(
            CellFact(
                period_id=period.id,
                question_key=question_key,
                value=value,
                set_by_id=by.id,
                set_at=now,
            )
        )
    else:
        fact.value, fact.set_by_id, fact.set_at = value, by.id, now
    await _audit(session, period, by, now, "fact", {"question": question_key, "value": value})


async def adjust(
    session: AsyncSession,
    period: Period,
    by: Member,
    criterion_key: str,
    points: float,
    note: str,
    now: datetime,
) -> MonthEvaluation:
    """Override a cell criterion's points with a mandatory note (AdjustmentError if invalid)."""
    evaluation = await compute(session, period)
    if evaluation.confirmed:
        raise RecordFrozen
    record = await _ensure_record(session, evaluation, now)
    adjustments = dict(record.adjustments or {})
    adjustments[criterion_key] = {"points": points, "note": note}
    cell_month(  # validates key, range and note before anything is stored
        evaluation.spec,
        {},
        adjustments={k: Adjustment(v["points"], v["note"]) for k, v in adjustments.items()},
    )
    record.adjustments = adjustments
    await _audit(
        session,
        period,
        by,
        now,
        "adjust",
        {"criterion": criterion_key, "points": points},
        reason=note,
    )
    evaluation = await compute(session, period)
    await _ensure_record(session, evaluation, now)
    return evaluation


async def confirm(
    session: AsyncSession, period: Period, by: Member, now: datetime, notes: str | None = None
) -> MonthEvaluation:
    """Freeze the month as it stands now; answers can no longer change."""
    evaluation = await compute(session, period)
    if evaluation.confirmed:
        raise RecordFrozen
    record = await _ensure_record(session, evaluation, now)
    record.confirmed_at, record.confirmed_by_id = now, by.id
    if notes:
        record.notes = notes
    await _audit(
        session,
        period,
        by,
        now,
        "confirm",
        {"total": record.total, "level": record.level, "four_good": record.four_good},
    )
    return evaluation


async def set_notes(
    session: AsyncSession, period: Period, by: Member, notes: str, now: datetime
) -> None:
    evaluation = await compute(session, period)
    if evaluation.confirmed:
        raise RecordFrozen
    record = await _ensure_record(session, evaluation, now)
    record.notes = notes
    await _audit(session, period, by, now, "notes", {"notes": notes})


async def reopen(
    session: AsyncSession, period: Period, by: Member, reason: str, now: datetime
) -> bool:
    """Unfreeze a confirmed month; the reason is kept in the audit log."""
    record = await records.record_of(session, period.id)
    if record is None or record.confirmed_at is None:
        return False
    record.confirmed_at = record.confirmed_by_id = None
    await _audit(session, period, by, now, "reopen", {}, reason=reason)
    return True


async def compute_many(session: AsyncSession, batch: Sequence[Period]) -> dict[int, CellMonth]:
    """Many cell months at once (a committee's or a province's year)."""
    return {pid: month.result for pid, month in (await _months(session, batch)).items()}


@dataclass(frozen=True)
class _Month:
    result: CellMonth
    metrics: dict[str, float | None]


async def _months(session: AsyncSession, batch: Sequence[Period]) -> dict[int, _Month]:
    months: dict[int, _Month] = {}
    for chunk in chunks(batch):
        months |= await _compute_chunk(session, chunk)
    return months


async def _compute_chunk(session: AsyncSession, batch: Sequence[Period]) -> dict[int, _Month]:
    """The months' results from a fixed number of grouped queries, whatever their number:
    the SQL aggregates, the stored facts and adjustments, and the framework's rules."""
    if not batch:
        return {}
    ids = [p.id for p in batch]
    fractions = await aggregates.cell_fractions(session, ids)
    completion = await aggregates.completion_counts(session, ids)
    attendance = await aggregates.attendance_counts(session, ids)
    unreachable = await aggregates.unreachable_counts(session, {p.cell_id for p in batch})
    first_documents = await document_store.first_sent(session, ids)
    consulted = await consultation_store.answer_rates(session, ids)
    task_figures = await task_service.month_metrics(session, list(batch))
    facts = await records.facts_of(session, ids)
    stored = await records.records_of(session, ids)
    results: dict[int, _Month] = {}
    for period in batch:
        spec = await load_spec(session, period.framework_id)
        seen = attendance.get(period.id)
        must, done = completion.get(period.id, (0, 0))
        metrics: dict[str, float | None] = {
            CellMetric.COMPLETION_RATE: done / must if must else None,
            CellMetric.ATTENDANCE_RATE: seen.present / seen.recorded
            if seen and seen.recorded
            else None,
            CellMetric.UNEXCUSED_ABSENCES: seen.unexcused if seen else None,
            CellMetric.UNREACHABLE_MEMBERS: float(unreachable.get(period.cell_id, 0)),
            CellMetric.DOCUMENTS_LEAD_HOURS: documents_lead_hours(
                period.meeting_at, [first_documents.get(period.id)]
            ),
            CellMetric.CONSULTATION_ANSWER_RATE: consultation_answer_rate(
                consulted.get(period.id, [])
            ),
            CellMetric.TASKS_ON_TIME: task_figures[period.id].on_time,
            CellMetric.RESOLUTION_TASKS: task_figures[period.id].has_tasks,
        }
        record = stored.get(period.id)
        adjustments = {
            key: Adjustment(value["points"], value["note"])
            for key, value in (record.adjustments if record else {}).items()
        }
        month_fractions = fractions.get(period.id, {})
        result = cell_month(
            spec,
            {key: month_fractions.get(key) for key in _member_criteria(spec)},
            cell_facts_from_answers(spec, facts.get(period.id, {})),
            {str(k): v for k, v in metrics.items()},
            adjustments,
        )
        results[period.id] = _Month(result, metrics)
    return results


async def close_months(session: AsyncSession, now: datetime, limit: int = 200) -> int:
    """Store the record of months whose deadline has passed (answers can no longer change),
    so that committee and province views read one row per month instead of every answer."""
    periods = await records.unrecorded_closed_periods(session, now, limit)
    for period_id, result in (await compute_many(session, periods)).items():
        record = CellEvaluation(period_id=period_id, adjustments={})
        _fill(record, result, now)
        session.add(record)
    await session.flush()
    return len(periods)


class MonthFigures(NamedTuple):
    """A month's total, level and "4 tốt" (a named tuple: a province's year has 24,000, and
    it is the (total, level, four_good) that `year_from_months` reads)."""

    total: float
    level: str
    four_good: bool


async def month_figures(
    session: AsyncSession, periods: Sequence[Period], now: datetime
) -> dict[int, MonthFigures]:
    """Total, level and "4 tốt" of many months: stored records of closed months, the rest live."""
    closed = sorted(p.id for p in periods if p.deadline_at <= now)
    stored = {
        pid: MonthFigures(*row) for pid, row in (await records.figures_of(session, closed)).items()
    }
    live = await compute_many(session, [p for p in periods if p.id not in stored])
    stored |= {pid: MonthFigures(r.total, r.level, r.four_good) for pid, r in live.items()}
    return stored
