"""The context of one chat turn, handed to every handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import ChatEvent, Outcome
from bot.core.i18n import Translator
from bot.services.runtime import Runtime
from storage import assessments
from storage.models import Member, Period


class Audience(StrEnum):
    ANYONE = "anyone"
    SIGNED_UP = "signed_up"  # anyone chibo knows: a cell's member or a committee officer
    MEMBER = "member"
    SECRETARY = "secretary"
    COMMITTEE = "committee"


@dataclass
class Turn:
    runtime: Runtime
    event: ChatEvent
    session: AsyncSession
    member: Member | None
    t: Translator
    now: datetime

    def _(self, message: str) -> str:
        return self.t.gettext(message)

    def speak_as(self, member: Member) -> None:
        """From now on the turn is this member's (who just joined or linked), in their language."""
        self.member = member
        self.t = Translator(member.locale or member.org.locale, member.org.timezone)


Handler = Callable[[Turn, list[str]], Awaitable[Outcome]]


async def own_period(turn: Turn, period_id: int | None) -> Period | None:
    """The period a button names, if it belongs to the cell of the person pressing it."""
    assert turn.member is not None
    period = await turn.session.get(Period, period_id) if period_id is not None else None
    return period if period is not None and period.cell_id == turn.member.org_id else None


async def current_period(turn: Turn) -> Period | None:
    """This month's period of the member's cell (the open one, else the latest)."""
    assert turn.member is not None
    return await assessments.current_period(turn.session, turn.member.org_id, turn.now)


def stale(turn: Turn) -> Outcome:
    """The one answer to a button that is stale, forged or no longer applies."""
    return Outcome(notice=turn._("This button is no longer valid."))
