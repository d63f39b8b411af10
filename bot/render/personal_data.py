"""A member's personal data export as readable text, in their language and the cell's time.

Reads the mapping `bot.services.privacy.export` builds; sections it does not know (a
table added later) are still printed, field by field, so nothing is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.core.i18n import N_, Translator
from bot.render.names import role_name, status_name

NOTIFICATION_KINDS = {
    "window_open": N_("the self-assessment is open"),
    "meeting_reminder": N_("meeting reminder"),
    "meeting_notice": N_("meeting set or moved"),
    "deadline_nudge": N_("deadline reminder"),
    "manual_nudge": N_("reminder from the secretary"),
    "missing_report": N_("who has not submitted"),
    "summary_preview": N_("preview of the month"),
    "summary": N_("the month's result"),
    "member_unreachable": N_("a member cannot be reached"),
    "excusal_request": N_("a request to be excused"),
}
NOTIFICATION_STATUSES = {
    "pending": N_("waiting"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "dropped": N_("too late, not sent"),
    "skipped": N_("not needed, not sent"),
    "void": N_("replaced, not sent"),
    "failed": N_("could not be sent"),
    "unreachable": N_("could not be delivered"),
    "unknown": N_("perhaps sent (the process stopped while sending)"),
}
EXCUSAL_STATUSES = {
    "requested": N_("requested"),
    "approved": N_("approved"),
    "declined": N_("declined"),
}


def export_text(data: dict[str, Any], t: Translator) -> str:
    """The export in plain lines, section by section."""
    _ = t.gettext
    member, cell = data["member"], data["cell"]
    lines = [
        _("Personal data stored by chibo about member #{id}").format(id=member["id"]),
        _("Exported: {when}").format(when=t.when(data["exported_at"])),
        "",
        _("Name: {name}").format(name=member["full_name"]),
        _("Cell: {cell}").format(cell=cell["name"]),
        _("Role: {role}").format(role=role_name(t, member["role"])),
        _("Status: {status}").format(status=status_name(t, member["status"])),
        _("Language: {language}").format(language=member["locale"] or "—"),
        _("Added: {when}").format(when=t.when(member["created_at"])),
        _("Joined: {when}").format(when=_when(t, member["joined_at"])),
        _("Still a member: {answer}").format(answer=_yes(t, member["active"])),
        _("Reminders turned off: {answer}").format(answer=_yes(t, member["muted"])),
        _("Reachable in chat: {answer}").format(answer=_yes(t, member["reachable"])),
    ]
    if member.get("erased_at"):
        lines.append(_("Personal data erased: {when}").format(when=t.when(member["erased_at"])))
    known = {"format", "exported_at", "locale", "member", "cell"}
    for key, (title, line) in _SECTIONS.items():
        known.add(key)
        rows = data.get(key) or []
        lines += ["", f"{t(title)} ({len(rows)})"]
        lines += [f"- {line(t, row)}" for row in rows]
    for key in sorted(set(data) - known):  # a table added later: shown field by field
        rows = data[key] if isinstance(data[key], list) else [data[key]]
        lines += ["", f"{key} ({len(rows)})"]
        lines += [f"- {_fields(t, row)}" for row in rows]
    return "\n".join(lines) + "\n"


def _when(t: Translator, moment: datetime | None) -> str:
    return t.when(moment) if moment is not None else "—"


def _yes(t: Translator, value: bool) -> str:
    return t.gettext("yes") if value else t.gettext("no")


def _month(t: Translator, row: dict[str, Any]) -> str:
    """The row's month: "YYYY-MM" added by the export, or a period's own year and month."""
    month, year = row.get("month"), row.get("year")
    if isinstance(month, str):
        year, month = month.split("-")
    if not month or not year:
        return "—"
    return t.gettext("{month}/{year}").format(month=int(month), year=year)


def _fields(t: Translator, row: Any) -> str:
    if not isinstance(row, dict):
        return str(row)
    return "; ".join(
        f"{k}: {_when(t, v) if isinstance(v, datetime) else v}" for k, v in row.items()
    )


def _identity(t: Translator, row: dict[str, Any]) -> str:
    return t.gettext("{channel} account {id}, since {since}, last used {last}").format(
        channel=row["channel"].capitalize(),
        id=row["external_id"],
        since=t.when(row["created_at"]),
        last=_when(t, row["last_seen_at"]),
    )


def _assessment(t: Translator, row: dict[str, Any]) -> str:
    state = t.gettext("submitted") if row["state"] == "submitted" else t.gettext("draft")
    head = t.gettext("Month {month}: {state}, started {started}, submitted {submitted}").format(
        month=_month(t, row),
        state=state,
        started=t.when(row["started_at"]),
        submitted=_when(t, row["submitted_at"]),
    )
    answers = []
    for n, answer in enumerate(row.get("answers", []), start=1):
        label = answer["label"] if answer["label"] is not None else t.gettext("skipped")
        comment = f" — {answer['comment']}" if answer["comment"] else ""
        answers += [f"    {n}. {answer['question']}", f"       → {label}{comment}"]
    return "\n".join([head, *answers])


def _rsvp(t: Translator, row: dict[str, Any]) -> str:
    said = t.gettext("will attend") if row["attending"] else t.gettext("will not attend")
    reason = f" — {row['reason']}" if row.get("reason") else ""
    return f"{_month(t, row)}: {said}{reason} ({t.when(row['answered_at'])})"


def _attendance(t: Translator, row: dict[str, Any]) -> str:
    if row["present"]:
        mark = t.gettext("present")
    else:
        mark = (
            t.gettext("absent with reason")
            if row["with_reason"]
            else t.gettext("absent without reason")
        )
    return f"{_month(t, row)}: {mark}"


def _excusal(t: Translator, row: dict[str, Any]) -> str:
    status = t(EXCUSAL_STATUSES.get(row["status"], row["status"]))
    reason = f" — {row['reason']}" if row.get("reason") else ""
    return f"{_month(t, row)}: {status}{reason} ({t.when(row['requested_at'])})"


def _notification(t: Translator, row: dict[str, Any]) -> str:
    return t.gettext("{kind}, month {month}, due {due}: {status}{channel}").format(
        kind=t(NOTIFICATION_KINDS.get(row["kind"], row["kind"])),
        month=_month(t, row),
        due=t.when(row["due_at"]),
        status=t(NOTIFICATION_STATUSES.get(row["status"], row["status"])),
        channel=f" ({row['channel'].capitalize()})" if row.get("channel") else "",
    )


def _link_code(t: Translator, row: dict[str, Any]) -> str:
    return t.gettext("a code to link another app, valid until {when}").format(
        when=t.when(row["expires_at"])
    )


def _invite(t: Translator, row: dict[str, Any]) -> str:
    return t.gettext("created {created}, valid until {expires}, used {uses} of {max} times").format(
        created=t.when(row["created_at"]),
        expires=t.when(row["expires_at"]),
        uses=row["uses"],
        max=row["max_uses"],
    )


def _join_attempt(t: Translator, row: dict[str, Any]) -> str:
    return t.gettext("a wrong invite code from {channel} account {id} at {when}").format(
        channel=row["channel"].capitalize(), id=row["external_id"], when=t.when(row["at"])
    )


def _by_month(t: Translator, row: dict[str, Any]) -> str:
    moment = next((row[k] for k in _ACT_TIMES if row.get(k) is not None), None)
    return f"{_month(t, row)}: {_when(t, moment)}"


_ACT_TIMES = ("recorded_at", "decided_at", "confirmed_at", "set_at", "created_at", "at")


def _fact(t: Translator, row: dict[str, Any]) -> str:
    return f"{_month(t, row)}: {row['question_key']} = {row['value']} ({t.when(row['set_at'])})"


def _audit(t: Translator, row: dict[str, Any]) -> str:
    reason = f" — {row['reason']}" if row.get("reason") else ""
    return f"{_month(t, row)}: {row['action']} {row['detail']}{reason} ({t.when(row['at'])})"


def _meeting(t: Translator, row: dict[str, Any]) -> str:
    what = t.gettext("skipped") if row["skipped"] else _when(t, row["at"])
    return f"{_month(t, row)}: {what}"


_Line = Callable[[Translator, dict[str, Any]], str]
_SECTIONS: dict[str, tuple[str, _Line]] = {
    "chat_identities": (N_("Chat accounts"), _identity),
    "assessments": (N_("Self-assessments and answers"), _assessment),
    "rsvps": (N_("Answers to meeting notices"), _rsvp),
    "attendance": (N_("Attendance at meetings"), _attendance),
    "excusals": (N_("Requests to be excused"), _excusal),
    "notifications": (N_("Notifications sent to you"), _notification),
    "link_codes": (N_("Codes to link another app"), _link_code),
    "personal_invites": (N_("Personal invites for you"), _invite),
    "join_attempts": (N_("Wrong invite codes sent from your accounts"), _join_attempt),
    "invites_created": (N_("Invites you created"), _invite),
    "months_opened": (N_("Months you opened"), _by_month),
    "meetings_set": (N_("Meetings you set or moved"), _meeting),
    "attendance_recorded": (N_("Attendance you recorded"), _by_month),
    "excusals_decided": (N_("Requests to be excused you decided"), _by_month),
    "cell_facts_set": (N_("Cell criteria you answered"), _fact),
    "months_confirmed": (N_("Months you confirmed"), _by_month),
    "audit_entries": (N_("Changes to the cell's record you made"), _audit),
}
