"""Queries on the organisation tree."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import chunks
from storage.models import Organization, OrgKind, Period


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


async def cells_under(session: AsyncSession, committee_id: int) -> list[Organization]:
    """Every cell below the committee, at any depth of the tree, by name."""
    children: dict[int | None, list[Organization]] = {}
    for org in await session.scalars(select(Organization)):
        children.setdefault(org.parent_id, []).append(org)
    found: list[Organization] = []
    stack = [committee_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child.kind == OrgKind.CELL:
                found.append(child)
            else:
                stack.append(child.id)
    return sorted(found, key=lambda o: o.name)


async def committees_under(session: AsyncSession, committee_id: int) -> list[Organization]:
    """Every committee below the committee, at any depth of the tree, by name."""
    children: dict[int | None, list[Organization]] = {}
    query = select(Organization).where(Organization.kind == OrgKind.COMMITTEE)
    for org in await session.scalars(query):
        children.setdefault(org.parent_id, []).append(org)
    found: list[Organization] = []
    stack = [committee_id]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.id)
    return sorted(found, key=lambda o: o.name)


async def periods_of_cells(
    session: AsyncSession, cell_ids: list[int], year: int, month: int | None = None
) -> list[Period]:
    """The cells' periods of a year, or of one month of it."""
    query = select(Period).where(Period.cell_id.in_(cell_ids), Period.year == year)
    if month is not None:
        query = query.where(Period.month == month)
    return list(await session.scalars(query))


async def periods_by_id(session: AsyncSession, period_ids: list[int]) -> list[Period]:
    found: list[Period] = []
    for chunk in chunks(period_ids):
        found += await session.scalars(select(Period).where(Period.id.in_(chunk)))
    return found


async def latest_month(session: AsyncSession, cell_ids: list[int]) -> tuple[int, int] | None:
    """(year, month) of the cells' newest period."""
    query = select(func.max(Period.year * 100 + Period.month)).where(Period.cell_id.in_(cell_ids))
    latest = await session.scalar(query)
    return (int(latest) // 100, int(latest) % 100) if latest else None


async def sibling_cells(session: AsyncSession, cell: Organization) -> list[Organization]:
    """The other cells directly under the same committee, by name."""
    query = select(Organization).where(
        Organization.parent_id == cell.parent_id,
        Organization.kind == OrgKind.CELL,
        Organization.id != cell.id,
    )
    return list(await session.scalars(query.order_by(Organization.name, Organization.id)))
