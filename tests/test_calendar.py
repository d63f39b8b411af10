"""The monthly calendar: meeting rules, derived times, overrides, settings, notifications."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest

from bot.rules.calendar import (
    DEFAULT_SETTINGS,
    SUMMARY_GRACE,
    MeetingOverride,
    MeetingRule,
    NotificationKind,
    PeriodTimes,
    ScheduleSettings,
    current_or_next_period,
    due_notifications,
    offset_key,
    period_times,
    planned_notifications,
    typed_day,
)

HCM = "Asia/Ho_Chi_Minh"
BERLIN = "Europe/Berlin"
DAY_3 = MeetingRule.day_of_month(3, time(19, 30))
DAY_5 = MeetingRule.day_of_month(5, time(19, 30))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def times_of(rule: MeetingRule, year: int, month: int, **kw: Any) -> PeriodTimes:
    times = period_times(rule, year, month, **kw)
    assert times is not None
    return times


# ------------------------------------------------------------------------- rules


def test_day_of_month_in_ho_chi_minh_city() -> None:
    times = times_of(DAY_3, 2025, 3, zone=HCM)
    assert times.meeting_at == utc(2025, 3, 3, 12, 30)  # 19:30 at UTC+7
    assert times.meeting_at.tzinfo is UTC
    assert times.zone == HCM


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [(2027, 2, 28), (2028, 2, 29), (2026, 4, 30), (2026, 1, 31)],
)
def test_day_31_clamps_to_the_last_day(year: int, month: int, expected: int) -> None:
    rule = MeetingRule.day_of_month(31, time(19, 30))
    assert rule.meeting_on(year, month) == date(year, month, expected)
    assert times_of(rule, year, month).meeting_at == utc(year, month, expected, 12, 30)


@pytest.mark.parametrize(
    ("ordinal", "weekday", "year", "month", "expected"),
    [
        (1, 4, 2025, 8, 1),  # first Friday is the 1st
        (1, 4, 2025, 11, 7),  # the 1st is a Saturday: first Friday is the 7th
        (1, 5, 2025, 11, 1),
        (2, 0, 2025, 8, 11),
        (4, 3, 2025, 8, 28),
        (-1, 5, 2025, 8, 30),  # last Saturday
        (-1, 6, 2025, 8, 31),  # last Sunday is the last day
        (-1, 0, 2025, 11, 24),
        (-1, 1, 2026, 3, 31),
    ],
)
def test_nth_weekday_of_month(
    ordinal: int, weekday: int, year: int, month: int, expected: int
) -> None:
    rule = MeetingRule.weekday_of_month(ordinal=ordinal, weekday=weekday, at=time(14, 0))
    assert rule.meeting_on(year, month) == date(year, month, expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"day": 0, "at": time(19)},
        {"day": 32, "at": time(19)},
        {"ordinal": 5, "weekday": 4, "at": time(19)},
        {"ordinal": 0, "weekday": 4, "at": time(19)},
        {"ordinal": 1, "weekday": 7, "at": time(19)},
        {"ordinal": 1, "at": time(19)},
        {"day": 3, "ordinal": 1, "weekday": 4, "at": time(19)},
        {"day": 3, "at": time(19, 30, 15)},
    ],
)
def test_invalid_rules_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        MeetingRule(**kwargs)


def test_berlin_across_the_start_of_dst() -> None:
    # DST began on Sunday 30 March 2025; the meeting is on Monday 31 March (last Monday).
    rule = MeetingRule.parse("last mon 19:30")
    times = times_of(rule, 2025, 3, zone=BERLIN)
    assert times.meeting_at == utc(2025, 3, 31, 17, 30)  # 19:30 CEST = UTC+2
    assert times.window_opens_at == utc(2025, 3, 24, 6, 0)  # 07:00 CET = UTC+1
    reminders = dict(times.reminders)
    # Whole days count on the wall clock: 19:30 local three days before, still in CET.
    assert reminders[timedelta(days=3)] == utc(2025, 3, 28, 18, 30)
    assert reminders[timedelta(days=1)] == utc(2025, 3, 30, 17, 30)
    assert reminders[timedelta(hours=2)] == utc(2025, 3, 31, 15, 30)
    # The same rule in winter time is one hour later in UTC.
    assert times_of(rule, 2025, 2, zone=BERLIN).meeting_at == utc(2025, 2, 24, 18, 30)


def test_a_meeting_time_skipped_by_dst_moves_forward() -> None:
    rule = MeetingRule.parse("last sun 02:30")  # 30 March 2025, 02:00 → 03:00 in Berlin
    assert times_of(rule, 2025, 3, zone=BERLIN).meeting_at == utc(2025, 3, 30, 1, 30)


def test_unknown_zone_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Unknown time zone"):
        period_times(DAY_3, 2025, 3, zone="Mars/Olympus_Mons")


# ----------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 19:30", "day 3 19:30"),
        ("day 3 19:30", "day 3 19:30"),
        ("ngày 3 19:30", "day 3 19:30"),
        ("Ngày 05, 19h30", "day 5 19:30"),
        ("mùng 5 lúc 19h", "day 5 19:00"),
        ("first fri 14:00", "first fri 14:00"),
        ("1st Friday of the month at 14:00", "first fri 14:00"),
        ("last sat 08:00", "last sat 08:00"),
        ("last sat 8:00", "last sat 08:00"),
        ("thứ sáu đầu tiên 14:00", "first fri 14:00"),
        ("thu sau dau tien 14:00", "first fri 14:00"),
        ("thứ bảy cuối 8:00", "last sat 08:00"),
        ("T7 tuần cuối 8h", "last sat 08:00"),
        ("thứ hai thứ hai 19:00", "second mon 19:00"),
        ("chủ nhật cuối cùng hằng tháng 7:30", "last sun 07:30"),
        ("third wed 18:05", "third wed 18:05"),
    ],
)
def test_parse_reads_english_and_vietnamese(text: str, expected: str) -> None:
    rule = MeetingRule.parse(text)
    assert rule.to_text() == expected
    assert MeetingRule.parse(rule.to_text()) == rule


def test_parse_builds_the_right_rule() -> None:
    assert MeetingRule.parse("3 19:30") == DAY_3
    assert MeetingRule.parse("thứ sáu đầu tiên 14:00") == MeetingRule.weekday_of_month(
        ordinal=1, weekday=4, at=time(14, 0)
    )


def test_to_text_round_trips_every_rule() -> None:
    rules = [MeetingRule.day_of_month(d, time(h, m)) for d in range(1, 32) for h, m in [(0, 0)]]
    rules += [
        MeetingRule.weekday_of_month(ordinal=o, weekday=w, at=time(23, 59))
        for o in (1, 2, 3, 4, -1)
        for w in range(7)
    ]
    for rule in rules:
        assert MeetingRule.parse(rule.to_text()) == rule, rule.to_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hello", "no time of day"),
        ("day 3", "no time of day"),
        ("3 25:00", "Invalid time of day"),
        ("first fri 7:61", "Invalid time of day"),
        ("32 19:30", "between 1 and 31"),
        ("fifth fri 14:00", "Cannot read the meeting day"),
        ("every day 19:30", "Cannot read the meeting day"),
        ("thứ tám đầu tiên 14:00", "Cannot read the meeting day"),
        ("first 14:00", "Cannot read the meeting day"),
    ],
)
def test_parse_refuses_garbage_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MeetingRule.parse(text)


# ------------------------------------------------------------------ period times


def test_times_of_a_typical_month() -> None:
    times = times_of(DAY_5, 2025, 9)
    assert times.period == (2025, 9)
    assert times.meeting_at == utc(2025, 9, 5, 12, 30)
    assert times.window_opens_at == utc(2025, 8, 29, 0, 0)  # 7 days before, 07:00 local
    assert times.reminders == (
        (timedelta(days=3), utc(2025, 9, 2, 12, 30)),
        (timedelta(days=1), utc(2025, 9, 4, 12, 30)),
        (timedelta(hours=2), utc(2025, 9, 5, 10, 30)),
    )
    assert times.deadline_at == times.meeting_at
    assert times.preview_at == utc(2025, 9, 4, 12, 30)
    assert times.summary_at == times.deadline_at
    assert times.nudges == times.reminders  # the deadline is the meeting
    assert (times.place, times.agenda, times.thematic, times.moved) == (None, None, False, False)


def test_times_with_custom_settings() -> None:
    settings = ScheduleSettings(
        window_opens_days_before=10,
        reminder_offsets=(timedelta(hours=1), timedelta(days=2)),
        deadline_offset=timedelta(days=1),
        preview_offset=timedelta(days=2),
        summary_delay=timedelta(hours=2),
    )
    times = times_of(DAY_5, 2025, 9, settings=settings)
    assert times.window_opens_at == utc(2025, 8, 26, 0, 0)
    assert times.reminders == (
        (timedelta(days=2), utc(2025, 9, 3, 12, 30)),
        (timedelta(hours=1), utc(2025, 9, 5, 11, 30)),
    )
    assert times.deadline_at == utc(2025, 9, 6, 12, 30)  # a day after the meeting
    assert times.nudges == (  # counted back from the deadline
        (timedelta(days=2), utc(2025, 9, 4, 12, 30)),
        (timedelta(hours=1), utc(2025, 9, 6, 11, 30)),
    )
    assert times.preview_at == utc(2025, 9, 3, 12, 30)
    assert times.summary_at == utc(2025, 9, 6, 14, 30)


def test_invalid_month_is_refused() -> None:
    with pytest.raises(ValueError, match="Month"):
        period_times(DAY_5, 2025, 13)


# -------------------------------------------------------------------- overrides

TET_2026 = {(2026, 2): MeetingOverride(skipped=True)}  # Tết is on 17 February 2026


def test_skipped_month_has_no_times() -> None:
    assert period_times(DAY_5, 2026, 2, override=TET_2026[(2026, 2)]) is None
    assert period_times(DAY_5, 2026, 2) is not None


def test_current_or_next_period_skips_a_skipped_month() -> None:
    after_january = utc(2026, 1, 5, 12, 30)  # January's deadline
    assert current_or_next_period(DAY_5, after_january).period == (2026, 2)
    times = current_or_next_period(DAY_5, after_january, overrides=TET_2026)
    assert times.period == (2026, 3)
    assert not times.window_open(after_january)
    assert times.window_opens_at == utc(2026, 2, 26, 0, 0)
    # In the middle of the skipped month the next period is still March.
    assert current_or_next_period(DAY_5, utc(2026, 2, 17), overrides=TET_2026).period == (2026, 3)


def test_moved_meeting_moves_every_derived_time() -> None:
    regular = times_of(DAY_5, 2026, 1)
    moved_to = MeetingOverride(
        at=datetime(2026, 2, 2, 19, 30), place="Nhà văn hoá khu 3", agenda="Tổng kết năm"
    )
    moved = times_of(DAY_5, 2026, 1, override=moved_to)
    shift = timedelta(days=28)  # 5 January → 2 February, same time of day, no DST
    assert moved.period == (2026, 1)
    assert moved.meeting_at == utc(2026, 2, 2, 12, 30)
    assert moved.window_opens_at == regular.window_opens_at + shift == utc(2026, 1, 26)
    assert moved.reminders == tuple((o, at + shift) for o, at in regular.reminders)
    assert moved.nudges == tuple((o, at + shift) for o, at in regular.nudges)
    assert moved.deadline_at == regular.deadline_at + shift
    assert moved.preview_at == regular.preview_at + shift
    assert moved.summary_at == regular.summary_at + shift
    assert (moved.place, moved.agenda, moved.moved) == ("Nhà văn hoá khu 3", "Tổng kết năm", True)


def test_moved_meeting_accepts_an_aware_datetime() -> None:
    at = datetime(2026, 2, 2, 12, 30, tzinfo=UTC)
    assert times_of(DAY_5, 2026, 1, override=MeetingOverride(at=at)).meeting_at == at


def test_annotating_a_month_without_moving_it() -> None:
    times = times_of(DAY_5, 2026, 3, override=MeetingOverride(thematic=True, agenda="Chuyên đề"))
    assert times.meeting_at == times_of(DAY_5, 2026, 3).meeting_at
    assert (times.thematic, times.agenda, times.moved) == (True, "Chuyên đề", False)


def test_overlapping_windows_after_a_move_pick_the_earlier_deadline() -> None:
    overrides = {(2026, 1): MeetingOverride(at=datetime(2026, 2, 2, 19, 30))}
    # 30 January: January's window (since 26 Jan) and February's (since 29 Jan) are both open.
    assert times_of(DAY_5, 2026, 2).window_open(utc(2026, 1, 30))
    assert current_or_next_period(DAY_5, utc(2026, 1, 30), overrides=overrides).period == (
        2026,
        1,
    )
    after_moved_meeting = utc(2026, 2, 2, 12, 30)
    assert current_or_next_period(DAY_5, after_moved_meeting, overrides=overrides).period == (
        2026,
        2,
    )


def test_invalid_overrides_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot also be moved"):
        MeetingOverride(skipped=True, at=datetime(2026, 2, 2, 19, 30))
    with pytest.raises(ValueError, match="previous, same or next month"):
        period_times(DAY_5, 2026, 1, override=MeetingOverride(at=datetime(2026, 4, 2, 19, 30)))


# --------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reminder_offsets": (timedelta(days=-1),)}, "must be positive"),
        ({"reminder_offsets": (timedelta(0),)}, "must be positive"),
        ({"reminder_offsets": (timedelta(days=1), timedelta(hours=24))}, "duplicate"),
        ({"reminder_offsets": (timedelta(seconds=90),)}, "whole number of minutes"),
        ({"nudge_offsets": (timedelta(hours=-2),)}, "must be positive"),
        ({"window_opens_days_before": 3}, "before the assessment window opens"),
        ({"window_opens_days_before": 0}, "from 1 to 27"),
        ({"window_opens_days_before": 28}, "from 1 to 27"),
        ({"deadline_offset": -timedelta(days=7)}, "Deadline"),
        ({"window_opens_days_before": 20, "deadline_offset": timedelta(days=8)}, "too long"),
        ({"preview_offset": timedelta(0)}, "preview_offset"),
        ({"preview_offset": timedelta(days=7)}, "preview_offset"),
        ({"deadline_offset": -timedelta(days=2)}, "preview must come before the deadline"),
        ({"summary_delay": -timedelta(hours=1)}, "summary_delay"),
    ],
)
def test_settings_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScheduleSettings(**kwargs)


def test_reminder_limit_allows_for_a_dst_change() -> None:
    # Window opens on Saturday 07:00 CET, the meeting is at 00:00 CEST on Monday 31 March
    # 2025: only 40 hours apart, one less than the wall clock says.
    rule = MeetingRule.parse("last mon 00:00")
    fits = ScheduleSettings(window_opens_days_before=2, reminder_offsets=(timedelta(hours=39),))
    times = times_of(rule, 2025, 3, zone=BERLIN, settings=fits)
    assert times.window_opens_at == utc(2025, 3, 29, 6, 0)
    assert times.meeting_at - times.window_opens_at == timedelta(hours=40)
    assert times.reminders[0][1] > times.window_opens_at
    with pytest.raises(ValueError, match="before the assessment window opens"):
        ScheduleSettings(window_opens_days_before=2, reminder_offsets=(timedelta(hours=40),))


def test_settings_defaults_and_normalisation() -> None:
    defaults = ScheduleSettings()
    assert defaults.window_opens_days_before == 7
    assert defaults.reminder_offsets == (timedelta(days=3), timedelta(days=1), timedelta(hours=2))
    assert defaults.deadline_offset == timedelta(0)
    assert defaults.preview_offset == timedelta(days=1)
    assert defaults.summary_delay == timedelta(0)
    assert defaults.effective_nudge_offsets == defaults.reminder_offsets
    offsets: Any = [timedelta(hours=2), timedelta(days=3)]  # a list, as read from a file
    unsorted = ScheduleSettings(reminder_offsets=offsets)
    assert unsorted.reminder_offsets == (timedelta(days=3), timedelta(hours=2))
    hash(unsorted)  # stays usable as a key
    # Three days before is fine once the window opens four days before.
    ScheduleSettings(window_opens_days_before=4)


@pytest.mark.parametrize(
    "settings",
    [
        ScheduleSettings(),
        ScheduleSettings(
            window_opens_days_before=1,
            reminder_offsets=(timedelta(hours=12),),
            preview_offset=timedelta(hours=6),
        ),
        ScheduleSettings(
            window_opens_days_before=20,
            deadline_offset=timedelta(days=7),
            preview_offset=timedelta(days=19) - timedelta(hours=8),
        ),
    ],
)
@pytest.mark.parametrize("zone", [HCM, BERLIN, "America/New_York"])
def test_validated_settings_keep_the_order_of_every_month(
    settings: ScheduleSettings, zone: str
) -> None:
    """Whatever the rule and meeting time: window first, regular windows never overlap."""
    rules = [
        MeetingRule.day_of_month(31, time(23, 59)),
        MeetingRule.day_of_month(1, time(0, 0)),
        MeetingRule.weekday_of_month(ordinal=-1, weekday=6, at=time(0, 30)),
        MeetingRule.weekday_of_month(ordinal=1, weekday=0, at=time(23, 0)),
    ]
    for rule in rules:
        months = [
            times_of(rule, 2025 + i // 12, i % 12 + 1, zone=zone, settings=settings)
            for i in range(24)
        ]
        for times, following in pairwise(months):
            firsts = [at for _, at in times.reminders] + [times.preview_at, times.deadline_at]
            assert all(times.window_opens_at < at for at in firsts), (rule, times)
            assert times.preview_at < times.deadline_at <= times.summary_at
            assert times.deadline_at < following.window_opens_at, (rule, times, following)


# ---------------------------------------------------------------- notifications


@pytest.mark.parametrize(
    ("offset", "key"),
    [
        (timedelta(days=3), "3d"),
        (timedelta(days=1), "1d"),
        (timedelta(hours=2), "2h"),
        (timedelta(hours=36), "36h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(0), "0"),
    ],
)
def test_offset_keys_are_stable(offset: timedelta, key: str) -> None:
    assert offset_key(offset) == key


def test_offset_key_refuses_negative_and_seconds() -> None:
    for bad in (timedelta(hours=-1), timedelta(seconds=30)):
        with pytest.raises(ValueError):
            offset_key(bad)


def plan_of(times: PeriodTimes, settings: ScheduleSettings = DEFAULT_SETTINGS) -> list[Any]:
    """The schedule's notifications for the period's stored times (what the planner writes)."""
    return planned_notifications(
        times.window_opens_at, times.deadline_at, times.meeting_at, zone=HCM, settings=settings
    )


def test_planned_notifications_keys_and_expiry() -> None:
    times = times_of(DAY_5, 2025, 9)
    planned = plan_of(times)
    kinds = NotificationKind
    # the deadline is the meeting: each nudge falls on a reminder, which carries it
    assert [(p.kind, p.offset_key) for p in planned] == [
        (kinds.WINDOW_OPEN, "0"),
        (kinds.MEETING_REMINDER, "3d"),
        (kinds.MEETING_REMINDER, "1d"),
        (kinds.SUMMARY_PREVIEW, "0"),
        (kinds.MEETING_REMINDER, "2h"),
        (kinds.MISSING_REPORT, "0"),
        (kinds.SUMMARY, "0"),
    ]
    assert [p.due_at for p in planned] == sorted(p.due_at for p in planned)
    expected_expiry = {
        kinds.WINDOW_OPEN: times.deadline_at,
        kinds.MEETING_REMINDER: times.meeting_at,
        kinds.MISSING_REPORT: times.deadline_at,
        kinds.SUMMARY_PREVIEW: times.meeting_at,
        kinds.SUMMARY: times.summary_at + SUMMARY_GRACE,
    }
    for p in planned:
        assert p.expires_at == expected_expiry[p.kind], p
    assert [p.due_at for p in planned if p.kind is kinds.MEETING_REMINDER] == [
        due for _, due in times.reminders
    ]
    missing = next(p for p in planned if p.kind is kinds.MISSING_REPORT)
    assert missing.due_at == times.reminders[-1][1]  # with the last nudge
    summary = next(p for p in planned if p.kind is kinds.SUMMARY)
    assert summary.expires_at == utc(2025, 9, 12, 12, 30)
    assert {p.kind for p in planned if not p.versioned} == {kinds.WINDOW_OPEN, kinds.SUMMARY}


def test_a_period_without_a_meeting_has_no_reminders_or_preview() -> None:
    times = times_of(DAY_5, 2025, 9)
    planned = planned_notifications(times.window_opens_at, times.deadline_at, None, zone=HCM)
    kinds = {p.kind for p in planned}
    assert NotificationKind.MEETING_REMINDER not in kinds
    assert NotificationKind.SUMMARY_PREVIEW not in kinds
    assert [p.offset_key for p in planned if p.kind is NotificationKind.DEADLINE_NUDGE] == [
        "3d",
        "1d",
        "2h",
    ]


def test_nudges_follow_the_deadline_and_start_after_the_window() -> None:
    # Deadline five days before the meeting: the 3-day nudge would precede the window.
    settings = ScheduleSettings(
        deadline_offset=-timedelta(days=5), preview_offset=timedelta(days=6)
    )
    times = times_of(DAY_5, 2025, 9, settings=settings)
    nudges = [p for p in plan_of(times, settings) if p.kind is NotificationKind.DEADLINE_NUDGE]
    assert [(p.offset_key, p.due_at) for p in nudges] == [
        ("1d", utc(2025, 8, 30, 12, 30)),
        ("2h", utc(2025, 8, 31, 10, 30)),
    ]
    assert [(p.offset_key, p.due_at) for p in nudges] == [
        (offset_key(o), due) for o, due in times.nudges
    ]
    assert all(p.expires_at == times.deadline_at == utc(2025, 8, 31, 12, 30) for p in nudges)
    # Custom nudges, independent of the meeting reminders.
    custom = ScheduleSettings(nudge_offsets=(timedelta(hours=12),))
    planned = plan_of(times_of(DAY_5, 2025, 9, settings=custom), custom)
    keys = [p.offset_key for p in planned if p.kind is NotificationKind.DEADLINE_NUDGE]
    assert keys == ["12h"]


def test_due_notifications_after_a_restart() -> None:
    times = times_of(DAY_5, 2025, 9)
    stored = (times.window_opens_at, times.deadline_at, times.meeting_at)
    due = due_notifications(*stored, utc(2025, 9, 4, 13, 0), zone=HCM)  # after the 1-day reminder
    assert {(p.kind.value, p.offset_key) for p in due} == {
        ("window_open", "0"),
        ("meeting_reminder", "3d"),
        ("meeting_reminder", "1d"),
        ("summary_preview", "0"),
    }
    at_meeting = due_notifications(*stored, times.meeting_at, zone=HCM)  # never sent late
    assert [(p.kind, p.offset_key) for p in at_meeting] == [(NotificationKind.SUMMARY, "0")]
    assert due_notifications(*stored, times.summary_at + SUMMARY_GRACE, zone=HCM) == []
    assert due_notifications(*stored, times.window_opens_at - timedelta(seconds=1), zone=HCM) == []


# ---------------------------------------------------------------- which period


def test_open_period_versus_next_around_the_boundaries() -> None:
    feb_deadline = utc(2025, 2, 3, 12, 30)  # 19:30 on 3 February, Vietnam time
    march_opens = utc(2025, 2, 24, 0, 0)  # 07:00 on 24 February
    tick = timedelta(microseconds=1)

    before = current_or_next_period(DAY_3, feb_deadline - tick, zone=HCM)
    assert before.period == (2025, 2) and before.window_open(feb_deadline - tick)

    at_deadline = current_or_next_period(DAY_3, feb_deadline, zone=HCM)
    assert at_deadline.period == (2025, 3) and not at_deadline.window_open(feb_deadline)
    assert at_deadline.window_opens_at == march_opens

    just_before = current_or_next_period(DAY_3, march_opens - tick, zone=HCM)
    assert just_before.period == (2025, 3) and not just_before.window_open(march_opens - tick)
    at_opening = current_or_next_period(DAY_3, march_opens, zone=HCM)
    assert at_opening.period == (2025, 3) and at_opening.window_open(march_opens)


def test_previous_month_still_open_early_in_the_month() -> None:
    settings = ScheduleSettings(deadline_offset=timedelta(days=3))
    last_saturday = MeetingRule.parse("last sat 19:30")  # 31 January 2026, deadline 3 February
    times = current_or_next_period(last_saturday, utc(2026, 2, 2), settings=settings)
    assert times.period == (2026, 1)
    assert times.deadline_at == utc(2026, 2, 3, 12, 30)


def test_period_across_the_new_year() -> None:
    times = current_or_next_period(DAY_3, utc(2025, 12, 28), zone=HCM)
    assert times.period == (2026, 1)
    assert times.window_open(utc(2025, 12, 28))


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        current_or_next_period(DAY_3, datetime(2025, 2, 3, 12, 30))


def test_a_typed_day_is_this_years_unless_long_past() -> None:
    today = date(2026, 12, 2)
    for text in ("20/12", "20.12", "20-12", "20/12/2026", "20/12/26", " 20/12 "):
        assert typed_day(text, today) == date(2026, 12, 20), text
    assert typed_day("10/1", today) == date(2027, 1, 10)  # January, typed in December
    assert typed_day("25/11", today) == date(2026, 11, 25)  # just past: the caller refuses it
    assert typed_day("29/2/2028", today) == date(2028, 2, 29)
    for bad in ("31/2", "29/2", "20/13", "0/12", "٢٠/١٢", "20/12/202", "mai", ""):
        assert typed_day(bad, today) is None, bad
