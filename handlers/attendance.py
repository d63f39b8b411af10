"""The secretary's attendance sheet and monthly excusals; a member's request to be excused."""

from __future__ import annotations

from bot.core.chat import Button, Outcome, Reply
from bot.services import attendance
from bot.services.attendance import Mark
from bot.services.membership import is_secretary
from handlers import paging
from handlers.callbacks import (
    AttendanceMark,
    AttendancePage,
    ExcusalDecision,
    ExcusePage,
    ExcuseToggle,
)
from handlers.context import Turn, current_period, own_period, stale
from storage import attendance as attendance_store
from storage.models import Excusal, Member, Period

MARKS = {Mark.PRESENT: "✅", Mark.EXCUSED: "🟡", Mark.UNEXCUSED: "❌"}


async def _render_sheet(
    turn: Turn, period: Period, edit: bool, *, number: int = 0, member: Member | None = None
) -> Outcome:
    """The sheet's page `number`, or the page that shows `member` after a tap."""
    _ = turn._
    assert turn.member is not None
    rows = await attendance.sheet(turn.session, period, turn.member, turn.now)
    summary = attendance.summarize(rows)
    ids = [m.id for m, _row in rows]
    shown = paging.page_of(ids, member.id) if member else paging.page(ids, number)
    lines = [
        _("Attendance at the meeting of {month}/{year}").format(
            month=period.month, year=period.year
        ),
        _("Tap a name to change: ✅ present → 🟡 absent with reason → ❌ absent without reason."),
        _(
            "Present: {present} of {expected} ({rate}); absent with reason: {excused}; "
            "without reason: {unexcused}."
        ).format(
            present=summary.present,
            expected=summary.expected,
            rate=turn.t.percent(summary.rate),
            excused=summary.with_reason,
            unexcused=summary.without_reason,
        ),
    ]
    on_page = set(shown.items)
    buttons = [
        [
            Button(
                f"{MARKS[attendance.mark_of(row)]} {m.full_name}",
                AttendanceMark(period.id, m.id).pack(),
            )
        ]
        for m, row in rows
        if m.id in on_page
    ]
    buttons += paging.navigation(turn.t, shown, lambda n: AttendancePage(period.id, n).pack())
    text = paging.with_caption("\n".join(lines), turn.t, shown)
    return Outcome([Reply(text, buttons, edit=edit)])


async def record(turn: Turn, args: list[str]) -> Outcome:
    """/attendance: the attendance sheet of this month's meeting, pre-filled from RSVPs."""
    period = await current_period(turn)
    if period is None:
        return Outcome(
            [Reply(turn._("No self-assessment has been opened yet. Open one with /open."))]
        )
    return await _render_sheet(turn, period, edit=False)


async def _member_in_period(
    turn: Turn, period_id: int, member_id: int
) -> tuple[Period, Member] | None:
    period = await own_period(turn, period_id)
    member = await turn.session.get(Member, member_id) if period is not None else None
    if period is None or member is None or member.org_id != period.cell_id:
        return None
    return period, member


async def toggle(turn: Turn, data: AttendanceMark) -> Outcome:
    """Cycle one member's mark on the sheet."""
    assert turn.member is not None
    found = await _member_in_period(turn, data.period, data.member)
    if found is None:
        return stale(turn)
    period, member = found
    rows = dict(
        (m.id, row)
        for m, row in await attendance.sheet(turn.session, period, turn.member, turn.now)
    )
    if member.id not in rows:
        return stale(turn)
    attendance.cycle(rows[member.id], turn.member, turn.now)
    return await _render_sheet(turn, period, edit=True, member=member)


async def sheet_page(turn: Turn, data: AttendancePage) -> Outcome:
    """‹ Previous / Next › on the attendance sheet."""
    period = await own_period(turn, data.period)
    if period is None:
        return stale(turn)
    return await _render_sheet(turn, period, edit=True, number=data.page)


async def excuse(turn: Turn, args: list[str]) -> Outcome:
    """/excuse: the secretary excuses members for the month; a member asks with a reason."""
    _ = turn._
    assert turn.member is not None
    period = await current_period(turn)
    if period is None or period.deadline_at <= turn.now:
        return Outcome([Reply(_("No self-assessment is open. Open one with /open."))])
    if args or not is_secretary(turn.member):
        return await _request(turn, period, " ".join(args).strip())
    return await _excusal_list(turn, period, edit=False)


async def _excusal_list(
    turn: Turn, period: Period, edit: bool, *, number: int = 0, member: Member | None = None
) -> Outcome:
    """The list's page `number`, or the page that shows `member` after a tap."""
    _ = turn._
    excused = await attendance_store.excused_ids(turn.session, period.id)
    members = await attendance.expected(turn.session, period)
    ids = [m.id for m in members]
    shown = paging.page_of(ids, member.id) if member else paging.page(ids, number)
    on_page = set(shown.items)
    buttons = [
        [
            Button(
                ("➖ " if m.id in excused else "") + m.full_name,
                ExcuseToggle(period.id, m.id).pack(),
            )
        ]
        for m in members
        if m.id in on_page
    ]
    buttons += paging.navigation(turn.t, shown, lambda n: ExcusePage(period.id, n).pack())
    text = _(
        "Tap a member to excuse them for {month}/{year} (travel, illness…), "
        "tap again to take it back. Excused members get no reminders and are not "
        "counted as missing."
    ).format(month=period.month, year=period.year)
    return Outcome([Reply(paging.with_caption(text, turn.t, shown), buttons, edit=edit)])


async def toggle_excusal(turn: Turn, data: ExcuseToggle) -> Outcome:
    """The secretary excuses a member for the month, or takes it back."""
    assert turn.member is not None
    found = await _member_in_period(turn, data.period, data.member)
    if found is None:
        return stale(turn)
    period, member = found
    await attendance.toggle_excusal(turn.session, period, member, turn.member, turn.now)
    return await _excusal_list(turn, period, edit=True, member=member)


async def excusal_page(turn: Turn, data: ExcusePage) -> Outcome:
    """‹ Previous / Next › on the excusal list."""
    period = await own_period(turn, data.period)
    if period is None:
        return stale(turn)
    return await _excusal_list(turn, period, edit=True, number=data.page)


async def _request(turn: Turn, period: Period, reason: str) -> Outcome:
    _ = turn._
    assert turn.member is not None
    if not reason:
        return Outcome(
            [
                Reply(
                    _(
                        "Please write the reason after the command, "
                        "e.g. /excuse Đi viện điều trị cả tháng"
                    )
                )
            ]
        )
    done = await attendance.request_excusal(turn.session, period, turn.member, reason, turn.now)
    replies = {
        attendance.RequestOutcome.SENT: _("Your request has been sent to the secretary."),
        attendance.RequestOutcome.UPDATED: _(
            "Your request is already waiting for the secretary; its reason is now updated."
        ),
        attendance.RequestOutcome.ALREADY_EXCUSED: _("You are already excused for this month."),
    }
    return Outcome([Reply(replies[done])])


async def decide(turn: Turn, data: ExcusalDecision) -> Outcome:
    """Approve or decline a member's excusal request (secretary)."""
    _ = turn._
    assert turn.member is not None
    excusal = await turn.session.get(Excusal, data.excusal)
    member = await turn.session.get(Member, excusal.member_id) if excusal else None
    if excusal is None or member is None or member.org_id != turn.member.org_id:
        return stale(turn)
    approved = data.answer == "y"
    await attendance.decide(turn.session, excusal, approved, turn.member, turn.now)
    text = (
        _("{name} is excused for this month.") if approved else _("{name}'s request was declined.")
    ).format(name=member.full_name)
    return Outcome([Reply(text, edit=True)], notice=text)
