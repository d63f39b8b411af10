"""What a cell secretary does in chat (more comes with the summary issues)."""

from __future__ import annotations

from datetime import timedelta

from bot import membership
from bot.chat import Button, Outcome, Reply
from handlers.context import Turn
from storage.models import Role

INVITE_PRESETS = ((1, 7), (60, 7), (60, 30))  # (uses, days)
MAX_INVITE_USES = 200
MAX_INVITE_DAYS = 30


async def invite(turn: Turn, args: list[str]) -> Outcome:
    """/invite [USES] [DAYS]: a member invite for this cell; without numbers, offer presets."""
    _ = turn._
    if args:
        return await create_invite(turn, args[:2] if len(args) > 1 else [args[0], "7"])
    buttons = [
        [
            Button(
                turn.t.ngettext("{n} person", "{n} people", uses).format(n=uses)
                + " · "
                + turn.t.ngettext("{n} day", "{n} days", days).format(n=days),
                f"inv:{uses}:{days}",
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


async def create_invite(turn: Turn, args: list[str]) -> Outcome:
    """Button inv:<uses>:<days> (or /invite USES DAYS)."""
    _ = turn._
    assert turn.member is not None
    try:
        uses, days = (int(a) for a in args)
    except ValueError:
        uses = days = 0
    if not (1 <= uses <= MAX_INVITE_USES and 1 <= days <= MAX_INVITE_DAYS):
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
    link = turn.runtime.invite_link(code)
    if link:
        lines.append(_("Link: {link}").format(link=link))
    lines.append(
        turn.t.ngettext(
            "Valid for {n} person until {time}.", "Valid for {n} people until {time}.", uses
        ).format(n=uses, time=turn.t.when(created.expires_at))
    )
    lines.append(_("Forward this message to the new members; each opens the link and taps Start."))
    return Outcome([Reply("\n".join(lines))])
