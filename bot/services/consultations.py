"""Opinions on a draft (góp ý dự thảo): a secretary asks, every member answers by a deadline.

A consultation is a text (and optionally a Telegram file: a draft resolution, or a draft
of the cell's criteria framework as YAML) of one cell's month. Sending it puts one outbox
row per member of the cell; a scheduler tick (`plan_due`) later puts one reminder row per
member who has not answered, and at the deadline the tally to the secretaries. Each of
these is planned once (`reminded_at`, `tallied_at`) under the outbox's natural keys, so
nothing is sent twice. The share of the roll that answered fills the cell criterion with
the `consultation_answer_rate` metric (`bot.rules.scoring`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import MAX_DOCUMENT_BYTES, Attachment
from bot.rules.calendar import typed_day
from bot.services import documents, files
from bot.services.documents import Publishing
from bot.services.planner import Kind
from storage import consultations as store
from storage import members as member_store
from storage import notifications as outbox
from storage.models import (
    Consultation,
    ConsultationChoice,
    ConsultationResponse,
    Member,
    MemberStatus,
    Period,
)

REMIND_BEFORE = timedelta(hours=24)
"""**Default**: the one reminder goes this long before the deadline, or halfway between the
consultation and its deadline when that is sooner."""
MAX_AHEAD = timedelta(days=60)  # a deadline further ahead is a typo
MIN_AHEAD = timedelta(minutes=1)
MAX_OPEN = 10  # open consultations at a time in one cell: the members' overview stays short
TALLY_DAYS = 7  # the tally waits this long for a secretary who is offline
RECENT_DAYS = 30  # /consult lists consultations closed within this many days
FILE_TYPES = documents.FILE_TYPES | documents.FRAMEWORK_TYPES  # a framework draft is YAML
OFFSET_PREFIX = "c"
COMMENT_INPUT = "consult:"  # Member.pending_input while the member types "another opinion"

_CLOCK = re.compile(r"^(?P<hour>\d{1,2})[:h](?P<minute>\d{2})$")


class Problem(StrEnum):
    NO_PERIOD = "no_period"  # no month open to keep the result with
    EMPTY = "empty"
    BAD_DEADLINE = "bad_deadline"
    PAST_DEADLINE = "past_deadline"
    FAR_DEADLINE = "far_deadline"
    TOO_MANY = "too_many"
    TOO_LARGE = "too_large"
    UNKNOWN_TYPE = "unknown_type"


class Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def parse_deadline(text: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """ "20/12 17:00", "20/12" (23:59), "20/12/2026 17:00" in the cell's zone, as UTC.

    Without a year: the next 20/12 (this year's, or next year's once it has passed).
    ASCII digits only; None when it is not a date and time."""
    day_text, _, clock = text.strip().partition(" ")
    found = _CLOCK.match(clock.strip()) if clock.strip() else None
    if clock.strip() and found is None:
        return None
    day = typed_day(day_text, now.astimezone(zone).date())
    if day is None:
        return None
    hour, minute = (int(found["hour"]), int(found["minute"])) if found else (23, 59)
    if hour > 23 or minute > 59:
        return None
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def remind_time(created: datetime, deadline: datetime) -> datetime:
    """When the one reminder goes: REMIND_BEFORE ahead, or halfway if the deadline is sooner."""
    return max(deadline - REMIND_BEFORE, created + (deadline - created) / 2)


def file_problem(file: Attachment) -> Problem | None:
    suffix = "." + file.filename.lower().rsplit(".", 1)[-1] if "." in file.filename else ""
    if suffix not in FILE_TYPES:
        return Problem.UNKNOWN_TYPE
    if file.byte_size > documents.MAX_FILE_BYTES:
        return Problem.TOO_LARGE
    return None


def must_answer(member: Member) -> bool:
    """Counted in the roll: every active member except those exempt from party activities."""
    return member.status != MemberStatus.EXEMPT


async def create(
    session: AsyncSession,
    cell_id: int,
    by: Member,
    text: str,
    deadline: datetime | None,
    now: datetime,
    file: Attachment | None = None,
    publishing: Publishing | None = None,
) -> tuple[Consultation, int]:
    """A new consultation, queued to every member of the cell; with how many it goes to."""
    text = text.strip()
    if file is None and not text:
        raise Refused(Problem.EMPTY)
    if deadline is None:
        raise Refused(Problem.BAD_DEADLINE)
    if deadline <= now + MIN_AHEAD:
        raise Refused(Problem.PAST_DEADLINE)
    if deadline > now + MAX_AHEAD:
        raise Refused(Problem.FAR_DEADLINE)
    if file is not None and (problem := file_problem(file)) is not None:
        raise Refused(problem)
    period = await documents.month_of(session, cell_id, now)
    if period is None:
        raise Refused(Problem.NO_PERIOD)
    if await store.count_open(session, cell_id, now) >= MAX_OPEN:
        raise Refused(Problem.TOO_MANY)
    members = await member_store.in_org(session, cell_id)
    consultation = Consultation(
        period_id=period.id,
        created_by_id=by.id,
        text=text or (file.filename if file else ""),
        created_at=now,
        deadline_at=deadline,
        remind_at=remind_time(now, deadline),
        roll=sum(1 for m in members if must_answer(m)),
    )
    if file is not None:
        consultation.file_id = file.file_id
        consultation.file_name = file.filename[:200]
        consultation.mime_type = (file.mime_type or "")[:100] or None
        consultation.file_size = file.byte_size
        consultation.file_link = await _public_copy(session, file, now, publishing)
    session.add(consultation)
    await session.flush()
    await outbox.plan(
        session,
        [
            outbox.row(
                member.id, period.id, Kind.CONSULTATION, offset_key(consultation), now, deadline
            )
            for member in members
        ],
    )
    return consultation, len(members)


async def _public_copy(
    session: AsyncSession, file: Attachment, now: datetime, publishing: Publishing | None
) -> str | None:
    """A link to the file for Zalo members, as for meeting documents (until the deadline is
    long past: FILE_LINK_DAYS)."""
    if publishing is None or not publishing.base_url or not file.content:
        return None
    if file.byte_size > MAX_DOCUMENT_BYTES:
        return None
    return await files.share(
        session, file, now, publishing.base_url, timedelta(days=publishing.days)
    )


def offset_key(consultation: Consultation) -> str:
    return f"{OFFSET_PREFIX}{consultation.id}"


def consultation_id_of(offset: str) -> int | None:
    digits = offset.removeprefix(OFFSET_PREFIX)
    return int(digits) if digits.isascii() and digits.isdigit() else None


@dataclass(frozen=True)
class Owned:
    consultation: Consultation
    period: Period


async def own(session: AsyncSession, consultation_id: int, cell_id: int) -> Owned | None:
    """The consultation if it belongs to the cell; None for another cell's id or a forged one."""
    found = await store.of_cell(session, consultation_id, cell_id)
    return Owned(*found) if found is not None else None


class Answered(StrEnum):
    SAVED = "saved"
    CLOSED = "closed"  # the deadline has passed: the answer is kept as it was
    UNKNOWN = "unknown"  # not a consultation of the member's cell


async def answer(
    session: AsyncSession,
    member: Member,
    consultation_id: int,
    choice: ConsultationChoice,
    comment: str | None,
    now: datetime,
) -> tuple[Answered, Owned | None]:
    """Record the member's answer (replacing an earlier one) while the consultation is open."""
    found = await own(session, consultation_id, member.org_id)
    if found is None:
        return Answered.UNKNOWN, None
    if found.consultation.deadline_at <= now:
        return Answered.CLOSED, found
    text = comment.strip() if comment and choice is ConsultationChoice.OTHER else None
    await store.answer(session, consultation_id, member.id, choice.value, text, now)
    return Answered.SAVED, found


def ask_comment(member: Member, consultation: Consultation) -> None:
    """The member's next typed text is their other opinion on this consultation."""
    member.pending_input = f"{COMMENT_INPUT}{consultation.id}"


def comment_pending(member: Member) -> int | None:
    """The consultation the member is typing an opinion on, if any."""
    pending = member.pending_input or ""
    if not pending.startswith(COMMENT_INPUT):
        return None
    digits = pending.removeprefix(COMMENT_INPUT)
    return int(digits) if digits.isascii() and digits.isdigit() else None


def stop_asking(member: Member) -> None:
    if comment_pending(member) is not None:
        member.pending_input = None


async def response_of(
    session: AsyncSession, consultation: Consultation, member: Member
) -> ConsultationResponse | None:
    return await store.response_of(session, consultation.id, member.id)


@dataclass(frozen=True)
class Tally:
    """The counts of a consultation; `responses` and `missing` only for secretaries."""

    consultation: Consultation
    counts: dict[str, int]
    roll: int
    responses: list[tuple[ConsultationResponse, Member]] = field(default_factory=list)
    missing: list[Member] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    def count(self, choice: ConsultationChoice) -> int:
        return self.counts.get(choice.value, 0)


async def tally(
    session: AsyncSession, consultation: Consultation, cell_id: int, *, detailed: bool
) -> Tally:
    """The consultation's counts; `detailed` adds every answer with its author and who is
    missing (for the cell's secretaries only, never committee officers or members)."""
    counts = (await store.choice_counts(session, [consultation.id])).get(consultation.id, {})
    if not detailed:
        return Tally(consultation, counts, consultation.roll)
    responses = await store.responses(session, consultation.id)
    answered = {member.id for _r, member in responses}
    members = await member_store.in_org(session, cell_id)
    missing = [m for m in members if m.id not in answered and must_answer(m)]
    return Tally(consultation, counts, consultation.roll, responses, missing)


async def counts_of(session: AsyncSession, ids: list[int]) -> dict[int, dict[str, int]]:
    return await store.choice_counts(session, ids)


async def recent(session: AsyncSession, cell_id: int, now: datetime) -> list[Consultation]:
    """The open consultations and those closed within RECENT_DAYS, newest deadline first."""
    return await store.recent(session, cell_id, now - timedelta(days=RECENT_DAYS), MAX_OPEN * 2)


async def of_period(session: AsyncSession, period: Period) -> list[Tally]:
    """The month's consultations with their counts (no names: for any page)."""
    found = await store.in_periods(session, [period.id])
    counts = await store.choice_counts(session, [c.id for c in found])
    return [Tally(c, counts.get(c.id, {}), c.roll) for c in found]


async def answers_of(
    session: AsyncSession, consultations: list[Consultation], member: Member
) -> dict[int, ConsultationResponse]:
    return await store.responses_by(session, [c.id for c in consultations], member.id)


async def plan_due(session: AsyncSession, now: datetime, limit: int = 200) -> int:
    """Plan what has fallen due: the reminder to members who have not answered, and the
    tally to the secretaries at the deadline. Each consultation's are planned once."""
    planned = 0
    for consultation in await store.due_reminders(session, now, limit):
        period = await session.get(Period, consultation.period_id)
        assert period is not None
        answered = await store.answered_member_ids(session, consultation.id)
        members = await member_store.in_org(session, period.cell_id)
        rows = [
            outbox.row(
                m.id,
                period.id,
                Kind.CONSULTATION_REMINDER,
                offset_key(consultation),
                now,
                consultation.deadline_at,
            )
            for m in members
            if m.id not in answered and must_answer(m)
        ]
        await outbox.plan(session, rows)
        consultation.reminded_at = now
        planned += len(rows)
    for consultation in await store.due_tallies(session, now, limit):
        period = await session.get(Period, consultation.period_id)
        assert period is not None
        secretaries = await member_store.secretaries_of(session, period.cell_id)
        rows = [
            outbox.row(
                s.id,
                period.id,
                Kind.CONSULTATION_TALLY,
                offset_key(consultation),
                now,
                max(now, consultation.deadline_at) + timedelta(days=TALLY_DAYS),
            )
            for s in secretaries
        ]
        await outbox.plan(session, rows)
        consultation.tallied_at = now
        planned += len(rows)
    return planned


async def for_notice(session: AsyncSession, offset: str, period: Period) -> Consultation | None:
    """The consultation a notification row names, if it is of that row's month."""
    consultation_id = consultation_id_of(offset)
    found = await session.get(Consultation, consultation_id) if consultation_id else None
    return found if found is not None and found.period_id == period.id else None


@dataclass(frozen=True)
class YearLine:
    """One consultation of the year, for the workbook."""

    consultation: Consultation
    month: int
    counts: dict[str, int]
    responses: list[tuple[ConsultationResponse, Member]]


async def of_year(session: AsyncSession, periods: list[Period]) -> list[YearLine]:
    """The year's consultations with their counts and every answer with its author."""
    month_of = {p.id: p.month for p in periods}
    found = await store.in_periods(session, list(month_of))
    counts = await store.choice_counts(session, [c.id for c in found])
    return [
        YearLine(
            c,
            month_of[c.period_id],
            counts.get(c.id, {}),
            await store.responses(session, c.id),
        )
        for c in found
    ]
