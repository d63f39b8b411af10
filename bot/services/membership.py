"""Joining a cell by invite, creating invites, roles.

Invite codes come from `secrets` (96 bits, URL-safe so they fit a Telegram
deep link); only their hash is stored. Wrong codes are counted per chat and
throttled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from storage import invites as invite_store
from storage import members as member_store
from storage.models import Invite, Member, Organization, Role

SECRETARY_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY})
INVITE_CODE_BYTES = 12  # 96 bits of entropy, 16 URL-safe characters


def new_invite_code() -> str:
    return secrets.token_urlsafe(INVITE_CODE_BYTES)


def looks_like_invite_code(text: str) -> bool:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return 12 <= len(text) <= 64 and set(text) <= allowed


def is_secretary(member: Member | None) -> bool:
    return member is not None and member.role in SECRETARY_ROLES


async def create_invite(
    session: AsyncSession,
    org: Organization,
    role: Role,
    *,
    now: datetime,
    valid_for: timedelta,
    max_uses: int = 1,
    created_by: Member | None = None,
    member: Member | None = None,
) -> tuple[str, Invite]:
    """A new invite and its code (shown once: only the hash is kept)."""
    code = new_invite_code()
    invite = Invite(
        code_hash=invite_store.code_hash(code),
        org_id=org.id,
        role=role,
        member_id=member.id if member else None,
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        expires_at=now + valid_for,
        max_uses=max_uses,
    )
    session.add(invite)
    await session.flush()
    return code, invite


class JoinStatus(StrEnum):
    JOINED = "joined"
    ALREADY_MEMBER = "already_member"
    THROTTLED = "throttled"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED_UP = "used_up"


@dataclass(frozen=True)
class JoinResult:
    status: JoinStatus
    member: Member | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class JoinPolicy:
    attempts: int = 5
    window: timedelta = timedelta(minutes=15)


async def join(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    display_name: str,
    code: str,
    now: datetime,
    policy: JoinPolicy = JoinPolicy(),
    bot: int | None = None,
) -> JoinResult:
    """Redeem an invite for this chat identity (writing to `bot`); nothing changes unless
    it succeeds."""
    existing = await member_store.by_identity(session, channel, external_id)
    if existing is not None:
        return JoinResult(JoinStatus.ALREADY_MEMBER, existing)

    retry_at = await throttled_until(session, channel, external_id, now, policy)
    if retry_at is not None:
        return JoinResult(JoinStatus.THROTTLED, retry_at=retry_at)

    invite = await invite_store.by_code(session, code)
    problem = _problem(invite, now)
    if problem is not None:
        await invite_store.record_failed_attempt(session, channel, external_id, now)
        return JoinResult(problem)
    assert invite is not None
    if invite.member_id is not None and await member_store.has_identity(
        session, invite.member_id, channel
    ):
        return JoinResult(JoinStatus.USED_UP)
    if not await invite_store.take_use(session, invite.id):
        return JoinResult(JoinStatus.USED_UP)

    member = await _member_for_invite(session, invite, display_name, now)
    await member_store.release_identity(session, channel, external_id)  # a former member's
    identity = await member_store.link_identity(session, member, channel, external_id, bot)
    identity.last_seen_at = now
    await session.refresh(member, ["org"])
    return JoinResult(JoinStatus.JOINED, member)


async def throttled_until(
    session: AsyncSession, channel: str, external_id: str, now: datetime, policy: JoinPolicy
) -> datetime | None:
    """When this chat may try a code again, if it tried too many wrong ones (invite or link)."""
    failures, oldest = await invite_store.failed_attempts_since(
        session, channel, external_id, now - policy.window
    )
    if failures >= policy.attempts and oldest is not None:
        return oldest + policy.window
    return None


def _problem(invite: Invite | None, now: datetime) -> JoinStatus | None:
    if invite is None or invite.revoked_at is not None:
        return JoinStatus.INVALID
    if invite.expires_at <= now:
        return JoinStatus.EXPIRED
    if invite.uses >= invite.max_uses:
        return JoinStatus.USED_UP
    return None


async def _member_for_invite(
    session: AsyncSession, invite: Invite, display_name: str, now: datetime
) -> Member:
    """The pre-registered member of a personal invite, or a new one."""
    if invite.member_id is not None:
        member = await session.get(Member, invite.member_id)
        assert member is not None
        member.joined_at = now
        return member
    member = Member(
        org_id=invite.org_id,
        full_name=display_name.strip()[:200] or "?",
        role=invite.role,
        joined_at=now,
        created_at=now,
    )
    session.add(member)
    await session.flush()
    return member


def set_locale(member: Member, locale: str) -> None:
    """The member's language from now on (a supported locale code)."""
    member.locale = locale
