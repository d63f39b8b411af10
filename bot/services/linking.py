"""One person, two chat apps: a short-lived code links a second account to a membership.

The member asks for a code with /link where chibo knows them, and sends it from the
other app within minutes. Progress, summaries and records count members, never chat
accounts; notifications go to the account the member used last.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.membership import JoinPolicy, throttled_until
from storage import invites as invite_store
from storage import links as link_store
from storage import members as member_store
from storage.models import Member

LINK_VALID = timedelta(minutes=15)
_CODE = re.compile(r"^(?:lk)?[\s-]*(\d{4})[\s-]*(\d{4})$", re.IGNORECASE)
_PREFIXED = re.compile(r"^lk[\s-]*\d{4}[\s-]*\d{4}$", re.IGNORECASE)


def new_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def shown(code: str) -> str:
    """How a code is written for people: "LK-1234-5678"."""
    return f"LK-{code[:4]}-{code[4:]}"


def parse(text: str) -> str | None:
    """The 8 digits of a typed code ("LK-1234-5678", "lk 12345678", "1234 5678")."""
    match = _CODE.match(text.strip())
    return match.group(1) + match.group(2) if match else None


def looks_like_link_code(text: str) -> bool:
    """A plain message that is a link code (it must carry the "LK" prefix)."""
    return _PREFIXED.match(text.strip()) is not None


async def create(session: AsyncSession, member: Member, now: datetime) -> tuple[str, datetime]:
    code = new_code()
    expires = now + LINK_VALID
    await link_store.create(session, member.id, code, expires)
    return code, expires


class LinkStatus(StrEnum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"  # this account already belongs to a member
    CHANNEL_TAKEN = "channel_taken"  # the member already has another account on this app
    INVALID = "invalid"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LinkResult:
    status: LinkStatus
    member: Member | None = None
    retry_at: datetime | None = None


async def redeem(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    code: str,
    now: datetime,
    policy: JoinPolicy,
    bot: int | None = None,
) -> LinkResult:
    """Link this chat account to the member the code belongs to; nothing else changes."""
    existing = await member_store.by_identity(session, channel, external_id)
    if existing is not None:
        return LinkResult(LinkStatus.ALREADY_LINKED, existing)
    retry_at = await throttled_until(session, channel, external_id, now, policy)
    if retry_at is not None:
        return LinkResult(LinkStatus.THROTTLED, retry_at=retry_at)
    member_id = await link_store.take(session, code, now)
    member = await session.get(Member, member_id) if member_id is not None else None
    if member is None or not member.active:
        await invite_store.record_failed_attempt(session, channel, external_id, now)
        return LinkResult(LinkStatus.INVALID)
    if await member_store.has_identity(session, member.id, channel):
        return LinkResult(LinkStatus.CHANNEL_TAKEN, member)
    await member_store.release_identity(session, channel, external_id)  # a former member's
    identity = await member_store.link_identity(session, member, channel, external_id, bot)
    identity.last_seen_at = now  # notifications now come here
    await session.refresh(member, ["org"])
    return LinkResult(LinkStatus.LINKED, member)
