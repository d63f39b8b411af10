"""One lane per chat: chats run concurrently, one chat's messages stay in order."""

from __future__ import annotations

import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Hashable
from typing import Any

log = logging.getLogger(__name__)


class ChatLanes:
    """The first message of an idle chat runs at once and then drains the chat's queue;
    later messages of that chat join the queue and return at once, so a chat that sends
    many messages holds one slot of the caller's concurrency limit, not many. The queue
    lives as long as its drainer, so no message can start beside a queued one.
    """

    def __init__(self) -> None:
        self._queues: dict[Hashable, deque[Awaitable[Any]]] = {}

    def busy(self) -> int:
        return len(self._queues)

    async def run(self, chat: Hashable, coroutine: Awaitable[Any]) -> None:
        queue = self._queues.get(chat)
        if queue is not None:  # the chat is busy: its drainer runs this one in turn
            queue.append(coroutine)
            return
        queue = self._queues[chat] = deque()
        try:
            while True:
                try:
                    await coroutine
                except Exception:  # the channel reports its own errors; keep the chat going
                    log.exception("update failed")
                if not queue:
                    break
                coroutine = queue.popleft()
        finally:
            del self._queues[chat]
            for pending in queue:  # cancelled (shutdown): nothing else will run them
                if inspect.iscoroutine(pending):
                    pending.close()
