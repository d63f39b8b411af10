"""Meeting documents on SQLite and PostgreSQL: sending, reads, the metric, refusals."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.chat import Attachment
from bot.rules.framework import CellMetric, Suggestion, load_framework, parse_framework
from bot.services import documents, evaluation
from bot.services.assessment import questionnaire
from bot.services.documents import Problem, Publishing, Refused
from bot.services.planner import Kind
from bot.services.setup import create_cell
from storage import frameworks as framework_store
from storage import orgs
from storage.db import Database
from storage.models import (
    DocumentRead,
    MeetingDocument,
    Member,
    MemberStatus,
    Notification,
    OrgKind,
    Period,
    Role,
    SharedFile,
)

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
MEETING = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)


@dataclass
class Cell:
    id: int
    period_id: int
    secretary_id: int
    member_ids: list[int]


async def make_cell(db: Database, name: str = "Chi bộ khu Biểu Nghi") -> Cell:
    async with db.session() as session:
        committee = await orgs.find_by_name(session, "Đảng bộ phường", OrgKind.COMMITTEE)
        committee = committee or await orgs.create(session, "Đảng bộ phường", OrgKind.COMMITTEE)
        cell = await create_cell(session, name, committee, timezone="Asia/Ho_Chi_Minh", locale="vi")
        assert cell.framework_id is not None
        period = Period(
            cell_id=cell.id,
            year=2026,
            month=12,
            framework_id=cell.framework_id,
            opens_at=NOW - timedelta(days=1),
            deadline_at=MEETING,
            meeting_at=MEETING,
        )
        secretary = Member(org_id=cell.id, full_name="Nguyễn Văn An", role=Role.SECRETARY)
        members = [
            Member(org_id=cell.id, full_name="Trần Thị Bình"),
            Member(org_id=cell.id, full_name="Lê Văn Cường", status=MemberStatus.EXEMPT),
            Member(org_id=cell.id, full_name="Phạm Văn Dũng", active=False),  # left the cell
        ]
        session.add_all([period, secretary, *members])
        await session.flush()
        return Cell(cell.id, period.id, secretary.id, [m.id for m in members])


async def send_text(db: Database, cell: Cell, text: str, now: datetime = NOW) -> int:
    async with db.session() as session:
        secretary = await session.get(Member, cell.secretary_id)
        assert secretary is not None
        document = await documents.draft(session, cell.id, secretary, text, now)
        await documents.send(session, document, cell.id, now)
        return document.id


async def test_a_document_goes_to_every_member_once(db: Database) -> None:
    cell = await make_cell(db)
    document_id = await send_text(db, cell, "Nghị quyết tháng 12: https://example.org/nq12.pdf")
    async with db.session() as session:
        document = await session.get(MeetingDocument, document_id)
        assert document is not None
        assert document.sent_at == NOW and document.url == "https://example.org/nq12.pdf"
        await documents.send(session, document, cell.id, NOW + timedelta(minutes=1))  # again
        rows = (
            await session.scalars(select(Notification).where(Notification.kind == Kind.DOCUMENTS))
        ).all()
    # both active members (the exempt one too), once each; not the secretary who sent it
    assert sorted(r.member_id for r in rows) == sorted(cell.member_ids[:2])
    assert {(r.offset_key, r.due_at, r.period_id) for r in rows} == {
        (f"d{document_id}", NOW, cell.period_id)
    }


async def test_read_is_recorded_once_and_only_in_the_own_cell(db: Database) -> None:
    cell = await make_cell(db)
    other = await make_cell(db, "Chi bộ khu Hà Lầm")
    mine = await send_text(db, cell, "Tài liệu học tập")
    theirs = await send_text(db, other, "Tài liệu của chi bộ khác")
    async with db.session() as session:
        binh = await session.get(Member, cell.member_ids[0])
        assert binh is not None
        first = await documents.mark_read(session, binh, mine, NOW + timedelta(hours=1))
        again = await documents.mark_read(session, binh, mine, NOW + timedelta(hours=2))
        assert first == again == NOW + timedelta(hours=1)  # the first press counts
        assert await documents.mark_read(session, binh, theirs, NOW) is None  # another cell
        assert await documents.mark_read(session, binh, 10**9, NOW) is None  # forged
        assert await documents.own(session, theirs, cell.id) is None
        reads = await session.scalar(select(func.count(DocumentRead.id)))
        assert reads == 1
        document = await session.get(MeetingDocument, mine)
        assert document is not None
        who = await documents.readers(session, document, cell.id)
        assert [m.full_name for m, _at in who.read] == ["Trần Thị Bình"]
        assert [m.full_name for m in who.unread] == ["Lê Văn Cường"]


async def test_a_file_waiting_for_the_choice_is_not_sent_nor_readable(db: Database) -> None:
    cell = await make_cell(db)
    file = Attachment("document", "nghi-quyet.pdf", b"%PDF", file_id="BQAC123", mime_type="a/b")
    async with db.session() as session:
        secretary = await session.get(Member, cell.secretary_id)
        binh = await session.get(Member, cell.member_ids[0])
        assert secretary is not None and binh is not None
        waiting = await documents.draft(session, cell.id, secretary, "", NOW, file)
        assert waiting.title == "nghi-quyet.pdf" and waiting.file_id == "BQAC123"
        assert await documents.mark_read(session, binh, waiting.id, NOW) is None
        month = await documents.of_month(session, await session.get_one(Period, cell.period_id))
        assert month.documents == []
        assert await session.scalar(select(func.count(Notification.id))) == 0


async def test_the_first_documents_time_fills_the_cell_criterion(db: Database) -> None:
    cell = await make_cell(db)
    async with db.session() as session:
        period = await session.get_one(Period, cell.period_id)
        before = await evaluation.compute(session, period)
        assert before.metrics[CellMetric.DOCUMENTS_LEAD_HOURS] is None
        assert before.result.criterion("g2_prepared").missing  # no documents, no answer yet
    await send_text(db, cell, "Bản chính", now=MEETING - timedelta(hours=30))
    await send_text(db, cell, "Bản bổ sung", now=MEETING - timedelta(hours=2))
    async with db.session() as session:
        period = await session.get_one(Period, cell.period_id)
        month = await evaluation.compute(session, period)
        assert month.metrics[CellMetric.DOCUMENTS_LEAD_HOURS] == pytest.approx(30)
        prepared = month.result.criterion("g2_prepared")
        assert prepared.points == prepared.max_points and not prepared.missing
        period.meeting_at = MEETING - timedelta(hours=20)  # moved earlier: not a day ahead
        month = await evaluation.compute(session, period)
        assert month.metrics[CellMetric.DOCUMENTS_LEAD_HOURS] == pytest.approx(10)
        assert month.result.criterion("g2_prepared").points == 0


async def test_the_read_hint_for_the_self_assessment(db: Database) -> None:
    cell = await make_cell(db)
    first = await send_text(db, cell, "Tài liệu 1")
    await send_text(db, cell, "Tài liệu 2")
    async with db.session() as session:
        binh = await session.get_one(Member, cell.member_ids[0])
        assert await documents.read_hint(session, cell.period_id, binh.id) is None
        await documents.mark_read(session, binh, first, NOW + timedelta(hours=3))
        hint = await documents.read_hint(session, cell.period_id, binh.id)
        assert hint == documents.ReadHint(1, 2, NOW + timedelta(hours=3))
        period = await session.get_one(Period, cell.period_id)
        form = await questionnaire(session, period.framework_id)
        suggested = [q.key for q in form.questions if q.suggest == Suggestion.DOCUMENTS_READ]
        assert suggested == ["g2_study_documents"]


async def test_refusals_change_nothing(db: Database) -> None:
    cell = await make_cell(db)
    async with db.session() as session:
        secretary = await session.get_one(Member, cell.secretary_id)

        async def refused(
            text: str, file: Attachment | None = None, now: datetime = NOW
        ) -> Problem:
            with pytest.raises(Refused) as info:
                await documents.draft(session, cell.id, secretary, text, now, file)
            return info.value.problem

        assert await refused("   ") is Problem.EMPTY
        assert await refused("x", now=MEETING + timedelta(hours=1)) is Problem.NO_PERIOD
        exe = Attachment("document", "virus.exe", b"MZ", file_id="F1")
        assert await refused("", exe) is Problem.UNKNOWN_TYPE
        big = Attachment("document", "ban-do.pdf", b"", size=21 * 2**20, file_id="F2")
        assert await refused("", big) is Problem.TOO_LARGE
        for n in range(documents.MAX_PER_MONTH):
            document = await documents.draft(session, cell.id, secretary, f"Tài liệu {n}", NOW)
            await documents.send(session, document, cell.id, NOW)
        assert await refused("Một tài liệu nữa") is Problem.TOO_MANY
        assert await session.scalar(select(func.count(MeetingDocument.id))) == 10


async def test_a_small_file_gets_a_public_copy_for_zalo(db: Database) -> None:
    cell = await make_cell(db)
    pdf = Attachment("document", "nq.pdf", b"%PDF-1.4 nghi quyet", file_id="F1")
    async with db.session() as session:
        secretary = await session.get_one(Member, cell.secretary_id)
        public = Publishing("https://chibo.example.org", 7)
        shared = await documents.draft(session, cell.id, secretary, "", NOW, pdf, public)
        assert shared.file_link is not None
        assert shared.file_link.startswith("https://chibo.example.org/files/")
        stored = await session.get_one(SharedFile, shared.file_link.rsplit("/", 1)[1])
        assert stored.content == pdf.content and stored.expires_at == NOW + timedelta(days=7)
        unpublished = await documents.draft(session, cell.id, secretary, "", NOW, pdf, None)
        too_big = Attachment("document", "lon.pdf", b"", size=2 * 2**20, file_id="F2")
        not_fetched = await documents.draft(session, cell.id, secretary, "", NOW, too_big, public)
        assert unpublished.file_link is None and not_fetched.file_link is None


async def test_stored_framework_keeps_the_new_fields_and_old_digests(db: Database) -> None:
    spec = load_framework()
    async with db.session() as session:
        stored, _created = await framework_store.store(session, spec)
        framework_store._specs.clear()
        loaded = await framework_store.load_spec(session, stored.id)
    prepared = next(c for _g, c in loaded.cell_criteria() if c.key == "g2_prepared")
    assert prepared.metric is CellMetric.DOCUMENTS_LEAD_HOURS and prepared.min_hours == 24
    assert loaded.question("g2_study_documents").suggest is Suggestion.DOCUMENTS_READ
    # a file without the new fields hashes as it did before they existed
    data = spec.model_dump(mode="json")
    for group in data["groups"]:
        for criterion in group["criteria"]:
            criterion.pop("min_hours")
            criterion.pop("full_at")  # the share metrics' threshold (tasks, consultations)
            for question in criterion["questions"]:
                question.pop("suggest")
                question.pop("suggest_levels")
    old_way = json.dumps(data, sort_keys=True, ensure_ascii=False)
    plain = parse_framework(data)
    assert framework_store.spec_digest(plain) == hashlib.sha256(old_way.encode()).hexdigest()
    assert framework_store.spec_digest(spec) != framework_store.spec_digest(plain)
