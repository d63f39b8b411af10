"""What a cell secretary does in chat (more comes with the summary issues)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot.core.chat import MAX_DOCUMENT_BYTES, Attachment, Button, Drawing, Outcome, Reply
from bot.core.i18n import Translator
from bot.core.numbers import MAX_YEAR, MIN_YEAR, whole_number
from bot.rules.framework import FrameworkError, parse_framework
from bot.services import entrances, membership, periods
from handlers import views
from handlers.callbacks import InvitePreset
from handlers.context import Turn
from storage import assessments
from storage import frameworks as framework_store
from storage.models import Role

INVITE_PRESETS = ((1, 7), (60, 7), (60, 30))  # (uses, days)
MAX_INVITE_USES = 200
MAX_INVITE_DAYS = 30
MAX_DEADLINE_AHEAD = timedelta(days=62)  # a month's window, with room to close it the next month


async def invite(turn: Turn, args: list[str]) -> Outcome:
    """/invite [USES] [DAYS]: a member invite for this cell; without numbers, offer presets."""
    _ = turn._
    if args:
        uses_text, days_text = (args[0], args[1]) if len(args) > 1 else (args[0], "7")
        uses = whole_number(uses_text, 1, MAX_INVITE_USES)
        days = whole_number(days_text, 1, MAX_INVITE_DAYS)
        return await _create_invite(turn, uses, days)
    buttons = [
        [
            Button(
                turn.t.ngettext("{n} person", "{n} people", uses).format(n=uses)
                + " · "
                + turn.t.ngettext("{n} day", "{n} days", days).format(n=days),
                InvitePreset(uses, days).pack(),
            )
        ]
        for uses, days in INVITE_PRESETS
    ]
    return Outcome(
        [
            Reply(
                _(
                    "Create an invite for new members of your cell. "
                    "How many people may use it, and for how long?\n"
                    "You can also type /invite PEOPLE DAYS, e.g. /invite 5 3"
                ),
                buttons,
            )
        ]
    )


async def create_invite(turn: Turn, data: InvitePreset) -> Outcome:
    """A preset button of /invite."""
    uses = data.uses if 1 <= data.uses <= MAX_INVITE_USES else None
    days = data.days if 1 <= data.days <= MAX_INVITE_DAYS else None
    return await _create_invite(turn, uses, days)


async def _create_invite(turn: Turn, uses: int | None, days: int | None) -> Outcome:
    """An invite for `uses` people, valid `days` days (None: out of range)."""
    _ = turn._
    assert turn.member is not None
    if uses is None or days is None:
        return Outcome(
            [
                Reply(
                    _(
                        "Please give the number of people (1–{max_uses}) and days (1–{max_days}), "
                        "e.g. /invite 5 3"
                    ).format(max_uses=MAX_INVITE_USES, max_days=MAX_INVITE_DAYS)
                )
            ]
        )
    code, created = await membership.create_invite(
        turn.session,
        turn.member.org,
        Role.MEMBER,
        now=turn.now,
        valid_for=timedelta(days=days),
        max_uses=uses,
        created_by=turn.member,
    )
    lines = [
        _("Invite for {cell}:").format(cell=turn.member.org.name),
        _("Code: {code}").format(code=code),
    ]
    ways = await entrances.of(
        turn.session, turn.runtime.settings, turn.member.org_id, turn.runtime.bot_username
    )
    link = ways.telegram_link(code)
    if link:
        lines.append(_("Link: {link}").format(link=link))
    lines.append(
        turn.t.ngettext(
            "Valid for {n} person until {time}.", "Valid for {n} people until {time}.", uses
        ).format(n=uses, time=turn.t.when(created.expires_at))
    )
    lines.append(_("Forward this message to the new members; each opens the link and taps Start."))
    if ways.zalo:  # Zalo has no links that carry a code: the code is sent
        lines.append(
            _("On Zalo: open {link} and send the code to chibo as a message.").format(
                link=ways.zalo_link
            )
            if ways.zalo_link
            else _("On Zalo: send the code to chibo as a message.")
        )
    replies = [Reply("\n".join(lines))]
    card = invite_card_drawing(
        turn.t,
        turn.member.org.name,
        code,
        created.expires_at,
        telegram=link,
        zalo=ways.zalo_link if ways.zalo else None,
    )
    if card is not None:
        replies.append(Reply("", drawing=card))
    return Outcome(replies)


def invite_card_drawing(
    t: Translator,
    org_name: str,
    code: str,
    expires_at: datetime,
    *,
    telegram: str | None,
    zalo: str | None,
) -> Drawing | None:
    """The invite's printable card with a QR code per app, or None with no link to show.

    `/invite` sends it after the invite's text; `chibo invite create --card` writes it.
    """
    _ = t.gettext
    links: list[tuple[str, str]] = []
    lines: list[str] = []
    if telegram:
        links.append(("Telegram", telegram))
        lines.append(_("Telegram: scan the QR code and tap Start to join."))
    if zalo:  # the link opens the bot; the code goes in a message
        links.append(("Zalo", zalo))
        lines.append(_("Zalo: scan the QR code, then send chibo the code in the box."))
    if not links:
        return None
    expires = _("Expires: {time}").format(time=t.when(expires_at))
    return Drawing(
        "photo",
        f"chibo-invite-{file_part(org_name)}.png",
        partial(_draw_invite_card, org_name, code, links, expires, lines),
    )


def file_part(name: str) -> str:
    """`name` in a file name: "Chi bộ khu Biểu Nghi" → "chi-bo-khu-bieu-nghi"."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = re.sub(r"[^a-z0-9]+", "-", folded.encode("ascii", "ignore").decode().lower())
    return plain.strip("-")[:60].strip("-") or "cell"


def _draw_invite_card(
    org_name: str, code: str, links: Sequence[tuple[str, str]], expires: str, lines: list[str]
) -> bytes:
    # In the drawing thread, after the turn; matplotlib and segno are imported there.
    from bot.render.invite_card import invite_card

    return invite_card(org_name, code, links, expires, lines)


async def open_period(turn: Turn, args: list[str]) -> Outcome:
    """/open [YYYY-MM-DD [HH:MM]]: open this month's self-assessment, with its deadline."""
    _ = turn._
    assert turn.member is not None
    cell = turn.member.org
    deadline = None
    if args:
        deadline = parse_local(" ".join(args[:2]), ZoneInfo(cell.timezone))
        if deadline is None or deadline <= turn.now:
            return Outcome(
                [
                    Reply(
                        _(
                            "Please give a future deadline as YEAR-MONTH-DAY and optionally "
                            "HOUR:MINUTE, e.g. /open 2026-12-05 19:30"
                        )
                    )
                ]
            )
        if deadline > turn.now + MAX_DEADLINE_AHEAD:  # a typo in the year, like 2062
            return Outcome(
                [
                    Reply(
                        _(
                            "The deadline must be within the next two months. Please check "
                            "the year and month, e.g. /open 2026-12-05 19:30"
                        )
                    )
                ]
            )
    opened = await periods.open_period(turn.session, cell, turn.member, turn.now, deadline)
    period = opened.period
    text = (
        _("The self-assessment for {month}/{year} is open until {deadline}.")
        if opened.created
        else _("The self-assessment for {month}/{year} was already open; deadline: {deadline}.")
    ).format(month=period.month, year=period.year, deadline=turn.t.when(period.deadline_at))
    hint = _("Members start it with /assess. See who has answered with /progress.")
    return Outcome([Reply(text + "\n" + hint)])


def parse_local(text: str, zone: ZoneInfo) -> datetime | None:
    """ "2026-12-05 19:30" (or a date alone, meaning 23:59) in the cell's zone, as UTC.

    ASCII digits only (strptime also reads "٢٠٢٦"), and a year within MIN_YEAR–MAX_YEAR: at
    the ends of datetime's range (year 1 or 9999) converting the zone overflows."""
    if not text.isascii():
        return None
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            return None
        if "%H" not in pattern:
            parsed = parsed.replace(hour=23, minute=59)
        return parsed.replace(tzinfo=zone).astimezone(UTC)
    return None


async def progress(turn: Turn, args: list[str]) -> Outcome:
    """/progress: per member, not started / in progress / submitted / excused."""
    assert turn.member is not None
    period = await assessments.current_period(turn.session, turn.member.org_id, turn.now)
    if period is None:
        return Outcome(
            [Reply(turn._("No self-assessment has been opened yet. Open one with /open."))]
        )
    return Outcome([Reply(await views.progress_text(turn.session, period, turn.t))])


async def import_framework(turn: Turn, document: Attachment) -> Outcome:
    """A framework file sent by the secretary: validated, stored, used from the next month."""
    _ = turn._
    assert turn.member is not None
    if document.too_large:
        text = _(
            "This file is too large ({size} KB). A framework file may be at most {limit} KB; "
            "it holds only text."
        ).format(size=document.byte_size // 1024, limit=MAX_DOCUMENT_BYTES // 1024)
        return Outcome([Reply(text)])
    try:
        spec = parse_framework(document.content.decode("utf-8-sig"))
    except (UnicodeDecodeError, FrameworkError) as exc:
        problems = (
            exc.problems
            if isinstance(exc, FrameworkError)
            else [_("The file is not UTF-8 text; save it as UTF-8.")]
        )
        shown = "\n".join(f"• {p}" for p in problems[:10])
        more = len(problems) - 10
        if more > 0:
            shown += "\n" + _("… and {n} more").format(n=more)
        return Outcome([Reply(_("This framework file cannot be used:") + "\n" + shown)])
    try:
        stored, _created = await framework_store.store(turn.session, spec, turn.member.org_id)
    except framework_store.FrameworkCodeReserved:
        text = _(
            "The code {code} belongs to a framework provided for all cells. Give your "
            "framework its own code (for example {example}) and send the file again."
        ).format(code=spec.code, example=f"{spec.code}-{turn.member.org_id}")
        return Outcome([Reply(text)])
    except framework_store.FrameworkVersionExists:
        return Outcome(
            [
                Reply(
                    _(
                        "Version {version} of this framework already exists with other content; "
                        "give the changed file a new version number."
                    ).format(version=spec.version)
                )
            ]
        )
    turn.member.org.framework_id = stored.id
    count = len(spec.member_questions())
    return Outcome(
        [
            Reply(
                _(
                    "Framework {code} version {version} is stored ({count} questions). It "
                    "applies from the next month; the current month keeps its version."
                ).format(code=stored.code, version=stored.version, count=count)
            )
        ]
    )
