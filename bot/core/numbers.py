"""Whole numbers read from people's input and button data: ids, counts, pages, years, months.

`str.isdigit()` and `int()` are too lenient for input and disagree with each other: "²"
passes `isdigit()` and then fails `int()`; `int()` reads " 7", "+7", "1_000" and "٧"
(Arabic-Indic seven). Every number chibo reads from a person or a button goes through
`whole_number`: ASCII digits only, within stated bounds, never building a huge integer.
"""

from __future__ import annotations

import re

MAX_ROW_ID = 2**31 - 1  # ids are 32-bit integer columns on both databases
MIN_YEAR, MAX_YEAR = 1900, 2999

_DIGITS = re.compile(r"[0-9]+")
_YEAR_MONTH = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})")
_DECIMAL = re.compile(r"[0-9]{1,6}(?:[.,][0-9]{1,6})?")


def is_digits(text: str) -> bool:
    """Written in ASCII digits 0-9 only (and not empty)."""
    return _DIGITS.fullmatch(text) is not None


def whole_number(text: str, low: int, high: int) -> int | None:
    """`text` as an integer in [low, high] if it is written in ASCII digits 0-9, else None."""
    if not is_digits(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(high)):
        return None
    value = int(significant)
    return value if low <= value <= high else None


def row_id(text: str) -> int | None:
    """A database id from button data or a command, or None."""
    return whole_number(text, 1, MAX_ROW_ID)


def year(text: str) -> int | None:
    """A four-digit calendar year ("2026"), or None."""
    return whole_number(text, MIN_YEAR, MAX_YEAR) if len(text) == 4 else None


def year_month(text: str) -> tuple[int, int] | None:
    """ "2026-03" (or "2026-3") as (2026, 3), or None."""
    match = _YEAR_MONTH.fullmatch(text)
    if match is None:
        return None
    found_year, month = year(match["year"]), whole_number(match["month"], 1, 12)
    return None if found_year is None or month is None else (found_year, month)


def decimal(text: str) -> float | None:
    """ "4", "2.5" or "2,5" (the Vietnamese decimal comma) as a float, or None."""
    return float(text.replace(",", ".")) if _DECIMAL.fullmatch(text) else None
