"""How Telegram's answers become delivery outcomes (at most once, retry only the unsent)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram import TelegramSender, _render
from bot.core.chat import Button, Outcome, Reply
from bot.services.notify import Delivery


class FailingBot:
    """Stands in for telegram.Bot: every send raises the given error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def send_message(self, *args: Any, **kwargs: Any) -> None:
        raise self.error


def timed_out(cause: Exception) -> TimedOut:
    try:
        raise TimedOut() from cause
    except TimedOut as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "delivery"),
    [
        (timed_out(httpx.ReadTimeout("read")), Delivery.UNKNOWN),  # may have been delivered
        (timed_out(httpx.ConnectTimeout("connect")), Delivery.RETRY),  # never left
        (timed_out(httpx.PoolTimeout("pool")), Delivery.RETRY),
        (RetryAfter(3), Delivery.RETRY),
        (NetworkError("Bad Gateway"), Delivery.RETRY),
        (Forbidden("Forbidden: bot was blocked by the user"), Delivery.UNREACHABLE),
        (BadRequest("Bad Request: chat not found"), Delivery.UNREACHABLE),
        (BadRequest("Bad Request: message is too long"), Delivery.FAILED),
    ],
)
async def test_errors_map_to_outcomes(error: Exception, delivery: Delivery) -> None:
    sender = TelegramSender(FailingBot(error))  # type: ignore[arg-type]
    result = await sender.send("1001", Reply("Nhắc lịch"))
    assert result.delivery is delivery
    if isinstance(error, RetryAfter):
        assert result.retry_after == 3


class RecordingBot:
    """Stands in for telegram.Bot: keeps each message; refuses what Telegram refuses."""

    def __init__(self, fail_at: int | None = None, error: Exception | None = None) -> None:
        self.texts: list[str] = []
        self.markups: list[object] = []
        self.fail_at, self.error = fail_at, error

    async def send_message(self, chat_id: int, text: str, reply_markup: object = None) -> None:
        if len(self.texts) == self.fail_at and self.error is not None:
            raise self.error
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise BadRequest("Message is too long")
        self.texts.append(text)
        self.markups.append(reply_markup)


MISSING = "\n".join(
    f"⬜ Nguyễn Thị Thành Viên Số {n:03d} của chi bộ khu dân cư — chưa làm" for n in range(150)
)


async def test_a_long_notice_goes_out_in_parts_in_order() -> None:
    bot = RecordingBot()
    reply = Reply(MISSING, [[Button("📝 Bắt đầu", "go:1")]])
    result = await TelegramSender(bot).send("1001", reply)  # type: ignore[arg-type]
    assert result.delivery is Delivery.SENT
    assert len(bot.texts) >= 3 and "\n".join(bot.texts) == MISSING
    assert bot.markups[:-1] == [None] * (len(bot.texts) - 1) and bot.markups[-1] is not None


@pytest.mark.parametrize(
    ("error", "delivery"),
    [
        (RetryAfter(3), Delivery.UNKNOWN),  # a retry would repeat the first part
        (NetworkError("Bad Gateway"), Delivery.UNKNOWN),
        (Forbidden("Forbidden: bot was blocked by the user"), Delivery.UNREACHABLE),
    ],
)
async def test_a_later_part_failing_is_never_retried(error: Exception, delivery: Delivery) -> None:
    bot = RecordingBot(fail_at=1, error=error)
    result = await TelegramSender(bot).send("1001", Reply(MISSING))  # type: ignore[arg-type]
    assert result.delivery is delivery and len(bot.texts) == 1
    assert result.error is not None and result.error.startswith("part 2 of")


class ScreenBot(RecordingBot):
    """Also edits: what the pressed message was replaced with."""

    def __init__(self) -> None:
        super().__init__()
        self.edits: list[str] = []

    async def edit_message_text(self, text: str, **kwargs: Any) -> None:
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise BadRequest("Message is too long")
        self.edits.append(text)


async def test_an_edit_too_long_for_one_message_replaces_the_first_and_sends_the_rest() -> None:
    bot = ScreenBot()
    chat = Chat(1001, Chat.PRIVATE)
    pressed = Message(7, datetime.now(UTC), chat)
    pressed.set_bot(bot)  # type: ignore[arg-type]
    query = CallbackQuery("q", User(1001, "An", False), "c", message=pressed, data="ev:x")
    update = Update(1, callback_query=query)
    context = SimpleNamespace(bot=bot)
    outcome = Outcome([Reply(MISSING, [[Button("📨 Gửi", "as:submit:1")]], edit=True)])
    await _render(update, context, outcome)  # type: ignore[arg-type]
    assert len(bot.edits) == 1 and len(bot.texts) >= 2
    assert "\n".join([*bot.edits, *bot.texts]) == MISSING
    assert bot.markups[-1] is not None
