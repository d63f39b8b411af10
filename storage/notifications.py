"""The notification outbox: plan rows idempotently, claim due rows safely across processes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import (
    Assessment,
    AssessmentState,
    ChatIdentity,
    Excusal,
    ExcusalStatus,
    Member,
    Notification,
    NotificationStatus,
    Organization,
    Period,
)

Status = NotificationStatus


def row(
    member_id: int,
    period_id: int | None,
    kind: str,
    offset_key: str,
    due_at: datetime,
    expires_at: datetime,
    *,
    version: int = 1,
    status: NotificationStatus = Status.PENDING,
) -> dict[str, Any]:
    """One outbox row, keyed by (member, period, kind, offset_key, version); a notice of
    no month (`period_id` None) must have an offset key of its own (e.g. its event's id)."""
    return {
        "member_id": member_id,
        "period_id": period_id,
        "kind": kind,
        "offset_key": offset_key,
        "version": version,
        "due_at": due_at,
        "expires_at": expires_at,
        "status": status,
        "attempts": 0,
    }


async def plan(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert planned notifications; rows whose natural key exists are left as they are."""
    if not rows:
        return
    statement = (
        dialect_insert(session, Notification)
        .values(list(rows))
        .on_conflict_do_nothing(
            index_elements=["member_id", "period_id", "kind", "offset_key", "version"]
        )
    )
    await session.execute(statement)


async def claim_due(
    session: AsyncSession, now: datetime, worker: str, limit: int, lease: timedelta
) -> list[Notification]:
    """Mark up to `limit` due rows as being sent by `worker`; other processes skip them.

    PostgreSQL locks the chosen rows with FOR UPDATE SKIP LOCKED, so concurrent
    workers claim disjoint rows; SQLite has a single writer, which is enough.
    """
    due = (
        select(Notification.id)
        .where(Notification.status == Status.PENDING, Notification.due_at <= now)
        .order_by(Notification.due_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(await session.scalars(due))
    if not ids:
        return []
    await session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.status == Status.PENDING)
        .values(status=Status.SENDING, claimed_by=worker, claimed_until=now + lease)
    )
    claimed = select(Notification).where(
        Notification.id.in_(ids),
        Notification.status == Status.SENDING,
        Notification.claimed_by == worker,
    )
    return list(await session.scalars(claimed.order_by(Notification.due_at, Notification.id)))


async def abandon_stale_claims(session: AsyncSession, now: datetime) -> int:
    """Rows claimed by a process that died: outcome unknown, so never sent again."""
    result = await session.execute(
        update(Notification)
        .where(Notification.status == Status.SENDING, Notification.claimed_until < now)
        .values(status=Status.UNKNOWN, error="the sending process stopped mid-send")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def finish(
    session: AsyncSession,
    notification_id: int,
    status: NotificationStatus,
    now: datetime,
    *,
    error: str | None = None,
    retry_at: datetime | None = None,
    channel: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "error": error, "claimed_until": None}
    if channel is not None:
        values["channel"] = channel
    if status is Status.SENT:
        values["sent_at"] = now
    if retry_at is not None:
        values |= {"status": Status.PENDING, "due_at": retry_at}
    await session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(attempts=Notification.attempts + 1, **values)
    )


async def finish_many(
    session: AsyncSession,
    ids: Sequence[int],
    status: NotificationStatus,
    now: datetime,
    *,
    channel: str | None = None,
) -> None:
    """The same outcome for many rows at once (sent, skipped, dropped)."""
    values: dict[str, Any] = {"status": status, "error": None, "claimed_until": None}
    if channel is not None:
        values["channel"] = channel
    if status is Status.SENT:
        values["sent_at"] = now
    await session.execute(
        update(Notification)
        .where(Notification.id.in_(list(ids)))
        .values(attempts=Notification.attempts + 1, **values)
    )


async def void_pending(
    session: AsyncSession, period_id: int, before_version: int, keep: Collection[str] = ()
) -> None:
    """The meeting moved: pending rows of older schedule versions are never sent
    (except those of the kinds in `keep`, which do not depend on the meeting's time)."""
    await session.execute(
        update(Notification)
        .where(
            and_(
                Notification.period_id == period_id,
                Notification.version < before_version,
                Notification.status == Status.PENDING,
                Notification.kind.not_in(list(keep)),
            )
        )
        .values(status=Status.VOID)
    )


async def settle_pending(
    session: AsyncSession,
    period_id: int,
    kinds: Sequence[str],
    offset_key: str,
    status: NotificationStatus,
    member_id: int | None = None,
) -> None:
    """Pending rows that no longer apply (a task reported done, cancelled or deleted) end
    with `status` and are never sent; rows already claimed are left to the dispatcher."""
    query = update(Notification).where(
        Notification.period_id == period_id,
        Notification.kind.in_(list(kinds)),
        Notification.offset_key == offset_key,
        Notification.status == Status.PENDING,
    )
    if member_id is not None:
        query = query.where(Notification.member_id == member_id)
    await session.execute(query.values(status=status))


async def pending_of_kind(session: AsyncSession, period_id: int, kind: str) -> list[Notification]:
    """The month's pending rows of one kind (not claimed yet)."""
    query = select(Notification).where(
        Notification.period_id == period_id,
        Notification.kind == kind,
        Notification.status == Status.PENDING,
    )
    return list(await session.scalars(query))


async def recent_of_kind(
    session: AsyncSession, member_id: int, kinds: Sequence[str], since: datetime
) -> bool:
    """Was a notification of these kinds sent or planned for this member since a moment?"""
    query = select(Notification.id).where(
        Notification.member_id == member_id,
        Notification.kind.in_(kinds),
        Notification.due_at >= since,
        Notification.status.in_([Status.PENDING, Status.SENDING, Status.SENT]),
    )
    return (await session.scalar(query.limit(1))) is not None


@dataclass(frozen=True)
class Recipients:
    """What rendering a batch of due notifications needs, read in a fixed number of queries."""

    members: dict[int, Member]
    periods: dict[int, Period]
    cells: dict[int, Organization]
    accounts: dict[int, ChatIdentity]  # member id → the account to write to
    done: set[tuple[int, int]]  # (period, member) that submitted or were excused


async def recipients(
    session: AsyncSession, member_ids: set[int], period_ids: set[int], channels: Collection[str]
) -> Recipients:
    """Members, their months and cells (of the months, and the members' own), and for each
    member the account on `channels` they used last (else the one linked last)."""
    members = list(await session.scalars(select(Member).where(Member.id.in_(member_ids))))
    periods = {
        p.id: p for p in await session.scalars(select(Period).where(Period.id.in_(period_ids)))
    }
    cell_ids = {p.cell_id for p in periods.values()} | {m.org_id for m in members}
    cells = await session.scalars(select(Organization).where(Organization.id.in_(cell_ids)))
    identities = await session.scalars(
        select(ChatIdentity)
        .where(ChatIdentity.member_id.in_(member_ids), ChatIdentity.channel.in_(list(channels)))
        .order_by(
            ChatIdentity.last_seen_at.desc().nulls_last(),
            ChatIdentity.created_at.desc(),
            ChatIdentity.id.desc(),
        )
    )
    accounts: dict[int, ChatIdentity] = {}
    for identity in identities:
        accounts.setdefault(identity.member_id, identity)
    excused = await session.execute(
        select(Excusal.period_id, Excusal.member_id).where(
            Excusal.period_id.in_(period_ids), Excusal.status == ExcusalStatus.APPROVED
        )
    )
    submitted = await session.execute(
        select(Assessment.period_id, Assessment.member_id).where(
            Assessment.period_id.in_(period_ids), Assessment.state == AssessmentState.SUBMITTED
        )
    )
    return Recipients(
        members={m.id: m for m in members},
        periods=periods,
        cells={c.id: c for c in cells},
        accounts=accounts,
        done={(p, m) for p, m in excused} | {(p, m) for p, m in submitted},
    )


async def count_refusal(session: AsyncSession, identity_id: int) -> int:
    """One more refusal in a row on this account; how many there are now."""
    await session.execute(
        update(ChatIdentity)
        .where(ChatIdentity.id == identity_id)
        .values(failures=ChatIdentity.failures + 1)
    )
    count = await session.scalar(
        select(ChatIdentity.failures).where(ChatIdentity.id == identity_id)
    )
    return int(count or 0)


async def reset_refusals(session: AsyncSession, identity_id: int) -> None:
    await session.execute(
        update(ChatIdentity).where(ChatIdentity.id == identity_id).values(failures=0)
    )


@dataclass(frozen=True)
class Backlog:
    due: int  # pending and due now
    overdue: int  # pending, due longer ago than the allowed lag
    unknown: int  # a process died while sending them (never resent)
    oldest_due_at: datetime | None


async def backlog(session: AsyncSession, now: datetime, lag: timedelta) -> Backlog:
    """How far behind the outbox is, for /healthz and /metrics."""
    pending = Notification.status == Status.PENDING
    due, oldest = (
        await session.execute(
            select(func.count(Notification.id), func.min(Notification.due_at)).where(
                pending, Notification.due_at <= now
            )
        )
    ).one()
    overdue = await session.scalar(
        select(func.count(Notification.id)).where(pending, Notification.due_at <= now - lag)
    )
    unknown = await session.scalar(
        select(func.count(Notification.id)).where(Notification.status == Status.UNKNOWN)
    )
    return Backlog(int(due), int(overdue or 0), int(unknown or 0), oldest)
