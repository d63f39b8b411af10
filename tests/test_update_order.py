"""Updates of different chats run concurrently; one chat's updates keep their order."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.channels.telegram import PerChatUpdateProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = {"id": chat_id, "type": "private", "first_name": "A"}
    message = {
        "message_id": update_id,
        "date": 0,
        "chat": chat,
        "text": "x",
        "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
    }
    return Update.de_json({"update_id": update_id, "message": message}, None)


async def test_same_chat_in_order_other_chats_in_parallel() -> None:
    processor = PerChatUpdateProcessor(16)
    log: list[str] = []
    running = 0
    peak = 0

    async def handle(name: str, delay: float) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        log.append(f"start {name}")
        await asyncio.sleep(delay)
        log.append(f"end {name}")
        running -= 1

    jobs = [
        processor.process_update(update(1, 100), handle("a1", 0.05)),
        processor.process_update(update(2, 100), handle("a2", 0.0)),
        processor.process_update(update(3, 200), handle("b1", 0.01)),
    ]
    await asyncio.gather(*jobs)
    assert log.index("end a1") < log.index("start a2")  # one chat: strictly in order
    assert log.index("start b1") < log.index("end a1")  # another chat did not wait
    assert peak == 2
    assert processor._locks == {}  # nothing kept once a chat is idle
