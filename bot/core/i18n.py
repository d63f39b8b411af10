"""Gettext catalogs (Babel) per locale, and locale-aware dates and numbers.

Catalogs are the `.po` files under `locales/`; they are compiled in memory
when first used, so a shipped package can never carry a stale `.mo`.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from bot.core.config import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "de": "Deutsch"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> Translations:
    with po_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def normalize_locale(code: str | None, default: str = "vi") -> str:
    """Map a client language code ("de-AT", "en_US") to a supported locale."""
    if code:
        base = code.replace("_", "-").split("-")[0].lower()
        if base in SUPPORTED_LOCALES:
            return base
    return default


class Translator:
    """Everything a reply needs to speak one member's language."""

    def __init__(self, locale: str, timezone: str = "Asia/Ho_Chi_Minh") -> None:
        self.locale = locale
        self.zone = ZoneInfo(timezone)
        self._translations = translations(locale)

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def when(self, moment: datetime) -> str:
        """A UTC moment as date and time in the cell's zone, e.g. "19:30 ngày 5/12/2026"."""
        date = format_skeleton("yMd", moment, tzinfo=self.zone, locale=self.locale)
        time = format_time(moment, "short", tzinfo=self.zone, locale=self.locale)
        return self.gettext("{date}, {time}").format(date=date, time=time)

    def time(self, moment: datetime) -> str:
        """The local time of day, e.g. "19:30"."""
        return format_time(moment, "short", tzinfo=self.zone, locale=self.locale)

    def day(self, moment: datetime) -> str:
        """The full local date, e.g. "Thứ Bảy, 5 tháng 12, 2026"."""
        return format_date(moment.astimezone(self.zone).date(), "full", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, fraction: float) -> str:
        return format_percent(fraction, locale=self.locale)

    @property
    def language_name(self) -> str:
        return Locale.parse(self.locale).get_display_name(self.locale) or self.locale
