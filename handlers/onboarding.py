"""Joining by invite, help and language: what anyone can do."""

from __future__ import annotations

from bot.core.chat import Button, Outcome, Reply
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LANGUAGE_NAMES, Translator
from bot.render.names import role_name
from bot.services import linking, membership
from bot.services.linking import LinkStatus
from bot.services.membership import JoinStatus
from handlers.callbacks import Language
from handlers.context import Audience, Turn, stale


async def start(turn: Turn, args: list[str]) -> Outcome:
    """/start [CODE]: join with an invite, or greet."""
    if args:
        return await join(turn, args[0])
    _ = turn._
    if turn.member is None:
        return Outcome(
            [
                Reply(
                    _(
                        "Welcome to chibo, the monthly self-assessment of your party cell.\n"
                        "To join, open the invite link from your cell secretary, "
                        "or send me the invite code."
                    )
                )
            ]
        )
    return Outcome(
        [
            Reply(
                _("Welcome back, {name}. You are in {cell} as {role}.").format(
                    name=turn.member.full_name,
                    cell=turn.member.org.name,
                    role=role_name(turn.t, turn.member.role),
                )
                + "\n\n"
                + help_text(turn)
            )
        ]
    )


async def join(turn: Turn, code: str) -> Outcome:
    """Redeem an invite code for this chat."""
    _ = turn._
    result = await membership.join(
        turn.session,
        channel=turn.event.channel,
        external_id=turn.event.user_id,
        display_name=turn.event.display_name,
        code=code,
        now=turn.now,
        policy=turn.runtime.join_policy,
        bot=turn.event.bot,
    )
    if result.status is JoinStatus.JOINED and result.member is not None:
        member = result.member
        turn.speak_as(member)
        _ = turn._
        text = _("Welcome, {name}! You have joined {cell} as {role}.").format(
            name=member.full_name, cell=member.org.name, role=role_name(turn.t, member.role)
        )
        return Outcome([Reply(text + "\n\n" + help_text(turn))])
    if result.status is JoinStatus.ALREADY_MEMBER and result.member is not None:
        return Outcome(
            [
                Reply(
                    _(
                        "You are already a member of {cell}. One account can belong to one "
                        "cell; ask your secretary if you need to move."
                    ).format(cell=result.member.org.name)
                )
            ]
        )
    if result.status is JoinStatus.THROTTLED and result.retry_at is not None:
        return Outcome(
            [
                Reply(
                    _(
                        "Too many wrong codes. Please wait until {time} and try again, "
                        "or ask your secretary for a new invite."
                    ).format(time=turn.t.when(result.retry_at))
                )
            ]
        )
    messages = {
        JoinStatus.INVALID: _(
            "This invite code is not valid. Check it, or ask your secretary for a new one."
        ),
        JoinStatus.EXPIRED: _("This invite has expired. Ask your secretary for a new one."),
        JoinStatus.USED_UP: _(
            "This invite has already been used. Ask your secretary for a new one."
        ),
    }
    return Outcome([Reply(messages[result.status])])


async def help_(turn: Turn, args: list[str]) -> Outcome:
    """/help: what this person's role can do."""
    return Outcome([Reply(help_text(turn))])


def help_text(turn: Turn) -> str:
    from handlers import commands_for  # the command table lives in handlers/__init__

    _ = turn._
    lines = [_("What you can do:")]
    heading_shown = False
    for command in commands_for(turn.member):
        if command.audience is Audience.SECRETARY and not heading_shown:
            lines += ["", _("As secretary:")]
            heading_shown = True
        lines.append(f"/{command.name} — {_(command.description)}")
    if turn.member is None:
        lines.append(_("You are not in a cell yet: send the invite code from your secretary."))
    return "\n".join(lines)


async def language(turn: Turn, args: list[str]) -> Outcome:
    """/language: choose the language, remembered for this member."""
    if args and args[0].lower() in SUPPORTED_LOCALES:
        return await set_language(turn, Language(args[0].lower()))
    buttons = [[Button(LANGUAGE_NAMES[code], Language(code).pack())] for code in SUPPORTED_LOCALES]
    return Outcome([Reply(turn._("Choose your language:"), buttons)])


async def set_language(turn: Turn, data: Language) -> Outcome:
    """A language button of /language."""
    assert turn.member is not None
    if data.code not in SUPPORTED_LOCALES:
        return stale(turn)
    membership.set_locale(turn.member, data.code)
    turn.t = Translator(data.code, turn.member.org.timezone)
    text = turn._("Language set to {language}.").format(language=LANGUAGE_NAMES[data.code])
    edit = turn.event.callback_data is not None
    return Outcome([Reply(text, edit=edit)], notice=text if edit else None)


CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "console"}


async def link(turn: Turn, args: list[str]) -> Outcome:
    """/link: a code to use chibo from a second app; /link CODE there links that account."""
    _ = turn._
    if turn.member is not None and not args:
        new, expires = await linking.create(turn.session, turn.member, turn.now)
        text = _(
            "Your link code: {code}\n"
            "To use chibo on your other app too (Telegram or Zalo), send this code to chibo "
            "there before {time}. Reminders then go to the app you used last; your answers "
            "and results stay one."
        ).format(code=linking.shown(new), time=turn.t.time(expires))
        return Outcome([Reply(text)])
    code = linking.parse(" ".join(args)) if args else None
    if code is None:
        return Outcome(
            [
                Reply(
                    _(
                        "To link this app, send /link on the app where chibo knows you, "
                        "then send the code it gives you here."
                    )
                )
            ]
        )
    result = await linking.redeem(
        turn.session,
        channel=turn.event.channel,
        external_id=turn.event.user_id,
        code=code,
        now=turn.now,
        policy=turn.runtime.join_policy,
        bot=turn.event.bot,
    )
    return _linked(turn, result)


def _linked(turn: Turn, result: linking.LinkResult) -> Outcome:
    _ = turn._
    member = result.member
    if result.status is LinkStatus.LINKED and member is not None:
        turn.speak_as(member)
        _ = turn._
        text = _("Linked: you now use chibo here too, as {name} of {cell}.").format(
            name=member.full_name, cell=member.org.name
        )
        return Outcome([Reply(text + "\n\n" + help_text(turn))])
    if result.status is LinkStatus.ALREADY_LINKED and member is not None:
        text = _("This account already belongs to {name} of {cell}.").format(
            name=member.full_name, cell=member.org.name
        )
    elif result.status is LinkStatus.CHANNEL_TAKEN:
        text = _(
            "You already use chibo on {app} with another account. Ask your secretary to "
            "remove the old one first."
        ).format(app=CHANNEL_NAMES.get(turn.event.channel, turn.event.channel))
    elif result.status is LinkStatus.THROTTLED and result.retry_at is not None:
        text = _(
            "Too many wrong codes. Please wait until {time} and try again, "
            "or ask your secretary for a new invite."
        ).format(time=turn.t.when(result.retry_at))
    else:
        text = _("This link code is not valid or has expired. Send /link again to get a new one.")
    return Outcome([Reply(text)])
