"""Random cell months: the SQL path (what /summary shows and CellEvaluation stores) equals
the rules of `bot.rules.scoring` (the reference) and `bot.services.periods.classify`, on SQLite and
PostgreSQL.

A small framework covers what the default one does not: a number question, optional
questions, a group whose questions are all optional (so a member may leave it without
any answer), a metric, a secretary's fact, and the documents' time (a metric with the
secretary's answer as its fallback).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.rules.framework import CellMetric, FrameworkSpec, QuestionKind, parse_framework
from bot.rules.scoring import (
    cell_facts_from_answers,
    cell_month,
    collect_member_fractions,
    documents_lead_hours,
    low_answer,
    member_result,
)
from bot.services import assessment, evaluation
from bot.services.periods import EXCUSED, Progress, classify
from storage import evaluation as aggregates
from storage import frameworks, orgs, schema
from storage.db import Database
from storage.models import (
    Answer,
    Assessment,
    CellEvaluation,
    CellFact,
    Excusal,
    ExcusalStatus,
    MeetingDocument,
    Member,
    MemberStatus,
    OrgKind,
    Period,
    Question,
)
from tests.conftest import BACKENDS, fresh_database_url

OPENS = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
DEADLINE = OPENS + timedelta(days=20)
AFTER = DEADLINE + timedelta(days=1)

YES_NO = [
    {"value": "yes", "label": "Có", "score": 1.0},
    {"value": "no", "label": "Không", "score": 0.0},
]
LEVELS = [
    {"value": "excellent", "label": "Xuất sắc", "score": 1.0},
    {"value": "good", "label": "Tốt", "score": 0.85},
    {"value": "completed", "label": "Hoàn thành", "score": 0.6},
    {"value": "not_done", "label": "Không hoàn thành", "score": 0.0},
]


def _q(key: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "kind": kind, "text": f"Câu hỏi {key}?", **extra}


def _c(key: str, points: float, source: str = "member", **extra: Any) -> dict[str, Any]:
    return {"key": key, "points": points, "source": source, "title": f"Tiêu chí {key}", **extra}


FRAMEWORK: dict[str, Any] = {
    "code": "property-test",
    "version": 1,
    "title": "Khung thử",
    "scoring": {
        "group_meets_at": 0.7,
        "bands": [
            {"level": "excellent", "min": 90, "label": "Xuất sắc"},
            {"level": "good", "min": 70, "label": "Tốt"},
            {"level": "completed", "min": 50, "label": "Hoàn thành"},
            {"level": "not_completed", "min": 0, "label": "Không hoàn thành"},
        ],
        "year_end": {"four_good_months_min": 9, "months": 12, "forbid_level": "not_completed"},
    },
    "groups": [
        {
            "key": "g1",
            "weight": 30,
            "title": "Nhóm 1",
            "criteria": [
                _c(
                    "c1_tasks",
                    12,
                    questions=[
                        _q("q1_level", "level", options=LEVELS, comment_below=0.5),
                        _q("q1_number", "score", max=5, comment_below=0.6),
                    ],
                ),
                _c("c1_extra", 8, questions=[_q("q1_extra", "yes_no", options=YES_NO)]),
                _c("c1_done", 10, "cell", metric="completion_rate"),
            ],
        },
        {
            "key": "g2",
            "weight": 30,
            "title": "Nhóm 2",
            "criteria": [
                _c(
                    "c2_attend",
                    15,
                    questions=[
                        _q("q2_attend", "yes_no", options=YES_NO, comment_below=1.0),
                        _q("q2_spoke", "yes_no", options=YES_NO, optional=True),
                    ],
                ),
                _c("c2_held", 10, "cell", questions=[_q("q2_held", "yes_no", options=YES_NO)]),
                _c(
                    "c2_docs",
                    5,
                    "cell",
                    metric="documents_lead_hours",
                    min_hours=24,
                    questions=[_q("q2_docs", "yes_no", options=YES_NO)],
                ),
            ],
        },
        {
            "key": "g3",
            "weight": 20,
            "title": "Nhóm 3 (chỉ câu hỏi không bắt buộc)",
            "criteria": [
                _c(
                    "c3_contact",
                    20,
                    questions=[
                        _q(
                            "q3_contact", "yes_no", options=YES_NO, optional=True, comment_below=0.5
                        ),
                        _q("q3_hours", "score", max=10, optional=True, comment_below=0.5),
                    ],
                ),
            ],
        },
        {
            "key": "g4",
            "weight": 20,
            "title": "Nhóm 4",
            "criteria": [
                _c(
                    "c4_self",
                    20,
                    questions=[
                        _q("q4_self", "level", options=LEVELS, comment_below=0.7),
                        _q("q4_note", "text", optional=True),
                    ],
                ),
            ],
        },
    ],
}
SPEC = parse_framework(FRAMEWORK)
QUESTIONS = [q for _, _, q in SPEC.member_questions()]


def _answer(question: Any) -> st.SearchStrategy[str | None]:
    if question.kind is QuestionKind.TEXT:
        value: st.SearchStrategy[str | None] = st.just("Ý kiến của đồng chí")
    elif question.kind is QuestionKind.SCORE:
        value = st.integers(0, question.max).map(str)
    else:
        value = st.sampled_from([o.value for o in question.options])
    return st.one_of(st.none(), value) if question.optional else value


@dataclass(frozen=True)
class MemberCase:
    status: str
    excusal: str | None  # None, or the status of the member's excusal request
    joined_late: bool
    reachable: bool
    state: str | None  # None: not started
    answers: dict[str, str | None]  # question key → value (None: skipped)
    stored_skips: bool  # skipped questions stored as rows (as the flow does) or left out


member_cases = st.builds(
    MemberCase,
    status=st.sampled_from([MemberStatus.OFFICIAL, MemberStatus.PROBATIONARY, MemberStatus.EXEMPT]),
    excusal=st.sampled_from([None, ExcusalStatus.APPROVED, ExcusalStatus.REQUESTED]),
    joined_late=st.booleans(),
    reachable=st.booleans(),
    state=st.sampled_from([None, "draft", "submitted"]),
    answers=st.fixed_dictionaries({q.key: _answer(q) for q in QUESTIONS}),
    stored_skips=st.booleans(),
)


@dataclass(frozen=True)
class Documents:
    """The meeting time and the documents of a month (hours before the meeting, None: a file
    still waiting for the secretary's choice), and the secretary's answer about them."""

    meeting_hours: int | None  # the meeting, hours after the window opened (None: no time)
    sent: list[int | None]  # each document's hours before the meeting
    answer: str | None


documents_cases = st.builds(
    Documents,
    meeting_hours=st.one_of(st.integers(24, 400), st.none()),
    sent=st.one_of(
        st.lists(st.integers(-20, 60), min_size=2, max_size=4),  # the earliest one counts
        st.lists(st.one_of(st.none(), st.integers(-20, 60)), max_size=2),
    ),
    answer=st.sampled_from([None, "yes", "no"]),
)
months = st.tuples(
    st.lists(member_cases, max_size=6),
    st.sampled_from([None, "yes", "no"]),  # the secretary's answer to q2_held
    documents_cases,
)


def _meeting(docs: Documents) -> datetime | None:
    return OPENS + timedelta(hours=docs.meeting_hours) if docs.meeting_hours is not None else None


def _sent_times(docs: Documents) -> list[datetime | None]:
    meeting = _meeting(docs) or DEADLINE
    return [meeting - timedelta(hours=h) if h is not None else None for h in docs.sent]


@dataclass
class Stored:
    period: Period
    members: dict[int, MemberCase]


async def _store_month(
    db: Database,
    framework_id: int,
    cases: list[MemberCase],
    held: str | None,
    docs: Documents,
    n: int,
) -> Stored:
    async with db.session() as session:
        cell = await orgs.create(session, f"Chi bộ {n}", OrgKind.CELL, framework_id=framework_id)
        period = Period(
            cell_id=cell.id,
            year=OPENS.year,
            month=OPENS.month,
            framework_id=framework_id,
            opens_at=OPENS,
            deadline_at=DEADLINE,
            meeting_at=_meeting(docs),
        )
        session.add(period)
        await session.flush()
        rows = await session.scalars(select(Question).where(Question.framework_id == framework_id))
        question_ids = {q.key: q.id for q in rows}
        secretary = Member(org_id=cell.id, full_name="Bí thư", status=MemberStatus.EXEMPT)
        session.add(secretary)
        await session.flush()
        for key, value in (("q2_held", held), ("q2_docs", docs.answer)):
            if value is not None:
                session.add(
                    CellFact(
                        period_id=period.id,
                        question_key=key,
                        value=value,
                        set_by_id=secretary.id,
                        set_at=OPENS,
                    )
                )
        for number, sent_at in enumerate(_sent_times(docs)):
            session.add(
                MeetingDocument(
                    period_id=period.id,
                    sent_by_id=secretary.id,
                    title=f"Tài liệu {number}",
                    created_at=OPENS,
                    sent_at=sent_at,
                )
            )
        stored: dict[int, MemberCase] = {}
        for i, case in enumerate(cases):
            member = Member(
                org_id=cell.id,
                full_name=f"Đảng viên {i}",
                status=case.status,
                reachable=case.reachable,
                joined_at=OPENS + timedelta(days=2)
                if case.joined_late
                else OPENS - timedelta(days=90),
            )
            session.add(member)
            await session.flush()
            stored[member.id] = case
            if case.excusal is not None:
                session.add(Excusal(period_id=period.id, member_id=member.id, status=case.excusal))
            if case.state is None:
                continue
            assessment = Assessment(
                period_id=period.id,
                member_id=member.id,
                state=case.state,
                started_at=OPENS,
                updated_at=OPENS,
                submitted_at=OPENS if case.state == "submitted" else None,
            )
            session.add(assessment)
            await session.flush()
            for key, value in case.answers.items():
                if value is None and not case.stored_skips:
                    continue
                session.add(
                    Answer(
                        assessment_id=assessment.id,
                        question_id=question_ids[key],
                        value=value,
                        skipped=value is None,
                        comment="Vì ốm" if value is not None else None,
                        answered_at=OPENS,
                    )
                )
        # a secretary row that is exempt and never answers: part of the cell like anyone
        stored[secretary.id] = MemberCase(
            MemberStatus.EXEMPT, None, False, True, None, {}, stored_skips=False
        )
        return Stored(period, stored)


def _expected_progress(case: MemberCase, period: Period) -> Progress:
    member = Member(
        status=case.status,
        joined_at=OPENS + timedelta(days=2) if case.joined_late else OPENS - timedelta(days=90),
    )
    return classify(member, period, case.state, case.excusal == ExcusalStatus.APPROVED)


async def _check(
    db: Database, spec: FrameworkSpec, stored: Stored, held: str | None, docs: Documents
) -> None:
    submitted = {m: c for m, c in stored.members.items() if c.state == "submitted"}
    expected_members = {m: member_result(spec, c.answers) for m, c in submitted.items()}
    progress = {m: _expected_progress(c, stored.period) for m, c in stored.members.items()}
    must = sum(1 for p in progress.values() if p not in EXCUSED)
    done = sum(1 for p in progress.values() if p is Progress.SUBMITTED)
    metrics = {
        CellMetric.COMPLETION_RATE.value: done / must if must else None,
        CellMetric.ATTENDANCE_RATE.value: None,
        CellMetric.UNEXCUSED_ABSENCES.value: None,
        CellMetric.UNREACHABLE_MEMBERS.value: float(
            sum(1 for c in stored.members.values() if not c.reachable)
        ),
        CellMetric.DOCUMENTS_LEAD_HOURS.value: documents_lead_hours(
            _meeting(docs), _sent_times(docs)
        ),
        CellMetric.CONSULTATION_ANSWER_RATE.value: None,  # no consultation in these months
        # no resolution in these months (tests/test_tasks.py covers the task metrics)
        CellMetric.TASKS_ON_TIME.value: None,
        CellMetric.RESOLUTION_TASKS.value: None,
    }
    answers = {k: v for k, v in (("q2_held", held), ("q2_docs", docs.answer)) if v is not None}
    expected = cell_month(
        spec,
        collect_member_fractions(expected_members.values()),
        cell_facts_from_answers(spec, answers),
        metrics,
    )
    expected_low = sorted(
        (m, q.key, c.answers[q.key])
        for m, c in submitted.items()
        for q in QUESTIONS
        if low_answer(q, c.answers[q.key])
    )

    async with db.session() as session:
        period = await session.get(Period, stored.period.id)
        assert period is not None
        live = await evaluation.compute(session, period)
        low = await aggregates.low_answers(session, period.id)
    # members: total, level and "4 tốt" of everyone who submitted
    assert set(live.member_scores) == {
        m for m, r in expected_members.items() if r.total is not None
    }
    for member_id, score in live.member_scores.items():
        reference = expected_members[member_id]
        assert score.total == pytest.approx(reference.total, abs=1e-9)
        assert (score.level, score.four_good) == (reference.level, reference.four_good)
    # completion, as /progress and the completion metric count it
    assert {row.member.id: row.progress for row in live.progress} == progress
    assert live.metrics == pytest.approx(metrics, abs=1e-12)
    # the cell month: group points, flags, total, level
    result = live.result
    assert [(g.key, g.meets) for g in result.groups] == [(g.key, g.meets) for g in expected.groups]
    assert [g.points for g in result.groups] == pytest.approx([g.points for g in expected.groups])
    assert result.total == pytest.approx(expected.total, abs=1e-9)
    assert (result.level, result.four_good, result.missing) == (
        expected.level,
        expected.four_good,
        expected.missing,
    )
    # low answers, option and number alike
    assert sorted((m, q.key, v) for m, q, v, _ in low) == expected_low
    # the stored record of the closed month
    async with db.session() as session:
        await evaluation.close_months(session, AFTER)
        record = await session.scalar(
            select(CellEvaluation).where(CellEvaluation.period_id == stored.period.id)
        )
        assert record is not None
        assert record.total == pytest.approx(expected.total, abs=1e-9)
        assert (record.level, record.four_good) == (expected.level, expected.four_good)


@pytest.fixture(params=BACKENDS)
def loop_and_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Database]]:
    """A database and the one event loop its connections live on, for a synchronous
    Hypothesis test that runs each example on that loop."""
    loop = asyncio.new_event_loop()
    url = loop.run_until_complete(fresh_database_url(request.param, tmp_path))
    schema.upgrade(url)
    database = Database(url)
    yield loop, database
    loop.run_until_complete(database.dispose())
    loop.close()


def test_sql_path_equals_the_reference_on_random_months(
    loop_and_db: tuple[asyncio.AbstractEventLoop, Database],
) -> None:
    loop, db = loop_and_db

    async def framework_id() -> int:
        async with db.session() as session:
            return (await frameworks.store(session, SPEC))[0].id

    fid = loop.run_until_complete(framework_id())
    numbers = count()

    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(months)
    def check(month: tuple[list[MemberCase], str | None, Documents]) -> None:
        cases, held, docs = month

        async def run() -> None:
            stored = await _store_month(db, fid, cases, held, docs, next(numbers))
            await _check(db, SPEC, stored, held, docs)

        loop.run_until_complete(run())

    check()


def _values(question: Any) -> list[str | None]:
    if question.kind is QuestionKind.TEXT:
        return [None, "Ý kiến"]
    if question.kind is QuestionKind.SCORE:
        return [None, *(str(v) for v in range(question.max + 1))]
    return [None, *(o.value for o in question.options)]


def test_the_flow_asks_why_exactly_for_the_low_answers(
    loop_and_db: tuple[asyncio.AbstractEventLoop, Database],
) -> None:
    """Every possible answer: the questionnaire (built from the stored framework) asks
    for a reason exactly when `bot.rules.scoring.low_answer` calls it low."""
    loop, db = loop_and_db

    async def views() -> list[Any]:
        async with db.session() as session:
            fid = (await frameworks.store(session, SPEC))[0].id
            assessment._questionnaires.pop(fid, None)  # ids repeat across test databases
            return list((await assessment.questionnaire(session, fid)).questions)

    checked = [
        (view.asks_why(value), low_answer(SPEC.question(view.key), value))
        for view in loop.run_until_complete(views())
        for value in _values(SPEC.question(view.key))
    ]
    assert [asks for asks, _ in checked] == [low for _, low in checked]
    assert sum(low for _, low in checked) >= 10  # options and numbers below their thresholds
