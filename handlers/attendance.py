"""The secretary's attendance sheet and monthly excusals; a member's request to be excused."""

from __future__ import annotations

from bot.core.chat import Button, Outcome, Reply
from bot.services import attendance
from bot.services.attendance import Mark
from bot.services.membership import is_secretary
from handlers.context import Turn, own_period, row_id
from storage import assessments as assessment_store
from storage import attendance as attendance_store
from storage.models import Excusal, Member, Period

MARKS = {Mark.PRESENT: "✅", Mark.EXCUSED: "🟡", Mark.UNEXCUSED: "❌"}


async def _period(turn: Turn) -> Period | None:
    assert turn.member is not None
    return await assessment_store.current_period(turn.session, turn.member.org_id, turn.now)


async def _render_sheet(turn: Turn, period: Period, edit: bool) -> Outcome:
    _ = turn._
    assert turn.member is not None
    rows = await attendance.sheet(turn.session, period, turn.member, turn.now)
    summary = attendance.summarize(rows)
    text = "\n".join(
        [
            _("Attendance at the meeting of {month}/{year}").format(
                month=period.month, year=period.year
            ),
            _(
                "Tap a name to change: ✅ present → 🟡 absent with reason → "
                "❌ absent without reason."
            ),
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
    )
    buttons = [
        [
            Button(
                f"{MARKS[attendance.mark_of(row)]} {member.full_name}",
                f"att:{period.id}:{member.id}",
            )
        ]
        for member, row in rows
    ]
    return Outcome([Reply(text, buttons, edit=edit)])


async def record(turn: Turn, args: list[str]) -> Outcome:
    """/attendance: the attendance sheet of this month's meeting, pre-filled from RSVPs."""
    period = await _period(turn)
    if period is None:
        return Outcome(
            [Reply(turn._("No self-assessment has been opened yet. Open one with /open."))]
        )
    return await _render_sheet(turn, period, edit=False)


async def _member_in_period(turn: Turn, args: list[str]) -> tuple[Period, Member] | None:
    member_id = row_id(args[1]) if len(args) == 2 else None
    period = await own_period(turn, args[0]) if member_id is not None else None
    member = await turn.session.get(Member, member_id) if period is not None else None
    if period is None or member is None or member.org_id != period.cell_id:
        return None
    return period, member


async def toggle(turn: Turn, args: list[str]) -> Outcome:
    """Button att:<period>:<member>: cycle one member's mark."""
    assert turn.member is not None
    found = await _member_in_period(turn, args)
    if found is None:
        return Outcome(notice=turn._("This button is no longer valid."))
    period, member = found
    rows = dict(
        (m.id, row)
        for m, row in await attendance.sheet(turn.session, period, turn.member, turn.now)
    )
    if member.id not in rows:
        return Outcome(notice=turn._("This button is no longer valid."))
    attendance.cycle(rows[member.id], turn.member, turn.now)
    return await _render_sheet(turn, period, edit=True)


async def excuse(turn: Turn, args: list[str]) -> Outcome:
    """/excuse: the secretary excuses members for the month; a member asks with a reason."""
    _ = turn._
    assert turn.member is not None
    period = await _period(turn)
    if period is None or period.deadline_at <= turn.now:
        return Outcome([Reply(_("No self-assessment is open. Open one with /open."))])
    if args or not is_secretary(turn.member):
        return await _request(turn, period, " ".join(args).strip())
    return await _excusal_list(turn, period, edit=False)


async def _excusal_list(turn: Turn, period: Period, edit: bool) -> Outcome:
    _ = turn._
    excused = await attendance_store.excused_ids(turn.session, period.id)
    members = await attendance.expected(turn.session, period)
    buttons = [
        [Button(("➖ " if m.id in excused else "") + m.full_name, f"exc:{period.id}:{m.id}")]
        for m in members
    ]
    text = _(
        "Tap a member to excuse them for {month}/{year} (travel, illness…), "
        "tap again to take it back. Excused members get no reminders and are not "
        "counted as missing."
    ).format(month=period.month, year=period.year)
    return Outcome([Reply(text, buttons, edit=edit)])


async def toggle_excusal(turn: Turn, args: list[str]) -> Outcome:
    """Button exc:<period>:<member> (secretary)."""
    assert turn.member is not None
    found = await _member_in_period(turn, args)
    if found is None:
        return Outcome(notice=turn._("This button is no longer valid."))
    period, member = found
    await attendance.toggle_excusal(turn.session, period, member, turn.member, turn.now)
    return await _excusal_list(turn, period, edit=True)


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


async def decide(turn: Turn, args: list[str]) -> Outcome:
    """Button exa:<excusal>:y|n from an excusal request (secretary)."""
    _ = turn._
    assert turn.member is not None
    excusal_id = row_id(args[0]) if len(args) == 2 else None
    excusal = await turn.session.get(Excusal, excusal_id) if excusal_id is not None else None
    member = await turn.session.get(Member, excusal.member_id) if excusal else None
    if (
        excusal is None
        or member is None
        or member.org_id != turn.member.org_id
        or args[1] not in {"y", "n"}
    ):
        return Outcome(notice=_("This button is no longer valid."))
    await attendance.decide(turn.session, excusal, args[1] == "y", turn.member, turn.now)
    text = (
        _("{name} is excused for this month.")
        if args[1] == "y"
        else _("{name}'s request was declined.")
    ).format(name=member.full_name)
    return Outcome([Reply(text, edit=True)], notice=text)
