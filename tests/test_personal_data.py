"""Personal data: export, erasure of a member who left, retention of free text (Nghị định
13/2023/NĐ-CP), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from bot.app.serve import Scheduler
from bot.core.i18n import Translator
from bot.render.personal_data import export_text
from bot.services import evaluation, lifecycle, privacy, reporting
from bot.services.periods import open_period
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from storage import orgs, personal_data
from storage.db import Database
from storage.models import (
    Answer,
    Assessment,
    Attendance,
    AuditEntry,
    Base,
    ChatIdentity,
    ChatPrompt,
    Consultation,
    ConsultationResponse,
    Criterion,
    Excusal,
    Invite,
    JoinAttempt,
    LinkCode,
    Member,
    Notification,
    Organization,
    OrgKind,
    Period,
    Question,
    Role,
    Rsvp,
)
from tests.conftest import FakeClock
from tests.harness import run_cli

NOW = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)
LEAVER = "Trần Thị Bình"
STAYER = "Lê Văn Cường"
LEAVER_TEXTS = (
    "Điều trị bệnh riêng tư ở viện K",  # free-text answer
    "Con ốm nằm viện",  # comment on a low answer
    "Đi công tác Hải Phòng",  # RSVP reason
    "Chăm mẹ ở quê",  # excusal reason
    "7001234567",  # Telegram account
    "zalo-b1nh-42",  # Zalo account
)
OPINION = "Nên thêm mục vệ sinh môi trường"  # a comment on a draft
STAYER_TEXTS = ("Đề xuất sửa nhà văn hóa", "Bận việc nhà máy", "Họp tổ dân phố")


@dataclass
class Cell:
    cell_id: int
    secretary_id: int
    leaver_id: int
    stayer_id: int
    period_ids: list[int]  # November and December 2026


async def build_cell(db: Database) -> Cell:
    """A cell of a secretary and two members who answered two months, with everything a
    person leaves behind: accounts, comments, free text, RSVPs, attendance, excusals,
    notifications, a link code, a personal invite, a failed join, a prompt on Zalo."""
    async with db.session() as session:
        committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        cell = await create_cell(
            session, "Chi bộ khu Biểu Nghi", committee, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        secretary = Member(org_id=cell.id, full_name="Nguyễn Văn An", role=Role.SECRETARY)
        leaver = Member(org_id=cell.id, full_name=LEAVER, locale="vi")
        stayer = Member(org_id=cell.id, full_name=STAYER)
        session.add_all([secretary, leaver, stayer])
        await session.flush()
        periods = []
        for month_start in (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)):
            deadline = month_start + timedelta(days=25)
            opened = await open_period(session, cell, secretary, month_start, deadline)
            periods.append(opened.period)
        questions = list(
            await session.scalars(
                select(Question)
                .join(Criterion, Criterion.id == Question.criterion_id)
                .where(Question.framework_id == periods[0].framework_id)
                .where(Criterion.source == "member")
                .order_by(Question.id)
                .options(selectinload(Question.options))
            )
        )
        member_questions = [q for q in questions if q.kind == "text" or q.options]
        assert any(q.kind == "text" for q in member_questions)
        for who, texts, low in ((leaver, LEAVER_TEXTS, True), (stayer, STAYER_TEXTS, False)):
            for period in periods:
                assessment = Assessment(
                    period_id=period.id,
                    member_id=who.id,
                    state="submitted",
                    started_at=period.opens_at,
                    updated_at=period.opens_at,
                    submitted_at=period.opens_at + timedelta(days=2),
                )
                session.add(assessment)
                await session.flush()
                for n, q in enumerate(member_questions):
                    if q.kind == "text":
                        value, comment = texts[0], None
                    elif n == 0:  # a low answer, with its reason
                        value, comment = q.options[-1].value, texts[1]
                    else:
                        value, comment = q.options[n % len(q.options)].value, None
                    session.add(
                        Answer(
                            assessment_id=assessment.id,
                            question_id=q.id,
                            value=value,
                            comment=comment,
                            answered_at=period.opens_at,
                        )
                    )
                session.add_all(
                    [
                        Rsvp(
                            period_id=period.id, member_id=who.id, attending=False, reason=texts[2]
                        ),
                        Attendance(
                            period_id=period.id,
                            member_id=who.id,
                            present=False,
                            with_reason=low,
                            recorded_by_id=secretary.id,
                        ),
                        Excusal(
                            period_id=period.id,
                            member_id=who.id,
                            reason=LEAVER_TEXTS[3] if low else None,
                            status="approved",
                            decided_by_id=secretary.id,
                            decided_at=period.opens_at,
                        ),
                    ]
                )
        session.add_all(
            [
                ChatIdentity(member_id=leaver.id, channel="telegram", external_id=LEAVER_TEXTS[4]),
                ChatIdentity(member_id=leaver.id, channel="zalo", external_id=LEAVER_TEXTS[5]),
                ChatIdentity(member_id=secretary.id, channel="zalo", external_id="zalo-an"),
                ChatIdentity(member_id=stayer.id, channel="telegram", external_id="555"),
                LinkCode(code_hash="x" * 64, member_id=leaver.id, expires_at=NOW),
                JoinAttempt(channel="zalo", external_id=LEAVER_TEXTS[5], at=NOW),
                ChatPrompt(  # the secretary's attendance sheet on Zalo names the leaver
                    channel="zalo",
                    chat_id="zalo-an",
                    options={"typed": False, "options": [[1, f"✅ {LEAVER}", "att:1:2"]]},
                ),
                Invite(
                    code_hash="y" * 64,
                    org_id=cell.id,
                    role=Role.MEMBER,
                    member_id=leaver.id,
                    created_by_id=secretary.id,
                    expires_at=NOW + timedelta(days=7),
                ),
            ]
        )
        for kind, status in (("window_open", "sent"), ("meeting_reminder", "pending")):
            for who in (leaver, stayer):
                session.add(
                    Notification(
                        member_id=who.id,
                        period_id=periods[1].id,
                        kind=kind,
                        offset_key="0",
                        due_at=NOW,
                        expires_at=NOW + timedelta(days=1),
                        status=status,
                        channel="telegram" if status == "sent" else None,
                    )
                )
        await session.flush()
        await evaluation.confirm(session, periods[0], secretary, NOW, notes="Họp đủ nội dung")
        return Cell(cell.id, secretary.id, leaver.id, stayer.id, [p.id for p in periods])


async def leave(db: Database, member_id: int) -> None:
    async with db.session() as session:
        await session.execute(update(Member).where(Member.id == member_id).values(active=False))


async def records(db: Database, cell: Cell) -> dict[str, Any]:
    """Every figure the cell's records show: each month (live and stored), every member's
    score, the year's result and each member's year."""
    figures: dict[str, Any] = {}
    async with db.session() as session:
        org = await session.get(Organization, cell.cell_id)
        assert org is not None
        periods = [await session.get(Period, pid) for pid in cell.period_ids]
        for period in periods:
            assert period is not None
            month = await evaluation.compute(session, period)
            figures[f"month {period.month}"] = (
                month.result,
                month.metrics,
                month.member_scores,
                [(p.member.id, p.progress, p.answered) for p in month.progress],
            )
        stored = await evaluation.month_figures(session, [p for p in periods if p], NOW)
        figures["stored"] = stored
        built = await reporting.year_report(session, org, 2026, Translator("vi"))
        assert built is not None
        year = built[1]
        figures["year"] = (
            year.result,
            [(m.result, m.confirmed) if m else None for m in year.months],
            [y for _name, y in year.member_years],
        )
    return figures


async def text_columns_holding(db: Database, needle: str) -> list[str]:
    """`table.column` of every text or JSON column where some row holds `needle`."""
    found = []
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                try:
                    kind = column.type.python_type
                except NotImplementedError:
                    continue
                if kind is str:
                    query = select(func.count()).where(column.contains(needle, autoescape=True))
                    hit = bool(await session.scalar(query))
                elif kind in (dict, list):
                    values = await session.scalars(select(column).where(column.is_not(None)))
                    hit = any(needle in json.dumps(v, ensure_ascii=False) for v in values)
                else:
                    continue
                if hit:
                    found.append(f"{table.name}.{column.name}")
    return found


def test_every_table_that_references_members_is_exported_or_excluded_on_purpose() -> None:
    """A table added later with a foreign key to members.id must be added to the export and
    the erasure (storage/personal_data.py REFERENCES), or listed in NOT_EXPORTED with why."""
    listed = set(personal_data.REFERENCES) | set(personal_data.NOT_EXPORTED)
    referencing = set(personal_data.member_references())
    assert referencing - listed == set(), "not exported, not excluded: decide in REFERENCES"
    assert listed - referencing == set(), "listed but no longer in the models"
    assert ("answers", "assessment_id") not in referencing  # answers come through assessments


async def test_export_holds_the_members_answers_and_nobody_elses(db: Database) -> None:
    cell = await build_cell(db)
    async with db.session() as session:
        data = await privacy.export(session, cell.leaver_id, NOW)
        secretary = await privacy.export(session, cell.secretary_id, NOW, locale="en")
    assert data is not None and secretary is not None
    dumped = privacy.to_json(data)
    assert json.loads(dumped)["member"]["full_name"] == LEAVER
    for text in LEAVER_TEXTS:
        assert text in dumped, text
    for text in (STAYER, *STAYER_TEXTS, "555", "Nguyễn Văn An"):
        assert text not in dumped, text
    [november, december] = data["assessments"]
    assert (november["month"], december["month"]) == ("2026-11", "2026-12")
    answers = {a["question_key"]: a for a in november["answers"]}
    assert answers["g4_notes"]["value"] == LEAVER_TEXTS[0]
    commented = [a for a in november["answers"] if a["comment"]]
    assert [a["comment"] for a in commented] == [LEAVER_TEXTS[1]]
    assert commented[0]["label"] and commented[0]["question"].strip()  # in Vietnamese
    assert {i["external_id"] for i in data["chat_identities"]} == set(LEAVER_TEXTS[4:6])
    assert [n["status"] for n in data["notifications"]] == ["sent", "pending"]
    assert len(data["join_attempts"]) == len(data["link_codes"]) == 1
    assert "code_hash" not in json.dumps(data["personal_invites"], default=str)

    # the secretary's acts are listed without the other members' data
    assert len(secretary["attendance_recorded"]) == 4 and len(secretary["excusals_decided"]) == 4
    their = privacy.to_json(secretary)
    for text in (LEAVER, STAYER, *LEAVER_TEXTS, *STAYER_TEXTS):
        assert text not in their, text
    assert [e["action"] for e in secretary["audit_entries"]] == ["confirm"]

    text = export_text(data, Translator(data["locale"], data["cell"]["timezone"]))
    assert LEAVER in text and LEAVER_TEXTS[0] in text and LEAVER_TEXTS[1] in text
    assert "11/2026" in text and "Telegram" in text
    english = export_text(secretary, Translator("en", "Asia/Ho_Chi_Minh"))
    assert "Attendance you recorded (4)" in english and "Months you opened (2)" in english


async def test_erase_keeps_the_records_and_leaves_no_trace_of_the_person(db: Database) -> None:
    cell = await build_cell(db)
    async with db.session() as session:
        refused = await privacy.erase(session, cell.leaver_id, NOW)
    assert refused.outcome is privacy.Erasure.ACTIVE
    assert await text_columns_holding(db, LEAVER) != []  # refused: nothing changed

    await leave(db, cell.leaver_id)
    async with db.session() as session:  # an opinion on a draft, with a comment
        asked = Consultation(
            period_id=cell.period_ids[1],
            created_by_id=cell.secretary_id,
            text="Dự thảo nghị quyết tháng 12",
            deadline_at=NOW,
            remind_at=NOW,
        )
        session.add(asked)
        await session.flush()
        session.add(
            ConsultationResponse(
                consultation_id=asked.id,
                member_id=cell.leaver_id,
                choice="other",
                comment=OPINION,
            )
        )
    before = await records(db, cell)
    async with db.session() as session:
        done = await privacy.erase(session, cell.leaver_id, NOW)
    assert done.outcome is privacy.Erasure.ERASED
    assert await records(db, cell) == before
    for text in (LEAVER, OPINION, *LEAVER_TEXTS):
        assert await text_columns_holding(db, text) == [], text
    for text in (STAYER, *STAYER_TEXTS):  # the others' data stays
        assert await text_columns_holding(db, text) != [], text

    async with db.session() as session:
        member = await session.get(Member, cell.leaver_id)
        assert member is not None and member.erased_at == NOW
        assert member.full_name == f"Đảng viên đã xoá dữ liệu #{member.id}"
        statuses = await session.scalars(
            select(Notification.status).where(Notification.member_id == member.id)
        )
        assert sorted(statuses) == ["sent", "skipped"]
        invite = await session.scalar(select(Invite).where(Invite.member_id == member.id))
        assert invite is not None and invite.revoked_at == NOW
        answered = await session.scalar(
            select(func.count(Answer.id))
            .join(Assessment, Assessment.id == Answer.assessment_id)
            .where(Assessment.member_id == member.id, Answer.value.is_not(None))
        )
        audits = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")))
        assert [(a.period_id, a.detail) for a in audits] == [
            (None, {"member": member.id, "cell": cell.cell_id})
        ]
        again = await privacy.erase(session, cell.leaver_id, NOW + timedelta(days=1))
    assert again.outcome is privacy.Erasure.ALREADY
    assert await records(db, cell) == before
    async with db.session() as session:
        assert await session.scalar(select(func.count(AuditEntry.id))) == len(audits) + 1
        still = await session.scalar(
            select(func.count(Answer.id))
            .join(Assessment, Assessment.id == Answer.assessment_id)
            .where(Assessment.member_id == cell.leaver_id, Answer.value.is_not(None))
        )
        member = await session.get(Member, cell.leaver_id)
        assert member is not None and member.erased_at == NOW  # the first erasure's time
    assert answered and still == answered  # closed answers kept, scored as before


async def test_a_person_who_moved_is_erased_in_every_cell_once_gone_from_all(
    db: Database,
) -> None:
    cell = await build_cell(db)
    async with db.session() as session:
        leaver = await session.get(Member, cell.leaver_id)
        assert leaver is not None
        home = await session.get(Organization, cell.cell_id)
        assert home is not None
        committee = await session.get(Organization, home.parent_id)
        other = await create_cell(
            session, "Chi bộ khu Đồng Tâm", committee, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        moved = await lifecycle.move(session, leaver, other, NOW, reason="Chuyển nơi ở")
        new_id = moved.new.id
    async with db.session() as session:
        refused = await privacy.erase(session, cell.leaver_id, NOW)  # still active elsewhere
    assert refused.outcome is privacy.Erasure.ACTIVE and refused.member is not None
    assert refused.member.id == new_id
    async with db.session() as session:
        newer = await session.get(Member, new_id)
        assert newer is not None
        await lifecycle.remove(session, newer, "Từ trần", NOW + timedelta(days=1))
    before = await records(db, cell)
    async with db.session() as session:
        done = await privacy.erase(session, cell.leaver_id, NOW + timedelta(days=2))
    assert done.outcome is privacy.Erasure.ERASED
    assert await records(db, cell) == before
    for text in (LEAVER, "Chuyển nơi ở", "Từ trần"):  # both rows, the events' reasons
        assert await text_columns_holding(db, text) == [], text


async def test_retention_blanks_only_free_text_of_old_months(db: Database) -> None:
    cell = await build_cell(db)
    later = datetime(2027, 12, 2, tzinfo=UTC)  # November 2026 ended 13 months before
    forever = await privacy.sweep(db, later, 0, timedelta(minutes=15))  # 0: keep free text
    assert (forever.months_cleared, forever.expired_removed) == (0, 2)  # link code, failed join
    assert await text_columns_holding(db, STAYER_TEXTS[0]) == ["answers.value"]
    before = await records(db, cell)

    stats = await privacy.sweep(db, later, 12, timedelta(minutes=15))
    assert (stats.months_cleared, stats.expired_removed) == (1, 0)
    async with db.session() as session:
        rows = await session.execute(
            select(Assessment.period_id, Answer.value, Answer.comment, Question.kind)
            .join(Assessment, Assessment.id == Answer.assessment_id)
            .join(Question, Question.id == Answer.question_id)
        )
        november, december = cell.period_ids
        for period_id, value, comment, kind in rows:
            if period_id == november:
                assert comment is None and (value is None) == (kind == "text")
            else:
                assert period_id == december
        kept = list(await session.scalars(select(Rsvp.reason).where(Rsvp.period_id == december)))
        gone = list(await session.scalars(select(Rsvp.reason).where(Rsvp.period_id == november)))
        assert set(kept) == {LEAVER_TEXTS[2], STAYER_TEXTS[2]} and gone == [None, None]
        reasons = await session.scalars(select(Excusal.reason).where(Excusal.period_id == november))
        assert set(reasons) == {None}
        december_texts = await session.scalars(
            select(Answer.value)
            .join(Assessment, Assessment.id == Answer.assessment_id)
            .where(Assessment.period_id == december, Answer.value == STAYER_TEXTS[0])
        )
        assert len(list(december_texts)) == 1
    assert await text_columns_holding(db, LEAVER_TEXTS[1]) == ["answers.comment"]  # December's
    assert await records(db, cell) == before
    again = await privacy.sweep(db, later, 12, timedelta(minutes=15))
    assert (again.months_cleared, again.expired_removed) == (0, 0)


async def test_the_scheduler_sweeps_once_a_day(runtime: Runtime, clock: FakeClock) -> None:
    db = runtime.db
    cell = await build_cell(db)
    runtime.settings.free_text_retention_months = 1
    clock.now = datetime(2027, 1, 31, 23, tzinfo=UTC)  # November ended over a month ago
    scheduler = Scheduler(runtime, [])
    await scheduler.tick()
    november, december = cell.period_ids

    async def cleared() -> set[int]:
        async with db.session() as session:
            query = select(Period.id).where(Period.free_text_cleared_at.is_not(None))
            return set(await session.scalars(query))

    assert await cleared() == {november}
    clock.now = datetime(2027, 2, 1, 1, tzinfo=UTC)  # December ended a month ago, too
    await scheduler.tick()
    assert await cleared() == {november}  # not a day since the last sweep
    clock.now += timedelta(days=1)
    await scheduler.tick()
    assert await cleared() == {november, december}


@pytest.mark.parametrize("locale", ["vi", "en", "de"])
async def test_the_text_export_speaks_each_language(sqlite_db: Database, locale: str) -> None:
    cell = await build_cell(sqlite_db)
    async with sqlite_db.session() as session:
        data = await privacy.export(session, cell.leaver_id, NOW, locale)
    assert data is not None
    text = export_text(data, Translator(locale, "Asia/Ho_Chi_Minh"))
    words = {"vi": "Tài khoản chat", "en": "Chat accounts", "de": "Chat-Konten"}[locale]
    assert f"{words} (2)" in text
    assert "10:00" in text  # NOW (03:00 UTC) in the cell's time zone


def test_export_and_erase_on_the_command_line(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chibo.sqlite3'}",
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_BOT_USERNAME": "",
    }

    def ok(*args: str) -> str:
        done = run_cli(list(args), env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert LEAVER not in done.stderr  # the log (INFO) names nobody
        return done.stdout

    ok("migrate")
    ok("cell", "create", "Chi bộ 1", "--committee", "Đảng bộ A")
    members = tmp_path / "members.csv"
    members.write_text(f"name\n{LEAVER}\n{STAYER}\n", encoding="utf-8")
    ok("member", "import", str(members), "--cell", "Chi bộ 1")
    [member_id] = [
        int(line.split()[0])
        for line in ok("member", "list", "--cell", "Chi bộ 1").splitlines()
        if line.endswith(LEAVER)
    ]

    out = tmp_path / "export.json"
    ok("member", "export", str(member_id), "--out", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["member"]["full_name"] == LEAVER and len(data["personal_invites"]) == 1
    text = ok("member", "export", str(member_id), "--format", "text", "--locale", "en")
    assert f"Name: {LEAVER}" in text and "Personal invites for you (1)" in text
    assert STAYER not in text

    refused = run_cli(["member", "erase", str(member_id), "--yes"], env, cwd=tmp_path)
    assert refused.returncode == 2 and "still an active member" in refused.stderr
    unknown = run_cli(["member", "erase", "999", "--yes"], env, cwd=tmp_path)
    assert unknown.returncode == 2 and "no member 999" in unknown.stderr
    with sqlite3.connect(tmp_path / "chibo.sqlite3") as connection:
        connection.execute("update members set active = 0 where id = ?", (member_id,))
    asked = run_cli(["member", "erase", str(member_id)], env, cwd=tmp_path, input="n\n")
    assert asked.returncode != 0 and "Aborted" in asked.stderr
    assert "personal data erased" in ok("member", "erase", str(member_id), "--yes")
    assert "erased already" in ok("member", "erase", str(member_id), "--yes")
    listed = ok("member", "list", "--cell", "Chi bộ 1", "--all")
    assert f"{member_id:>6}  erased" in listed and LEAVER not in listed and STAYER in listed
    with sqlite3.connect(tmp_path / "chibo.sqlite3") as connection:
        names = [n for (n,) in connection.execute("select full_name from members")]
        revoked = connection.execute(
            "select count(*) from invites where member_id = ? and revoked_at is not null",
            (member_id,),
        ).fetchone()
    assert LEAVER not in names and STAYER in names and revoked == (1,)
