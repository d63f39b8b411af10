"""Scoring and classification: answers → a member's month, the cell's month, the year.

Pure domain code, the reference implementation ("oracle") of the rules: no
database, no chat, no translations.  Every weight, threshold and band comes
from the :class:`~bot.rules.framework.FrameworkSpec`; the few rules a framework file
cannot express yet are module constants below, marked **default**.  Results are
frozen dataclasses of plain values; nothing is rounded here (round only when
showing a number), so that an SQL aggregation can be checked against them.

The rules
=========

Answers
    An option answer scores the option's ``score`` (0–1).  A ``score``
    question's value ``v`` scores ``v / max``.  ``text`` questions are never
    scored.  A skipped question (``None``, or a key absent from the answers)
    is not counted at all — it is not a 0.  (Whether every required question
    was answered is the questionnaire flow's business, not this module's.)

A member's month (:func:`member_result`)
    A criterion's *fraction* is the mean score of its answered scored
    questions (``None`` when none was answered); it earns ``points × fraction``.
    Per group: the points earned by its member criteria, their maximum
    (``max_points``) and the maximum of those with an answer
    (``answered_max``).  The member's ``total`` is ``100 × points /
    answered_max`` over all member criteria — a criterion left unanswered
    (e.g. an optional question skipped) is left out of both sides, so it does
    not lower the score.  The suggested ``level`` is the band of that total.
    A member month is ``four_good`` when every group with member criteria has
    an answer and earns at least ``group_meets_at`` of its ``answered_max``.
    A group left without any answer (all its questions optional and skipped)
    does not meet: "4 tốt" says all four groups were shown to be good, and no
    answer shows nothing (as a cell criterion without data earns 0 and a month
    without a record is not "4 tốt").  :func:`member_from_fractions` is the one
    place these decisions are made; the SQL path only supplies the criterion
    fractions (``storage/evaluation.py``).

Low answers (:func:`is_low`)
    An answer is *low* when its score (as above) is below its question's
    ``comment_below`` (a framework field; a question without it has no low
    answers).  A low answer makes the questionnaire ask the member why
    (``bot/rules/flow.py``) and is quoted with that reason in the secretary's
    summary (``storage/evaluation.low_answers``, the same comparison in SQL).

The cell's month (:func:`cell_month`)
    A member criterion earns ``points × (mean of the members' fractions)``;
    members without an answer for it are not counted.  A cell criterion
    earns ``points × fraction`` where the fraction is

    * its metric, when it has one and the metric is given (see
      :func:`metric_score`), else the fact given for the criterion;
    * its fact (the secretary's answer as a score, see
      :func:`cell_facts_from_answers`, or a manual fraction in [0, 1]).

    A criterion with no data earns 0 and is flagged ``missing`` (the summary
    says "chưa có dữ liệu").  The secretary may adjust any criterion's points
    (within [0, its points], with a note); both the computed and the final
    points are kept, and everything downstream (groups, total, level,
    ``four_good``) uses the final points, with ``computed_*`` twins kept.
    A group meets when ``points / weight ≥ group_meets_at``; the month is
    "4 tốt" when every group meets; the level is the band of the total.

Metrics (**default**, module constants)
    ``completion_rate``: the rate itself (proportional).
    ``attendance_rate``: 1.0 at ``ATTENDANCE_FULL_AT`` (0.85, the "over 85 %"
    meeting rule) or more, below it proportional: ``rate / 0.85``.
    ``unexcused_absences`` and ``unreachable_members`` (counts): 1.0 when 0,
    then ``COUNT_STEP`` (0.25) less per case, never below 0 (0 from 4 on).
    ``documents_lead_hours`` (:func:`documents_lead_hours`: hours from the first
    document chibo sent to the meeting's start): 1.0 when at least the criterion's
    ``min_hours`` (**default** ``DOCUMENTS_MIN_HOURS``, 24: "at least one day before"),
    else 0 — the yes/no the secretary would answer.  A month without documents or
    without a meeting time has no value, and the secretary's answer counts instead.
    ``consultation_answer_rate`` (:func:`consultation_answer_rate`: over the month's
    consultations, the mean share of the roll — members not exempt when it went out —
    who answered, each at most 1) and ``tasks_on_time`` (``bot.rules.tasks.on_time_share``:
    of the previous month's resolution's tasks, one per assignee and not cancelled, the
    share reported done by the due time) are shares: 1.0 at the criterion's ``full_at``
    or more, below it ``share / full_at`` (**default** ``full_at``: ``FULL_AT_DEFAULTS``,
    0.8 of the roll answering, 0.9 of the tasks done on time).  A month without a
    consultation, or without a resolution in chibo, has no value, and the secretary's
    answer counts instead.  ``resolution_tasks``: 1.0 when the month's resolution
    recorded in chibo has a task (not cancelled), 0 when it has none.

Suggested answers (:func:`suggested_option`)
    ``suggest: tasks_done`` on a member question: the share of the member's tasks of the
    previous month's resolution done on time picks the option of the first of the
    question's ``suggest_levels`` whose ``min`` it reaches (**default**: the best option
    at 1.0, i.e. all done on time, the lowest-scoring option below).  A member without
    tasks gets no suggestion.  The member still chooses; an answer scoring below the
    suggested one asks why.

The year (:func:`year_result`, :func:`member_year`)
    Up to ``year_end.months`` months in order, ``None`` for a month without a
    record (a missing month is not "4 tốt"; a shorter sequence is a year in
    progress, the rest counting as missing).  Recognised when at least
    ``four_good_months_min`` months are "4 tốt" and no recorded month's level
    is at or below ``forbid_level`` (bands are ordered best first, so a level
    *below* the forbidden one is forbidden too).  The year's ``mean_total`` is
    the mean over the recorded months, and its suggested ``level`` the band of
    that mean.  **Default** for a member: the same rule applied to the member's
    months (``MemberResult.four_good`` and ``level``; a month without a
    submission is not "4 tốt").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from bot.rules.framework import (
    SHARE_METRICS,
    CellMetric,
    CriterionSource,
    CriterionSpec,
    FrameworkSpec,
    QuestionKind,
    QuestionSpec,
)

ATTENDANCE_FULL_AT = 0.85
"""**Default**: an attendance rate at or above this scores 1.0; below it, ``rate / this``."""
COUNT_STEP = 0.25
"""**Default**: each unexcused absence / unreachable member takes this much off 1.0."""
DOCUMENTS_MIN_HOURS = 24.0
"""**Default** of a criterion's ``min_hours``: documents go out at least a day before."""
FULL_AT_DEFAULTS = {CellMetric.CONSULTATION_ANSWER_RATE: 0.8, CellMetric.TASKS_ON_TIME: 0.9}
"""**Default** of a share criterion's ``full_at``: 80 % of the roll answering a draft, 90 % of
the tasks done on time earn full points."""
TOLERANCE = 1e-9
"""Float tolerance for "at least" comparisons (a group at exactly 70 % meets)."""

RATE_METRICS = frozenset({CellMetric.COMPLETION_RATE, CellMetric.ATTENDANCE_RATE})
COUNT_METRICS = frozenset({CellMetric.UNEXCUSED_ABSENCES, CellMetric.UNREACHABLE_MEMBERS})


class ScoringError(ValueError):
    """Input that does not fit the framework: an unknown key, a value out of range …"""


class AdjustmentError(ScoringError):
    """A secretary's adjustment that cannot be applied."""

    def __init__(self, criterion: str, message: str) -> None:
        super().__init__(f"adjustment of '{criterion}': {message}")
        self.criterion = criterion


# --- answers -------------------------------------------------------------------------


def answer_score(question: QuestionSpec, value: str | None) -> float | None:
    """The score (0–1) of one answer; None when skipped or for a text question."""
    if value is None or not question.kind.is_scored:
        return None
    if question.kind is QuestionKind.SCORE:
        top = question.max or 0
        try:
            number = float(value)
        except ValueError:
            raise ScoringError(f"'{question.key}': '{value}' is not a number") from None
        if not math.isfinite(number) or not 0 <= number <= top:
            raise ScoringError(f"'{question.key}': {value} is not between 0 and {top}")
        return number / top
    option = question.option(value)
    if option is None:
        raise ScoringError(f"'{question.key}': '{value}' is not one of its options")
    return option.score


def is_low(score: float | None, comment_below: float | None) -> bool:
    """Whether an answer scoring ``score`` is low for a question with ``comment_below``."""
    return score is not None and comment_below is not None and score < comment_below


def low_answer(question: QuestionSpec, value: str | None) -> bool:
    """Whether this answer to ``question`` is low (asks why; quoted in the summary)."""
    return is_low(answer_score(question, value), question.comment_below)


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _at_least(value: float, threshold: float) -> bool:
    return value >= threshold - TOLERANCE


def _unit(value: float, what: str) -> float:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ScoringError(f"{what}: {value} is not a fraction between 0 and 1")
    return float(value)


# --- a member's month ----------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionResult:
    """One member criterion for one member."""

    key: str
    group: str
    max_points: float
    fraction: float | None  # mean score of the answered scored questions; None: none answered
    points: float  # max_points × fraction; 0 when fraction is None
    answered: int  # scored questions answered


@dataclass(frozen=True)
class MemberGroup:
    """The member criteria of one group, for one member."""

    key: str
    points: float
    max_points: float  # all member criteria of the group
    answered_max: float  # the member criteria with an answer
    fraction: float | None  # points / answered_max; None when nothing was answered
    meets: bool  # fraction ≥ group_meets_at


@dataclass(frozen=True)
class MemberResult:
    """One member's month, over the member criteria only (cell criteria are not theirs)."""

    criteria: tuple[CriterionResult, ...]
    groups: tuple[MemberGroup, ...]  # groups with at least one member criterion, in order
    points: float
    max_points: float
    answered_max: float
    total: float | None  # 100 × points / answered_max; None when nothing was answered
    level: str | None  # the band of total
    four_good: bool  # every group has answers and meets

    def criterion(self, key: str) -> CriterionResult:
        return _find(self.criteria, key)

    def group(self, key: str) -> MemberGroup:
        return _find(self.groups, key)

    def fractions(self) -> dict[str, float]:
        """Criterion key → fraction, for the criteria this member answered."""
        return {c.key: c.fraction for c in self.criteria if c.fraction is not None}


def member_result(spec: FrameworkSpec, answers: Mapping[str, str | None]) -> MemberResult:
    """One member's month from their answers, keyed by question key.

    A value is an option value, a number (as text) for a score question, free
    text, or None for a skipped question.  A key that is not a member question
    of ``spec`` is an error.
    """
    member_keys = {q.key for _, _, q in spec.member_questions()}
    unknown = sorted(set(answers) - member_keys)
    if unknown:
        raise ScoringError(f"not member questions of this framework: {', '.join(unknown)}")
    scored: dict[str, tuple[float, int]] = {}
    for criterion in (c for g in spec.groups for c in g.criteria):
        if criterion.source is not CriterionSource.MEMBER:
            continue
        scores = [
            score
            for question in criterion.questions
            if (score := answer_score(question, answers.get(question.key))) is not None
        ]
        if scores:
            scored[criterion.key] = (math.fsum(scores) / len(scores), len(scores))
    return member_from_fractions(spec, scored)


CriterionAnswers = tuple[float, int]
"""A member's criterion: the mean score of its answered scored questions, and their number."""


def member_from_fractions(
    spec: FrameworkSpec, fractions: Mapping[str, CriterionAnswers]
) -> MemberResult:
    """One member's month from their criterion fractions (the SQL path's input).

    The one place where a member's groups, total, level and "4 tốt" flag are
    decided: :func:`member_result` and the SQL aggregation both end here.  A
    criterion absent from ``fractions`` was not answered.
    """
    criteria_by_key = {c.key: c for g in spec.groups for c in g.criteria}
    _check_keys(fractions, criteria_by_key, CriterionSource.MEMBER, "fractions")
    criteria: list[CriterionResult] = []
    groups: list[MemberGroup] = []
    meets_at = spec.scoring.group_meets_at
    for group in spec.groups:
        members = [c for c in group.criteria if c.source is CriterionSource.MEMBER]
        if not members:
            continue
        in_group: list[CriterionResult] = []
        for criterion in members:
            fraction, answered = fractions.get(criterion.key, (None, 0))
            if fraction is not None:
                fraction = _unit(fraction, f"fractions['{criterion.key}']")
            in_group.append(
                CriterionResult(
                    key=criterion.key,
                    group=group.key,
                    max_points=criterion.points,
                    fraction=fraction,
                    points=criterion.points * fraction if fraction is not None else 0.0,
                    answered=answered,
                )
            )
        points = math.fsum(c.points for c in in_group)
        answered_max = math.fsum(c.max_points for c in in_group if c.fraction is not None)
        fraction = points / answered_max if answered_max > 0 else None
        groups.append(
            MemberGroup(
                key=group.key,
                points=points,
                max_points=math.fsum(c.max_points for c in in_group),
                answered_max=answered_max,
                fraction=fraction,
                # a group without any answer does not meet: no evidence is not "tốt"
                meets=fraction is not None and _at_least(fraction, meets_at),
            )
        )
        criteria += in_group

    points = math.fsum(c.points for c in criteria)
    answered_max = math.fsum(c.max_points for c in criteria if c.fraction is not None)
    total = 100.0 * points / answered_max if answered_max > 0 else None
    return MemberResult(
        criteria=tuple(criteria),
        groups=tuple(groups),
        points=points,
        max_points=math.fsum(c.max_points for c in criteria),
        answered_max=answered_max,
        total=total,
        level=spec.scoring.band_for(total).level if total is not None else None,
        four_good=all(g.meets for g in groups),
    )


def collect_member_fractions(results: Iterable[MemberResult]) -> dict[str, list[float]]:
    """Criterion key → the fractions of the members who answered it (input to cell_month)."""
    collected: dict[str, list[float]] = {}
    for result in results:
        for key, fraction in result.fractions().items():
            collected.setdefault(key, []).append(fraction)
    return collected


# --- the cell's month ---------------------------------------------------------------------


def documents_lead_hours(
    meeting_at: datetime | None, sent_at: Iterable[datetime | None]
) -> float | None:
    """Hours from the first document sent to the meeting (negative: sent after it started).

    None without a meeting time or without a sent document.  The SQL path passes the
    earliest ``sent_at`` it found; the reference passes them all.
    """
    sent = [moment for moment in sent_at if moment is not None]
    if meeting_at is None or not sent:
        return None
    return (meeting_at - min(sent)).total_seconds() / 3600


def consultation_answer_rate(answered_of_roll: Iterable[tuple[int, int]]) -> float | None:
    """The mean, over the month's consultations, of (members who answered) / roll, each at
    most 1 (an exempt member may answer too).  None without a consultation with a roll."""
    rates = [min(1.0, answered / roll) for answered, roll in answered_of_roll if roll > 0]
    return _mean(rates) if rates else None


def metric_score(
    metric: CellMetric,
    value: float,
    min_hours: float | None = None,
    full_at: float | None = None,
) -> float:
    """The score (0–1) of a metric's value; see the module notes for the default rules.

    ``min_hours``: the criterion's threshold for ``documents_lead_hours``; ``full_at``: the
    share that earns full points for a share metric (``SHARE_METRICS``)."""
    if not math.isfinite(value):
        raise ScoringError(f"metric '{metric}': {value} is not a number")
    if metric in SHARE_METRICS:
        share = _unit(value, f"metric '{metric}'")
        threshold = FULL_AT_DEFAULTS[metric] if full_at is None else full_at
        return 1.0 if _at_least(share, threshold) else share / threshold
    if metric is CellMetric.RESOLUTION_TASKS:
        return _unit(value, f"metric '{metric}'")
    if metric is CellMetric.DOCUMENTS_LEAD_HOURS:
        threshold = DOCUMENTS_MIN_HOURS if min_hours is None else min_hours
        return 1.0 if value >= threshold - TOLERANCE else 0.0
    if metric in RATE_METRICS:
        rate = _unit(value, f"metric '{metric}'")
        if metric is CellMetric.ATTENDANCE_RATE:
            return 1.0 if _at_least(rate, ATTENDANCE_FULL_AT) else rate / ATTENDANCE_FULL_AT
        return rate
    if value < 0:
        raise ScoringError(f"metric '{metric}': a count cannot be negative ({value})")
    return max(0.0, 1.0 - COUNT_STEP * value)


def suggested_option(question: QuestionSpec, share: float | None) -> str | None:
    """The option suggested for a share of tasks done on time (see the module notes)."""
    if share is None or not question.options:
        return None
    if question.suggest_levels:
        for level in question.suggest_levels:
            if _at_least(share, level.min):
                return level.value
        return None
    ranked = sorted(question.options, key=lambda o: o.score)
    return ranked[-1].value if _at_least(share, 1.0) else ranked[0].value


def cell_facts_from_answers(
    spec: FrameworkSpec, answers: Mapping[str, str | None]
) -> dict[str, float | None]:
    """The secretary's answers (keyed by question key) as facts keyed by criterion key."""
    by_question: dict[str, CriterionSpec] = {
        c.questions[0].key: c for _, c in spec.cell_criteria() if c.questions
    }
    unknown = sorted(set(answers) - set(by_question))
    if unknown:
        raise ScoringError(f"not secretary questions of this framework: {', '.join(unknown)}")
    return {
        by_question[key].key: answer_score(by_question[key].questions[0], value)
        for key, value in answers.items()
    }


@dataclass(frozen=True)
class Adjustment:
    """The secretary's points for a criterion, replacing the computed ones, and why."""

    points: float
    note: str


@dataclass(frozen=True)
class CellCriterion:
    key: str
    group: str
    source: CriterionSource
    metric: CellMetric | None
    max_points: float
    fraction: float | None  # from data; None: missing
    missing: bool  # no data: earns 0 unless adjusted ("chưa có dữ liệu")
    computed_points: float  # max_points × fraction, 0 when missing
    adjustment: Adjustment | None
    points: float  # the adjustment's points if any, else computed_points


@dataclass(frozen=True)
class CellGroup:
    key: str
    max_points: float  # the group weight
    computed_points: float
    points: float
    fraction: float  # points / max_points
    meets: bool  # fraction ≥ group_meets_at
    computed_meets: bool
    missing: tuple[str, ...]  # keys of its criteria without data


@dataclass(frozen=True)
class CellMonth:
    criteria: tuple[CellCriterion, ...]
    groups: tuple[CellGroup, ...]
    computed_total: float
    total: float  # 0–100, after adjustments
    computed_level: str
    level: str  # the band of total
    computed_four_good: bool
    four_good: bool  # every group meets, after adjustments
    missing: tuple[str, ...]  # keys of the criteria without data, in framework order

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def adjusted(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.criteria if c.adjustment is not None)

    def criterion(self, key: str) -> CellCriterion:
        return _find(self.criteria, key)

    def group(self, key: str) -> CellGroup:
        return _find(self.groups, key)


MemberFractions = Mapping[str, Sequence[float] | float | None]
"""Criterion key → the members' fractions, or already their mean; None or [] = no data."""
AdjustmentInput = Adjustment | tuple[float, str]


def cell_month(
    spec: FrameworkSpec,
    member_fractions: MemberFractions,
    cell_facts: Mapping[str, float | None] | None = None,
    metrics: Mapping[str, float | None] | None = None,
    adjustments: Mapping[str, AdjustmentInput] | None = None,
) -> CellMonth:
    """The cell's month: every criterion's points, the groups, the total and the level.

    ``member_fractions`` is keyed by member criterion (see
    :func:`collect_member_fractions`), ``cell_facts`` by cell criterion (a
    fraction in [0, 1]; see :func:`cell_facts_from_answers`), ``metrics`` by
    metric name (rates in [0, 1], counts ≥ 0), ``adjustments`` by criterion.
    """
    cell_facts = cell_facts or {}
    metrics = metrics or {}
    adjustments = adjustments or {}
    criteria_by_key = {c.key: c for g in spec.groups for c in g.criteria}
    _check_keys(member_fractions, criteria_by_key, CriterionSource.MEMBER, "member_fractions")
    _check_keys(cell_facts, criteria_by_key, CriterionSource.CELL, "cell_facts")
    unknown_metrics = sorted(set(metrics) - {m.value for m in CellMetric})
    if unknown_metrics:
        raise ScoringError(f"metrics: unknown metrics {', '.join(unknown_metrics)}")
    checked = {
        key: _check_adjustment(key, value, criteria_by_key) for key, value in adjustments.items()
    }

    meets_at = spec.scoring.group_meets_at
    criteria: list[CellCriterion] = []
    groups: list[CellGroup] = []
    for group in spec.groups:
        in_group: list[CellCriterion] = []
        for criterion in group.criteria:
            if criterion.source is CriterionSource.MEMBER:
                fraction = _members_mean(criterion.key, member_fractions.get(criterion.key))
            else:
                fraction = _cell_fraction(criterion, cell_facts, metrics)
            computed = criterion.points * fraction if fraction is not None else 0.0
            adjustment = checked.get(criterion.key)
            in_group.append(
                CellCriterion(
                    key=criterion.key,
                    group=group.key,
                    source=criterion.source,
                    metric=criterion.metric,
                    max_points=criterion.points,
                    fraction=fraction,
                    missing=fraction is None,
                    computed_points=computed,
                    adjustment=adjustment,
                    points=adjustment.points if adjustment is not None else computed,
                )
            )
        computed_points = math.fsum(c.computed_points for c in in_group)
        points = math.fsum(c.points for c in in_group)
        groups.append(
            CellGroup(
                key=group.key,
                max_points=group.weight,
                computed_points=computed_points,
                points=points,
                fraction=points / group.weight,
                meets=_at_least(points / group.weight, meets_at),
                computed_meets=_at_least(computed_points / group.weight, meets_at),
                missing=tuple(c.key for c in in_group if c.missing),
            )
        )
        criteria += in_group

    computed_total = math.fsum(g.computed_points for g in groups)
    total = math.fsum(g.points for g in groups)
    return CellMonth(
        criteria=tuple(criteria),
        groups=tuple(groups),
        computed_total=computed_total,
        total=total,
        computed_level=spec.scoring.band_for(computed_total).level,
        level=spec.scoring.band_for(total).level,
        computed_four_good=all(g.computed_meets for g in groups),
        four_good=all(g.meets for g in groups),
        missing=tuple(c.key for c in criteria if c.missing),
    )


def _check_keys(
    given: Mapping[str, object],
    criteria: Mapping[str, CriterionSpec],
    source: CriterionSource,
    what: str,
) -> None:
    wrong = sorted(k for k in given if k not in criteria or criteria[k].source is not source)
    if wrong:
        raise ScoringError(f"{what}: not {source} criteria of this framework: {', '.join(wrong)}")


def _members_mean(key: str, value: Sequence[float] | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return _unit(value, f"member_fractions['{key}']")
    return _mean([_unit(v, f"member_fractions['{key}']") for v in value])


def _cell_fraction(
    criterion: CriterionSpec,
    facts: Mapping[str, float | None],
    metrics: Mapping[str, float | None],
) -> float | None:
    if criterion.metric is not None:
        value = metrics.get(criterion.metric.value)
        if value is not None:
            return metric_score(criterion.metric, value, criterion.min_hours, criterion.full_at)
    fact = facts.get(criterion.key)
    return _unit(fact, f"cell_facts['{criterion.key}']") if fact is not None else None


def _check_adjustment(
    key: str, value: AdjustmentInput, criteria: Mapping[str, CriterionSpec]
) -> Adjustment:
    if key not in criteria:
        raise AdjustmentError(key, "no such criterion in this framework")
    if isinstance(value, Adjustment):
        points, note = value.points, value.note
    else:
        try:
            points, note = value
        except (TypeError, ValueError):
            raise AdjustmentError(key, "expected (points, note)") from None
    top = criteria[key].points
    if (
        isinstance(points, bool)
        or not isinstance(points, int | float)
        or not math.isfinite(points)
        or not 0 <= points <= top
    ):
        raise AdjustmentError(key, f"points {points!r} not between 0 and {top:g}")
    if not isinstance(note, str) or not note.strip():
        raise AdjustmentError(key, "a note explaining the adjustment is required")
    return Adjustment(points=float(points), note=note.strip())


# --- the year -----------------------------------------------------------------------------


@dataclass(frozen=True)
class YearResult:
    months: int  # months the rule counts (year_end.months)
    months_recorded: int
    four_good_months: int
    four_good_months_min: int
    forbidden_months: tuple[int, ...]  # positions (0-based) of months at/below forbid_level
    recognised: bool  # enough "4 tốt" months and no forbidden month
    mean_total: float | None  # over the recorded months
    level: str | None  # the band of mean_total


def year_result(spec: FrameworkSpec, months: Sequence[CellMonth | None]) -> YearResult:
    """The cell's year from its months in order (None: no record for that month)."""
    return _year(spec, [(m.total, m.level, m.four_good) if m is not None else None for m in months])


def member_year(spec: FrameworkSpec, member_months: Sequence[MemberResult | None]) -> YearResult:
    """A member's year: the year-end rule applied to their months (None: not submitted)."""
    return _year(
        spec,
        [(m.total, m.level, m.four_good) if m is not None else None for m in member_months],
    )


def year_from_months(
    spec: FrameworkSpec, months: Sequence[tuple[float | None, str | None, bool] | None]
) -> YearResult:
    """The year-end rule over (total, level, four_good) per month (None: no record)."""
    return _year(spec, months)


def _year(
    spec: FrameworkSpec, months: Sequence[tuple[float | None, str | None, bool] | None]
) -> YearResult:
    rule = spec.scoring.year_end
    if len(months) > rule.months:
        raise ScoringError(f"{len(months)} months given, the year counts {rule.months}")
    rank = {band.level: i for i, band in enumerate(spec.scoring.bands)}
    forbid = rank[rule.forbid_level] if rule.forbid_level is not None else None
    recorded = [(i, m) for i, m in enumerate(months) if m is not None]
    forbidden = tuple(
        i
        for i, (_, level, _) in recorded
        if forbid is not None and level is not None and rank[level] >= forbid
    )
    four_good = sum(1 for _, (_, _, good) in recorded if good)
    totals = [total for _, (total, _, _) in recorded if total is not None]
    mean_total = _mean(totals)
    return YearResult(
        months=rule.months,
        months_recorded=len(recorded),
        four_good_months=four_good,
        four_good_months_min=rule.four_good_months_min,
        forbidden_months=forbidden,
        recognised=four_good >= rule.four_good_months_min and not forbidden,
        mean_total=mean_total,
        level=spec.scoring.band_for(mean_total).level if mean_total is not None else None,
    )


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


_T = TypeVar("_T", bound=_Keyed)


def _find(items: Sequence[_T], key: str) -> _T:
    for item in items:
        if item.key == key:
            return item
    raise KeyError(key)


__all__ = [
    "ATTENDANCE_FULL_AT",
    "COUNT_STEP",
    "DOCUMENTS_MIN_HOURS",
    "FULL_AT_DEFAULTS",
    "Adjustment",
    "AdjustmentError",
    "CellCriterion",
    "CellGroup",
    "CellMonth",
    "CriterionAnswers",
    "CriterionResult",
    "MemberGroup",
    "MemberResult",
    "ScoringError",
    "YearResult",
    "answer_score",
    "cell_facts_from_answers",
    "cell_month",
    "collect_member_fractions",
    "consultation_answer_rate",
    "documents_lead_hours",
    "is_low",
    "low_answer",
    "member_from_fractions",
    "member_result",
    "member_year",
    "metric_score",
    "suggested_option",
    "year_result",
]
