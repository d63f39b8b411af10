"""How each scheduled notification reads, in the recipient's language."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import Button, Reply
from bot.core.i18n import Translator
from bot.render import reports
from bot.render.names import role_name, status_name
from bot.services import consultations, lifecycle, reporting
from bot.services import tasks as task_service
from bot.services.notify import Notice
from bot.services.planner import Kind
from handlers import tasks as task_views
from handlers import views
from handlers.callbacks import ExcusalDecision, MonthAction, Rsvp, StartAssessment
from handlers.consultations import consultation_reply, tally_text
from handlers.documents import document_reply
from storage.models import (
    Excusal,
    MeetingDocument,
    Member,
    MemberEventKind,
    MemberStatus,
    Organization,
    Period,
)


def start_button(t: Translator, period: Period) -> list[Button]:
    return [
        Button("📝 " + t.gettext("Start the self-assessment"), StartAssessment(period.id).pack())
    ]


def rsvp_buttons(t: Translator, period: Period) -> list[list[Button]]:
    return [
        [Button("✅ " + t.gettext("I will attend"), Rsvp(period.id, "y").pack())],
        [Button("❌ " + t.gettext("I cannot attend (give a reason)"), Rsvp(period.id, "n").pack())],
    ]


def meeting_text(t: Translator, period: Period) -> str:
    """Date, time, place and agenda of the month's meeting."""
    _ = t.gettext
    assert period.meeting_at is not None
    title = (
        _("Thematic cell meeting {month}/{year}")
        if period.thematic
        else _("Cell meeting {month}/{year}")
    )
    lines = [
        "📅 " + title.format(month=period.month, year=period.year),
        _("When: {day}, {time}").format(
            day=t.day(period.meeting_at), time=t.time(period.meeting_at)
        ),
    ]
    if period.place:
        lines.append(_("Where: {place}").format(place=period.place))
    if period.agenda:
        lines.append(_("Agenda and documents: {agenda}").format(agenda=period.agenda))
    return "\n".join(lines)


def _deadline_line(t: Translator, period: Period) -> str:
    return t.gettext(
        "Your self-assessment for {month}/{year} is not finished yet (deadline {deadline})."
    ).format(month=period.month, year=period.year, deadline=t.when(period.deadline_at))


async def render(session: AsyncSession, notice: Notice) -> Reply:
    member, period, cell = notice.member, notice.period, notice.cell
    t = Translator(member.locale or cell.locale, cell.timezone)
    _ = t.gettext
    kind = notice.notification.kind
    if kind == Kind.MEMBER_NOTICE:
        return await _member_notice(session, notice, t)
    assert period is not None  # every other kind belongs to a month
    needs_assessment = member.status != MemberStatus.EXEMPT and not notice.submitted
    if kind == Kind.WINDOW_OPEN:
        text = _("The self-assessment for {month}/{year} is open. Deadline: {deadline}.").format(
            month=period.month, year=period.year, deadline=t.when(period.deadline_at)
        )
        if period.meeting_at is not None:
            text += "\n\n" + meeting_text(t, period)
        return Reply(text, [start_button(t, period)])
    if kind in {Kind.MEETING_REMINDER, Kind.MEETING_NOTICE}:
        heading = (
            _("The meeting time has been set or changed.")
            if kind == Kind.MEETING_NOTICE
            else _("Reminder:")
        )
        text = heading + "\n" + meeting_text(t, period)
        buttons = rsvp_buttons(t, period)
        if needs_assessment and not member.muted:
            text += "\n\n" + _deadline_line(t, period)
            buttons.append(start_button(t, period))
        return Reply(text, buttons)
    if kind in {Kind.DEADLINE_NUDGE, Kind.MANUAL_NUDGE}:
        return Reply("⏰ " + _deadline_line(t, period), [start_button(t, period)])
    if kind == Kind.MISSING_REPORT:
        body = await views.progress_text(session, period, t, only_missing=True)
        return Reply(_("Not submitted yet, shortly before the deadline:") + "\n" + body)
    if kind in {Kind.SUMMARY_PREVIEW, Kind.SUMMARY}:
        computed, report = await reporting.month_report(session, period, cell, t)
        heading = (
            _("Preview before the meeting:")
            if kind == Kind.SUMMARY_PREVIEW
            else _("The self-assessment is closed. Result:")
        )
        body = reports.summary_text(computed.spec, report, t, limit=3900)
        buttons = [
            [
                Button("📊 " + _("Chart and details"), MonthAction("sum", period.id).pack()),
                Button("✔ " + _("Confirm the month"), MonthAction("check", period.id).pack()),
            ]
        ]
        return Reply(heading + "\n" + body, buttons)
    if kind == Kind.MEMBER_UNREACHABLE:
        subject = await session.get(Member, int(notice.notification.offset_key.lstrip("m")))
        name = subject.full_name if subject else "?"
        return Reply(
            _(
                "chibo can no longer write to {name}: they blocked the bot or closed their "
                "account. Please reach them another way."
            ).format(name=name)
        )
    if kind == Kind.EXCUSAL_REQUEST:
        return await _excusal_request(session, notice, t)
    if kind == Kind.DOCUMENTS:
        document_id = int(notice.notification.offset_key.lstrip("d"))
        document = await session.get(MeetingDocument, document_id)
        if document is None or document.period_id != period.id or document.sent_at is None:
            raise ValueError(f"no sent document {document_id} in period {period.id}")
        return document_reply(t, document, period)
    if kind in {Kind.CONSULTATION, Kind.CONSULTATION_REMINDER, Kind.CONSULTATION_TALLY}:
        return await _consultation(session, notice, t)
    if kind in {Kind.TASK_ASSIGNED, Kind.TASK_DUE}:
        key = notice.notification.offset_key
        found = await task_service.assignments_for_notice(session, key, member.id, period.id)
        if not found:
            raise ValueError(f"no task {key!r} of member {member.id} in period {period.id}")
        if kind == Kind.TASK_ASSIGNED:
            return task_views.assigned_reply(t, found)
        return task_views.due_reply(t, found[0])
    if kind == Kind.TASKS_OVERDUE:
        resolution = await task_service.resolution_of(session, period.id)
        items = (
            await task_service.overdue(session, resolution.id, notice.notification.due_at)
            if resolution is not None
            else []
        )
        if not items:
            return Reply(t.gettext("Every task due by now is done. Thank you!"))
        return Reply(task_views.overdue_text(t, period, items))
    raise ValueError(f"unknown notification kind {kind!r}")


async def _consultation(session: AsyncSession, notice: Notice, t: Translator) -> Reply:
    """A draft for the member's opinion, its reminder, or the secretaries' tally."""
    n, period = notice.notification, notice.period
    if period is None:
        raise ValueError(f"consultation notice {n.id} without its month")
    consultation = await consultations.for_notice(session, n.offset_key, period)
    if consultation is None:
        raise ValueError(f"no consultation {n.offset_key!r} in period {period.id}")
    if n.kind == Kind.CONSULTATION_TALLY:
        tally = await consultations.tally(session, consultation, period.cell_id, detailed=True)
        heading = t.gettext("The consultation is closed. Result:")
        return Reply(heading + "\n" + tally_text(t, tally))
    response = await consultations.response_of(session, consultation, notice.member)
    return consultation_reply(
        t,
        consultation,
        period,
        response,
        is_open=True,
        reminder=n.kind == Kind.CONSULTATION_REMINDER,
    )


async def _excusal_request(session: AsyncSession, notice: Notice, t: Translator) -> Reply:
    _ = t.gettext
    excusal_id = int(notice.notification.offset_key.lstrip("x").split("-")[0])
    excusal = await session.get(Excusal, excusal_id)
    requester = await session.get(Member, excusal.member_id) if excusal else None
    name = requester.full_name if requester else "?"
    text = _(
        "{name} asks to be excused from this month's self-assessment and meeting. Reason: {reason}"
    ).format(name=name, reason=excusal.reason if excusal else "")
    buttons = [
        [
            Button("✅ " + _("Approve"), ExcusalDecision(excusal_id, "y").pack()),
            Button("✖ " + _("Decline"), ExcusalDecision(excusal_id, "n").pack()),
        ]
    ]
    return Reply(text, buttons)


async def _member_notice(session: AsyncSession, notice: Notice, t: Translator) -> Reply:
    """The member is told what changed for them: removed, moved, status or role."""
    _ = t.gettext
    event = await lifecycle.event_of_notice(session, notice.notification.offset_key)
    if event is None:
        raise ValueError(f"no member event for notice {notice.notification.id}")
    cell = notice.cell.name
    if event.kind == MemberEventKind.REMOVED:
        if event.new_value == lifecycle.MOVED_AWAY:
            return Reply(
                _(
                    "You have moved to a cell outside chibo, so {cell} no longer lists you "
                    "here. Thank you for your work in the cell."
                ).format(cell=cell)
            )
        text = _("You are no longer a member of {cell} in chibo.").format(cell=cell)
        if event.reason:
            text += "\n" + _("Reason: {reason}").format(reason=event.reason)
        return Reply(text)
    if event.kind == MemberEventKind.MOVED_IN:
        old = await session.get(Organization, int(event.old_value or 0))
        return Reply(
            _(
                "Welcome to {cell}! Your party activities have moved here from {old_cell}. "
                "Your earlier self-assessments stay with you; from now on /assess is for "
                "{cell}."
            ).format(cell=cell, old_cell=old.name if old else "?")
        )
    if event.kind == MemberEventKind.STATUS:
        return Reply(
            _("Your status in {cell} is now: {status}.").format(
                cell=cell, status=status_name(t, event.new_value or "")
            )
        )
    if event.kind == MemberEventKind.ROLE:
        text = _("Your role in {cell} is now: {role}.").format(
            cell=cell, role=role_name(t, event.new_value or "")
        )
        return Reply(text + "\n" + _("Send /help to see what you can do."))
    raise ValueError(f"no notice for a member event of kind {event.kind!r}")
