"""Chat handlers: the command table, authorisation, and one entry point.

Every channel (Telegram, console, Zalo) calls `handle(runtime, event)`; the
handlers it reaches are channel-neutral. Each command and button prefix says
who may use it, and `handle` checks that before any handler runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import metrics
from bot.core.chat import ChatEvent, Outcome, Reply, drawn
from bot.core.i18n import N_, Translator, normalize_locale
from bot.services import linking, membership
from bot.services.runtime import Runtime
from handlers import (
    assessment,
    attendance,
    committee,
    consultations,
    documents,
    evaluation,
    meeting,
    members,
    onboarding,
    secretary,
    tasks,
    web,
)
from handlers import callbacks as cb
from handlers.callbacks import ButtonData
from handlers.context import Audience, Handler, Turn, stale
from storage import members as member_store
from storage import prompts
from storage.models import Member, OrgKind, Role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    description: str  # marked with N_, translated when shown
    audience: Audience


M, S, C = Audience.MEMBER, Audience.SECRETARY, Audience.COMMITTEE
COMMANDS = (
    Command("start", onboarding.start, N_("join your cell with an invite code"), Audience.ANYONE),
    Command("help", onboarding.help_, N_("what you can do"), Audience.ANYONE),
    Command("assess", assessment.assess, N_("this month's self-assessment"), M),
    Command("status", assessment.status, N_("this month's deadline and your progress"), M),
    Command("language", onboarding.language, N_("change the language"), M),
    Command(
        "link",
        onboarding.link,
        N_("use chibo from a second app (Telegram or Zalo)"),
        Audience.ANYONE,
    ),
    Command("settings", meeting.settings, N_("turn deadline reminders on or off"), M),
    Command("excuse", attendance.excuse, N_("ask to be excused this month (with a reason)"), M),
    Command("score", evaluation.my_score, N_("your own score this month"), M),
    Command(
        "docs",
        documents.docs,
        N_("the meeting's documents (secretaries: /docs TEXT or LINK sends one)"),
        M,
    ),
    Command(
        "consult",
        consultations.consult,
        N_("opinions on a draft (secretaries: /consult DEADLINE | TEXT asks every member)"),
        M,
    ),
    Command(
        "tasks",
        tasks.tasks,
        N_("your tasks from the resolution, to report on (secretaries: every task)"),
        M,
    ),
    Command(
        "resolution",
        tasks.resolution,
        N_("the cell's resolution (secretaries: /resolution TITLE records it)"),
        M,
    ),
    Command("task", tasks.task, N_("add, cancel or delete a task of the resolution"), S),
    Command("web", web.web, N_("a link to the web view (works once)"), Audience.SIGNED_UP),
    Command("open", secretary.open_period, N_("open this month's self-assessment"), S),
    Command("progress", secretary.progress, N_("who has answered this month"), S),
    Command("remind", meeting.remind, N_("remind everyone who has not submitted"), S),
    Command("meeting", meeting.meeting, N_("set, move or skip this month's meeting"), S),
    Command("rsvps", meeting.rsvps, N_("who will attend the meeting"), S),
    Command("attendance", attendance.record, N_("record who attended the meeting"), S),
    Command("schedule", meeting.schedule, N_("the cell's regular monthly meeting"), S),
    Command("summary", evaluation.summary, N_("this month's results so far, with a chart"), S),
    Command("confirm", evaluation.confirm, N_("check the cell criteria and confirm the month"), S),
    Command("adjust", evaluation.adjust, N_("adjust a cell criterion's points, with a note"), S),
    Command("notes", evaluation.notes, N_("the meeting's notes for the month's record"), S),
    Command("reopen", evaluation.reopen, N_("reopen a confirmed month, with a reason"), S),
    Command("report", evaluation.report, N_("the year: text, chart, Excel and CSV"), S),
    Command("invite", secretary.invite, N_("invite new members"), S),
    Command("members", members.roster, N_("the cell's members: remove, move, status, role"), S),
    Command("cells", committee.cells, N_("the cells of your committee this month"), C),
)


@dataclass(frozen=True)
class ButtonRoute:
    """A button family, the handler that takes its parsed data, and who may press it."""

    family: type[ButtonData]
    handler: Callable[[Turn, Any], Awaitable[Outcome]]
    audience: Audience


BUTTONS = {
    route.family.prefix: route
    for route in (
        ButtonRoute(cb.Language, onboarding.set_language, M),
        ButtonRoute(cb.InvitePreset, secretary.create_invite, S),
        ButtonRoute(cb.AssessmentAction, assessment.button, M),
        ButtonRoute(cb.StartAssessment, meeting.start, M),
        ButtonRoute(cb.Rsvp, meeting.answer_rsvp, M),
        ButtonRoute(cb.Mute, meeting.set_mute, M),
        ButtonRoute(cb.AttendanceMark, attendance.toggle, S),
        ButtonRoute(cb.AttendancePage, attendance.sheet_page, S),
        ButtonRoute(cb.ExcuseToggle, attendance.toggle_excusal, S),
        ButtonRoute(cb.ExcusePage, attendance.excusal_page, S),
        ButtonRoute(cb.ExcusalDecision, attendance.decide, S),
        ButtonRoute(cb.MonthAction, evaluation.button, S),
        ButtonRoute(cb.CellFactToggle, evaluation.toggle_fact, S),
        ButtonRoute(cb.MembersPage, members.roster_page, S),
        ButtonRoute(cb.MemberCard, members.card, S),
        ButtonRoute(cb.MemberAction, members.action, S),
        ButtonRoute(cb.MemberMove, members.move, S),
        ButtonRoute(cb.MemberSet, members.set_value, S),
        ButtonRoute(cb.DocRead, documents.read, M),
        ButtonRoute(cb.DocSend, documents.decide, S),
        ButtonRoute(cb.DocReaders, documents.readers_of, S),
        ButtonRoute(cb.ConsultAnswer, consultations.answer, M),
        ButtonRoute(cb.ConsultTally, consultations.tally_of, S),
        ButtonRoute(cb.TaskAck, tasks.acknowledge, M),
        ButtonRoute(cb.TaskReport, tasks.report, M),
        ButtonRoute(cb.TaskNoteSkip, tasks.skip_note, M),
        ButtonRoute(cb.TaskWho, tasks.who, S),
    )
}


def allowed(audience: Audience, member: Member | None) -> bool:
    if audience is Audience.ANYONE:
        return True
    if member is None:
        return False
    if audience is Audience.SIGNED_UP:
        return True
    if audience is Audience.COMMITTEE:
        return member.role == Role.COMMITTEE_OFFICER
    if member.org.kind != OrgKind.CELL:
        return False  # committee officers belong to no cell
    return audience is Audience.MEMBER or membership.is_secretary(member)


def commands_for(member: Member | None) -> list[Command]:
    shown = [c for c in COMMANDS if allowed(c.audience, member)]
    return [c for c in shown if not (member is not None and c.name == "start")]


async def handle(runtime: Runtime, event: ChatEvent) -> Outcome:
    """Answer one chat event; the turn's database work commits before the reply is sent.

    Charts and workbooks are drawn after the commit, off the event loop. A turn
    that hit a transient lock or serialization conflict changed nothing and is run
    again as a whole.
    """

    async def turn(session: AsyncSession) -> Outcome:
        now = runtime.clock()
        if event.message_id is not None and not await prompts.first_time(
            session, event.channel, event.message_id, now
        ):
            return Outcome()  # a replayed message: answered already
        found = await member_store.identify(session, event.channel, event.user_id)
        member = found.member if found is not None else None
        if found is not None:
            await member_store.seen(session, event.channel, event.user_id, found, event.bot, now)
        this = Turn(runtime, event, session, member, _translator(runtime, member, event), now)
        outcome = await _route(this)
        outcome.locale = this.t.locale
        return outcome

    kind = metrics.kind_of(event.text, event.callback_data)
    started = time.perf_counter()
    try:
        outcome = await drawn(await runtime.db.retrying(turn))
    except Exception:
        metrics.UPDATES.labels(event.channel, kind, "failed").inc()
        raise
    metrics.UPDATES.labels(event.channel, kind, "ok").inc()
    metrics.TURN_SECONDS.labels(event.channel).observe(time.perf_counter() - started)
    return outcome


def error_outcome(runtime: Runtime, event: ChatEvent, *, saved: bool = False) -> Outcome:
    """What the person sees when a turn failed unexpectedly.

    `saved`: the failure came after the turn's work was committed (e.g. the reply was
    refused), so saying that nothing changed would be false.
    """
    _ = Translator(normalize_locale(event.language_code, runtime.settings.default_locale)).gettext
    if saved:
        text = _(
            "Your request was carried out and any change is saved, but the answer could not "
            "be shown. There is no need to do it again."
        )
    else:
        text = _(
            "Sorry, something went wrong and nothing was changed. Please try again in a moment."
        )
    return Outcome([Reply(text)])


def _translator(runtime: Runtime, member: Member | None, event: ChatEvent) -> Translator:
    settings = runtime.settings
    if member is not None:
        return Translator(member.locale or member.org.locale, member.org.timezone)
    return Translator(
        normalize_locale(event.language_code, settings.default_locale), settings.default_timezone
    )


async def _route(turn: Turn) -> Outcome:
    _ = turn._
    event = turn.event
    if event.callback_data is not None:
        return await _on_button(turn, event.callback_data)
    if (
        event.document is not None
        and allowed(Audience.SECRETARY, turn.member)
        and consultations.is_consult_caption(event.caption)
    ):
        return await consultations.uploaded(turn, event.document, event.caption)
    if event.document is not None and event.document.kind == "photo":
        if tasks.wants_note(turn):  # evidence for the task just reported on
            return await tasks.note(turn, event.caption, event.document)
        return Outcome([Reply(_("I can only read text messages and buttons."))])
    if event.document is not None and allowed(Audience.SECRETARY, turn.member):
        if tasks.wants_file(event.caption):
            return await tasks.uploaded(turn, event.document, event.caption or "")
        return await documents.uploaded(turn, event.document, event.caption)
    if event.text is None:
        return Outcome([Reply(_("I can only read text messages and buttons."))])
    limit = turn.runtime.settings.max_text_length
    if tasks.LONG_COMMANDS.match(event.text):
        limit = max(limit, tasks.MAX_MESSAGE)  # a resolution's text and its task lines
    if len(event.text) > limit:
        return Outcome(
            [
                Reply(
                    _("That message is too long ({length} characters; at most {limit}).").format(
                        length=len(event.text), limit=limit
                    )
                )
            ]
        )
    parsed = event.command
    if parsed is None:
        return await _on_text(turn, event.text.strip())
    name, args = parsed
    if turn.member is not None and tasks.wants_note(turn):
        tasks.forget_note(turn)  # a command instead of the note: the note is not wanted
    command = next((c for c in COMMANDS if c.name == name), None)
    if command is None:
        return Outcome(
            [
                Reply(
                    _("Unknown command /{name}. Send /help to see what you can do.").format(
                        name=name
                    )
                )
            ]
        )
    if not allowed(command.audience, turn.member):
        return _refusal(turn, command.audience)
    return await command.handler(turn, args)


async def _on_button(turn: Turn, data: str) -> Outcome:
    prefix, *parts = data.split(":")
    route = BUTTONS.get(prefix)
    if route is None:
        return stale(turn)
    if not allowed(route.audience, turn.member):
        refusal = _refusal(turn, route.audience)
        return Outcome(refusal.replies, notice=refusal.replies[0].text)
    parsed = route.family.parse(parts)
    if parsed is None:
        return stale(turn)
    return await route.handler(turn, parsed)


async def _on_text(turn: Turn, text: str) -> Outcome:
    _ = turn._
    if linking.looks_like_link_code(text):
        return await onboarding.link(turn, [text])
    if turn.member is None:
        if membership.looks_like_invite_code(text):
            return await onboarding.join(turn, text)
        return Outcome(
            [
                Reply(
                    _(
                        "To join your cell, send the invite code from your secretary, "
                        "or open the invite link."
                    )
                )
            ]
        )
    if consultations.wants_comment(turn):
        return await consultations.comment(turn, text)
    if meeting.wants_reason(turn):
        return await meeting.absence_reason(turn, text)
    if members.wants_removal_reason(turn):
        return await members.removal_reason(turn, text)
    if tasks.wants_note(turn):
        return await tasks.note(turn, text)
    answered = await assessment.typed(turn, text)
    if answered is not None:
        return answered
    return Outcome([Reply(_("I did not understand that. Send /help to see what you can do."))])


def _refusal(turn: Turn, audience: Audience) -> Outcome:
    _ = turn._
    if turn.member is None:
        return Outcome(
            [Reply(_("You are not in a cell yet. Send the invite code from your secretary first."))]
        )
    if audience is Audience.COMMITTEE:
        return Outcome([Reply(_("Only committee officers can do this."))])
    if turn.member.org.kind != OrgKind.CELL:
        return Outcome([Reply(_("This is for the members of a cell."))])
    return Outcome([Reply(_("Only the cell secretary can do this."))])
