"""A small committee with two cells in mid-month, for tests that attack the handlers.

Cell A and cell B each have a secretary, members with answers in progress, an open
period with a meeting, a document and an excusal request; a committee officer sits above both and a
stranger has no cell. `World` keeps every id a forged button could name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

import handlers
from bot.core.chat import ChatEvent, Outcome
from bot.services import membership
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from storage import orgs
from storage.models import (
    Assessment,
    ChatIdentity,
    Excusal,
    MeetingDocument,
    OrgKind,
    Period,
    Question,
    QuestionOption,
    Role,
)

MEMBER_A, SECRETARY_A, OTHER_MEMBER_A = "2", "1", "3"
MEMBER_B, SECRETARY_B = "8", "9"
OFFICER, STRANGER = "50", "77"


@dataclass
class World:
    runtime: Runtime
    cell_ids: dict[str, int] = field(default_factory=dict)  # "A"/"B" → organization id
    member_ids: dict[str, int] = field(default_factory=dict)  # chat user → member id
    period_ids: list[int] = field(default_factory=list)
    period_of: dict[str, int] = field(default_factory=dict)  # "A"/"B" → this month's period
    assessment_ids: list[int] = field(default_factory=list)
    question_ids: list[int] = field(default_factory=list)
    question_keys: list[str] = field(default_factory=list)
    excusal_ids: list[int] = field(default_factory=list)
    document_ids: list[int] = field(default_factory=list)
    option_values: list[str] = field(default_factory=list)

    async def say(self, user: str, text: str | None = None, data: str | None = None) -> Outcome:
        event = ChatEvent("telegram", user, user, f"User {user}", "vi", text, data)
        return await handlers.handle(self.runtime, event)

    async def join(self, org_name: str, user: str, role: Role = Role.MEMBER) -> None:
        async with self.runtime.db.session() as session:
            kind = OrgKind.COMMITTEE if role == Role.COMMITTEE_OFFICER else OrgKind.CELL
            org = await orgs.find_by_name(session, org_name, kind)
            assert org is not None
            code, _ = await membership.create_invite(
                session, org, role, now=self.runtime.clock(), valid_for=timedelta(days=1)
            )
        outcome = await self.say(user, f"/start {code}")
        assert outcome.replies and org_name in outcome.replies[0].text, outcome

    async def answer_some(self, user: str, count: int) -> None:
        """Answer the first `count` questions with their first option (or a typed text)."""
        outcome = await self.say(user, "/assess")
        for _ in range(count):
            options = [b for row in outcome.replies[-1].buttons for b in row if ":ans:" in b.data]
            outcome = await (
                self.say(user, data=options[0].data) if options else self.say(user, "Ý kiến")
            )


async def build_world(runtime: Runtime) -> World:
    """Two cells of one committee, both with an open period, a meeting and answers."""
    world = World(runtime)
    async with runtime.db.session() as session:
        ward = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        for key in ("A", "B"):
            cell = await create_cell(
                session, f"Chi bộ {key}", ward, timezone="Asia/Ho_Chi_Minh", locale="vi"
            )
            world.cell_ids[key] = cell.id
    await world.join("Chi bộ A", SECRETARY_A, Role.SECRETARY)
    await world.join("Chi bộ A", MEMBER_A)
    await world.join("Chi bộ A", OTHER_MEMBER_A)
    await world.join("Chi bộ B", SECRETARY_B, Role.SECRETARY)
    await world.join("Chi bộ B", MEMBER_B)
    await world.join("Đảng bộ phường Đông Mai", OFFICER, Role.COMMITTEE_OFFICER)
    runtime.clock.now += timedelta(minutes=1)  # type: ignore[attr-defined]
    for secretary in (SECRETARY_A, SECRETARY_B):
        await world.say(secretary, "/open 2026-12-20 19:30")
        await world.say(secretary, "/meeting 2026-12-15 19:30 | Nhà văn hóa | Nghị quyết")
        await world.say(secretary, "/docs Nghị quyết tháng 12: https://example.org/nq12.pdf")
    for user in (MEMBER_A, OTHER_MEMBER_A, MEMBER_B, SECRETARY_A):
        await world.answer_some(user, 3)
    await world.say(OTHER_MEMBER_A, "/excuse Đi công tác cả tháng")
    await world.say(MEMBER_B, "/excuse Nằm viện")
    await world.say(MEMBER_B, data=f"rsvp:{await _period_of(world, 'B')}:y")
    async with runtime.db.session() as session:
        world.member_ids = dict(
            (await session.execute(select(ChatIdentity.external_id, ChatIdentity.member_id))).all()
        )
        cells = {cell_id: key for key, cell_id in world.cell_ids.items()}
        for period_id, cell_id in await session.execute(select(Period.id, Period.cell_id)):
            world.period_ids.append(period_id)
            world.period_of[cells[cell_id]] = period_id
        world.assessment_ids = list(await session.scalars(select(Assessment.id)))
        world.question_ids = list(await session.scalars(select(Question.id).limit(40)))
        world.question_keys = list(await session.scalars(select(Question.key).limit(40)))
        world.excusal_ids = list(await session.scalars(select(Excusal.id)))
        world.document_ids = list(await session.scalars(select(MeetingDocument.id)))
        world.option_values = list(await session.scalars(select(QuestionOption.value).distinct()))
    return world


async def _period_of(world: World, cell: str) -> int:
    async with world.runtime.db.session() as session:
        period_id = await session.scalar(
            select(Period.id).where(Period.cell_id == world.cell_ids[cell])
        )
    assert period_id is not None
    return period_id
