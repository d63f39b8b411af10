"""The demo cell for `chibo demo`: a secretary, members, and a guest who has not joined."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.console import CHANNEL, Persona
from bot.services import setup
from bot.services.periods import open_period
from storage import members as member_store
from storage import orgs
from storage.models import Member, MemberStatus, OrgKind, Role

DEMO_COMMITTEE = "Đảng bộ phường Đông Mai (demo)"
DEMO_CELL = "Chi bộ khu Biểu Nghi (demo)"
DEMO_PEOPLE = (
    ("Nguyễn Văn An", Role.SECRETARY, MemberStatus.OFFICIAL, "demo-an", "bí thư"),
    ("Trần Thị Bình", Role.MEMBER, MemberStatus.OFFICIAL, "demo-binh", "đảng viên"),
    ("Lê Văn Cường", Role.MEMBER, MemberStatus.PROBATIONARY, "demo-cuong", "đảng viên dự bị"),
    ("Phạm Thị Dung", Role.MEMBER, MemberStatus.EXEMPT, "demo-dung", "miễn sinh hoạt"),
)
GUEST = Persona("Khách", "demo-guest", "chưa vào chi bộ — thử /start MÃ")


async def seed(session: AsyncSession, timezone: str, locale: str, now: datetime) -> list[Persona]:
    """Create the demo cell once; return the personas to chat as."""
    cell = await orgs.find_by_name(session, DEMO_CELL, OrgKind.CELL)
    if cell is None:
        committee, _ = await setup.committee(session, DEMO_COMMITTEE)
        cell = await setup.create_cell(
            session, DEMO_CELL, committee, timezone=timezone, locale=locale
        )
        for name, role, status, external_id, _note in DEMO_PEOPLE:
            member = Member(org_id=cell.id, full_name=name, role=role, status=status)
            session.add(member)
            await session.flush()
            await member_store.link_identity(session, member, CHANNEL, external_id)
    secretary = (await member_store.in_org(session, cell.id))[0]
    await open_period(session, cell, secretary, now)
    personas = [Persona(name, ext, note) for name, _r, _s, ext, note in DEMO_PEOPLE]
    return [*personas, GUEST]
