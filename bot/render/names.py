"""Localized names of roles and member statuses, and the words of a meeting rule."""

from __future__ import annotations

from babel.dates import format_time, get_day_names

from bot.core.i18n import N_, Translator
from bot.rules.calendar import MeetingRule

ROLE_NAMES = {
    "member": N_("member"),
    "secretary": N_("secretary"),
    "deputy_secretary": N_("deputy secretary"),
    "committee_officer": N_("committee officer"),
}


def role_name(t: Translator, role: str) -> str:
    return t(ROLE_NAMES.get(role, role))


STATUS_NAMES = {
    "official": N_("official member"),
    "probationary": N_("probationary member"),
    "exempt": N_("exempt from party activities"),
}


def status_name(t: Translator, status: str) -> str:
    return t(STATUS_NAMES.get(status, status))


ORDINAL_NAMES = {
    1: N_("first"),
    2: N_("second"),
    3: N_("third"),
    4: N_("fourth"),
    -1: N_("last"),
}


def meeting_rule_text(t: Translator, rule: MeetingRule) -> str:
    """The cell's regular meeting in words, e.g. "Thứ Sáu tuần đầu tiên hằng tháng, lúc 14:00"."""
    _ = t.gettext
    clock = format_time(rule.at, "short", locale=t.locale)
    if rule.day is not None:
        return _("day {day} of each month, at {time}").format(day=rule.day, time=clock)
    assert rule.ordinal is not None and rule.weekday is not None
    weekday = get_day_names("wide", locale=t.locale)[rule.weekday]  # 0 = Monday, as date
    return _("the {ordinal} {weekday} of each month, at {time}").format(
        ordinal=_(ORDINAL_NAMES[rule.ordinal]), weekday=weekday, time=clock
    )
