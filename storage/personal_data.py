"""Queries on one person's data: everything stored about a member, its erasure, and the
retention sweep of free text.

`REFERENCES` lists every column that points at `members.id` and what the export and the
erasure do with it; `tests/test_personal_data.py` walks the models and fails when a table
added later references members without being listed here, so a new table is never
forgotten by `chibo member export` and `chibo member erase`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Answer,
    Assessment,
    AuditEntry,
    Base,
    ChatIdentity,
    ChatPrompt,
    Consultation,
    ConsultationResponse,
    Excusal,
    Invite,
    JoinAttempt,
    LinkCode,
    Member,
    MemberEvent,
    Notification,
    NotificationStatus,
    Period,
    Question,
    Resolution,
    ResolutionTask,
    Rsvp,
    SharedFile,
    TaskAssignment,
    WebSession,
    WebSignIn,
)


@dataclass(frozen=True)
class Reference:
    """A column pointing at members.id: the export section it fills, the columns it shows
    (None: all but secrets; rows of things the member did to others show only the act, not
    the others' data) and what erasure does with it, in plain words."""

    section: str
    erasure: str
    columns: tuple[str, ...] | None = None


REFERENCES: dict[tuple[str, str], Reference] = {
    ("chat_identities", "member_id"): Reference("chat_identities", "deleted"),
    ("link_codes", "member_id"): Reference("link_codes", "deleted"),
    ("invites", "member_id"): Reference("personal_invites", "unused ones revoked"),
    ("assessments", "member_id"): Reference(
        "assessments", "kept; free-text answers and every comment blanked"
    ),
    ("notifications", "member_id"): Reference("notifications", "pending ones cancelled"),
    ("rsvps", "member_id"): Reference("rsvps", "kept; reason blanked"),
    ("attendance", "member_id"): Reference("attendance", "kept (the cell's attendance rate)"),
    ("excusals", "member_id"): Reference("excusals", "kept; reason blanked"),
    # what they did as secretary: the cell's record, kept
    ("invites", "created_by_id"): Reference(
        "invites_created",
        "kept",
        ("id", "org_id", "role", "created_at", "expires_at", "max_uses", "uses", "revoked_at"),
    ),
    ("attendance", "recorded_by_id"): Reference(
        "attendance_recorded", "kept", ("id", "period_id", "recorded_at")
    ),
    ("excusals", "decided_by_id"): Reference(
        "excusals_decided", "kept", ("id", "period_id", "decided_at")
    ),
    ("cell_facts", "set_by_id"): Reference("cell_facts_set", "kept"),
    ("audit_log", "member_id"): Reference("audit_entries", "kept"),
    ("periods", "opened_by_id"): Reference(
        "months_opened", "kept", ("id", "year", "month", "opens_at", "deadline_at", "created_at")
    ),
    ("meeting_overrides", "created_by_id"): Reference("meetings_set", "kept"),
    ("cell_evaluations", "confirmed_by_id"): Reference(
        "months_confirmed", "kept", ("id", "period_id", "confirmed_at")
    ),
    # their life in the cells: removed, moved, status and role (member_events)
    ("member_events", "member_id"): Reference("member_events", "kept; reason blanked"),
    ("member_events", "other_member_id"): Reference(
        "member_events_other_row", "kept", ("id", "member_id", "kind", "at")
    ),
    ("members", "moved_from_id"): Reference(
        "rows_in_later_cells", "erased with this one", ("id", "org_id", "joined_at", "active")
    ),
    ("member_events", "by_member_id"): Reference(
        "member_changes_made", "kept", ("id", "kind", "at")
    ),
    # the month's cycle: documents read, opinions on drafts
    ("document_reads", "member_id"): Reference("documents_read", "kept"),
    ("consultation_responses", "member_id"): Reference(
        "consultation_answers", "kept; comment blanked"
    ),
    ("meeting_documents", "sent_by_id"): Reference(
        "documents_sent", "kept", ("id", "period_id", "created_at", "sent_at")
    ),
    ("consultations", "created_by_id"): Reference(
        "consultations_asked", "kept", ("id", "period_id", "created_at", "deadline_at")
    ),
    # the resolution's tasks: their reports (notes, photo evidence) and what they recorded
    ("task_assignments", "member_id"): Reference(
        "tasks", "kept; note and photo removed (the counts stay)"
    ),
    ("resolutions", "created_by_id"): Reference(
        "resolutions_recorded", "kept", ("id", "period_id", "created_at")
    ),
    ("resolution_tasks", "created_by_id"): Reference(
        "tasks_recorded", "kept", ("id", "resolution_id", "created_at")
    ),
    # the web view: sign-in links and browser sessions (only hashes of their tokens)
    ("web_sign_ins", "member_id"): Reference(
        "web_sign_in_links", "deleted", ("created_at", "expires_at", "used_at")
    ),
    ("web_sessions", "member_id"): Reference(
        "web_sessions", "deleted (signed out everywhere)", ("created_at", "expires_at")
    ),
}
NOT_EXPORTED: dict[tuple[str, str], str] = {}
"""Columns referencing members that the export leaves out on purpose, with the reason."""

SECRET_COLUMNS = frozenset({"code_hash", "token", "content"})
"""Never exported: hashes of invite and link codes are useless to the person and secret."""


def member_references() -> list[tuple[str, str]]:
    """Every (table, column) of the models with a foreign key to members.id."""
    return sorted(
        (table.name, fk.parent.name)
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "members" and fk.column.name == "id"
    )


def _plain(row: Any, table: Table, columns: tuple[str, ...] | None) -> dict[str, Any]:
    names = columns or [c.name for c in table.columns if c.name not in SECRET_COLUMNS]
    return {name: getattr(row, name) for name in names}


async def rows_referencing(
    session: AsyncSession, member_id: int
) -> dict[str, list[dict[str, Any]]]:
    """section → rows (as column → value) of every listed reference to the member."""
    tables = Base.metadata.tables
    sections: dict[str, list[dict[str, Any]]] = {}
    for (table_name, column), reference in REFERENCES.items():
        table = tables[table_name]
        query = select(table).where(table.c[column] == member_id).order_by(*table.primary_key)
        rows = (await session.execute(query)).all()
        sections[reference.section] = [_plain(row, table, reference.columns) for row in rows]
    return sections


async def periods_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Period]:
    if not ids:
        return {}
    return {p.id: p for p in await session.scalars(select(Period).where(Period.id.in_(ids)))}


async def answers_of(
    session: AsyncSession, assessment_ids: Sequence[int]
) -> list[tuple[Answer, Question]]:
    """The answers of these assessments with their questions (options loaded), in order."""
    if not assessment_ids:
        return []
    query = (
        select(Answer, Question)
        .join(Question, Question.id == Answer.question_id)
        .where(Answer.assessment_id.in_(assessment_ids))
        .order_by(Answer.assessment_id, Question.position, Question.id)
        .options(selectinload(Question.options))
    )
    return [(a, q) for a, q in (await session.execute(query)).all()]


async def join_attempts_of(
    session: AsyncSession, identities: Sequence[tuple[str, str]]
) -> list[JoinAttempt]:
    """Failed invite codes sent from these (channel, external id) accounts."""
    if not identities:
        return []
    query = select(JoinAttempt).where(
        tuple_(JoinAttempt.channel, JoinAttempt.external_id).in_(list(identities))
    )
    return list(await session.scalars(query.order_by(JoinAttempt.id)))


# ---- erasure ------------------------------------------------------------------------------


async def erase(session: AsyncSession, member: Member, placeholder: str, now: datetime) -> None:
    """Remove the member's personal data; keep every value the cell's records count.

    Idempotent: a second run finds nothing left to remove and changes nothing else.
    """
    name = member.full_name
    identities = [
        (channel, external_id)
        for channel, external_id in await session.execute(
            select(ChatIdentity.channel, ChatIdentity.external_id).where(
                ChatIdentity.member_id == member.id
            )
        )
    ]
    if identities:
        await session.execute(
            delete(JoinAttempt).where(
                tuple_(JoinAttempt.channel, JoinAttempt.external_id).in_(identities)
            )
        )
        await session.execute(
            delete(ChatPrompt).where(tuple_(ChatPrompt.channel, ChatPrompt.chat_id).in_(identities))
        )
    if member.erased_at is None:
        await _forget_name_in_prompts(session, member.org_id, name)
    await session.execute(delete(ChatIdentity).where(ChatIdentity.member_id == member.id))
    await session.execute(delete(LinkCode).where(LinkCode.member_id == member.id))
    await session.execute(delete(WebSignIn).where(WebSignIn.member_id == member.id))
    await session.execute(delete(WebSession).where(WebSession.member_id == member.id))
    own = select(Assessment.id).where(Assessment.member_id == member.id).scalar_subquery()
    await _blank_free_text(session, Answer.assessment_id.in_(own))
    await session.execute(
        update(Rsvp)
        .where(Rsvp.member_id == member.id, Rsvp.reason.is_not(None))
        .values(reason=None)
    )
    await session.execute(
        update(Excusal)
        .where(Excusal.member_id == member.id, Excusal.reason.is_not(None))
        .values(reason=None)
    )
    await session.execute(
        update(Notification)
        .where(
            Notification.member_id == member.id,
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.SKIPPED)
    )
    await session.execute(
        update(Invite)
        .where(
            Invite.member_id == member.id,
            Invite.revoked_at.is_(None),
            Invite.uses < Invite.max_uses,
        )
        .values(revoked_at=now)
    )
    # Workbooks behind file links list members by name; charts show no names.
    await session.execute(delete(SharedFile).where(~SharedFile.filename.like("%.png")))
    first = member.erased_at is None
    await session.execute(
        update(MemberEvent)
        .where(MemberEvent.member_id == member.id, MemberEvent.reason.is_not(None))
        .values(reason=None)
    )
    await session.execute(
        update(ConsultationResponse)
        .where(
            ConsultationResponse.member_id == member.id, ConsultationResponse.comment.is_not(None)
        )
        .values(comment=None)
    )
    await session.execute(
        update(TaskAssignment)
        .where(
            TaskAssignment.member_id == member.id,
            or_(TaskAssignment.note.is_not(None), TaskAssignment.photo_file_id.is_not(None)),
        )
        .values(note=None, photo_file_id=None)
    )
    member.full_name = placeholder
    member.pending_input = None
    member.pending_text = None
    member.left_reason = None
    member.erased_at = member.erased_at or now
    if first:
        session.add(
            AuditEntry(
                period_id=None,
                member_id=None,  # an administrator, on the command line
                at=now,
                action="erase",
                detail={"member": member.id, "cell": member.org_id},
            )
        )
    await session.flush()


async def _forget_name_in_prompts(session: AsyncSession, org_id: int, name: str) -> None:
    """Numbered options shown to the cell's other chats (a secretary's attendance sheet on
    Zalo) may carry the name: forget those prompts (the next list shows fresh ones)."""
    chats = (
        select(ChatIdentity.channel, ChatIdentity.external_id)
        .join(Member, Member.id == ChatIdentity.member_id)
        .where(Member.org_id == org_id)
    )
    prompts = await session.execute(
        select(ChatPrompt.channel, ChatPrompt.chat_id, ChatPrompt.options).where(
            tuple_(ChatPrompt.channel, ChatPrompt.chat_id).in_(chats)
        )
    )
    stale = [
        (channel, chat_id)
        for channel, chat_id, options in prompts
        if name and name in json.dumps(options, ensure_ascii=False)
    ]
    if stale:
        await session.execute(
            delete(ChatPrompt).where(tuple_(ChatPrompt.channel, ChatPrompt.chat_id).in_(stale))
        )


async def _blank_free_text(session: AsyncSession, which: Any) -> None:
    """Blank the comments, and the values of free-text questions, of the answers `which`
    selects; the answers stay (counts of answered questions) and closed values too."""
    await session.execute(
        update(Answer).where(which, Answer.comment.is_not(None)).values(comment=None)
    )
    text_questions = select(Question.id).where(Question.kind == "text").scalar_subquery()
    await session.execute(
        update(Answer)
        .where(which, Answer.question_id.in_(text_questions), Answer.value.is_not(None))
        .values(value=None)
    )


# ---- retention ----------------------------------------------------------------------------


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


async def periods_past_retention(
    session: AsyncSession, now: datetime, months: int, limit: int
) -> list[int]:
    """Months not swept yet that ended more than `months` months ago (by the calendar)."""
    last = month_index(now.year, now.month) - months - 1  # the newest month index to sweep
    query = (
        select(Period.id)
        .where(
            Period.free_text_cleared_at.is_(None),
            Period.year * 12 + Period.month - 1 <= last,
        )
        .order_by(Period.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def clear_free_text(session: AsyncSession, period_ids: Sequence[int], now: datetime) -> None:
    """Blank the free text of these months: answers' text and comments, RSVP and excusal
    reasons, opinions on drafts, notes and photos on tasks; mark them swept."""
    if not period_ids:
        return
    of_months = select(Assessment.id).where(Assessment.period_id.in_(period_ids))
    await _blank_free_text(session, Answer.assessment_id.in_(of_months.scalar_subquery()))
    for model in (Rsvp, Excusal):
        await session.execute(
            update(model)
            .where(model.period_id.in_(period_ids), model.reason.is_not(None))
            .values(reason=None)
        )
    asked = select(Consultation.id).where(Consultation.period_id.in_(period_ids))
    await session.execute(
        update(ConsultationResponse)
        .where(
            ConsultationResponse.consultation_id.in_(asked.scalar_subquery()),
            ConsultationResponse.comment.is_not(None),
        )
        .values(comment=None)
    )
    tasks = (
        select(ResolutionTask.id)
        .join(Resolution, Resolution.id == ResolutionTask.resolution_id)
        .where(Resolution.period_id.in_(period_ids))
    )
    await session.execute(
        update(TaskAssignment)
        .where(
            TaskAssignment.task_id.in_(tasks.scalar_subquery()),
            or_(TaskAssignment.note.is_not(None), TaskAssignment.photo_file_id.is_not(None)),
        )
        .values(note=None, photo_file_id=None)
    )
    await session.execute(
        update(Period).where(Period.id.in_(period_ids)).values(free_text_cleared_at=now)
    )


async def prune_expired(session: AsyncSession, now: datetime, attempts_before: datetime) -> int:
    """Delete what has expired: link codes, shared files, old failed join attempts."""
    removed = 0
    for statement in (
        delete(LinkCode).where(LinkCode.expires_at <= now),
        delete(SharedFile).where(SharedFile.expires_at <= now),
        delete(JoinAttempt).where(JoinAttempt.at < attempts_before),
    ):
        removed += int((await session.execute(statement)).rowcount or 0)  # type: ignore[attr-defined]
    return removed
