"""A member's life in a cell: removed, moved to another cell, status and role changed.

Used alike by the secretary's /members in chat and by `chibo member …` on the CLI.
Every change is a `MemberEvent` (the audit) and, in the same transaction, one row in
the outbox that tells the member, so the notice is sent at most once and survives a
restart. A member who leaves keeps their row in the old cell (inactive, `left_at`):
the cell's past months stay as they were (`storage.members.on_roll`). A move makes
a new row in the new cell that points back (`moved_from_id`) and takes the person's
chat accounts with it, so their history follows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.numbers import row_id
from bot.services.membership import SECRETARY_ROLES
from bot.services.planner import Kind
from storage import assessments as assessment_store
from storage import invites as invite_store
from storage import members as member_store
from storage import notifications as outbox
from storage import orgs
from storage.models import (
    ChatIdentity,
    Member,
    MemberEvent,
    MemberEventKind,
    MemberStatus,
    Organization,
    OrgKind,
    Period,
    Role,
)

NOTICE_VALID_FOR = timedelta(days=7)  # a notice not delivered within a week is dropped
CELL_ROLES = (Role.MEMBER, Role.DEPUTY_SECRETARY, Role.SECRETARY)
STATUSES = (MemberStatus.OFFICIAL, MemberStatus.PROBATIONARY, MemberStatus.EXEMPT)
MOVED_AWAY = "moved_away"  # a removal's new_value: moved to a cell outside chibo
MAX_REASON_LENGTH = 500


class Refusal(StrEnum):
    GONE = "gone"  # the member has already left the cell
    SELF = "self"  # the secretary would lock themselves out
    LAST_SECRETARY = "last_secretary"  # the cell would be left without any secretary
    NOT_A_CELL = "not_a_cell"  # the member or the destination is not in a cell
    SAME_CELL = "same_cell"


class Refused(Exception):
    """The change is not allowed; nothing was changed."""

    def __init__(self, why: Refusal) -> None:
        super().__init__(why.value)
        self.why = why


@dataclass(frozen=True)
class Moved:
    old: Member
    new: Member


async def roster(session: AsyncSession, cell_id: int) -> list[Member]:
    """The cell's current members, by name."""
    return await member_store.in_org(session, cell_id)


async def destinations(session: AsyncSession, cell: Organization) -> list[Organization]:
    """The cells a secretary may move a member to: the others under the same committee."""
    if cell.parent_id is None:
        return []
    return await orgs.sibling_cells(session, cell)


async def remove(
    session: AsyncSession,
    member: Member,
    reason: str | None,
    now: datetime,
    *,
    by: Member | None = None,
    moved_away: bool = False,
) -> MemberEvent:
    """Take the member off the cell from now on; the reason is kept and told to them.

    `moved_away`: they moved to a cell outside chibo (the notice says so).
    """
    await _check_can_leave(session, member, by)
    _leave(member, reason, now)
    await invite_store.revoke_personal(session, member.id, now)
    return await _record(
        session,
        member,
        MemberEventKind.REMOVED,
        now,
        new=MOVED_AWAY if moved_away else None,
        reason=reason,
        by=by,
    )


async def move(
    session: AsyncSession,
    member: Member,
    target: Organization,
    now: datetime,
    *,
    by: Member | None = None,
    reason: str | None = None,
) -> Moved:
    """Move the member to another cell: a new row there (plain member, same status),
    their chat accounts follow; the old row stays in the old cell as it was."""
    if target.kind != OrgKind.CELL:
        raise Refused(Refusal.NOT_A_CELL)
    if target.id == member.org_id:
        raise Refused(Refusal.SAME_CELL)
    await _check_can_leave(session, member, by)
    new = Member(
        org_id=target.id,
        full_name=member.full_name,
        role=Role.MEMBER,
        status=member.status,
        locale=member.locale,
        reachable=member.reachable,
        muted=member.muted,
        joined_at=now,
        created_at=now,
        moved_from_id=member.id,
    )
    session.add(new)
    await session.flush()
    _leave(member, reason, now)
    await session.execute(
        update(ChatIdentity).where(ChatIdentity.member_id == member.id).values(member_id=new.id)
    )
    await invite_store.revoke_personal(session, member.id, now)
    await _record(
        session,
        member,
        MemberEventKind.MOVED_OUT,
        now,
        new=str(target.id),
        reason=reason,
        by=by,
        other=new,
        notify=False,
    )
    await _record(
        session,
        new,
        MemberEventKind.MOVED_IN,
        now,
        old=str(member.org_id),
        reason=reason,
        by=by,
        other=member,
    )
    await session.refresh(new, ["org"])
    return Moved(member, new)


async def set_status(
    session: AsyncSession, member: Member, status: str, now: datetime, *, by: Member | None = None
) -> MemberEvent | None:
    """The member's status from now on (None: it was already that); months whose deadline
    has passed keep the status the member had then."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if not member.active:
        raise Refused(Refusal.GONE)
    if member.status == status:
        return None
    old, member.status = member.status, status
    return await _record(session, member, MemberEventKind.STATUS, now, old=old, new=status, by=by)


async def set_role(
    session: AsyncSession, member: Member, role: str, now: datetime, *, by: Member | None = None
) -> MemberEvent | None:
    """The member's role in their cell from now on (None: it was already that)."""
    if role not in CELL_ROLES:
        raise ValueError(f"unknown role {role!r}")
    if not member.active:
        raise Refused(Refusal.GONE)
    await session.refresh(member, ["org"])
    if member.org.kind != OrgKind.CELL:
        raise Refused(Refusal.NOT_A_CELL)
    if member.role == role:
        return None
    if member.role in SECRETARY_ROLES and role not in SECRETARY_ROLES:
        if by is not None and by.id == member.id:
            raise Refused(Refusal.SELF)
        if await _last_secretary(session, member):
            raise Refused(Refusal.LAST_SECRETARY)
    old, member.role = member.role, role
    return await _record(session, member, MemberEventKind.ROLE, now, old=old, new=role, by=by)


async def month_of_person(
    session: AsyncSession, member: Member, year: int, month: int
) -> list[tuple[Member, Period]]:
    """The person's rows (this cell's first, then the cells they moved from) with that
    row's cell's period of the month, where there is one: their history follows them."""
    found = []
    for row in await member_store.history_of(session, member):
        period = await assessment_store.period_for_month(session, row.org_id, year, month)
        if period is not None:
            found.append((row, period))
    return found


async def event_of_notice(session: AsyncSession, offset_key: str) -> MemberEvent | None:
    """The change a member notice is about (its outbox key is "e<event id>")."""
    event_id = row_id(offset_key[1:]) if offset_key.startswith("e") else None
    return await session.get(MemberEvent, event_id) if event_id is not None else None


REMOVAL_REASON = "rmr:"  # a secretary's pending input: the reason to remove member N


def ask_removal_reason(secretary: Member, member: Member) -> None:
    """The secretary's next typed text is the reason to remove `member`."""
    secretary.pending_input = f"{REMOVAL_REASON}{member.id}"
    secretary.pending_text = None


def removal_target(secretary: Member) -> int | None:
    """The member whose removal the secretary is writing the reason for, or confirming."""
    pending = secretary.pending_input or ""
    return (
        row_id(pending.removeprefix(REMOVAL_REASON)) if pending.startswith(REMOVAL_REASON) else None
    )


def hold_reason(secretary: Member, reason: str) -> None:
    """Keep the typed reason until the secretary confirms the removal."""
    secretary.pending_text = reason[:MAX_REASON_LENGTH]


def forget_removal(secretary: Member) -> None:
    secretary.pending_input = secretary.pending_text = None


def _leave(member: Member, reason: str | None, now: datetime) -> None:
    member.active = False
    member.left_at, member.left_reason = now, reason
    member.pending_input = member.pending_text = None


async def _check_can_leave(session: AsyncSession, member: Member, by: Member | None) -> None:
    if not member.active:
        raise Refused(Refusal.GONE)
    if by is not None and by.id == member.id:
        raise Refused(Refusal.SELF)
    if member.role in SECRETARY_ROLES and await _last_secretary(session, member):
        raise Refused(Refusal.LAST_SECRETARY)


async def _last_secretary(session: AsyncSession, member: Member) -> bool:
    """Whether the member is the cell's only secretary or deputy."""
    return await member_store.secretary_count(session, member.org_id, SECRETARY_ROLES) <= 1


async def _record(
    session: AsyncSession,
    member: Member,
    kind: MemberEventKind,
    now: datetime,
    *,
    old: str | None = None,
    new: str | None = None,
    reason: str | None = None,
    by: Member | None = None,
    other: Member | None = None,
    notify: bool = True,
) -> MemberEvent:
    """The audit row and, with it, the member's notice in the outbox (key "e<event id>")."""
    event = MemberEvent(
        member_id=member.id,
        at=now,
        kind=kind,
        old_value=old,
        new_value=new,
        reason=reason,
        by_member_id=by.id if by else None,
        other_member_id=other.id if other else None,
    )
    session.add(event)
    await session.flush()
    if notify:
        notice = outbox.row(
            member.id, None, Kind.MEMBER_NOTICE, f"e{event.id}", now, now + NOTICE_VALID_FOR
        )
        await outbox.plan(session, [notice])
    return event
