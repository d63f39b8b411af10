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
    file_id: str | None = None
    """Telegram's id of a file it already holds: sent again by id, without its bytes."""
    mime_type: str | None = None
    link: str | None = None
    """A public copy of the file, for channels that cannot send files (Zalo)."""

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
    typed: bool = False
    """The person answers by typing (a number, a reason): a channel without buttons must
    not read a typed number as one of the buttons."""


@dataclass
class Outcome:
    """What a handler answers: messages, and a short notice for a pressed button."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    locale: str | None = None  # the language the replies are in (set by `handlers.handle`)


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
    caption: str | None = None  # the text sent with a file
    message_id: str | None = None  # set on channels that may deliver a message twice (Zalo)
    bot: int | None = None  # the extra bot it came through (None: the channel's default bot)
    edits: bool = True  # False where a reply edited in place arrives as a new message (Zalo)

    def __post_init__(self) -> None:
        # Every channel builds a ChatEvent: clean what a person typed once, here.
        object.__setattr__(self, "display_name", clean_text(self.display_name))
        if self.text is not None:
            object.__setattr__(self, "text", clean_text(self.text))
        if self.caption is not None:
            object.__setattr__(self, "caption", clean_text(self.caption))

    @property
    def command(self) -> tuple[str, list[str]] | None:
        """`("start", ["CODE"])` for "/start CODE" (a "@botname" suffix is dropped)."""
        if not self.text or not self.text.startswith("/"):
            return None
        head, *args = self.text.split()
        return head[1:].split("@", 1)[0].lower(), args


def text_length(text: str) -> int:
    """Length as chat platforms count it: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, in order, cut at line ends.

    A line longer than `limit` is cut at its last space before the limit (or
    hard, if it has none); blank lines at a cut are dropped.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if text_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in _fitting_lines(text.split("\n"), limit):
        extra = text_length(line) + (1 if current else 0)
        if current and size + extra > limit:
            parts.append("\n".join(current).rstrip("\n"))
            current, size = [], 0
            extra -= 1
        if not current and not line.strip():
            continue  # no part starts with a blank line
        current.append(line)
        size += extra
    if current:
        parts.append("\n".join(current).rstrip("\n"))
    return [part for part in parts if part] or [""]


def _fitting_lines(lines: list[str], limit: int) -> list[str]:
    """The lines, with each one longer than `limit` cut into pieces that fit."""
    fitting: list[str] = []
    for line in lines:
        while text_length(line) > limit:
            head = _prefix(line, limit)
            space = head.rfind(" ")
            if space > 0:
                head = head[:space]
            fitting.append(head)
            line = line[len(head) :].lstrip(" ")
        fitting.append(line)
    return fitting


def _prefix(text: str, limit: int) -> str:
    """The longest start of `text` of at most `limit` UTF-16 units."""
    cut = text[:limit]
    while text_length(cut) > limit:
        cut = cut[:-1]
    return cut


def split_reply(reply: Reply, limit: int | None, caption_limit: int | None = None) -> list[Reply]:
    """`reply` as messages that fit a channel's limits, in the order they are sent.

    The buttons go with the last part, so they stay under the whole text; only the
    first part replaces the pressed message (`edit`), the others are new messages.
    A file whose caption is too long is sent after its text, without a caption.
    """
    if reply.attachment is not None:
        if caption_limit is None or text_length(reply.text) <= caption_limit:
            return [reply]
        texts = split_text(reply.text, limit) if limit is not None else [reply.text]
        parts = [Reply(text, edit=reply.edit and n == 0) for n, text in enumerate(texts)]
        return [*parts, Reply("", reply.buttons, attachment=reply.attachment)]
    if limit is None:
        return [reply]
    texts = split_text(reply.text, limit)
    last = len(texts) - 1
    return [
        Reply(text, reply.buttons if n == last else [], edit=reply.edit and n == 0)
        for n, text in enumerate(texts)
    ]
