"""The context of one chat turn, handed to every handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat import ChatEvent, Outcome
from bot.i18n import Translator
from bot.runtime import Runtime
from storage.models import Member


class Audience(StrEnum):
    ANYONE = "anyone"
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


Handler = Callable[[Turn, list[str]], Awaitable[Outcome]]
