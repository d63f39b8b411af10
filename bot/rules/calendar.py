"""A cell's monthly rhythm: meeting time, assessment window, reminders, deadline, summaries.

Pure domain code: no database, no chat, no translations and no clock — every
"now" is a parameter.  Local times are computed with :mod:`zoneinfo` in the
cell's time zone and every returned moment is an aware UTC ``datetime``.

One period per (year, month)::

    window opens ── reminders / nudges ── preview ── meeting ── deadline ── summary
    (N days before    (before the          (to the              (meeting +   (deadline +
     at 07:00 local)   meeting/deadline)    secretary)           offset)      delay)

Conventions worth knowing:

* Offsets of whole days are applied on the local wall clock and the rest as
  elapsed time, so "1 day before a 19:30 meeting" is 19:30 the day before even
  across a DST change, while "2 hours before" is always 120 minutes.
* A local time that does not exist (skipped by a DST change) is read with the
  offset in force before the change, i.e. it moves forward by the gap; an
  ambiguous local time means its first occurrence (``fold=0``).
* Validation in :class:`ScheduleSettings` guarantees, for any meeting time of
  day, that the window opens before the first reminder, the preview and the
  deadline, and that the windows of consecutive regular months do not overlap.
  Moved meetings (:class:`MeetingOverride`) may still make two windows overlap;
  :func:`current_or_next_period` then picks the one with the earlier deadline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"
SUMMARY_GRACE = timedelta(days=7)  # a final summary is still worth sending for a week
DST_MARGIN = timedelta(hours=1)  # a wall-clock day may be one hour shorter across DST
MAX_WINDOW_DAYS = 27  # regular meetings are at least 28 days apart (Jan 31 → Feb 28)
LOOKAHEAD_MONTHS = 24  # how far current_or_next_period looks past skipped months

ZoneLike = str | ZoneInfo

# --------------------------------------------------------------------------- rule

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
ORDINAL_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}

_EN_WEEKDAYS = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_EN_ORDINALS = {
    "first": 1, "1st": 1, "1": 1,
    "second": 2, "2nd": 2, "2": 2,
    "third": 3, "3rd": 3, "3": 3,
    "fourth": 4, "4th": 4, "4": 4,
    "last": -1,
}  # fmt: skip
# Vietnamese, after stripping diacritics ("thứ sáu" → "thu sau"); "t6" / "cn" are common shorthands.
_VI_WEEKDAYS = {
    "thu hai": 0, "thu 2": 0, "t2": 0,
    "thu ba": 1, "thu 3": 1, "t3": 1,
    "thu tu": 2, "thu 4": 2, "t4": 2,
    "thu nam": 3, "thu 5": 3, "t5": 3,
    "thu sau": 4, "thu 6": 4, "t6": 4,
    "thu bay": 5, "thu 7": 5, "t7": 5,
    "chu nhat": 6, "cn": 6,
}  # fmt: skip
_VI_ORDINALS = {
    "dau tien": 1, "dau": 1, "thu nhat": 1, "thu 1": 1,
    "thu hai": 2, "thu 2": 2,
    "thu ba": 3, "thu 3": 3,
    "thu tu": 4, "thu 4": 4,
    "cuoi cung": -1, "cuoi": -1,
}  # fmt: skip


def _alternation(words: Iterable[str]) -> str:
    # Longest first so that "thu hai" wins over "thu" and "dau tien" over "dau".
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_FILLER_RE = re.compile(
    r"\b(?:of the month|of month|every month|each month|monthly|"
    r"hang thang|moi thang|cua thang|trong thang|vao luc|luc|vao|at)\b"
)
_TIME_RE = re.compile(
    r"(?:^|\s)(?P<h>\d{1,2})(?::(?P<m>\d{2})|\s*(?:h|g|gio)\s*(?:(?P<m2>\d{2})\s*(?:phut|p)?)?)$"
)
_DAY_RE = re.compile(r"(?:(?:day|ngay)\s+)?(?:(?:mung|mong)\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)?")
_EN_WEEKDAY_RE = re.compile(
    rf"(?P<ord>{_alternation(_EN_ORDINALS)})\s+(?P<wd>{_alternation(_EN_WEEKDAYS)})"
)
_VI_WEEKDAY_RE = re.compile(
    rf"(?P<wd>{_alternation(_VI_WEEKDAYS)})\s+(?:tuan\s+)?(?P<ord>{_alternation(_VI_ORDINALS)})"
)
_EXAMPLES = "'3 19:30', 'day 3 19:30', 'ngày 3 19:30', 'first fri 14:00', 'thứ bảy cuối 8:00'"


def _normalize(text: str) -> str:
    """Lower case, no Vietnamese diacritics, single spaces, no commas."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower())
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn").replace("đ", "d")
    return " ".join(plain.replace(",", " ").split())


@dataclass(frozen=True, kw_only=True)
class MeetingRule:
    """When a cell's regular monthly meeting takes place, in local time.

    Either a fixed ``day`` of the month (29–31 clamp to the month's last day)
    or the ``ordinal`` (1–4, or -1 for the last) ``weekday`` (0 = Monday, as
    :meth:`date.weekday`) of the month.  Build with :meth:`day_of_month`,
    :meth:`weekday_of_month` or :meth:`parse`.
    """

    at: time
    day: int | None = None
    ordinal: int | None = None
    weekday: int | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is not None:
            raise ValueError("Meeting time must be a local time of day without a time zone")
        if self.at.second or self.at.microsecond:
            raise ValueError("Meeting time must be in whole minutes")
        if self.day is not None:
            if self.ordinal is not None or self.weekday is not None:
                raise ValueError("A meeting rule has either a day of month or a weekday, not both")
            if not 1 <= self.day <= 31:
                raise ValueError(f"Day of month must be between 1 and 31, got {self.day}")
            return
        if self.ordinal is None or self.weekday is None:
            raise ValueError("A meeting rule needs a day of month, or an ordinal and a weekday")
        if self.ordinal not in ORDINAL_NAMES:
            raise ValueError(f"Ordinal must be 1, 2, 3, 4 or -1 (last), got {self.ordinal}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(
                f"Weekday must be between 0 (Monday) and 6 (Sunday), got {self.weekday}"
            )

    @classmethod
    def day_of_month(cls, day: int, at: time) -> MeetingRule:
        return cls(day=day, at=at)

    @classmethod
    def weekday_of_month(cls, *, ordinal: int, weekday: int, at: time) -> MeetingRule:
        return cls(ordinal=ordinal, weekday=weekday, at=at)

    @classmethod
    def parse(cls, text: str) -> MeetingRule:
        """Read the compact form, in English or Vietnamese (with or without diacritics).

        ``"3 19:30"``, ``"day 3 19:30"``, ``"ngày 3 19:30"``, ``"mùng 5 19h30"``,
        ``"first fri 14:00"``, ``"last sat 08:00"``, ``"thứ sáu đầu tiên 14:00"``,
        ``"thứ bảy cuối 8:00"``, ``"T7 tuần cuối 8h"``.  The time of day comes last.
        """
        norm = _FILLER_RE.sub(" ", _normalize(text))
        norm = " ".join(norm.split())
        if not norm:
            raise ValueError(f"Meeting rule is empty; expected e.g. {_EXAMPLES}")
        match = _TIME_RE.search(norm)
        if match is None:
            raise ValueError(
                f"Meeting rule {text!r} has no time of day; end it with HH:MM, e.g. 'day 3 19:30'"
            )
        hour, minute = int(match["h"]), int(match["m"] or match["m2"] or 0)
        if hour > 23 or minute > 59:
            raise ValueError(
                f"Invalid time of day in meeting rule {text!r}; use HH:MM from 00:00 to 23:59"
            )
        at = time(hour, minute)
        when = norm[: match.start()].strip()
        if m := _DAY_RE.fullmatch(when):
            return cls.day_of_month(int(m["day"]), at)
        if m := _EN_WEEKDAY_RE.fullmatch(when):
            return cls.weekday_of_month(
                ordinal=_EN_ORDINALS[m["ord"]], weekday=_EN_WEEKDAYS[m["wd"]], at=at
            )
        if m := _VI_WEEKDAY_RE.fullmatch(when):
            return cls.weekday_of_month(
                ordinal=_VI_ORDINALS[m["ord"]], weekday=_VI_WEEKDAYS[m["wd"]], at=at
            )
        raise ValueError(
            f"Cannot read the meeting day in {text!r}: expected a day of month "
            "('3', 'day 3', 'ngày 3') or a weekday of the month with first/second/third/"
            "fourth/last ('first fri', 'last sat', 'thứ sáu đầu tiên', 'thứ bảy cuối')"
        )

    def to_text(self) -> str:
        """Canonical English form, e.g. ``"day 3 19:30"`` or ``"last sat 08:00"``."""
        clock = self.at.strftime("%H:%M")
        if self.day is not None:
            return f"day {self.day} {clock}"
        assert self.ordinal is not None and self.weekday is not None
        return f"{ORDINAL_NAMES[self.ordinal]} {WEEKDAY_NAMES[self.weekday]} {clock}"

    def __str__(self) -> str:
        return self.to_text()

    def meeting_on(self, year: int, month: int) -> date:
        """The meeting's local date in that month."""
        last = _month_length(year, month)
        if self.day is not None:
            return date(year, month, min(self.day, last))
        assert self.ordinal is not None and self.weekday is not None
        if self.ordinal == -1:
            last_day = date(year, month, last)
            return last_day - timedelta(days=(last_day.weekday() - self.weekday) % 7)
        first_day = date(year, month, 1)
        offset = (self.weekday - first_day.weekday()) % 7 + 7 * (self.ordinal - 1)
        return first_day + timedelta(days=offset)


def _month_length(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _add_months(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + count
    return index // 12, index % 12 + 1


# ----------------------------------------------------------------------- settings


def offset_key(offset: timedelta) -> str:
    """Stable text for an offset in notification keys: ``"3d"``, ``"2h"``, ``"90m"``, ``"0"``."""
    if offset < timedelta(0) or offset % timedelta(minutes=1):
        raise ValueError(f"Offset must be a non-negative whole number of minutes, got {offset}")
    if not offset:
        return "0"
    for unit, suffix in ((timedelta(days=1), "d"), (timedelta(hours=1), "h")):
        if not offset % unit:
            return f"{offset // unit}{suffix}"
    return f"{offset // timedelta(minutes=1)}m"


def _check_offsets(name: str, offsets: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    for offset in offsets:
        if offset <= timedelta(0):
            raise ValueError(f"{name} must be positive (before the moment), got {offset}")
        offset_key(offset)  # whole minutes
    if len(set(offsets)) != len(offsets):
        raise ValueError(f"{name} contain a duplicate: {[offset_key(o) for o in offsets]}")
    return tuple(sorted(offsets, reverse=True))


@dataclass(frozen=True)
class ScheduleSettings:
    """How a cell's month unfolds around its meeting.  Defaults are ours, not a rule found
    in public sources.

    * ``window_opens_days_before`` (7): the assessment window opens this many days before
      the meeting's date, at ``window_opens_time`` (07:00) local time.  1–27.
    * ``reminder_offsets`` (3 days, 1 day, 2 hours): meeting reminders, before the meeting.
      Kept sorted, earliest reminder first.
    * ``deadline_offset`` (0): the window closes at meeting start + this; positive = after.
    * ``nudge_offsets`` (None = same as ``reminder_offsets``): reminders to members who
      have not finished, this long before the *deadline*; nudges that would come before
      the window opens are dropped.  When the deadline is the meeting they coincide with
      the meeting reminders, so a sender can merge the two into one message.
    * ``preview_offset`` (1 day): a preview of the summary to the secretary before the meeting.
    * ``summary_delay`` (0): the final summary this long after the deadline.
    """

    window_opens_days_before: int = 7
    reminder_offsets: tuple[timedelta, ...] = (
        timedelta(days=3),
        timedelta(days=1),
        timedelta(hours=2),
    )
    deadline_offset: timedelta = timedelta(0)
    preview_offset: timedelta = timedelta(days=1)
    summary_delay: timedelta = timedelta(0)
    nudge_offsets: tuple[timedelta, ...] | None = None
    window_opens_time: time = time(7, 0)

    def __post_init__(self) -> None:
        days = self.window_opens_days_before
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WINDOW_DAYS:
            raise ValueError(
                f"window_opens_days_before must be a whole number from 1 to {MAX_WINDOW_DAYS}, "
                f"got {days!r}"
            )
        object.__setattr__(
            self,
            "reminder_offsets",
            _check_offsets("Reminder offsets", tuple(self.reminder_offsets)),
        )
        if self.nudge_offsets is not None:
            object.__setattr__(
                self, "nudge_offsets", _check_offsets("Nudge offsets", tuple(self.nudge_offsets))
            )
        lead = self.max_lead
        for offset in self.reminder_offsets:
            if offset >= lead:
                raise ValueError(
                    f"Reminder {offset_key(offset)} before the meeting could come before the "
                    f"assessment window opens ({days} days before, at "
                    f"{self.window_opens_time:%H:%M}); keep reminders under {lead} or open "
                    "the window earlier"
                )
        if -self.deadline_offset >= lead:
            raise ValueError(
                f"Deadline {-self.deadline_offset} before the meeting could come before the "
                f"assessment window opens; keep it under {lead}"
            )
        if timedelta(days=days) + self.deadline_offset > timedelta(days=MAX_WINDOW_DAYS):
            raise ValueError(
                "Window length too long: window_opens_days_before + deadline_offset must be at "
                f"most {MAX_WINDOW_DAYS} days, so that a month's window closes before the next "
                "month's opens"
            )
        if not timedelta(0) < self.preview_offset < lead:
            raise ValueError(
                f"preview_offset must be positive and under {lead} (after the window opens), "
                f"got {self.preview_offset}"
            )
        if -self.preview_offset >= self.deadline_offset:
            raise ValueError("The summary preview must come before the deadline")
        if self.summary_delay < timedelta(0):
            raise ValueError(f"summary_delay must not be negative, got {self.summary_delay}")

    @property
    def max_lead(self) -> timedelta:
        """How long before the meeting anything may be planned so it is after the window opens.

        Worst case: a meeting at 00:00 and one hour lost to a DST change.
        """
        opens = self.window_opens_time
        into_day = timedelta(hours=opens.hour, minutes=opens.minute, seconds=opens.second)
        return timedelta(days=self.window_opens_days_before) - into_day - DST_MARGIN

    @property
    def effective_nudge_offsets(self) -> tuple[timedelta, ...]:
        return self.reminder_offsets if self.nudge_offsets is None else self.nudge_offsets


DEFAULT_SETTINGS = ScheduleSettings()

# ---------------------------------------------------------------------- periods


@dataclass(frozen=True)
class MeetingOverride:
    """A change to one month's meeting (the month is the key it is stored under).

    ``skipped`` drops the month (e.g. Tết); ``at`` moves the meeting to another local date
    and time (a naive datetime in the cell's zone, or an aware one), which may be in the
    previous or next month.  ``place``, ``agenda`` and ``thematic`` (the quarterly thematic
    meeting) annotate the month with or without a move.
    """

    skipped: bool = False
    at: datetime | None = None
    place: str | None = None
    agenda: str | None = None
    thematic: bool = False

    def __post_init__(self) -> None:
        if self.skipped and self.at is not None:
            raise ValueError("A skipped meeting cannot also be moved")


@dataclass(frozen=True)
class PeriodTimes:
    """Every moment of one cell month, as aware UTC datetimes.

    ``reminders`` and ``nudges`` are ``(offset, moment)`` pairs, earliest first; reminders
    count back from the meeting, nudges from the deadline.
    """

    year: int
    month: int
    meeting_at: datetime
    window_opens_at: datetime
    reminders: tuple[tuple[timedelta, datetime], ...]
    deadline_at: datetime
    preview_at: datetime
    summary_at: datetime
    place: str | None = None
    agenda: str | None = None
    thematic: bool = False
    nudges: tuple[tuple[timedelta, datetime], ...] = ()
    moved: bool = False
    zone: str = DEFAULT_ZONE

    @property
    def period(self) -> tuple[int, int]:
        return (self.year, self.month)

    def window_open(self, now: datetime) -> bool:
        """Whether members can answer at ``now``: from the window opening until the deadline."""
        return self.window_opens_at <= _aware(now) < self.deadline_at


def _zone(zone: ZoneLike) -> ZoneInfo:
    if isinstance(zone, ZoneInfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {zone!r}") from exc


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (e.g. datetime.now(UTC))")
    return now


def _local(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall time as an aware UTC datetime (nonexistent times move forward)."""
    return wall.replace(tzinfo=tz).astimezone(UTC)


def shift_local(moment: datetime, delta: timedelta, tz: ZoneInfo) -> datetime:
    """``moment + delta``: whole days on the local wall clock, the rest as elapsed time."""
    sign = -1 if delta < timedelta(0) else 1
    whole_days = timedelta(days=abs(delta).days)
    rest = abs(delta) - whole_days
    wall = moment.astimezone(tz).replace(tzinfo=None) + sign * whole_days
    return _local(wall, tz) + sign * rest


def _reminders(
    meeting_at: datetime, settings: ScheduleSettings, tz: ZoneInfo
) -> tuple[tuple[timedelta, datetime], ...]:
    return tuple((o, shift_local(meeting_at, -o, tz)) for o in settings.reminder_offsets)


def _nudges(
    opens_at: datetime, deadline_at: datetime, settings: ScheduleSettings, tz: ZoneInfo
) -> tuple[tuple[timedelta, datetime], ...]:
    """Nudges count back from the deadline; those outside the open window are dropped."""
    return tuple(
        (o, due)
        for o in settings.effective_nudge_offsets
        if opens_at < (due := shift_local(deadline_at, -o, tz)) < deadline_at
    )


def _preview_at(meeting_at: datetime, settings: ScheduleSettings, tz: ZoneInfo) -> datetime:
    return shift_local(meeting_at, -settings.preview_offset, tz)


def _summary_at(deadline_at: datetime, settings: ScheduleSettings, tz: ZoneInfo) -> datetime:
    return shift_local(deadline_at, settings.summary_delay, tz)


def period_times(
    rule: MeetingRule,
    year: int,
    month: int,
    *,
    zone: ZoneLike = DEFAULT_ZONE,
    settings: ScheduleSettings = DEFAULT_SETTINGS,
    override: MeetingOverride | None = None,
) -> PeriodTimes | None:
    """All moments of the cell month (year, month); ``None`` when the month is skipped."""
    if not 1 <= month <= 12:
        raise ValueError(f"Month must be between 1 and 12, got {month}")
    tz = _zone(zone)
    if override is not None and override.skipped:
        return None
    if override is not None and override.at is not None:
        local = override.at.astimezone(tz) if override.at.tzinfo is not None else override.at
        moved_to = (local.year, local.month)
        allowed = {_add_months(year, month, k) for k in (-1, 0, 1)}
        if moved_to not in allowed:
            raise ValueError(
                f"The {year}-{month:02d} meeting can only move within the previous, same or "
                f"next month, not to {local:%Y-%m-%d}"
            )
        meeting_local = local.replace(tzinfo=None, second=0, microsecond=0)
    else:
        meeting_local = datetime.combine(rule.meeting_on(year, month), rule.at)
    meeting_at = _local(meeting_local, tz)
    opens_on = meeting_local.date() - timedelta(days=settings.window_opens_days_before)
    window_opens_at = _local(datetime.combine(opens_on, settings.window_opens_time), tz)
    deadline_at = shift_local(meeting_at, settings.deadline_offset, tz)
    return PeriodTimes(
        year=year,
        month=month,
        meeting_at=meeting_at,
        window_opens_at=window_opens_at,
        reminders=_reminders(meeting_at, settings, tz),
        deadline_at=deadline_at,
        preview_at=_preview_at(meeting_at, settings, tz),
        summary_at=_summary_at(deadline_at, settings, tz),
        place=override.place if override else None,
        agenda=override.agenda if override else None,
        thematic=override.thematic if override else False,
        nudges=_nudges(window_opens_at, deadline_at, settings, tz),
        moved=override is not None and override.at is not None,
        zone=tz.key,
    )


def current_or_next_period(
    rule: MeetingRule,
    now: datetime,
    *,
    zone: ZoneLike = DEFAULT_ZONE,
    settings: ScheduleSettings = DEFAULT_SETTINGS,
    overrides: Mapping[tuple[int, int], MeetingOverride] | None = None,
) -> PeriodTimes:
    """The period whose window is open at ``now``, else the next one to open.

    Skipped months are passed over.  If moved meetings make two windows overlap, the one
    with the earlier deadline wins (the other is returned once that deadline has passed).
    """
    now = _aware(now)
    tz = _zone(zone)
    overrides = overrides or {}
    local_now = now.astimezone(tz)
    candidates: list[PeriodTimes] = []
    for k in range(-2, LOOKAHEAD_MONTHS + 1):  # -2: a moved meeting may reach into this month
        year, month = _add_months(local_now.year, local_now.month, k)
        override = overrides.get((year, month))
        times = period_times(rule, year, month, zone=tz, settings=settings, override=override)
        if times is not None:
            candidates.append(times)
    open_now = [t for t in candidates if t.window_open(now)]
    if open_now:
        return min(open_now, key=lambda t: (t.deadline_at, t.period))
    upcoming = [t for t in candidates if t.window_opens_at > now]
    if not upcoming:
        raise LookupError(f"No meeting in the {LOOKAHEAD_MONTHS} months after {now:%Y-%m-%d}")
    return min(upcoming, key=lambda t: (t.window_opens_at, t.period))


# ------------------------------------------------------------------ notifications


class NotificationKind(StrEnum):
    """The notifications a period's schedule plans (stored as text in the outbox)."""

    WINDOW_OPEN = "window_open"  # to members: the month's assessment is open
    MEETING_REMINDER = "meeting_reminder"  # to members: the meeting is coming
    DEADLINE_NUDGE = "deadline_nudge"  # to members who have not finished
    MISSING_REPORT = "missing_report"  # to the secretary, with the last nudge: who is missing
    SUMMARY_PREVIEW = "summary_preview"  # to the secretary, before the meeting
    SUMMARY = "summary"  # to the secretary, after the deadline


@dataclass(frozen=True)
class PlannedNotification:
    """One notification of a period.

    (recipient, period, ``kind``, ``offset_key``) is its natural key.  It may be sent from
    ``due_at`` until ``expires_at`` (the grace window after a restart), never after.
    ``versioned``: it follows the meeting, so moving the meeting replans it (the
    window-open notice and the summary are sent once per period whatever happens).
    """

    kind: NotificationKind
    offset_key: str
    due_at: datetime
    expires_at: datetime
    versioned: bool = True

    def is_due(self, now: datetime) -> bool:
        return self.due_at <= _aware(now) < self.expires_at


def planned_notifications(
    opens_at: datetime,
    deadline_at: datetime,
    meeting_at: datetime | None,
    *,
    zone: ZoneLike = DEFAULT_ZONE,
    settings: ScheduleSettings = DEFAULT_SETTINGS,
) -> list[PlannedNotification]:
    """Every notification of a period with these stored times, by due time.

    The one schedule rule: the planner writes these rows to the outbox.  A period
    opened by hand may have no meeting (then no reminders and no preview).  A nudge at
    the moment of a meeting reminder is left out (the reminder carries it); the
    secretary hears who is missing with the last nudge.  Expiry: meeting reminders and
    the preview at the meeting's start (never sent late), the window-open notice and
    nudges at the deadline, the summary :data:`SUMMARY_GRACE` after it is due.  Kinds
    that occur once per period use key "0", so changing e.g. the preview offset
    mid-month does not send a second preview.
    """
    kind = NotificationKind
    tz = _zone(zone)
    plan = [PlannedNotification(kind.WINDOW_OPEN, "0", opens_at, deadline_at, versioned=False)]
    reminder_times: set[datetime] = set()
    if meeting_at is not None:
        for offset, due in _reminders(meeting_at, settings, tz):
            reminder_times.add(due)
            plan.append(
                PlannedNotification(kind.MEETING_REMINDER, offset_key(offset), due, meeting_at)
            )
        preview = _preview_at(meeting_at, settings, tz)
        plan.append(PlannedNotification(kind.SUMMARY_PREVIEW, "0", preview, meeting_at))
    nudges = _nudges(opens_at, deadline_at, settings, tz)
    plan += [
        PlannedNotification(kind.DEADLINE_NUDGE, offset_key(offset), due, deadline_at)
        for offset, due in nudges
        if due not in reminder_times
    ]
    if nudges:
        last = max(due for _offset, due in nudges)
        plan.append(PlannedNotification(kind.MISSING_REPORT, "0", last, deadline_at))
    summary = _summary_at(deadline_at, settings, tz)
    plan.append(
        PlannedNotification(kind.SUMMARY, "0", summary, summary + SUMMARY_GRACE, versioned=False)
    )
    order = list(NotificationKind)
    return sorted(
        (p for p in plan if p.due_at < p.expires_at),
        key=lambda p: (p.due_at, order.index(p.kind)),
    )


def due_notifications(
    opens_at: datetime,
    deadline_at: datetime,
    meeting_at: datetime | None,
    now: datetime,
    *,
    zone: ZoneLike = DEFAULT_ZONE,
    settings: ScheduleSettings = DEFAULT_SETTINGS,
) -> list[PlannedNotification]:
    """Those planned notifications that may be sent at ``now`` (whether or not already sent)."""
    planned = planned_notifications(opens_at, deadline_at, meeting_at, zone=zone, settings=settings)
    return [p for p in planned if p.is_due(now)]


__all__ = [
    "DEFAULT_SETTINGS",
    "DEFAULT_ZONE",
    "SUMMARY_GRACE",
    "TYPED_DAY_LOOK_BACK",
    "MeetingOverride",
    "MeetingRule",
    "NotificationKind",
    "PeriodTimes",
    "PlannedNotification",
    "ScheduleSettings",
    "current_or_next_period",
    "due_notifications",
    "offset_key",
    "period_times",
    "planned_notifications",
    "typed_day",
]


_TYPED_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")
TYPED_DAY_LOOK_BACK = timedelta(days=183)
"""A day typed without its year that lies further back than this means next year's."""


def typed_day(text: str, today: date) -> date | None:
    """The day a person typed: "20/12", "20.12", "20-12", "20/12/2026" or "20/12/26".

    Without a year it is this year's day, or next year's when this year's lies more than
    ``TYPED_DAY_LOOK_BACK`` behind ``today`` ("10/1" typed in December); a day a little in
    the past stays in the past, for the caller to refuse as past. ASCII digits only;
    None when it is not a day of the calendar.
    """
    found = _TYPED_DAY.match(text.strip()) if text.isascii() else None
    if found is None:
        return None
    day, month, year_text = int(found.group(1)), int(found.group(2)), found.group(3)
    year = int(year_text) + (2000 if len(year_text) == 2 else 0) if year_text else today.year
    try:
        typed = date(year, month, day)
        if not year_text and typed < today - TYPED_DAY_LOOK_BACK:
            typed = date(year + 1, month, day)
    except ValueError:
        return None
    return typed
