"""Personal data (Nghị định 13/2023/NĐ-CP): what chibo stores about one person, its
erasure when they left, and the retention of free text.

- `export`: everything stored about a member, as one JSON-ready mapping (datetimes
  stay `datetime` until `to_json`), which `bot.render.personal_data` also renders as
  readable text;
- `erase`: for a member who is no longer active: name, chat accounts and their free
  text go, the values the cell's records count stay (see `storage.personal_data.erase`);
- `sweep`: the scheduler's daily pass: free text of months older than
  FREE_TEXT_RETENTION_MONTHS is blanked, expired codes, files and join attempts deleted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import N_, Translator
from bot.rules.framework import localized
from storage import members as member_store
from storage import personal_data as store
from storage.db import Database
from storage.models import Answer, Member, Organization, Question

log = logging.getLogger(__name__)

FORMAT = "chibo-personal-data/1"
ERASED_NAME = N_("Party member whose data was erased #{id}")
"""The name an erased member keeps (in the cell's language), so every list still reads."""


def month_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


async def export(
    session: AsyncSession, member_id: int, now: datetime, locale: str | None = None
) -> dict[str, Any] | None:
    """Everything stored about member `member_id` (None if there is no such member).

    Question texts and answer labels are in `locale` (default: the member's language,
    else the cell's); rows that name a month carry it as "YYYY-MM".
    """
    member = await session.get(Member, member_id)
    org = await session.get(Organization, member.org_id) if member else None
    if member is None or org is None:
        return None
    locale = locale or member.locale or org.locale
    sections = await store.rows_referencing(session, member.id)
    period_ids = {
        row["period_id"] for rows in sections.values() for row in rows if row.get("period_id")
    }
    periods = await store.periods_by_id(session, period_ids)
    for rows in sections.values():
        for row in rows:
            period = periods.get(row.get("period_id") or 0)
            if period is not None:
                row["month"] = month_of(period.year, period.month)
    answers: dict[int, list[dict[str, Any]]] = {}
    assessment_ids = [a["id"] for a in sections["assessments"]]
    for answer, question in await store.answers_of(session, assessment_ids):
        answers.setdefault(answer.assessment_id, []).append(_answer(answer, question, locale))
    for assessment in sections["assessments"]:
        assessment["answers"] = answers.get(assessment["id"], [])
    accounts = [(i["channel"], i["external_id"]) for i in sections["chat_identities"]]
    sections["join_attempts"] = [
        {"channel": a.channel, "external_id": a.external_id, "at": a.at}
        for a in await store.join_attempts_of(session, accounts)
    ]
    return {
        "format": FORMAT,
        "exported_at": now,
        "locale": locale,
        "member": {c.name: getattr(member, c.name) for c in Member.__table__.columns},
        "cell": {
            "id": org.id,
            "name": org.name,
            "kind": org.kind,
            "timezone": org.timezone,
            "locale": org.locale,
        },
        **sections,
    }


def _answer(answer: Answer, question: Question, locale: str) -> dict[str, Any]:
    option = next((o for o in question.options if o.value == answer.value), None)
    if answer.skipped or answer.value is None:
        label = None
    elif option is not None:
        label = localized(option.label, locale)
    elif question.kind == "score":
        label = f"{answer.value}/{question.max_value}"
    else:
        label = answer.value
    return {
        "question_key": question.key,
        "question": localized(question.text, locale),
        "kind": question.kind,
        "value": answer.value,
        "label": label,
        "skipped": answer.skipped,
        "comment": answer.comment,
        "answered_at": answer.answered_at,
    }


def to_json(data: dict[str, Any]) -> str:
    """The export as JSON text (UTF-8 as is; times in ISO 8601, UTC)."""

    def plain(value: object) -> object:
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(f"not JSON: {type(value).__name__}")

    return json.dumps(data, ensure_ascii=False, indent=2, default=plain) + "\n"


class Erasure(StrEnum):
    ERASED = "erased"
    ALREADY = "already"  # erased before: done again, nothing was left
    ACTIVE = "active"  # still a member: refused
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ErasureResult:
    outcome: Erasure
    member: Member | None = None


async def still_active(session: AsyncSession, member: Member) -> Member | None:
    """The person's active row, here or in a cell they moved to: then nothing is erased."""
    rows = await member_store.rows_of_person(session, member)
    return next((row for row in rows if row.active), None)


async def erase(session: AsyncSession, member_id: int, now: datetime) -> ErasureResult:
    """Erase the personal data of a member who left (`active` False); refuse an active one."""
    member = await session.get(Member, member_id)
    org = await session.get(Organization, member.org_id) if member else None
    if member is None or org is None:
        return ErasureResult(Erasure.UNKNOWN)
    rows = await member_store.rows_of_person(session, member)
    if active := await still_active(session, member):
        return ErasureResult(Erasure.ACTIVE, active)
    before = member.erased_at
    for row in rows:  # a person who moved has a row in each cell: erase them all
        placeholder = Translator(org.locale)(ERASED_NAME).format(id=row.id)
        await store.erase(session, row, placeholder, now)
        log.info("erased the personal data of member %d", row.id)  # never a name
    return ErasureResult(Erasure.ERASED if before is None else Erasure.ALREADY, member)


SWEEP_EVERY = timedelta(days=1)
SWEEP_BATCH = 200  # months per transaction


@dataclass(frozen=True)
class SweepStats:
    months_cleared: int
    expired_removed: int


async def sweep(
    db: Database, now: datetime, retention_months: int, attempt_window: timedelta
) -> SweepStats:
    """Blank the free text of months past retention (0: keep forever) and delete expired
    link codes, shared files and failed join attempts older than a day (or the window)."""
    cleared = 0
    while retention_months > 0:
        async with db.session() as session:
            batch = await store.periods_past_retention(session, now, retention_months, SWEEP_BATCH)
            await store.clear_free_text(session, batch, now)
        cleared += len(batch)
        if len(batch) < SWEEP_BATCH:
            break
    async with db.session() as session:
        keep_attempts = max(attempt_window, timedelta(days=1))
        removed = await store.prune_expired(session, now, now - keep_attempts)
    if cleared or removed:
        log.info("retention: free text of %d months cleared, %d expired rows", cleared, removed)
    return SweepStats(cleared, removed)
