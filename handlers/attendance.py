"""The secretary's attendance sheet and monthly excusals; a member's request to be excused."""

from __future__ import annotations

from bot import attendance
from bot.attendance import Mark
from bot.chat import Button, Outcome, Reply
from bot.membership import is_secretary
from handlers import paging
from handlers.context import Turn, own_period, row_id
from storage import assessments as assessment_store
from storage.models import Excusal, Member, Period

MARKS = {Mark.PRESENT: "✅", Mark.EXCUSED: "🟡", Mark.UNEXCUSED: "❌"}
PAGE = "p"  # att:<period>:p:<page> and exc:<period>:p:<page> turn a page


async def _period(turn: Turn) -> Period | None:
    assert turn.member is not None
    return await assessment_store.current_period(turn.session, turn.member.org_id, turn.now)


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
        [Button(f"{MARKS[attendance.mark_of(row)]} {m.full_name}", f"att:{period.id}:{m.id}")]
        for m, row in rows
        if m.id in on_page
    ]
    buttons += paging.navigation(turn.t, shown, lambda n: f"att:{period.id}:{PAGE}:{n}")
    text = paging.with_caption("\n".join(lines), turn.t, shown)
    return Outcome([Reply(text, buttons, edit=edit)])


async def _page_turn(turn: Turn, args: list[str]) -> tuple[Period, int] | None:
    """The period and page a ‹ Previous / Next › button asks for (None if forged)."""
    number = row_id(args[2]) if len(args) == 3 else None
    period = await own_period(turn, args[0]) if number is not None else None
    return None if period is None or number is None else (period, number)


def _is_page_turn(args: list[str]) -> bool:
    return len(args) >= 2 and args[1] == PAGE


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
    """Button att:<period>:<member>: cycle one member's mark (att:<period>:p:<n>: a page)."""
    assert turn.member is not None
    if _is_page_turn(args):
        turned = await _page_turn(turn, args)
        if turned is None:
            return Outcome(notice=turn._("This button is no longer valid."))
        return await _render_sheet(turn, turned[0], edit=True, number=turned[1])
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
    return await _render_sheet(turn, period, edit=True, member=member)


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


async def _excusal_list(
    turn: Turn, period: Period, edit: bool, *, number: int = 0, member: Member | None = None
) -> Outcome:
    """The list's page `number`, or the page that shows `member` after a tap."""
    _ = turn._
    excused = await attendance.excused_ids(turn.session, period.id)
    members = await attendance.expected(turn.session, period)
    ids = [m.id for m in members]
    shown = paging.page_of(ids, member.id) if member else paging.page(ids, number)
    on_page = set(shown.items)
    buttons = [
        [Button(("➖ " if m.id in excused else "") + m.full_name, f"exc:{period.id}:{m.id}")]
        for m in members
        if m.id in on_page
    ]
    buttons += paging.navigation(turn.t, shown, lambda n: f"exc:{period.id}:{PAGE}:{n}")
    text = _(
        "Tap a member to excuse them for {month}/{year} (travel, illness…), "
        "tap again to take it back. Excused members get no reminders and are not "
        "counted as missing."
    ).format(month=period.month, year=period.year)
    return Outcome([Reply(paging.with_caption(text, turn.t, shown), buttons, edit=edit)])


async def toggle_excusal(turn: Turn, args: list[str]) -> Outcome:
    """Button exc:<period>:<member> (secretary); exc:<period>:p:<n> turns to a page."""
    assert turn.member is not None
    if _is_page_turn(args):
        turned = await _page_turn(turn, args)
        if turned is None:
            return Outcome(notice=turn._("This button is no longer valid."))
        return await _excusal_list(turn, turned[0], edit=True, number=turned[1])
    found = await _member_in_period(turn, args)
    if found is None:
        return Outcome(notice=turn._("This button is no longer valid."))
    period, member = found
    await attendance.toggle_excusal(turn.session, period, member, turn.member, turn.now)
    return await _excusal_list(turn, period, edit=True, member=member)


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
    await attendance.request_excusal(turn.session, period, turn.member, reason, turn.now)
    return Outcome([Reply(_("Your request has been sent to the secretary."))])


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
