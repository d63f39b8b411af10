"""Opinions on a draft (/consult): asking, answering, the tally, the reminder, the metric."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.core.config import load_settings
from bot.core.i18n import Translator
from bot.render.exports import year_workbook
from bot.rules.framework import CellMetric
from bot.rules.scoring import consultation_answer_rate, metric_score
from bot.services import consultations, evaluation, reporting
from bot.services.notify import Notice
from bot.services.planner import Kind
from bot.services.runtime import Runtime
from handlers.notices import render
from storage.db import Database
from storage.models import Consultation, Member, Notification, Organization, Period
from tests.cellworld import (
    MEMBER_A,
    MEMBER_B,
    OFFICER,
    OTHER_MEMBER_A,
    SECRETARY_A,
    SECRETARY_B,
    World,
    build_world,
)
from tests.conftest import FakeClock

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
async def world(db: Database, clock: FakeClock) -> World:
    settings = load_settings(database_url=db.url, _env_file=None)
    return await build_world(Runtime(settings, db, clock=clock, bot_username="chibo_test_bot"))


def text_of(outcome: object) -> str:
    replies = getattr(outcome, "replies", [])
    return "\n".join(r.text for r in replies) + (getattr(outcome, "notice", None) or "")


def buttons_of(outcome: object) -> list[str]:
    return [b.data for r in getattr(outcome, "replies", []) for row in r.buttons for b in row]


async def consultation_ids(world: World) -> list[int]:
    async with world.runtime.db.session() as session:
        return list(await session.scalars(select(Consultation.id).order_by(Consultation.id)))


async def rows(world: World, kind: str) -> list[Notification]:
    async with world.runtime.db.session() as session:
        query = select(Notification).where(Notification.kind == kind)
        return list(await session.scalars(query.order_by(Notification.member_id)))


def test_parse_deadline_in_the_cells_zone() -> None:
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Hồ Chí Minh City
    parsed = consultations.parse_deadline("20/12 17:00", HCM, now)
    assert parsed == datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
    assert consultations.parse_deadline("20/12", HCM, now) == datetime(
        2026, 12, 20, 16, 59, tzinfo=UTC
    )
    # a day already past this year is next year's
    assert consultations.parse_deadline("5/1 8h30", HCM, now) == datetime(
        2027, 1, 5, 1, 30, tzinfo=UTC
    )
    assert consultations.parse_deadline("20-12 17h00", HCM, now) == parsed  # as /task's dates
    for bad in ("31/2", "20/13", "٢٠/١٢", "20/12 25:00", "20/12 5pm", "tomorrow", ""):
        assert consultations.parse_deadline(bad, HCM, now) is None


def test_reminder_is_a_day_before_or_halfway() -> None:
    created = datetime(2026, 12, 1, tzinfo=UTC)
    assert consultations.remind_time(created, created + timedelta(days=5)) == created + timedelta(
        days=4
    )
    assert consultations.remind_time(created, created + timedelta(hours=10)) == (
        created + timedelta(hours=5)
    )


def test_answer_rate_metric_and_its_threshold() -> None:
    assert consultation_answer_rate([]) is None
    assert consultation_answer_rate([(3, 0)]) is None  # nobody had to answer
    assert consultation_answer_rate([(2, 4), (4, 4)]) == pytest.approx(0.75)
    assert consultation_answer_rate([(5, 4)]) == 1.0  # an exempt member answered too
    metric = CellMetric.CONSULTATION_ANSWER_RATE
    assert metric_score(metric, 0.8) == 1.0  # the default full_at, 0.8
    assert metric_score(metric, 0.4) == pytest.approx(0.5)
    assert metric_score(metric, 0.45, full_at=0.5) == pytest.approx(0.9)
    assert metric_score(metric, 0.5, full_at=0.5) == 1.0


async def test_three_answers_reminder_and_tally(world: World, clock: FakeClock) -> None:
    asked = await world.say(SECRETARY_A, "/consult 5/12 17:00 | Dự thảo nghị quyết tháng 12")
    assert "3 đảng viên" in text_of(asked), text_of(asked)
    (cid,) = await consultation_ids(world)
    notices = await rows(world, Kind.CONSULTATION)
    assert len(notices) == 3  # every member of cell A, the secretary too

    # the notice a member gets: the draft and three buttons
    async with world.runtime.db.session() as session:
        period = await session.get(Period, notices[0].period_id)
        assert period is not None
        member = await session.get(Member, notices[0].member_id)
        assert member is not None
        cell = await session.get(Organization, member.org_id)
        assert cell is not None
        reply = await render(session, Notice(notices[0], member, cell, period, False))
    assert "Dự thảo nghị quyết tháng 12" in reply.text
    assert [b.data for row in reply.buttons for b in row] == [
        f"ka:{cid}:y",
        f"ka:{cid}:n",
        f"ka:{cid}:o",
    ]

    agreed = await world.say(MEMBER_A, data=f"ka:{cid}:y")
    assert "Đồng ý" in text_of(agreed)
    changed = await world.say(MEMBER_A, data=f"ka:{cid}:n")  # changed until the deadline
    assert "Không đồng ý" in text_of(changed)
    asked_text = await world.say(SECRETARY_A, data=f"ka:{cid}:o")
    assert asked_text.replies[0].typed
    await world.say(SECRETARY_A, "Đề nghị bổ sung phần giao nhiệm vụ cho tổ 2")

    # the reminder: planned once, only to the one who has not answered
    clock.now = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)  # 24 h before 17:00 on 5/12
    async with world.runtime.db.session() as session:
        assert await consultations.plan_due(session, clock.now) == 1
    async with world.runtime.db.session() as session:
        assert await consultations.plan_due(session, clock.now) == 0
    reminders = await rows(world, Kind.CONSULTATION_REMINDER)
    assert [r.member_id for r in reminders] == [world.member_ids[OTHER_MEMBER_A]]
    await world.say(OTHER_MEMBER_A, data=f"ka:{cid}:y")

    # on demand: counts for members, every comment with its author for secretaries
    member_view = text_of(await world.say(MEMBER_A, "/consult"))
    assert "Không đồng ý" in member_view and "bổ sung" not in member_view
    overview = await world.say(SECRETARY_A, "/consult")
    assert f"kt:{cid}" in buttons_of(overview)
    detail = text_of(await world.say(SECRETARY_A, data=f"kt:{cid}"))
    assert "User 1: Đề nghị bổ sung phần giao nhiệm vụ cho tổ 2" in detail
    assert "User 2" in detail and "User 3" in detail
    assert "Chưa trả lời (0)" in detail or "(0)" in detail

    # at the deadline: answers are frozen and the tally goes to the secretary, once
    clock.now = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    late = await world.say(MEMBER_A, data=f"ka:{cid}:y")
    assert "đã hết hạn" in text_of(late)
    async with world.runtime.db.session() as session:
        assert await consultations.plan_due(session, clock.now) == 1
        assert await consultations.plan_due(session, clock.now) == 0
    tallies = await rows(world, Kind.CONSULTATION_TALLY)
    assert [t.member_id for t in tallies] == [world.member_ids[SECRETARY_A]]

    # the metric: 3 of the roll answered
    async with world.runtime.db.session() as session:
        period = await session.get(Period, world.period_of["A"])
        assert period is not None
        month = await evaluation.compute(session, period)
    criterion = next(c for c in month.result.criteria if c.key == "g3_consulted")
    roll = await roll_of(world, cid)
    assert criterion.fraction == pytest.approx(min(1.0, (3 / roll) / 0.8))


async def roll_of(world: World, cid: int) -> int:
    async with world.runtime.db.session() as session:
        consultation = await session.get(Consultation, cid)
        assert consultation is not None
        return consultation.roll


async def test_rights_and_bad_input(world: World) -> None:
    await world.say(SECRETARY_A, "/consult 5/12 17:00 | Dự thảo A")
    (cid,) = await consultation_ids(world)
    refused = text_of(await world.say(MEMBER_A, "/consult 5/12 | Của tôi"))
    assert "bí thư" in refused
    assert await consultation_ids(world) == [cid]
    # another cell's member and secretary: the usual refusal, nothing stored
    stale = "Nút này không còn hiệu lực"
    assert stale in text_of(await world.say(MEMBER_B, data=f"ka:{cid}:y"))
    assert stale in text_of(await world.say(SECRETARY_B, data=f"kt:{cid}"))
    assert stale in text_of(await world.say(MEMBER_A, data=f"ka:{cid + 99}:y"))
    assert stale in text_of(await world.say(MEMBER_A, data=f"kt:{cid}")) or "bí thư" in text_of(
        await world.say(MEMBER_A, data=f"kt:{cid}")
    )
    assert "Dự thảo A" not in text_of(await world.say(SECRETARY_B, "/consult"))
    assert "Dự thảo A" not in text_of(await world.say(OFFICER, "/consult"))
    # bad deadlines and a missing bar
    for bad in ("/consult mai | x", "/consult 30/11 | x", "/consult 5/12", "/consult 1/6 | x"):
        reply = text_of(await world.say(SECRETARY_A, bad))
        assert "/consult" in reply or "hạn" in reply.lower(), (bad, reply)
    assert await consultation_ids(world) == [cid]


async def test_year_workbook_has_the_consultations_sheet(world: World, clock: FakeClock) -> None:
    await world.say(SECRETARY_A, "/consult 5/12 17:00 | Dự thảo nghị quyết tháng 12")
    (cid,) = await consultation_ids(world)
    await world.say(MEMBER_A, data=f"ka:{cid}:y")
    await world.say(SECRETARY_A, data=f"ka:{cid}:o")
    await world.say(SECRETARY_A, "Bổ sung nhiệm vụ cho tổ 2")
    clock.now = datetime(2026, 12, 6, tzinfo=UTC)
    async with world.runtime.db.session() as session:
        cell = await session.get(Organization, world.cell_ids["A"])
        assert cell is not None
        built = await reporting.year_report(session, cell, 2026, Translator("vi"))
    assert built is not None
    spec, report = built
    book = load_workbook(io.BytesIO(year_workbook(spec, report, Translator("vi"))))
    assert "Góp ý dự thảo" in book.sheetnames
    sheet = book["Góp ý dự thảo"]
    header = [c.value for c in sheet[4]]
    assert header[:3] == ["STT", "Tháng", "Dự thảo"]
    first = [c.value for c in sheet[5]]
    roll = await roll_of(world, cid)
    assert first[1] == 12 and first[2] == "Dự thảo nghị quyết tháng 12"
    assert first[5:10] == [roll, 1, 0, 1, roll - 2]
    assert first[10] == pytest.approx(2 / roll)
    answers = [[c.value for c in row][:4] for row in sheet.iter_rows(min_row=7)]
    assert [1, "Đồng ý", None, "User 2"] in answers
    assert [1, "Ý kiến khác", "Bổ sung nhiệm vụ cho tổ 2", "User 1"] in answers
