"""The monthly record: SQL aggregation equals the scoring rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.rules.framework import CellMetric, CriterionSource, QuestionKind, load_framework
from bot.rules.scoring import AdjustmentError, cell_month, collect_member_fractions, member_result
from bot.services import evaluation
from bot.services.periods import EXCUSED, Progress, open_period
from bot.services.setup import create_cell
from storage import orgs, records
from storage.db import Database
from storage.frameworks import load_spec
from storage.models import (
    Answer,
    Assessment,
    AuditEntry,
    Excusal,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Period,
    Question,
    Role,
)

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


async def month_with_answers(
    db: Database, members: int, seed: int
) -> tuple[int, dict[int, dict[str, str | None]]]:
    """A cell, a period and `members` submitted assessments with random answers."""
    rng = random.Random(seed)
    async with db.session() as session:
        committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        cell = await create_cell(
            session, "Chi bộ khu Biểu Nghi", committee, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        secretary = Member(org_id=cell.id, full_name="Bí thư", role=Role.SECRETARY)
        session.add(secretary)
        await session.flush()
        period = (await open_period(session, cell, secretary, NOW, NOW + timedelta(days=5))).period
        spec = await load_spec(session, period.framework_id)
        questions = {
            q.key: q
            for q in await session.scalars(
                select(Question).where(Question.framework_id == period.framework_id)
            )
        }
        given: dict[int, dict[str, str | None]] = {}
        for n in range(members):
            member = Member(org_id=cell.id, full_name=f"Đảng viên {n:02d}")
            session.add(member)
            await session.flush()
            assessment = Assessment(
                period_id=period.id,
                member_id=member.id,
                state="submitted",
                started_at=NOW,
                updated_at=NOW,
                submitted_at=NOW,
            )
            session.add(assessment)
            await session.flush()
            answers: dict[str, str | None] = {}
            for group in spec.groups:
                for criterion in group.criteria:
                    if criterion.source is not CriterionSource.MEMBER:
                        continue
                    for q in criterion.questions:
                        if q.optional and rng.random() < 0.3:
                            answers[q.key] = None
                        elif q.kind is QuestionKind.TEXT:
                            answers[q.key] = "Ý kiến 🙏"
                        else:
                            answers[q.key] = rng.choice(q.options).value
                        session.add(
                            Answer(
                                assessment_id=assessment.id,
                                question_id=questions[q.key].id,
                                value=answers[q.key],
                                skipped=answers[q.key] is None,
                                answered_at=NOW,
                            )
                        )
            given[member.id] = answers
        # an unsubmitted draft never counts
        draft_member = Member(org_id=cell.id, full_name="Chưa gửi")
        session.add(draft_member)
        await session.flush()
        session.add(
            Assessment(
                period_id=period.id,
                member_id=draft_member.id,
                state="draft",
                started_at=NOW,
                updated_at=NOW,
            )
        )
        return period.id, given


async def test_sql_aggregation_equals_the_scoring_rules(db: Database) -> None:
    period_id, given = await month_with_answers(db, members=12, seed=7)
    async with db.session() as session:
        period = await session.get(Period, period_id)
        assert period is not None
        computed = await evaluation.compute(session, period)
    spec = computed.spec
    results = {m: member_result(spec, answers) for m, answers in given.items()}
    oracle = cell_month(
        spec,
        collect_member_fractions(results.values()),
        {},
        {str(k): v for k, v in computed.metrics.items()},
    )
    assert computed.result.total == pytest.approx(oracle.total, abs=1e-9)
    for mine, expected in zip(computed.result.criteria, oracle.criteria, strict=True):
        assert mine.key == expected.key
        assert mine.points == pytest.approx(expected.points, abs=1e-9), mine.key
    for member_id, result in results.items():
        assert computed.member_scores[member_id].total == pytest.approx(result.total, abs=1e-9)
        assert computed.member_scores[member_id].level == result.level
    assert computed.metrics[CellMetric.COMPLETION_RATE] == pytest.approx(12 / 14)


async def test_confirm_freezes_adjust_needs_a_note_and_everything_is_audited(db: Database) -> None:
    period_id, _given = await month_with_answers(db, members=3, seed=1)
    async with db.session() as session:
        period = await session.get(Period, period_id)
        secretary = await session.scalar(select(Member).where(Member.role == Role.SECRETARY))
        assert period is not None and secretary is not None
        with pytest.raises(AdjustmentError):
            await evaluation.adjust(session, period, secretary, "g2_on_schedule", 3, "", NOW)
        with pytest.raises(AdjustmentError):
            await evaluation.adjust(session, period, secretary, "g2_on_schedule", 99, "x", NOW)
        adjusted = await evaluation.adjust(
            session,
            period,
            secretary,
            "g2_on_schedule",
            4,
            "Họp đúng ngày 5, biên bản kèm theo",
            NOW,
        )
        criterion = next(c for c in adjusted.result.criteria if c.key == "g2_on_schedule")
        assert criterion.points == 4 and criterion.computed_points == 0
        await evaluation.set_fact(session, period, secretary, spec_question(adjusted), "yes", NOW)
        confirmed = await evaluation.confirm(session, period, secretary, NOW, "Biên bản số 12")
        assert confirmed.confirmed
        with pytest.raises(evaluation.RecordFrozen):
            await evaluation.adjust(session, period, secretary, "g2_on_schedule", 2, "đổi", NOW)
        assert await evaluation.reopen(session, period, secretary, "Nhập nhầm điểm danh", NOW)
        actions = [
            e.action for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
        assert actions == ["adjust", "fact", "confirm", "reopen"]
        reasons = [
            e.reason for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
        assert (
            reasons[0] == "Họp đúng ngày 5, biên bản kèm theo"
            and reasons[3] == "Nhập nhầm điểm danh"
        )


def spec_question(computed: evaluation.MonthEvaluation) -> str:
    """The key of the first yes/no question of a cell criterion without a metric."""
    for group in computed.spec.groups:
        for criterion in group.criteria:
            if criterion.source is CriterionSource.CELL and criterion.questions:
                return criterion.questions[0].key
    raise AssertionError("no cell question")


async def test_exempt_and_unreachable_feed_the_metrics(db: Database) -> None:
    period_id, _ = await month_with_answers(db, members=2, seed=3)
    async with db.session() as session:
        members = list(await session.scalars(select(Member).where(Member.role == Role.MEMBER)))
        members[0].status = MemberStatus.EXEMPT
        members[1].reachable = False
    async with db.session() as session:
        period = await session.get(Period, period_id)
        assert period is not None
        computed = await evaluation.compute(session, period)
    assert computed.metrics[CellMetric.UNREACHABLE_MEMBERS] == 1
    assert computed.metrics[CellMetric.ATTENDANCE_RATE] is None  # not recorded yet
    assert isinstance(computed.result.total, float)


async def test_batched_months_equal_the_single_month(db: Database) -> None:
    period_id, _ = await month_with_answers(db, members=5, seed=11)
    async with db.session() as session:  # everyone the completion rule treats differently
        period = await session.get(Period, period_id)
        assert period is not None
        late = NOW + timedelta(hours=1)
        people = {
            name: Member(org_id=period.cell_id, full_name=name, joined_at=when, status=status)
            for name, when, status in [
                ("late, never started", late, MemberStatus.OFFICIAL),
                ("late, started", late, MemberStatus.OFFICIAL),
                ("excused", None, MemberStatus.OFFICIAL),
                ("exempt, submitted anyway", None, MemberStatus.EXEMPT),
            ]
        }
        session.add_all(people.values())
        await session.flush()
        session.add_all(
            [
                Assessment(
                    period_id=period_id,
                    member_id=people["late, started"].id,
                    state="draft",
                    started_at=NOW,
                    updated_at=NOW,
                ),
                Assessment(
                    period_id=period_id,
                    member_id=people["exempt, submitted anyway"].id,
                    state="submitted",
                    started_at=NOW,
                    updated_at=NOW,
                    submitted_at=NOW,
                ),
                Excusal(period_id=period_id, member_id=people["excused"].id, status="approved"),
            ]
        )
    async with db.session() as session:
        period = await session.get(Period, period_id)
        assert period is not None
        single = await evaluation.compute(session, period)
        batch = await evaluation.compute_many(session, [period])
    counted = [p for p in single.progress if p.progress not in EXCUSED]
    done = [p for p in counted if p.progress is Progress.SUBMITTED]
    # counted: secretary, 5 submitted, the draft, late-but-started, exempt-but-submitted
    assert (len(counted), len(done)) == (9, 6)
    assert single.metrics[CellMetric.COMPLETION_RATE] == pytest.approx(len(done) / len(counted))
    assert batch[period_id].total == pytest.approx(single.result.total, abs=1e-9)
    assert [g.points for g in batch[period_id].groups] == pytest.approx(
        [g.points for g in single.result.groups]
    )


async def test_closed_months_are_stored_and_read_back(db: Database) -> None:
    period_id, _ = await month_with_answers(db, members=4, seed=5)
    later = NOW + timedelta(days=6)  # past the deadline
    async with db.session() as session:
        period = await session.get(Period, period_id)
        assert period is not None
        assert await evaluation.close_months(session, NOW) == 0  # still open
        assert await evaluation.close_months(session, later) == 1
        assert await evaluation.close_months(session, later) == 0  # stored once
        live = await evaluation.compute(session, period)
        figures = await evaluation.month_figures(session, [period], later)
    assert figures[period_id].total == pytest.approx(live.result.total, abs=1e-9)
    assert figures[period_id].level == live.result.level
    async with db.session() as session:
        period = await session.get(Period, period_id)
        cell = await session.get(Organization, period.cell_id) if period else None
        assert period is not None and cell is not None
        await open_period(session, cell, None, NOW, NOW + timedelta(days=9))  # deadline moved
        assert await records.record_of(session, period_id) is None


def test_a_member_group_without_answers_is_not_four_good() -> None:
    """The month's "4 tốt" needs every group shown to meet; a group left without any
    answer (here all of group 3's criteria missing) does not, even if the rest is perfect."""
    spec = load_framework()
    perfect = {
        c.key: (1.0, len(c.questions))
        for g in spec.groups
        for c in g.criteria
        if c.source is CriterionSource.MEMBER
    }
    full = evaluation.member_score(spec, perfect)
    assert full is not None and full.four_good
    g3 = {c.key for c in next(g for g in spec.groups if g.key == "g3").criteria}
    without_g3 = evaluation.member_score(spec, {k: v for k, v in perfect.items() if k not in g3})
    assert without_g3 is not None
    assert without_g3.total == 100 and not without_g3.four_good
