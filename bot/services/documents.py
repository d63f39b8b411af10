"""Meeting documents: a secretary sends them, every member gets them once, reads are recorded.

A document is a text, a link or a Telegram file of one cell's month. Sending it puts one
outbox row per member of the cell but its sender (exempt members too: they may read) with the
document's id as the row's offset, so the dispatcher delivers it at most once, within
the channels' limits, to whichever app each member uses. The time it went out fills
the cell criterion with the `documents_lead_hours` metric (`bot.rules.scoring`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import PurePosixPath

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import MAX_DOCUMENT_BYTES, Attachment
from bot.services import files
from bot.services.planner import Kind
from storage import assessments as period_store
from storage import documents as store
from storage import members as member_store
from storage import notifications as outbox
from storage.models import MeetingDocument, Member, Period

MAX_PER_MONTH = 10  # documents a month: the secretary's overview stays one screen
MAX_FILE_BYTES = 20 * 1024 * 1024  # Telegram lets a bot fetch files up to 20 MB
FILE_TYPES = frozenset(
    {
        ".pdf",
        ".doc",
        ".docx",
        ".odt",
        ".rtf",
        ".txt",
        ".xls",
        ".xlsx",
        ".ods",
        ".ppt",
        ".pptx",
        ".odp",
        ".jpg",
        ".jpeg",
        ".png",
    }
)
FRAMEWORK_TYPES = frozenset({".yaml", ".yml"})
NOTICE_DAYS = 7  # a member offline for longer gets the documents with /docs
_LINK = re.compile(r"https?://\S+", re.IGNORECASE)


class Problem(StrEnum):
    NO_PERIOD = "no_period"  # no month open to attach the document to
    TOO_MANY = "too_many"
    TOO_LARGE = "too_large"
    UNKNOWN_TYPE = "unknown_type"
    EMPTY = "empty"


class Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def is_framework_file(attachment: Attachment) -> bool:
    """A criteria framework (YAML) rather than a meeting document."""
    return PurePosixPath(attachment.filename.lower()).suffix in FRAMEWORK_TYPES


def file_problem(attachment: Attachment) -> Problem | None:
    if PurePosixPath(attachment.filename.lower()).suffix not in FILE_TYPES:
        return Problem.UNKNOWN_TYPE
    if attachment.byte_size > MAX_FILE_BYTES:
        return Problem.TOO_LARGE
    return None


async def month_of(session: AsyncSession, cell_id: int, now: datetime) -> Period | None:
    """The month documents go to: the current period, while its deadline is ahead."""
    period = await period_store.current_period(session, cell_id, now)
    return period if period is not None and period.deadline_at > now else None


def first_link(text: str) -> str | None:
    found = _LINK.search(text)
    return found.group(0).rstrip(".,;)") if found else None


@dataclass(frozen=True)
class Publishing:
    """Where a file gets a public copy for channels that cannot send files (Zalo)."""

    base_url: str | None
    days: int


async def draft(
    session: AsyncSession,
    cell_id: int,
    by: Member,
    text: str,
    now: datetime,
    file: Attachment | None = None,
    publishing: Publishing | None = None,
) -> MeetingDocument:
    """A document of this month, not sent yet (Refused with the reason if it cannot be)."""
    text = text.strip()
    if file is None and not text:
        raise Refused(Problem.EMPTY)
    if file is not None and (problem := file_problem(file)) is not None:
        raise Refused(problem)
    period = await month_of(session, cell_id, now)
    if period is None:
        raise Refused(Problem.NO_PERIOD)
    if await store.count_sent(session, period.id) >= MAX_PER_MONTH:
        raise Refused(Problem.TOO_MANY)
    document = MeetingDocument(
        period_id=period.id,
        sent_by_id=by.id,
        title=text or (file.filename if file else ""),
        url=first_link(text),
        created_at=now,
    )
    if file is not None:
        document.file_id = file.file_id
        document.file_name = file.filename[:200]
        document.mime_type = (file.mime_type or "")[:100] or None
        document.file_size = file.byte_size
        document.file_link = await _public_copy(session, file, now, publishing)
    session.add(document)
    await session.flush()
    return document


async def _public_copy(
    session: AsyncSession, file: Attachment, now: datetime, publishing: Publishing | None
) -> str | None:
    """A link to the file for Zalo members: only when the server has a public address and
    the file was small enough to be fetched (MAX_DOCUMENT_BYTES)."""
    if publishing is None or not publishing.base_url or not file.content:
        return None
    if file.byte_size > MAX_DOCUMENT_BYTES:
        return None
    ttl = timedelta(days=publishing.days)
    return await files.share(session, file, now, publishing.base_url, ttl)


async def send(
    session: AsyncSession, document: MeetingDocument, cell_id: int, now: datetime
) -> int:
    """Queue the document to every member of the cell but its sender, once; returns how many.

    Sending it again (a double tap) queues nothing new: the rows' natural key is the same.
    """
    members = await audience(session, document, cell_id)
    if document.sent_at is None:
        document.sent_at = now
    expires = document.sent_at + timedelta(days=NOTICE_DAYS)
    await outbox.plan(
        session,
        [
            outbox.row(
                member.id,
                document.period_id,
                Kind.DOCUMENTS,
                offset_key(document),
                document.sent_at,
                expires,
            )
            for member in members
        ],
    )
    return len(members)


async def audience(session: AsyncSession, document: MeetingDocument, cell_id: int) -> list[Member]:
    """Who the document is for: the cell's active members, but not whoever sent it."""
    members = await member_store.in_org(session, cell_id)
    return [m for m in members if m.id != document.sent_by_id]


def offset_key(document: MeetingDocument) -> str:
    return f"d{document.id}"


def document_id_of(offset: str) -> int | None:
    digits = offset.removeprefix("d")
    return int(digits) if digits.isdigit() else None


async def discard(session: AsyncSession, document: MeetingDocument) -> None:
    """A file the secretary decided not to send."""
    await session.delete(document)


@dataclass(frozen=True)
class Owned:
    document: MeetingDocument
    period: Period


async def own(session: AsyncSession, document_id: int, cell_id: int) -> Owned | None:
    """The document if it belongs to the cell; None for another cell's id or a forged one."""
    found = await store.of_cell(session, document_id, cell_id)
    return Owned(*found) if found is not None else None


async def mark_read(
    session: AsyncSession, member: Member, document_id: int, now: datetime
) -> datetime | None:
    """Record that the member read a sent document of their cell; when they first did.

    None: not a sent document of the member's cell (forged, stale or another cell's).
    """
    found = await own(session, document_id, member.org_id)
    if found is None or found.document.sent_at is None:
        return None
    await store.mark_read(session, document_id, member.id, now)
    return await store.read_at(session, document_id, member.id)


@dataclass(frozen=True)
class Readers:
    document: MeetingDocument
    read: list[tuple[Member, datetime]]
    unread: list[Member]


async def readers(session: AsyncSession, document: MeetingDocument, cell_id: int) -> Readers:
    """Who of the document's audience pressed "Read", and who has not yet."""
    members = await audience(session, document, cell_id)
    read = await store.readers(session, document.id)
    return Readers(
        document,
        [(m, read[m.id]) for m in members if m.id in read],
        [m for m in members if m.id not in read],
    )


@dataclass(frozen=True)
class MonthDocuments:
    period: Period
    documents: list[MeetingDocument]
    read_counts: dict[int, int]
    audiences: dict[int, int]  # document → how many members it went to


async def of_month(session: AsyncSession, period: Period) -> MonthDocuments:
    documents = await store.sent_in(session, period.id)
    counts = await store.read_counts(session, [d.id for d in documents])
    members = await member_store.in_org(session, period.cell_id)
    audiences = {d.id: sum(1 for m in members if m.id != d.sent_by_id) for d in documents}
    return MonthDocuments(period, documents, counts, audiences)


async def reads_of(session: AsyncSession, period_id: int, member_id: int) -> dict[int, datetime]:
    """document → when this member pressed "Read", for the month's sent documents."""
    return await store.reads_by(session, period_id, member_id)


@dataclass(frozen=True)
class ReadHint:
    """For the self-assessment: the member pressed "Read" on `read` of `total` documents."""

    read: int
    total: int
    last_read_at: datetime


async def read_hint(session: AsyncSession, period_id: int, member_id: int) -> ReadHint | None:
    reads = await store.reads_by(session, period_id, member_id)
    if not reads:
        return None
    total = await store.count_sent(session, period_id)
    return ReadHint(len(reads), total, max(reads.values()))
