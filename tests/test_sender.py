"""How Telegram's answers become delivery outcomes (at most once, retry only the unsent)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram import TelegramSender
from bot.core.chat import Reply
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
