"""Cells that spreadsheet programs must show as text, never run as formulas.

A member named ``=HYPERLINK("http://evil.example/", "Bấm")`` must stay a name in
every workbook and CSV chibo writes.  Text starting with ``= + - @`` (or a tab or
carriage return, which some programs skip before looking) is neutralised: in a
workbook it is stored as a string with Excel's quote prefix; in CSV it gets a
leading apostrophe, as OWASP recommends.  Numbers, and text that is just a number
such as ``-2.5``, stay as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def is_risky(value: object) -> bool:
    """Text a spreadsheet program could read as a formula."""
    return (
        isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value)
    )


def csv_cell(value: object) -> object:
    """One CSV field, neutralised if a spreadsheet could run it."""
    return "'" + value if is_risky(value) and isinstance(value, str) else value


def csv_text(rows: Iterable[Iterable[object]], **writer_options: Any) -> str:
    """Rows as CSV text, every field passed through :func:`csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, **writer_options)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def workbook_bytes(book: Workbook) -> bytes:
    """The workbook as XLSX bytes, with every risky text cell stored as plain text.

    chibo never writes formulas, so any cell openpyxl would store as one is a text.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or is_risky(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


__all__ = ["FORMULA_STARTS", "csv_cell", "csv_text", "is_risky", "workbook_bytes"]
