"""Keyboards that list members, a page at a time (Telegram allows 100 buttons a message).

A page's navigation buttons carry the page number in their data; a stale or
forged number is clamped to the pages that exist now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.core.chat import Button
from bot.core.i18n import Translator

T = TypeVar("T")
PAGE_SIZE = 40  # name buttons per message, well below Telegram's 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # from 0
    count: int  # pages in all, at least 1


def page(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """Page `number` of `items` (clamped to the pages that exist)."""
    count = max(1, -(-len(items) // size))
    number = min(max(number, 0), count - 1)
    return Page(items[number * size : (number + 1) * size], number, count)


def page_of(items: Sequence[T], item: T, size: int = PAGE_SIZE) -> Page[T]:
    """The page that shows `item` (the first page if it is not listed)."""
    return page(items, items.index(item) // size if item in items else 0, size)


def navigation(t: Translator, shown: Page[T], data: Callable[[int], str]) -> list[list[Button]]:
    """A row of ‹ Previous / Next › buttons, or nothing for a single page."""
    row = []
    if shown.number > 0:
        row.append(Button("‹ " + t.gettext("Previous"), data(shown.number - 1)))
    if shown.number < shown.count - 1:
        row.append(Button(t.gettext("Next") + " ›", data(shown.number + 1)))
    return [row] if row else []


def with_caption(text: str, t: Translator, shown: Page[T]) -> str:
    """`text`, then "Page 2 of 4" when there is more than one page."""
    if shown.count == 1:
        return text
    return (
        text
        + "\n"
        + t.gettext("Page {page} of {pages}").format(page=shown.number + 1, pages=shown.count)
    )
