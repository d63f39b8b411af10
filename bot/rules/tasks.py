"""A resolution's tasks as the secretary types them: one line per task, read without I/O.

The line form is ``description | who | due date``::

    Tuyên truyền lịch gieo trồng | tất cả | 20/12
    Vận động hộ dân dọn vệ sinh | Lan, Trần Văn Minh | 15/12/2026

``who`` is "tất cả" / "all" (every member on the roll) or names, separated by commas,
matched to the cell's members without diacritics or case: a full name, or the last
words of one (the given name). A task falls due at the end of its day in the cell's
time zone. Problems are collected per line, so nothing is saved while any is left.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.words import fold
from bot.rules.calendar import typed_day

MAX_DESCRIPTION = 500  # characters of one task's description
MAX_TASKS = 30  # tasks of one resolution: each member's list stays one screen
MAX_DAYS_AHEAD = 183  # a due date at most about half a year ahead
EVERYONE = frozenset({"tat ca", "all", "alle", "ca chi bo", "everyone"})
_SEPARATORS = re.compile(r"[,;]")


def is_task_line(line: str) -> bool:
    """A line of the quick form (two "|" separators) rather than resolution text."""
    return line.count("|") == 2


class LineProblem(StrEnum):
    SHAPE = "shape"  # not "description | who | date"
    EMPTY_DESCRIPTION = "empty_description"
    LONG_DESCRIPTION = "long_description"
    NO_ONE = "no_one"
    UNKNOWN_NAME = "unknown_name"
    AMBIGUOUS_NAME = "ambiguous_name"
    BAD_DATE = "bad_date"
    PAST_DATE = "past_date"
    FAR_DATE = "far_date"


@dataclass(frozen=True)
class Problem:
    line: int  # from 1, as the secretary typed them
    problem: LineProblem
    text: str = ""  # the name or date concerned
    candidates: tuple[str, ...] = ()  # names that might be meant


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class TaskDraft:
    description: str
    due_on: date
    everyone: bool
    member_ids: tuple[int, ...] = ()


@dataclass
class Parsed:
    tasks: list[TaskDraft] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def due_at(day: date, zone: ZoneInfo) -> datetime:
    """The end of `day` in the cell's zone (the last second), as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


def parse_date(text: str, today: date) -> date | LineProblem:
    """ "20/12" or "20/12/2026" (`bot.rules.calendar.typed_day`); a date not far ahead."""
    day = typed_day(text, today)
    if day is None:
        return LineProblem.BAD_DATE
    if day < today:
        return LineProblem.PAST_DATE
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return LineProblem.FAR_DATE
    return day


def match_name(name: str, people: Sequence[Person]) -> list[Person]:
    """The members `name` may mean: the full name, else those whose name ends with it."""
    wanted = fold(name)
    if not wanted:
        return []
    exact = [p for p in people if fold(p.name) == wanted]
    if exact:
        return exact
    return [p for p in people if (" " + fold(p.name)).endswith(" " + wanted)]


def similar(name: str, people: Sequence[Person], limit: int = 5) -> tuple[str, ...]:
    """Names sharing a word with `name`, for "did you mean …" (at most `limit`)."""
    words = set(fold(name).split())
    found = [p.name for p in people if words & set(fold(p.name).split())]
    return tuple(found[:limit])


def parse_lines(lines: Sequence[tuple[int, str]], people: Sequence[Person], today: date) -> Parsed:
    """Read task lines (number, text); `people` are the cell's members."""
    parsed = Parsed()
    for number, line in lines:
        parts = [part.strip() for part in line.strip().lstrip("-•*").split("|")]
        if len(parts) != 3:
            parsed.problems.append(Problem(number, LineProblem.SHAPE, line.strip()))
            continue
        description, who, when = parts
        problems_before = len(parsed.problems)
        if not description:
            parsed.problems.append(Problem(number, LineProblem.EMPTY_DESCRIPTION))
        elif len(description) > MAX_DESCRIPTION:
            parsed.problems.append(Problem(number, LineProblem.LONG_DESCRIPTION))
        everyone = fold(who) in EVERYONE
        ids: list[int] = []
        if not everyone:
            names = [n.strip() for n in _SEPARATORS.split(who) if n.strip()]
            if not names:
                parsed.problems.append(Problem(number, LineProblem.NO_ONE))
            for name in names:
                found = match_name(name, people)
                if len(found) == 1:
                    if found[0].id not in ids:
                        ids.append(found[0].id)
                elif not found:
                    parsed.problems.append(
                        Problem(number, LineProblem.UNKNOWN_NAME, name, similar(name, people))
                    )
                else:
                    candidates = tuple(p.name for p in found[:8])
                    parsed.problems.append(
                        Problem(number, LineProblem.AMBIGUOUS_NAME, name, candidates)
                    )
        day = parse_date(when, today)
        if isinstance(day, LineProblem):
            parsed.problems.append(Problem(number, day, when))
        elif len(parsed.problems) == problems_before:
            parsed.tasks.append(TaskDraft(description, day, everyone, tuple(ids)))
    return parsed


@dataclass(frozen=True)
class TaskRecord:
    """One member's share of a task, as the record counts it."""

    due_at: datetime
    done_at: datetime | None
    cancelled: bool = False

    @property
    def on_time(self) -> bool:
        return self.done_at is not None and self.done_at <= self.due_at


def on_time_share(records: Sequence[TaskRecord]) -> float | None:
    """Share of the (not cancelled) tasks done by their due time; None without tasks."""
    counted = [r for r in records if not r.cancelled]
    if not counted:
        return None
    return sum(1 for r in counted if r.on_time) / len(counted)


__all__ = [
    "EVERYONE",
    "MAX_DESCRIPTION",
    "MAX_TASKS",
    "LineProblem",
    "Parsed",
    "Person",
    "Problem",
    "TaskDraft",
    "TaskRecord",
    "due_at",
    "fold",
    "is_task_line",
    "match_name",
    "on_time_share",
    "parse_date",
    "parse_lines",
    "similar",
]
