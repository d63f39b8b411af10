"""Channel-neutral chat events and replies.

Channel adapters (Telegram, console, later Zalo) turn their updates into a
`ChatEvent` and render `Reply` objects: inline buttons on Telegram, numbered
options where a channel has none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def clean_text(text: str) -> str:
    """Text without C0 control characters except newline and tab.

    PostgreSQL refuses NUL in text while SQLite stores it; stripping them where text
    enters chibo makes both databases (and every screen) see the same thing.
    """
    return _CONTROL.sub("", text)


@dataclass(frozen=True)
class Button:
    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {self.data!r}")


MAX_DOCUMENT_BYTES = 512 * 1024  # a framework file is a few kilobytes


@dataclass(frozen=True)
class Attachment:
    kind: Literal["photo", "document"]
    filename: str
    content: bytes
    size: int | None = None
    """The size the channel announced; a file over MAX_DOCUMENT_BYTES is not downloaded."""

    @property
    def byte_size(self) -> int:
        return max(self.size or 0, len(self.content))

    @property
    def too_large(self) -> bool:
        return self.byte_size > MAX_DOCUMENT_BYTES


@dataclass(frozen=True)
class Drawing:
    """An attachment still to be drawn (a chart, a workbook): see `drawn`."""

    kind: Literal["photo", "document"]
    filename: str
    draw: Callable[[], bytes]


@dataclass
class Reply:
    """One message to show; `edit` replaces the message whose button was pressed."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    edit: bool = False
    attachment: Attachment | None = None
    drawing: Drawing | None = None  # becomes `attachment` in `drawn`, after the turn


@dataclass
class Outcome:
    """What a handler answers: messages, and a short notice for a pressed button."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None


# One thread draws every chart and workbook: matplotlib is not thread-safe, and the
# drawing is CPU-bound, so more threads would not finish sooner under the GIL.
_DRAWER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chibo-draw")


async def in_drawing_thread(draw: Callable[[], bytes]) -> bytes:
    """Run `draw` in the drawing thread, so other chats are answered meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_DRAWER, draw)


async def drawn(outcome: Outcome) -> Outcome:
    """The outcome with each `Drawing` drawn into an `Attachment`.

    Called once the turn's transaction is closed: a drawing gets plain data, not
    a session, and holds neither the event loop nor a database lock.
    """
    replies = []
    for reply in outcome.replies:
        if reply.drawing is not None:
            drawing = reply.drawing
            content = await in_drawing_thread(drawing.draw)
            reply = dataclasses.replace(
                reply, attachment=Attachment(drawing.kind, drawing.filename, content), drawing=None
            )
        replies.append(reply)
    return dataclasses.replace(outcome, replies=replies)


@dataclass(frozen=True)
class ChatEvent:
    """A message, a file, or a button press from one person on one channel."""

    channel: str
    user_id: str
    chat_id: str
    display_name: str
    language_code: str | None = None
    text: str | None = None
    callback_data: str | None = None
    document: Attachment | None = None

    def __post_init__(self) -> None:
        # Every channel builds a ChatEvent: clean what a person typed once, here.
        object.__setattr__(self, "display_name", clean_text(self.display_name))
        if self.text is not None:
            object.__setattr__(self, "text", clean_text(self.text))

    @property
    def command(self) -> tuple[str, list[str]] | None:
        """`("start", ["CODE"])` for "/start CODE" (a "@botname" suffix is dropped)."""
        if not self.text or not self.text.startswith("/"):
            return None
        head, *args = self.text.split()
        return head[1:].split("@", 1)[0].lower(), args
