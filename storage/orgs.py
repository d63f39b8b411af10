"""Queries on the organisation tree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Organization, OrgKind


async def find_by_name(session: AsyncSession, name: str, kind: OrgKind) -> Organization | None:
    query = select(Organization).where(Organization.name == name, Organization.kind == kind)
    return (await session.scalars(query.order_by(Organization.id))).first()


async def create(
    session: AsyncSession,
    name: str,
    kind: OrgKind,
    parent: Organization | None = None,
    *,
    timezone: str = "Asia/Ho_Chi_Minh",
    locale: str = "vi",
    framework_id: int | None = None,
) -> Organization:
    org = Organization(
        name=name,
        kind=kind,
        parent_id=parent.id if parent else None,
        timezone=timezone,
        locale=locale,
        framework_id=framework_id,
    )
    session.add(org)
    await session.flush()
    return org


async def list_all(session: AsyncSession) -> list[Organization]:
    return list(await session.scalars(select(Organization).order_by(Organization.id)))
