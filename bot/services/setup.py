"""Administration services used by the CLI: organisation tree, cells, invites, imports."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import clean_text
from bot.core.numbers import row_id
from bot.rules.framework import (
    FrameworkSpec,
    shipped_framework,
)
from bot.services import membership
from storage import frameworks as framework_store
from storage import orgs
from storage.frameworks import FrameworkCodeReserved, spec_digest
from storage.models import Framework, Member, MemberStatus, Organization, OrgKind, Role


async def ensure_default_framework(session: AsyncSession) -> Framework:
    """The shipped default framework, stored once per version."""
    framework, _created = await framework_store.store(session, shipped_framework())
    return framework


async def adopt_shipped_framework(session: AsyncSession, framework: Framework) -> int:
    """Cells and committees on an older version of the shipped default move to `framework`
    (months already opened keep the version they were opened with); those on a framework
    of their own, uploaded or imported under another code, stay. Returns how many moved."""
    older = select(Framework.id).where(
        Framework.owner_org_id.is_(None),
        Framework.code == framework.code,
        Framework.version < framework.version,
    )
    moved = await session.execute(
        update(Organization)
        .where(Organization.framework_id.in_(older.scalar_subquery()))
        .values(framework_id=framework.id)
    )
    return int(getattr(moved, "rowcount", 0) or 0)


async def import_framework(session: AsyncSession, spec: FrameworkSpec) -> tuple[Framework, bool]:
    """A framework file the administrator imports: global, for any cell.

    The shipped framework's code stays with the shipped file: another file under it would
    make a later upgrade's version collide (FrameworkCodeReserved).
    """
    shipped = shipped_framework()
    if spec.code == shipped.code and spec_digest(spec) != spec_digest(shipped):
        raise FrameworkCodeReserved(
            f"the code {spec.code} is reserved for the framework shipped with chibo; "
            "give your file its own code"
        )
    return await framework_store.store(session, spec)


async def committee(
    session: AsyncSession, name: str, parent: Organization | None = None
) -> tuple[Organization, bool]:
    """Find a committee by name or create it; returns (committee, created)."""
    found = await orgs.find_by_name(session, name, OrgKind.COMMITTEE)
    if found is not None:
        return found, False
    return await orgs.create(session, name, OrgKind.COMMITTEE, parent), True


async def create_cell(
    session: AsyncSession,
    name: str,
    parent: Organization | None,
    *,
    timezone: str,
    locale: str,
) -> Organization:
    framework = await ensure_default_framework(session)
    return await orgs.create(
        session,
        name,
        OrgKind.CELL,
        parent,
        timezone=timezone,
        locale=locale,
        framework_id=framework.id,
    )


async def find_org(session: AsyncSession, ref: str, kind: OrgKind) -> Organization | None:
    """An organisation by id ("12") or by exact name."""
    if (org_id := row_id(ref)) is not None:
        org = await session.get(Organization, org_id)
        return org if org is not None and org.kind == kind else None
    return await orgs.find_by_name(session, ref, kind)


@dataclass(frozen=True)
class ImportedMember:
    member: Member
    code: str
    expires_at: datetime


class ImportError_(ValueError):
    """A CSV row cannot be imported; the message names the line."""


STATUS_WORDS = {
    "official": MemberStatus.OFFICIAL,
    "chính thức": MemberStatus.OFFICIAL,
    "probationary": MemberStatus.PROBATIONARY,
    "dự bị": MemberStatus.PROBATIONARY,
    "exempt": MemberStatus.EXEMPT,
    "miễn": MemberStatus.EXEMPT,
    "miễn sinh hoạt": MemberStatus.EXEMPT,
}
ROLE_WORDS = {
    "member": Role.MEMBER,
    "đảng viên": Role.MEMBER,
    "secretary": Role.SECRETARY,
    "bí thư": Role.SECRETARY,
    "deputy_secretary": Role.DEPUTY_SECRETARY,
    "phó bí thư": Role.DEPUTY_SECRETARY,
}
NAME_COLUMNS = ("name", "họ và tên", "họ tên", "ho_ten")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_csv(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without BOM) or UTF-16 with its BOM; else refused.

    Spreadsheet programs save "CSV UTF-8" or "Unicode text"; any other encoding (cp1258,
    latin-1, …) would give wrong names silently or fail half-way, so it is refused.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ImportError_(
                    f"the file is not valid {encoding} text ({exc.reason})"
                ) from None
    if data.count(b"\x00") > len(data) // 4:  # ASCII text in UTF-16: every other byte
        raise ImportError_("the file looks like UTF-16 without a BOM; save it as 'CSV UTF-8'")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportError_(
            f"line {line}: the file is not UTF-8 text; save it as 'CSV UTF-8' and try again"
        ) from None


async def import_members(
    session: AsyncSession, cell: Organization, csv_text: str, *, now: datetime, valid_days: int
) -> list[ImportedMember]:
    """Members from CSV (name[, status][, role]); each gets a personal one-time invite.

    All rows are checked before any is stored: a bad file imports nothing.
    """
    rows = list(csv.DictReader(io.StringIO(clean_text(csv_text.lstrip("\ufeff")))))
    parsed: list[tuple[str, MemberStatus, Role]] = []
    for line, row in enumerate(rows, start=2):
        fields = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        name = next((fields[c] for c in NAME_COLUMNS if fields.get(c)), "")
        if not name:
            raise ImportError_(f"line {line}: no name (columns: name, status, role)")
        status_word = (fields.get("status") or fields.get("trạng thái") or "official").lower()
        role_word = (fields.get("role") or fields.get("chức vụ") or "member").lower()
        if status_word not in STATUS_WORDS:
            raise ImportError_(f"line {line}: unknown status {status_word!r}")
        if role_word not in ROLE_WORDS:
            raise ImportError_(f"line {line}: unknown role {role_word!r}")
        parsed.append((name[:200], STATUS_WORDS[status_word], ROLE_WORDS[role_word]))
    if not parsed:
        raise ImportError_("the file has no member rows")
    imported = []
    for name, status, role in parsed:
        member = Member(org_id=cell.id, full_name=name, status=status, role=role, created_at=now)
        session.add(member)
        await session.flush()
        code, invite = await membership.create_invite(
            session, cell, role, now=now, valid_for=timedelta(days=valid_days), member=member
        )
        imported.append(ImportedMember(member, code, invite.expires_at))
    return imported
