"""The `chibo` command: run the bot, the console demo, migrations and administration."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.core.chat import Drawing
from bot.core.config import SUPPORTED_LOCALES, Settings, SettingsError, load_settings
from bot.core.numbers import row_id, whole_number
from bot.rules.framework import FrameworkError, load_framework
from bot.services.runtime import Runtime, utc_now
from storage import schema
from storage.db import Database
from storage.frameworks import FrameworkCodeReserved, FrameworkVersionExists
from storage.models import OrgKind, Role

T = TypeVar("T")
DEMO_DATABASE = "sqlite+aiosqlite:///chibo-demo.sqlite3"


def fail(message: str) -> None:
    click.echo(f"chibo: {message}", err=True)
    sys.exit(2)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable; keeps type checkers calm


def with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run one async job against the database, checking the schema first."""

    async def main() -> T:
        db = Database(settings.database_url)
        try:
            await schema.ensure_current(db)
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except schema.SchemaOutdated as exc:
        fail(str(exc))
        raise


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """chibo — monthly self-assessment of party cells (Chi bộ 4 tốt) in chat."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.command()
def migrate() -> None:
    """Upgrade the database schema to this version of chibo."""
    settings = settings_or_exit()
    schema.upgrade(settings.database_url)

    async def seed(db: Database) -> str:
        from bot.services.setup import adopt_shipped_framework, ensure_default_framework

        async with db.session() as session:
            framework = await ensure_default_framework(session)
            moved = await adopt_shipped_framework(session, framework)
        line = f"{framework.code} v{framework.version}"
        if moved:
            line += (
                f" ({moved} cells and committees moved to it from an older version;"
                " months already opened keep theirs)"
            )
        return line

    framework = with_db(settings, seed)
    click.echo(f"database is at revision {schema.head_revision()}; default framework {framework}")


def serving_runtime() -> Runtime:
    """Settings complete for a channel and a current schema, or one clear line and exit."""
    settings = settings_or_exit()
    logging.getLogger().setLevel(settings.log_level)
    extra = 0
    if not settings.telegram_bot_token and not settings.zalo_bot_token:
        extra = asyncio.run(_extra_bots(settings))
    try:
        settings.require_channel(extra_bots=extra)
    except SettingsError as exc:
        fail(str(exc))

    async def check(db: Database) -> None:
        return None

    with_db(settings, check)
    return Runtime.from_settings(settings)


async def _extra_bots(settings: Settings) -> int:
    """How many bots `chibo bot add` added (0 when there is no migrated database yet)."""
    from sqlalchemy.engine import make_url

    from storage import bots

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return 0  # do not create an empty database file just to look
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            return len(await bots.every(session))
    except Exception:  # no bots table yet: the token is what is missing
        return 0
    finally:
        await db.dispose()


@main.command()
def run() -> None:
    """Serve Telegram and/or Zalo, whichever has a token (polling, or webhooks)."""
    from bot.app import serve

    serve.run(serving_runtime())


@main.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Copy the whole database to TARGET (safe while the bot runs)."""
    from bot.app.backup import BackupError, backup

    try:
        click.echo(backup(settings_or_exit().database_url, target))
    except BackupError as exc:
        fail(str(exc))


@main.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that has data (bot stopped).")
def restore_command(source: Path, force: bool) -> None:
    """Put the backup SOURCE in place of the database, then check its schema."""
    from bot.app.backup import BackupError, restore

    settings = settings_or_exit()
    try:
        click.echo(restore(settings.database_url, source, force=force))
    except BackupError as exc:
        fail(str(exc))

    async def check(db: Database) -> None:
        return None

    with_db(settings, check)  # an older backup: says to run chibo migrate


@main.command()
def doctor() -> None:
    """Check settings, database, bots, webhooks, clock, time zones and disk; explain each."""
    from bot.app.doctor import examine

    ok, lines = asyncio.run(examine(settings_or_exit()))
    click.echo("\n".join(lines))
    sys.exit(0 if ok else 1)


@main.command()
def worker() -> None:
    """Send scheduled notifications only (no chat updates): extra processes for large setups."""
    from bot.app import serve

    asyncio.run(serve.work(serving_runtime()))


@main.command()
@click.option("--database", default=DEMO_DATABASE, show_default=True, help="Demo database URL.")
@click.option("--as", "persona", default=1, show_default=True, help="Persona number to start as.")
def demo(database: str, persona: int) -> None:
    """Chat with chibo in this terminal as the demo cell's secretary or members."""
    settings = settings_or_exit(database_url=database)
    logging.getLogger().setLevel(logging.WARNING)
    schema.upgrade(settings.database_url)
    from bot.app import demo as demo_cell
    from bot.channels.console import ConsoleChat, run_console

    async def chat(db: Database) -> None:
        async with db.session() as session:
            personas = await demo_cell.seed(
                session, settings.default_timezone, settings.default_locale, utc_now()
            )
        console = ConsoleChat(Runtime.from_settings(settings, db), personas)
        console.current = max(0, min(persona - 1, len(personas) - 1))
        await run_console(console)

    with_db(settings, chat)


@main.group()
def committee() -> None:
    """Committees (đảng bộ) of the organisation tree."""


@committee.command("create")
@click.argument("name")
@click.option("--parent", help="Name or id of the committee above this one.")
def committee_create(name: str, parent: str | None) -> None:
    """Create a committee (or show the one with this name)."""
    from bot.services import setup

    async def work(db: Database) -> str:
        async with db.session() as session:
            above = await _committee_ref(session, parent) if parent else None
            org, created = await setup.committee(session, name, above)
            return f"{'created' if created else 'exists'}: committee {org.id} {org.name}"

    click.echo(with_db(settings_or_exit(), work))


@main.group()
def cell() -> None:
    """Party cells (chi bộ)."""


@cell.command("create")
@click.argument("name")
@click.option("--committee", "committee_name", required=True, help="Committee name or id.")
@click.option("--timezone", default=None, help="Cell time zone (default: DEFAULT_TIMEZONE).")
@click.option("--locale", type=click.Choice(SUPPORTED_LOCALES), default=None)
@click.option("--invite-days", default=7, show_default=True, type=click.IntRange(1, 90))
def cell_create(
    name: str, committee_name: str, timezone: str | None, locale: str | None, invite_days: int
) -> None:
    """Create a cell under a committee and print the secretary's one-time invite."""
    from bot.services import setup

    settings = settings_or_exit()
    if timezone:
        settings = settings_or_exit(default_timezone=timezone)

    async def work(db: Database) -> list[str]:
        async with db.session() as session:
            if row_id(committee_name) is not None:
                parent, created = await _committee_ref(session, committee_name), False
            else:
                parent, created = await setup.committee(session, committee_name)
            org = await setup.create_cell(
                session,
                name,
                parent,
                timezone=settings.default_timezone,
                locale=locale or settings.default_locale,
            )
            lines = [f"created committee {parent.id} {parent.name}"] if created else []
            lines.append(f"created cell {org.id} {org.name} (under {parent.name})")
            lines += (await _invite_lines(session, settings, org, Role.SECRETARY, 1, invite_days))[
                0
            ]
            return lines

    click.echo("\n".join(with_db(settings, work)))


def parse_offsets(text: str) -> list[int]:
    """ "3d,1d,2h,30m" → minutes, largest first."""
    units = {"d": 1440, "h": 60, "m": 1}
    minutes = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        count = whole_number(part[:-1], 1, 10**6)
        if part[-1:] not in units or count is None:
            raise click.BadParameter(f"{part!r}: use e.g. 3d, 2h or 30m")
        minutes.append(count * units[part[-1]])
    return sorted(set(minutes), reverse=True)


@cell.command("schedule")
@click.argument("cell_ref")
@click.option(
    "--rule", required=True, help='Monthly meeting, e.g. "ngày 3 19:30", "first fri 14:00".'
)
@click.option("--reminders", default="3d,1d,2h", show_default=True, help="Before the meeting.")
@click.option("--window-days", default=7, show_default=True, type=click.IntRange(1, 27))
@click.option(
    "--deadline-offset",
    default="0",
    show_default=True,
    help="Deadline after the meeting's start, e.g. 2d; 0 = at the meeting.",
)
@click.option("--place", default=None, help="Usual meeting place.")
def cell_schedule(
    cell_ref: str,
    rule: str,
    reminders: str,
    window_days: int,
    deadline_offset: str,
    place: str | None,
) -> None:
    """Set a cell's monthly meeting rule and reminder offsets."""
    from bot.rules.calendar import MeetingRule, ScheduleSettings
    from storage.models import CellSchedule

    try:
        parsed = MeetingRule.parse(rule)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rule") from None
    offsets = parse_offsets(reminders)
    deadline = 0 if deadline_offset.strip() == "0" else parse_offsets(deadline_offset)[0]
    try:
        ScheduleSettings(
            window_opens_days_before=window_days,
            reminder_offsets=tuple(timedelta(minutes=m) for m in offsets),
            deadline_offset=timedelta(minutes=deadline),
        )
    except ValueError as exc:
        fail(str(exc))

    async def work(db: Database) -> str:
        async with db.session() as session:
            org = await _cell_ref(session, cell_ref)
            schedule = await session.get(CellSchedule, org.id) or CellSchedule(cell_id=org.id)
            schedule.rule = parsed.to_text()
            schedule.reminder_offsets = offsets
            schedule.window_opens_days_before = window_days
            schedule.deadline_offset_minutes = deadline
            schedule.place = place or schedule.place
            schedule.updated_at = utc_now()
            session.add(schedule)
            return f"{org.name}: meetings {parsed.to_text()}, reminders {reminders} before"

    click.echo(with_db(settings_or_exit(), work))


@cell.command("list")
def cell_list() -> None:
    """List committees and cells as a tree."""
    from storage import orgs

    async def work(db: Database) -> list[str]:
        async with db.session() as session:
            all_orgs = await orgs.list_all(session)
        children: dict[int | None, list[Any]] = {}
        for org in all_orgs:
            children.setdefault(org.parent_id, []).append(org)
        lines: list[str] = []

        def walk(parent: int | None, depth: int) -> None:
            for org in children.get(parent, []):
                label = "cell" if org.kind == OrgKind.CELL else "committee"
                lines.append(f"{'  ' * depth}{org.id:>4} {label:<9} {org.name}")
                walk(org.id, depth + 1)

        walk(None, 0)
        return lines or ["no committees or cells yet: chibo cell create NAME --committee NAME"]

    click.echo("\n".join(with_db(settings_or_exit(), work)))


@main.group()
def invite() -> None:
    """Invites to join a cell."""


@invite.command("create")
@click.option("--cell", "cell_ref", help="Cell name or id (members, secretaries).")
@click.option("--committee", "committee_ref", help="Committee name or id (committee officers).")
@click.option(
    "--role",
    # plain strings: click ≥ 8.2 would match enum members by their NAME ("MEMBER")
    type=click.Choice([role.value for role in Role], case_sensitive=False),
    default=Role.MEMBER.value,
    show_default=True,
)
@click.option("--uses", default=1, show_default=True, type=click.IntRange(1, 500))
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 90))
@click.option(
    "--card",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the invite's printable card, with its QR codes, to FILE.png.",
)
def invite_create(
    cell_ref: str | None,
    committee_ref: str | None,
    role: str,
    uses: int,
    days: int,
    card: Path | None,
) -> None:
    """Print a new invite (deep link and bare code) for a cell, or a committee's officer."""
    from bot.core.chat import in_drawing_thread

    settings = settings_or_exit()
    officer = role == Role.COMMITTEE_OFFICER
    if officer != bool(committee_ref) or (cell_ref is None) == (committee_ref is None):
        fail("use --cell for members and secretaries, --committee with --role committee_officer")
    if card is not None and card.suffix.lower() != ".png":
        raise click.BadParameter("the card is a PNG: FILE.png", param_hint="--card")

    async def work(db: Database) -> list[str]:
        async with db.session() as session:
            if committee_ref:
                org = await _committee_ref(session, committee_ref)
            else:
                assert cell_ref is not None
                org = await _cell_ref(session, cell_ref)
            lines, drawing = await _invite_lines(
                session, settings, org, Role(role), uses, days, card=card is not None
            )
        if card is not None and drawing is not None:  # drawn once the invite is stored
            card.write_bytes(await in_drawing_thread(drawing.draw))
            lines.append(f"  card: {card}")
        return lines

    click.echo("\n".join(with_db(settings, work)))


@main.group()
def bot() -> None:
    """Extra bots, each serving part of the tree (beyond TELEGRAM_/ZALO_BOT_TOKEN)."""


@bot.command("add")
@click.argument("channel", type=click.Choice(["telegram", "zalo"]))
@click.option("--token", required=True, help="The bot's token.")
@click.option("--committee", "committee_ref", help="Committee (name or id) it serves.")
@click.option("--cell", "cell_ref", help="Cell (name or id) it serves.")
@click.option("--link", default=None, help="Zalo: the bot's link, shown in invites.")
def bot_add(
    channel: str, token: str, committee_ref: str | None, cell_ref: str | None, link: str | None
) -> None:
    """Add a bot for a committee's cells (or one cell); `chibo run` serves it too."""
    from storage import bots

    if (committee_ref is None) == (cell_ref is None):
        fail("give exactly one of --committee or --cell")

    async def work(db: Database) -> str:
        async with db.session() as session:
            if committee_ref is not None:
                org = await _committee_ref(session, committee_ref)
            else:
                org = await _cell_ref(session, cell_ref or "")
            if any(b.channel == channel and b.token == token for b in await bots.every(session)):
                fail("this bot is already added (see: chibo bot list)")
            added = await bots.add(session, channel, token, org, link)
            return f"added {channel} bot {added.id} for {org.name}; restart chibo run to serve it"

    click.echo(with_db(settings_or_exit(), work))


@bot.command("list")
def bot_list() -> None:
    """The extra bots and what each serves."""
    from storage import bots
    from storage.models import Organization

    async def work(db: Database) -> list[str]:
        async with db.session() as session:
            lines = []
            for b in await bots.every(session):
                org = await session.get(Organization, b.org_id)
                name = f"@{b.username}" if b.username else (b.link or "(name learned at start)")
                lines.append(f"{b.id}\t{b.channel}\t{name}\t{org.name if org else '?'}")
            return lines or ["no extra bots: TELEGRAM_BOT_TOKEN / ZALO_BOT_TOKEN serve everything"]

    click.echo("\n".join(with_db(settings_or_exit(), work)))


@bot.command("remove")
@click.argument("bot_id", type=int)
def bot_remove(bot_id: int) -> None:
    """Remove an extra bot; its members are written to by the channel's default bot."""
    from storage.models import Bot

    async def work(db: Database) -> str:
        async with db.session() as session:
            found = await session.get(Bot, bot_id)
            if found is None:
                fail(f"no bot {bot_id} (see: chibo bot list)")
            await session.delete(found)
            return f"removed bot {bot_id}"

    click.echo(with_db(settings_or_exit(), work))


@main.group()
def member() -> None:
    """Members of a cell."""


@member.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cell", "cell_ref", required=True, help="Cell name or id.")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 90))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write name,code,link,expires to this CSV instead of printing.",
)
def member_import(csv_file: Path, cell_ref: str, days: int, out: Path | None) -> None:
    """Import members from CSV (columns: name, status, role); each gets a personal invite."""
    from bot.channels.telegram import fetch_username
    from bot.render.spreadsheet import csv_text
    from bot.services import entrances, setup

    settings = settings_or_exit()

    async def work(db: Database) -> list[list[str]]:
        username = await fetch_username(settings)
        async with db.session() as session:
            org = await _cell_ref(session, cell_ref)
            try:
                imported = await setup.import_members(
                    session,
                    org,
                    setup.decode_csv(csv_file.read_bytes()),
                    now=utc_now(),
                    valid_days=days,
                )
            except setup.ImportError_ as exc:
                fail(f"{csv_file}: {exc}; nothing was imported")
                raise
            ways = await entrances.of(session, settings, org.id, username)  # the cell's bot
        return [
            [i.member.full_name, i.code, ways.telegram_link(i.code) or "", i.expires_at.isoformat()]
            for i in imported
        ]

    rows = with_db(settings, work)
    header = ["name", "code", "link", "expires_utc"]
    if out:
        out.write_text(csv_text([header, *rows]), encoding="utf-8", newline="")
        click.echo(f"imported {len(rows)} members; personal invites written to {out}")
    else:
        click.echo(f"imported {len(rows)} members; send each person their own link or code:")
        for name, code, link, expires in rows:
            click.echo(f"  {name}: {link or code} (code {code}, expires {expires})")


REFUSALS = {
    "gone": "the member has already left the cell",
    "self": "a secretary cannot do this to themselves",
    "last_secretary": "the cell would have no secretary left; give another member the role first",
    "not_a_cell": "the member or the destination is not in a cell",
    "same_cell": "the member is already in that cell",
}


async def _member_ref(session: Any, ref: int) -> Any:
    from storage.models import Member

    member = await session.get(Member, ref)
    if member is None:
        fail(f"no member {ref} (see: chibo member list --cell CELL)")
    return member


def _lifecycle(work: Callable[[Any], Awaitable[str]]) -> None:
    """Run one member change in a transaction; a refusal changes nothing and exits 2."""
    from bot.services.lifecycle import Refused

    async def run(db: Database) -> str:
        async with db.session() as session:
            try:
                return await work(session)
            except Refused as exc:
                fail(REFUSALS[exc.why])
                raise

    click.echo(with_db(settings_or_exit(), run))


@member.command("list")
@click.option("--cell", "cell_ref", required=True, help="Cell name or id.")
@click.option("--all", "everyone", is_flag=True, help="Also those who left (for export, erase).")
def member_list(cell_ref: str, everyone: bool) -> None:
    """The cell's members: id, state, role, status, name (--all: those who left too)."""
    from sqlalchemy import select

    from bot.services import lifecycle
    from storage.models import Member

    async def work(db: Database) -> list[str]:
        async with db.session() as session:
            org = await _cell_ref(session, cell_ref)
            if everyone:
                query = select(Member).where(Member.org_id == org.id).order_by(Member.id)
                members = list(await session.scalars(query))
            else:
                members = await lifecycle.roster(session, org.id)
        lines = [f"{org.name}: {len(members)} members"]
        for m in members:
            state = "erased" if m.erased_at else "active" if m.active else "left"
            lines.append(f"{m.id:>6}  {state:<6}  {m.role:<16}  {m.status:<12}  {m.full_name}")
        return lines

    click.echo("\n".join(with_db(settings_or_exit(), work)))


@member.command("remove")
@click.argument("member_id", type=int)
@click.option("--reason", required=True, help="Why (kept, and told to the member).")
def member_remove(member_id: int, reason: str) -> None:
    """Remove a member from their cell; the cell's past months keep them."""
    from bot.services import lifecycle

    async def work(session: Any) -> str:
        member = await _member_ref(session, member_id)
        await lifecycle.remove(session, member, reason.strip() or None, utc_now())
        return f"removed: member {member.id} {member.full_name}"

    _lifecycle(work)


@member.command("move")
@click.argument("member_id", type=int)
@click.option("--to-cell", "cell_ref", required=True, help="The new cell (name or id).")
@click.option("--reason", default=None, help="Optional note kept with the move.")
def member_move(member_id: int, cell_ref: str, reason: str | None) -> None:
    """Move a member to another cell (chuyển sinh hoạt đảng); their history follows them."""
    from bot.services import lifecycle

    async def work(session: Any) -> str:
        member = await _member_ref(session, member_id)
        target = await _cell_ref(session, cell_ref)
        moved = await lifecycle.move(session, member, target, utc_now(), reason=reason)
        return (
            f"moved: {moved.new.full_name} is member {moved.new.id} of {target.name} "
            f"(was member {moved.old.id})"
        )

    _lifecycle(work)


@member.command("set")
@click.argument("member_id", type=int)
@click.option("--status", type=click.Choice(["official", "probationary", "exempt"]))
@click.option("--role", type=click.Choice(["member", "deputy_secretary", "secretary"]))
def member_set(member_id: int, status: str | None, role: str | None) -> None:
    """Change a member's status and/or role from now on; past months keep the old status."""
    from bot.services import lifecycle

    if status is None and role is None:
        raise click.UsageError("give --status and/or --role")

    async def work(session: Any) -> str:
        member = await _member_ref(session, member_id)
        now = utc_now()
        changed = []
        if status is not None and await lifecycle.set_status(session, member, status, now):
            changed.append(f"status {status}")
        if role is not None and await lifecycle.set_role(session, member, role, now):
            changed.append(f"role {role}")
        what = ", ".join(changed) or "nothing changed"
        return f"member {member.id} {member.full_name}: {what}"

    _lifecycle(work)


@member.command("export")
@click.argument("member_id", type=int)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE, not the screen."
)
@click.option("--format", "form", type=click.Choice(["json", "text"]), default="json")
@click.option(
    "--locale",
    type=click.Choice(SUPPORTED_LOCALES),
    default=None,
    help="Language of the text and the question texts (default: the member's).",
)
def member_export(member_id: int, out: Path | None, form: str, locale: str | None) -> None:
    """Everything chibo stores about one member (for their request to see their data)."""
    from bot.core.i18n import Translator
    from bot.render.personal_data import export_text
    from bot.services import privacy

    async def work(db: Database) -> str:
        async with db.session() as session:
            data = await privacy.export(session, member_id, utc_now(), locale)
        if data is None:
            fail(f"no member {member_id}")
            raise AssertionError
        if form == "json":
            return privacy.to_json(data)
        return export_text(data, Translator(data["locale"], data["cell"]["timezone"]))

    text = with_db(settings_or_exit(), work)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")


@member.command("erase")
@click.argument("member_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def member_erase(member_id: int, yes: bool) -> None:
    """Erase the personal data of a member who left: name, chat accounts, free text.

    The values the cell's records count (answers to closed questions, attendance) stay,
    so the cell's months and years do not change. Running it again changes nothing.
    """
    from sqlalchemy.orm import joinedload

    from bot.services import privacy
    from storage.models import Member, Organization

    settings = settings_or_exit()

    async def look(db: Database) -> tuple[str, str, str | None]:
        async with db.session() as session:
            found = await session.get(Member, member_id, options=[joinedload(Member.org)])
            if found is None:
                fail(f"no member {member_id}")
                raise AssertionError
            active = await privacy.still_active(session, found)
            where = await session.get(Organization, active.org_id) if active else None
            return found.full_name, found.org.name, where.name if where else None

    name, cell_name, active_in = with_db(settings, look)
    if active_in is not None:
        fail(
            f"member {member_id} is still an active member of {active_in}: only the data of "
            "someone who left can be erased; remove them from the cell first"
        )
    if not yes:
        click.confirm(
            f"Erase the personal data of member {member_id} ({name}, {cell_name})? "
            "This cannot be undone",
            abort=True,
        )

    async def work(db: Database) -> str:
        async with db.session() as session:
            result = await privacy.erase(session, member_id, utc_now())
        if result.outcome is privacy.Erasure.ACTIVE:  # became active meanwhile
            fail(f"member {member_id} is active again; nothing was erased")
        if result.outcome is privacy.Erasure.ALREADY:
            return f"member {member_id}: personal data had been erased already; nothing left"
        return (
            f"member {member_id}: personal data erased (name, chat accounts, free text); "
            "the cell's records are unchanged"
        )

    click.echo(with_db(settings, work))


@main.group()
def framework() -> None:
    """Criteria frameworks."""


@framework.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def framework_import(path: Path) -> None:
    """Validate a framework file and store it as a new version."""
    from bot.services.setup import import_framework

    try:
        spec = load_framework(path)
    except FrameworkError as exc:
        fail(f"{path}: {exc}")
        raise

    async def work(db: Database) -> str:
        async with db.session() as session:
            stored, created = await import_framework(session, spec)
        state = "stored" if created else "already stored"
        return f"{state}: framework {stored.code} v{stored.version}"

    try:
        click.echo(with_db(settings_or_exit(), work))
    except (FrameworkVersionExists, FrameworkCodeReserved) as exc:
        fail(str(exc))


@main.command()
@click.option("--cell", "cell_ref", required=True, help="Cell name or id.")
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="FILE.xlsx or FILE.csv",
)
@click.option("--locale", type=click.Choice(SUPPORTED_LOCALES), default=None)
def export(cell_ref: str, year: int, out: Path, locale: str | None) -> None:
    """Export a cell's year (the same workbook or CSV as /report in chat)."""
    from functools import partial

    from bot.core.chat import in_drawing_thread
    from bot.core.i18n import Translator
    from bot.render import exports
    from bot.services.reporting import year_report

    if out.suffix.lower() not in {".xlsx", ".csv"}:
        raise click.BadParameter("the file must end in .xlsx or .csv", param_hint="--out")

    async def work(db: Database) -> str:
        async with db.session() as session:
            org = await _cell_ref(session, cell_ref)
            t = Translator(locale or org.locale, org.timezone)
            built = await year_report(session, org, year, t)
        if built is None:
            fail(f"no records for {org.name} in {year}")
            raise AssertionError
        spec, data = built
        write = exports.year_workbook if out.suffix.lower() == ".xlsx" else exports.year_csv
        out.write_bytes(await in_drawing_thread(partial(write, spec, data, t)))
        months = sum(1 for m in data.months if m is not None)
        return f"wrote {out} ({months} months of {org.name}, {year})"

    click.echo(with_db(settings_or_exit(), work))


async def _committee_ref(session: Any, ref: str) -> Any:
    from bot.services import setup

    org = await setup.find_org(session, ref, OrgKind.COMMITTEE)
    if org is None:
        fail(f"no committee {ref!r} (see: chibo cell list)")
    return org


async def _cell_ref(session: Any, ref: str) -> Any:
    from bot.services import setup

    org = await setup.find_org(session, ref, OrgKind.CELL)
    if org is None:
        fail(f"no cell {ref!r} (see: chibo cell list)")
    return org


async def _invite_lines(
    session: Any,
    settings: Settings,
    org: Any,
    role: Role,
    uses: int,
    days: int,
    *,
    card: bool = False,
) -> tuple[list[str], Drawing | None]:
    """A new invite as printed lines, and with `card` its printable card, still to draw."""
    from bot.channels.telegram import fetch_username
    from bot.services import entrances, membership

    ways = await entrances.of(session, settings, org.id, await fetch_username(settings))
    zalo = ways.zalo_link if ways.zalo else None
    if card and not (ways.telegram_username or zalo):  # said before an invite is made
        fail(
            "--card needs a link to print: set TELEGRAM_BOT_TOKEN (or TELEGRAM_BOT_USERNAME), "
            "or ZALO_BOT_TOKEN and ZALO_BOT_LINK"
        )
    code, created = await membership.create_invite(
        session, org, role, now=utc_now(), valid_for=timedelta(days=days), max_uses=uses
    )
    link = ways.telegram_link(code)
    expires = f"{created.expires_at:%Y-%m-%d %H:%M} UTC"
    lines = [f"{role} invite for {org.name} ({uses} use(s), expires {expires}):"]
    if link:
        lines.append(f"  link: {link}")
    else:
        lines.append("  link: (set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_USERNAME to print the link)")
    lines.append(f"  code: {code}   (in the bot: /start {code})")
    if ways.zalo:
        lines.append(f"  on Zalo: send the code to the bot {ways.zalo_link or ''}".rstrip())
    if not card:
        return lines, None
    from bot.core.i18n import Translator
    from handlers.secretary import invite_card_drawing

    # In the org's language and time zone, as /invite draws it in the cell's chat.
    t = Translator(org.locale, org.timezone)
    drawing = invite_card_drawing(t, org.name, code, created.expires_at, telegram=link, zalo=zalo)
    return lines, drawing
