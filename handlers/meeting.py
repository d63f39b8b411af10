"""Meetings in chat: the rule, moving or skipping a month, RSVPs, nudges, reminder settings."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.core.chat import Button, Outcome, Reply
from bot.render.names import meeting_rule_text
from bot.services import meetings
from handlers import notices
from handlers.assessment import assess
from handlers.callbacks import Mute, Rsvp, StartAssessment
from handlers.context import Turn, own_period, stale
from handlers.secretary import parse_local
from storage import assessments as assessment_store

THEMATIC_WORDS = frozenset({"chuyên đề", "chuyen de", "thematic", "thema"})


async def schedule(turn: Turn, args: list[str]) -> Outcome:
    """/schedule RULE: the cell's monthly meeting, e.g. /schedule ngày 3 19:30."""
    _ = turn._
    assert turn.member is not None
    if not args:
        return Outcome(
            [
                Reply(
                    _(
                        "Set the cell's regular monthly meeting, e.g. /schedule ngày 3 19:30 "
                        "or /schedule thứ sáu đầu tiên 14:00. chibo then opens each month's "
                        "self-assessment and sends the reminders by itself."
                    )
                )
            ]
        )
    try:
        rule = await meetings.set_rule(turn.session, turn.member.org, " ".join(args), turn.now)
    except ValueError:
        return Outcome(
            [
                Reply(
                    _(
                        "I could not read that. Examples: /schedule ngày 3 19:30, "
                        "/schedule thứ sáu đầu tiên 14:00, /schedule last sat 08:00"
                    )
                )
            ]
        )
    text = meeting_rule_text(turn.t, rule)
    return Outcome([Reply(_("Regular meeting set: {rule}.").format(rule=text))])


async def meeting(turn: Turn, args: list[str]) -> Outcome:
    """/meeting YYYY-MM-DD HH:MM [place | agenda], or /meeting skip."""
    _ = turn._
    assert turn.member is not None
    cell = turn.member.org
    if args and args[0].lower() in {"skip", "bỏ", "huy", "hủy"}:
        period = await assessment_store.current_period(turn.session, cell.id, turn.now)
        local = turn.now.astimezone(ZoneInfo(cell.timezone))
        year, month = (period.year, period.month) if period else (local.year, local.month)
        await meetings.skip_month(turn.session, cell, turn.member, year, month, turn.now)
        return Outcome(
            [
                Reply(
                    _("No meeting in {month}/{year}; its reminders are cancelled.").format(
                        month=month, year=year
                    )
                )
            ]
        )
    head, _sep, rest = " ".join(args).partition("|")
    words = head.split()
    at = parse_local(" ".join(words[:2]), ZoneInfo(cell.timezone)) if len(words) >= 2 else None
    if at is None or at <= turn.now:
        return Outcome(
            [
                Reply(
                    _(
                        "Please give the meeting's future date and time, and optionally the "
                        "place and the agenda after a |, e.g. /meeting 2026-12-05 19:30 | "
                        "Nhà văn hóa khu | Nghị quyết tháng 12. /meeting skip cancels this "
                        "month's meeting; add | chuyên đề for the quarterly thematic meeting."
                    )
                )
            ]
        )
    parts = [part.strip() for part in rest.split("|")]
    thematic = any(part.lower() in THEMATIC_WORDS for part in parts)
    place, agenda = ([p for p in parts if p.lower() not in THEMATIC_WORDS] + ["", ""])[:2]
    done = await meetings.set_meeting(
        turn.session,
        cell,
        turn.member,
        at,
        turn.now,
        place=place or None,
        agenda=agenda or None,
        thematic=thematic,
    )
    text = _("Meeting set; all {count} members are being told.").format(count=done.notified)
    return Outcome([Reply(text + "\n\n" + notices.meeting_text(turn.t, done.period))])


async def start(turn: Turn, data: StartAssessment) -> Outcome:
    """The "start the self-assessment" button of a notification."""
    if await own_period(turn, data.period) is None:
        return stale(turn)
    return await assess(turn, [])


async def answer_rsvp(turn: Turn, data: Rsvp) -> Outcome:
    """A meeting notice's "I will attend" / "I cannot attend"."""
    _ = turn._
    assert turn.member is not None
    period = await own_period(turn, data.period)
    if period is None or period.meeting_at is None:
        return stale(turn)
    if period.meeting_at <= turn.now:
        return Outcome(notice=_("This meeting has already started."))
    if data.answer == "y":
        await meetings.rsvp(turn.session, turn.member, period, True, None, turn.now)
        text = _("Noted: you will attend. Thank you!")
        return Outcome([Reply(text)], notice=text)
    meetings.ask_absence_reason(turn.member, period)
    return Outcome([Reply(_("Please write the reason for your absence:"), typed=True)])


async def absence_reason(turn: Turn, text: str) -> Outcome:
    """Typed text after "I cannot attend": the reason."""
    assert turn.member is not None
    period = await own_period(turn, meetings.absence_reason_period(turn.member))
    if period is None:
        meetings.forget_absence_reason(turn.member)
        return Outcome([Reply(turn._("This button is no longer valid."))])
    await meetings.rsvp(turn.session, turn.member, period, False, text, turn.now)
    return Outcome(
        [Reply(turn._("Noted: you will be absent. Reason: {reason}").format(reason=text))]
    )


async def rsvps(turn: Turn, args: list[str]) -> Outcome:
    """/rsvps: who will attend the meeting, who will not (and why), who has not said."""
    _ = turn._
    assert turn.member is not None
    period = await assessment_store.current_period(turn.session, turn.member.org_id, turn.now)
    if period is None or period.meeting_at is None:
        return Outcome([Reply(_("No meeting is set. Set one with /meeting."))])
    lines = [notices.meeting_text(turn.t, period), ""]
    rows = await meetings.rsvps_of(turn.session, period)
    coming = sum(1 for _m, r in rows if r is not None and r.attending)
    lines.append(_("Will attend: {coming} of {count}").format(coming=coming, count=len(rows)))
    for member, answer in rows:
        if answer is None:
            lines.append(f"⬜ {member.full_name} — " + _("no answer yet"))
        elif answer.attending:
            lines.append(f"✅ {member.full_name}")
        else:
            lines.append(f"❌ {member.full_name} — {answer.reason or ''}")
    return Outcome([Reply("\n".join(lines))])


async def remind(turn: Turn, args: list[str]) -> Outcome:
    """/remind: nudge everyone who has not submitted (at most once an hour each)."""
    _ = turn._
    assert turn.member is not None
    period = await assessment_store.current_period(turn.session, turn.member.org_id, turn.now)
    if period is None or period.deadline_at <= turn.now:
        return Outcome([Reply(_("No self-assessment is open. Open one with /open."))])
    queued, held = await meetings.manual_nudge(turn.session, period, turn.now)
    text = _("Reminder sent to {queued} members.").format(queued=queued)
    if held:
        text += " " + _("{held} were reminded less than an hour ago and were left alone.").format(
            held=held
        )
    return Outcome([Reply(text)])


async def settings(turn: Turn, args: list[str]) -> Outcome:
    """/settings: mute or unmute the reminders that are not essential."""
    _ = turn._
    assert turn.member is not None
    muted = turn.member.muted
    state = (
        _("Reminders about the self-assessment deadline are off.")
        if muted
        else _("Reminders about the self-assessment deadline are on.")
    )
    label = "🔔 " + _("Turn them on") if muted else "🔕 " + _("Turn them off")
    note = _("Meeting notices are always sent.")
    button = Button(label, Mute(not muted).pack())
    edit = turn.event.callback_data is not None
    return Outcome([Reply(state + "\n" + note, [[button]], edit=edit)])


async def set_mute(turn: Turn, data: Mute) -> Outcome:
    """Turn the deadline reminders off or on."""
    assert turn.member is not None
    meetings.set_muted(turn.member, data.muted)
    return await settings(turn, [])


def wants_reason(turn: Turn) -> bool:
    member = turn.member
    return member is not None and meetings.absence_reason_period(member) is not None
