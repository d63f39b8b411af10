"""What every chat turn needs from the running process: settings, database, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.config import Settings
from bot.services.membership import JoinPolicy
from storage.db import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = utc_now
    bot_username: str | None = None
    join_policy: JoinPolicy = field(default_factory=JoinPolicy)

    @classmethod
    def from_settings(cls, settings: Settings, db: Database | None = None) -> Runtime:
        return cls(
            settings=settings,
            db=db or Database(settings.database_url),
            bot_username=settings.telegram_bot_username or None,
            join_policy=JoinPolicy(
                attempts=settings.invite_attempts_per_window,
                window=timedelta(minutes=settings.invite_attempt_window_minutes),
            ),
        )
