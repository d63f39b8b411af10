"""Catalogs: every message the code uses is translated in vi, en and de."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import Translator, normalize_locale, po_path

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def used_messages() -> set[str]:
    """msgids found in the source, as `pybabel extract` (babel.cfg) finds them."""
    found: set[str] = set()
    for package in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_source_has_messages() -> None:
    assert "This button is no longer valid." in used_messages()


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_translates_every_message_the_code_uses(locale: str) -> None:
    with po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = (
            [message.string] if isinstance(message.string, str) else list(message.string or ())
        )
        if all(strings) and not message.fuzzy:
            translated[key] = strings
    missing = sorted(used_messages() - translated.keys())
    assert not missing, f"{locale} catalog lacks: {missing}"
    for key, strings in translated.items():
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= set(PLACEHOLDER.findall(key)), (
                f"{locale}: placeholders in {string!r} do not match {key!r}"
            )


def test_vietnamese_is_served_with_its_plural_rule() -> None:
    t = Translator("vi")
    assert t.ngettext("{n} day", "{n} days", 3).format(n=3) == "3 ngày"
    assert Translator("de").ngettext("{n} day", "{n} days", 1).format(n=1) == "1 Tag"


def test_times_are_shown_in_the_cells_zone_and_locale() -> None:
    moment = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)
    assert Translator("vi", "Asia/Ho_Chi_Minh").when(moment) == "19:30 ngày 5/12/2026"
    assert Translator("de", "Europe/Berlin").when(moment) == "5.12.2026, 13:30 Uhr"
    assert Translator("en", "Asia/Ho_Chi_Minh").when(moment) == "12/5/2026, 7:30 PM"
    assert Translator("vi").day(moment) == "Thứ Bảy, 5 tháng 12, 2026"
    assert Translator("vi").number(1234567.5) == "1.234.567,5"


def test_client_language_codes_map_to_supported_locales() -> None:
    assert normalize_locale("de-AT") == "de"
    assert normalize_locale("en_US") == "en"
    assert normalize_locale("fr") == "vi"
    assert normalize_locale(None, default="en") == "en"
