"""`chibo doctor`: check a deployment and explain each finding in one line.

Settings, the database and its schema, each bot's token and webhook, the time
zones, the clock against the chat platform's, the disk and folders SQLite needs.
Lines are in DEFAULT_LOCALE; `ok` is False when any check failed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.core.config import Settings, UpdateMode
from bot.core.i18n import Translator
from storage import bots as bot_store
from storage import schema
from storage.db import Database
from storage.models import Organization

MIN_FREE_BYTES = 1024**3  # SQLite, its WAL and backups need room to grow
MAX_CLOCK_SKEW = 60.0  # seconds: reminders are planned to the minute


@dataclass(frozen=True)
class Finding:
    ok: bool
    line: str


@dataclass(frozen=True)
class BotToCheck:
    channel: str
    token: str
    api_url: str
    mode: UpdateMode
    webhook_url: str
    name: str  # how the line names it


class Doctor:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.t = Translator(settings.default_locale)
        self.client = client or httpx.AsyncClient(timeout=15)
        self.findings: list[Finding] = []

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def _note(self, ok: bool, line: str) -> None:
        self.findings.append(Finding(ok, ("✓ " if ok else "✗ ") + line))

    async def run(self) -> list[Finding]:
        _ = self.t.gettext
        self._note(True, _("Settings: read, every value valid."))
        database = Database(self.settings.database_url)
        try:
            cells = await self._database(database)
            bots = await self._bots(database) if cells is not None else self._default_bots()
        finally:
            await database.dispose()
        for bot in bots:
            await self._bot(bot)
        self._zones(cells or [])
        self._disk()
        return self.findings

    async def _database(self, database: Database) -> list[str] | None:
        """The time zones of the organisations, or None when the database is unusable."""
        _ = self.t.gettext
        try:
            current = await schema.current_revision(database)
        except Exception as exc:
            self._note(False, _("Database: cannot connect ({error}).").format(error=_short(exc)))
            return None
        needed = schema.head_revision()
        if current != needed:
            advice = (
                _(
                    "Database: schema at {current}, newer than this chibo ({needed}): install"
                    " the newer chibo, or restore the backup taken before the upgrade."
                )
                if schema.is_ahead(current)
                else _(
                    "Database: schema at {current}, this chibo needs {needed}: run chibo migrate."
                )
            )
            self._note(False, advice.format(current=current or "—", needed=needed))
            return None
        self._note(True, _("Database: reachable, schema {revision}.").format(revision=current))
        async with database.session() as session:
            return list(await session.scalars(select(Organization.timezone).distinct()))

    def _default_bots(self) -> list[BotToCheck]:
        s = self.settings
        found = []
        if s.telegram_bot_token:
            found.append(
                BotToCheck("telegram", s.telegram_bot_token, s.telegram_api_url,
                           s.telegram_mode, s.webhook_url, "Telegram")
            )  # fmt: skip
        if s.zalo_bot_token:
            found.append(
                BotToCheck("zalo", s.zalo_bot_token, s.zalo_api_url,
                           s.zalo_mode, s.zalo_webhook_url, "Zalo")
            )  # fmt: skip
        return found

    async def _bots(self, database: Database) -> list[BotToCheck]:
        s = self.settings
        found = self._default_bots()
        async with database.session() as session:
            extra = await bot_store.every(session)
        for bot in extra:
            telegram = bot.channel == "telegram"
            api = s.telegram_api_url if telegram else s.zalo_api_url
            mode = s.telegram_mode if telegram else s.zalo_mode
            base = s.webhook_url if telegram else s.zalo_webhook_url
            url = f"{base.rstrip('/')}/{bot.id}" if base else ""
            name = f"{'Telegram' if telegram else 'Zalo'} #{bot.id}"
            found.append(BotToCheck(bot.channel, bot.token, api, mode, url, name))
        if not found:
            self._note(
                False,
                self.t.gettext(
                    "Bots: none (set TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN, or chibo bot add)."
                ),
            )
        return found

    async def _bot(self, bot: BotToCheck) -> None:
        _ = self.t.gettext
        try:
            me, server_time = await self._call(bot, "getMe")
        except Exception as exc:
            self._note(
                False,
                _("{bot}: the token does not work ({error}).").format(
                    bot=bot.name, error=_short(exc)
                ),
            )
            return
        who = me.get("username") or me.get("account_name") or me.get("id")
        self._note(True, _("{bot}: token works (bot {name}).").format(bot=bot.name, name=who))
        try:
            info, _date = await self._call(bot, "getWebhookInfo")
            registered = str(info.get("url") or "")
        except Exception as exc:
            self._note(
                False,
                _("{bot}: cannot read the webhook ({error}).").format(
                    bot=bot.name, error=_short(exc)
                ),
            )
            return
        wanted = bot.webhook_url if bot.mode is UpdateMode.WEBHOOK else ""
        if registered == wanted or (bot.mode is UpdateMode.POLLING and bot.channel == "zalo"):
            # a Zalo webhook left behind is removed when chibo run starts polling
            self._note(True, _("{bot}: receives by {mode}.").format(bot=bot.name, mode=bot.mode))
        elif bot.mode is UpdateMode.WEBHOOK and not registered:
            self._note(
                True,
                _("{bot}: no webhook registered yet; chibo run registers {url}.").format(
                    bot=bot.name, url=wanted
                ),
            )
        else:
            self._note(
                True,
                _("{bot}: webhook {found} registered; chibo run replaces it ({mode}).").format(
                    bot=bot.name, found=registered or "—", mode=bot.mode
                ),
            )
        if server_time is not None:
            skew = abs((datetime.now(UTC) - server_time).total_seconds())
            ok = skew <= MAX_CLOCK_SKEW
            self._note(
                ok,
                (
                    _("Clock: within {seconds} s of {bot}'s.")
                    if ok
                    else _("Clock: {seconds} s off {bot}'s: reminders would be late or early.")
                ).format(seconds=round(skew), bot=bot.name),
            )

    async def _call(self, bot: BotToCheck, method: str) -> tuple[dict[str, Any], datetime | None]:
        response = await self.client.post(f"{bot.api_url}{bot.token}/{method}", json={})
        body = response.json()
        if not isinstance(body, dict) or not body.get("ok"):
            code = body.get("error_code") if isinstance(body, dict) else response.status_code
            text = body.get("description") if isinstance(body, dict) else ""
            raise RuntimeError(f"{code}: {text}")
        date = response.headers.get("date")
        return body.get("result") or {}, parsedate_to_datetime(date) if date else None

    def _zones(self, zones: list[str]) -> None:
        _ = self.t.gettext
        wanted = sorted({self.settings.default_timezone, *zones})
        broken = []
        for name in wanted:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                broken.append(name)
        if broken:
            self._note(False, _("Time zones: no data for {zones}.").format(zones=", ".join(broken)))
        else:
            self._note(True, _("Time zones: {zones}.").format(zones=", ".join(wanted)))

    def _disk(self) -> None:
        _ = self.t.gettext
        url = make_url(self.settings.database_url)
        if url.get_backend_name() != "sqlite":
            return
        folder = Path(url.database or ".").resolve().parent
        if not os.access(folder, os.W_OK):
            self._note(False, _("Folder {folder}: not writable.").format(folder=folder))
            return
        free = shutil.disk_usage(folder).free
        ok = free >= MIN_FREE_BYTES
        self._note(
            ok,
            _("Disk: {free} free for the database in {folder}.").format(
                free=self.t.number(round(free / 1024**3, 1)) + " GiB", folder=folder
            ),
        )


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"


async def examine(settings: Settings) -> tuple[bool, list[str]]:
    """Every check, in order: (all passed, the lines)."""
    async with httpx.AsyncClient(timeout=15) as client:
        doctor = Doctor(settings, client)
        await doctor.run()
    return doctor.ok, [f.line for f in doctor.findings]
