"""How words typed in chat compare: without case, Vietnamese diacritics or symbols."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case, without diacritics or symbols, single spaces: "Trần Văn Đức ▶" → "tran van duc".

    The same words typed with or without diacritics, in any case, fold alike ("KHONG",
    "Không"); so do a composed and a decomposed "ô".
    """
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.findall(plain))
