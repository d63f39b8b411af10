"""Queries on meeting documents and on who pressed "Read"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import DocumentRead, MeetingDocument, Period


async def of_cell(
    session: AsyncSession, document_id: int, cell_id: int
) -> tuple[MeetingDocument, Period] | None:
    """The document and its month, if it belongs to this cell (else None: forged or foreign)."""
    query = (
        select(MeetingDocument, Period)
        .join(Period, Period.id == MeetingDocument.period_id)
        .where(MeetingDocument.id == document_id, Period.cell_id == cell_id)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


async def sent_in(session: AsyncSession, period_id: int) -> list[MeetingDocument]:
    """The month's documents that went out, oldest first."""
    query = select(MeetingDocument).where(
        MeetingDocument.period_id == period_id, MeetingDocument.sent_at.is_not(None)
    )
    return list(await session.scalars(query.order_by(MeetingDocument.sent_at, MeetingDocument.id)))


async def count_sent(session: AsyncSession, period_id: int) -> int:
    query = select(func.count(MeetingDocument.id)).where(
        MeetingDocument.period_id == period_id, MeetingDocument.sent_at.is_not(None)
    )
    return int(await session.scalar(query) or 0)


async def first_sent(session: AsyncSession, period_ids: Sequence[int]) -> dict[int, datetime]:
    """period → when its first document went out (months without documents are left out)."""
    query = (
        select(MeetingDocument.period_id, func.min(MeetingDocument.sent_at))
        .where(MeetingDocument.period_id.in_(period_ids), MeetingDocument.sent_at.is_not(None))
        .group_by(MeetingDocument.period_id)
    )
    # min() keeps the column's type, so both databases give aware UTC datetimes
    rows = await session.execute(query)
    return {period_id: earliest for period_id, earliest in rows if earliest is not None}


async def mark_read(session: AsyncSession, document_id: int, member_id: int, now: datetime) -> None:
    """Record that the member read the document; a second press keeps the first time."""
    statement = (
        dialect_insert(session, DocumentRead)
        .values(document_id=document_id, member_id=member_id, read_at=now)
        .on_conflict_do_nothing(index_elements=["document_id", "member_id"])
    )
    await session.execute(statement)


async def read_at(session: AsyncSession, document_id: int, member_id: int) -> datetime | None:
    query = select(DocumentRead.read_at).where(
        DocumentRead.document_id == document_id, DocumentRead.member_id == member_id
    )
    return await session.scalar(query)


async def readers(session: AsyncSession, document_id: int) -> dict[int, datetime]:
    """member → when they pressed "Read" on this document."""
    query = select(DocumentRead.member_id, DocumentRead.read_at).where(
        DocumentRead.document_id == document_id
    )
    return {member_id: at for member_id, at in await session.execute(query)}


async def read_counts(session: AsyncSession, document_ids: Sequence[int]) -> dict[int, int]:
    query = (
        select(DocumentRead.document_id, func.count(DocumentRead.id))
        .where(DocumentRead.document_id.in_(document_ids))
        .group_by(DocumentRead.document_id)
    )
    return {document_id: int(n) for document_id, n in await session.execute(query)}


async def reads_by(session: AsyncSession, period_id: int, member_id: int) -> dict[int, datetime]:
    """document → when this member read it, for the month's sent documents."""
    query = (
        select(DocumentRead.document_id, DocumentRead.read_at)
        .join(MeetingDocument, MeetingDocument.id == DocumentRead.document_id)
        .where(
            MeetingDocument.period_id == period_id,
            MeetingDocument.sent_at.is_not(None),
            DocumentRead.member_id == member_id,
        )
    )
    return {document_id: at for document_id, at in await session.execute(query)}
