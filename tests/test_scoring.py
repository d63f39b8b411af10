"""Scoring and classification: the reference rules, on the default and a custom framework."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.rules.framework import (
    CellMetric,
    CriterionSource,
    FrameworkSpec,
    QuestionKind,
    load_framework,
    parse_framework,
)
from bot.rules.scoring import (
    ATTENDANCE_FULL_AT,
    Adjustment,
    AdjustmentError,
    CellMonth,
    MemberResult,
    ScoringError,
    answer_score,
    cell_facts_from_answers,
    cell_month,
    collect_member_fractions,
    documents_lead_hours,
    member_result,
    member_year,
    metric_score,
    year_result,
)


@pytest.fixture(scope="module")
def spec() -> FrameworkSpec:
    return load_framework()


# --- helpers ---------------------------------------------------------------------------------


def answers_at(spec: FrameworkSpec, best: bool) -> dict[str, str | None]:
    """Every member question answered with its best (or worst) answer; text gets a sentence."""
    answers: dict[str, str | None] = {}
    for _, _, question in spec.member_questions():
        if question.kind is QuestionKind.TEXT:
            answers[question.key] = "Tháng này tôi đã vận động bà con dọn vệ sinh."
        elif question.kind is QuestionKind.SCORE:
            answers[question.key] = str(question.max if best else 0)
        else:
            pick = max if best else min
            answers[question.key] = pick(question.options, key=lambda o: o.score).value
    return answers


def full_inputs(
    spec: FrameworkSpec,
) -> tuple[dict[str, Any], dict[str, float | None], dict[str, float | None]]:
    """member_fractions, cell_facts and metrics of a perfect month."""
    members: dict[str, Any] = {}
    facts: dict[str, float | None] = {}
    for group in spec.groups:
        for criterion in group.criteria:
            if criterion.source is CriterionSource.MEMBER:
                members[criterion.key] = [1.0, 1.0, 1.0]
            elif criterion.metric is None or criterion.questions:
                facts[criterion.key] = 1.0  # the secretary's answer (a metric's fallback)
    metrics: dict[str, float | None] = {"completion_rate": 1.0, "attendance_rate": 1.0}
    return members, facts, metrics


def month_with(spec: FrameworkSpec, **fractions: float | None) -> CellMonth:
    """A perfect month except the criteria given (criterion key → fraction, None = no data)."""
    members, facts, metrics = full_inputs(spec)
    for key, value in fractions.items():
        if key in members:
            members[key] = None if value is None else [value]
        elif key in facts:
            facts[key] = value
        else:
            raise AssertionError(f"not a member or fact criterion: {key}")
    return cell_month(spec, members, facts, metrics)


# --- answers and a member's month -------------------------------------------------------------


def test_best_answers_score_100_and_excellent(spec: FrameworkSpec) -> None:
    result = member_result(spec, answers_at(spec, best=True))
    member_points = sum(
        c.points for g in spec.groups for c in g.criteria if c.source is CriterionSource.MEMBER
    )
    assert member_points == 71  # 24 + 14 + 13 + 20, per the file header
    assert result.points == member_points
    assert result.max_points == member_points
    assert result.total == 100
    assert result.level == "excellent"
    assert result.four_good
    assert all(c.fraction == 1.0 for c in result.criteria)
    assert [(g.key, g.points, g.max_points) for g in result.groups] == [
        ("g1", 24, 24),
        ("g2", 14, 14),
        ("g3", 13, 13),
        ("g4", 20, 20),
    ]
    assert result.criterion("g4_self").points == 9


def test_worst_answers_score_0_and_not_completed(spec: FrameworkSpec) -> None:
    result = member_result(spec, answers_at(spec, best=False))
    assert result.points == 0
    assert result.total == 0
    assert result.level == "not_completed"
    assert not result.four_good
    assert all(c.fraction == 0.0 for c in result.criteria)


def test_skipped_optional_question_does_not_lower_the_score(spec: FrameworkSpec) -> None:
    answers = answers_at(spec, best=True)
    assert spec.question("g3_contact_residence").optional
    answers["g3_contact_residence"] = None
    skipped = member_result(spec, answers)
    assert skipped.total == 100
    assert skipped.criterion("g3_contact").fraction is None
    assert skipped.criterion("g3_contact").answered == 0
    assert skipped.answered_max == 68
    assert skipped.group("g3").answered_max == 10
    assert skipped.group("g3").fraction == 1.0
    del answers["g3_contact_residence"]  # absent counts as skipped too
    assert member_result(spec, answers).total == 100
    answers["g3_contact_residence"] = "no"  # answered "no" does lower it
    assert member_result(spec, answers).total == pytest.approx(100 * 68 / 71)


def test_absent_with_reason_scores_half(spec: FrameworkSpec) -> None:
    question = spec.question("g2_attend_meeting")
    excused = question.option("excused")
    assert excused is not None and excused.label["vi"] == "Vắng có lý do"
    answers = answers_at(spec, best=True)
    answers["g2_attend_meeting"] = "excused"
    result = member_result(spec, answers)
    attend = result.criterion("g2_attend")
    assert attend.fraction == 0.5
    assert attend.points == 2.5
    assert result.group("g2").points == 11.5
    assert result.total == pytest.approx(100 * 68.5 / 71)
    assert result.level == "excellent"
    answers["g2_attend_meeting"] = "unexcused"
    assert member_result(spec, answers).criterion("g2_attend").points == 0


def test_text_answers_are_ignored(spec: FrameworkSpec) -> None:
    answers = answers_at(spec, best=False)
    with_text = member_result(spec, answers)
    answers["g4_notes"] = None
    without = member_result(spec, answers)
    assert with_text == without
    assert with_text.criterion("g4_self").answered == 1  # the text question is not counted
    assert answer_score(spec.question("g4_notes"), "Có khó khăn về sức khỏe") is None


def test_level_answer_scores_its_option(spec: FrameworkSpec) -> None:
    answers = answers_at(spec, best=True)
    answers["g1_tasks_resolution"] = "good"
    result = member_result(spec, answers)
    assert result.criterion("g1_tasks").fraction == 0.85
    assert result.criterion("g1_tasks").points == pytest.approx(9 * 0.85)


def test_bad_answers_are_rejected(spec: FrameworkSpec) -> None:
    answers = answers_at(spec, best=True)
    with pytest.raises(ScoringError, match="g1_tasks_resolution"):
        member_result(spec, {**answers, "g1_tasks_resolution": "maybe"})
    with pytest.raises(ScoringError, match="nonsense"):
        member_result(spec, {**answers, "nonsense": "yes"})
    with pytest.raises(ScoringError, match="g2_on_schedule_held"):  # a secretary question
        member_result(spec, {**answers, "g2_on_schedule_held": "yes"})


def test_member_group_meets_at_the_threshold(spec: FrameworkSpec) -> None:
    answers = answers_at(spec, best=True)
    answers["g4_study_done"] = "no"  # g4: 15 / 20 = 75 % meets
    assert member_result(spec, answers).four_good
    answers["g4_self_rating"] = "completed"  # g4: 6 + 5.4 = 11.4 / 20 = 57 % fails
    result = member_result(spec, answers)
    assert not result.group("g4").meets
    assert not result.four_good
    assert result.group("g1").meets


# --- the cell's month -------------------------------------------------------------------------


def test_perfect_month_scores_100_and_is_four_good(spec: FrameworkSpec) -> None:
    month = cell_month(spec, *full_inputs(spec))
    assert month.total == 100
    assert month.computed_total == 100
    assert month.four_good
    assert month.level == "excellent"
    assert month.missing == ()
    assert month.complete
    assert [(g.key, g.points, g.max_points, g.fraction) for g in month.groups] == [
        ("g1", 30, 30, 1.0),
        ("g2", 30, 30, 1.0),
        ("g3", 20, 20, 1.0),
        ("g4", 20, 20, 1.0),
    ]
    assert all(c.points == c.max_points for c in month.criteria)


def test_member_criteria_earn_the_mean_of_the_members(spec: FrameworkSpec) -> None:
    best = answers_at(spec, best=True)
    excused = {**best, "g2_attend_meeting": "excused", "g3_contact_residence": None}
    results = [member_result(spec, best), member_result(spec, excused)]
    fractions = collect_member_fractions(results)
    assert fractions["g2_attend"] == [1.0, 0.5]
    assert fractions["g3_contact"] == [1.0]  # the member who skipped is not counted
    _, facts, metrics = full_inputs(spec)
    month = cell_month(spec, fractions, facts, metrics)
    assert month.criterion("g2_attend").fraction == 0.75
    assert month.criterion("g2_attend").points == 3.75
    assert month.criterion("g3_contact").points == 3
    assert month.total == pytest.approx(98.75)
    # an already averaged fraction is accepted too
    assert cell_month(spec, {**fractions, "g2_attend": 0.75}, facts, metrics) == month


def test_one_group_below_threshold_is_not_four_good(spec: FrameworkSpec) -> None:
    # g3 = 20 − 3 − 3 = 14 / 20 = exactly 70 %: still meets
    at_edge = month_with(spec, g3_dues_full=0.0, g3_no_discipline=0.0)
    assert at_edge.group("g3").points == 14
    assert at_edge.group("g3").meets
    assert at_edge.four_good
    # a little less: g3 = 13.7 / 20 = 68.5 %, while the total stays excellent
    below = month_with(spec, g3_dues_full=0.0, g3_no_discipline=0.0, g3_unity=0.9)
    assert below.group("g3").points == pytest.approx(13.7)
    assert not below.group("g3").meets
    assert [g.meets for g in below.groups] == [True, True, False, True]
    assert not below.four_good
    assert below.total == pytest.approx(93.7)
    assert below.level == "excellent"


G4_ZERO = {"g4_ethics": 0.0, "g4_study": 0.0, "g4_self": 0.0}  # − 20
G1_TEN = {"g1_resolution": 0.0, "g1_tasks_on_time": 0.0, "g1_movements": 0.0}  # − 10
G3_ZERO = {  # − 20
    "g3_dues": 0.0,
    "g3_discipline": 0.0,
    "g3_contact": 0.0,
    "g3_unity": 0.0,
    "g3_dues_full": 0.0,
    "g3_no_discipline": 0.0,
    "g3_consulted": 0.0,
}
HALF_POINT = {"g1_mobilise": 0.9}  # − 0.5


@pytest.mark.parametrize(
    ("fractions", "total", "level"),
    [
        ({"g4_ethics": 0.5, "g4_study": 0.5, "g4_self": 0.5}, 90, "excellent"),
        ({"g4_ethics": 0.5, "g4_study": 0.4, "g4_self": 0.5}, 89.5, "good"),
        ({**G4_ZERO, **G1_TEN}, 70, "good"),
        ({**G4_ZERO, **G1_TEN, **HALF_POINT}, 69.5, "completed"),
        ({**G4_ZERO, **G1_TEN, **G3_ZERO}, 50, "completed"),
        ({**G4_ZERO, **G1_TEN, **G3_ZERO, **HALF_POINT}, 49.5, "not_completed"),
    ],
)
def test_band_edges(
    spec: FrameworkSpec, fractions: dict[str, float], total: float, level: str
) -> None:
    month = month_with(spec, **fractions)
    assert month.total == total  # exact: no rounding in the computation
    assert month.level == level
    assert month.computed_level == level


def test_missing_data_is_flagged_and_earns_nothing(spec: FrameworkSpec) -> None:
    members, facts, metrics = full_inputs(spec)
    del facts["g2_minutes"]
    metrics["attendance_rate"] = None
    members["g1_work"] = []
    del members["g4_study"]
    month = cell_month(spec, members, facts, metrics)
    assert month.missing == ("g1_work", "g2_attendance", "g2_minutes", "g4_study")
    assert not month.complete
    minutes = month.criterion("g2_minutes")
    assert minutes.missing and minutes.fraction is None and minutes.points == 0
    assert month.group("g2").missing == ("g2_attendance", "g2_minutes")
    assert month.group("g3").missing == ()
    assert month.total == 100 - 6 - 4 - 2 - 5
    assert not month.criterion("g2_speak").missing


def test_attendance_rate_maps_to_a_score(spec: FrameworkSpec) -> None:
    assert ATTENDANCE_FULL_AT == 0.85
    assert metric_score(CellMetric.ATTENDANCE_RATE, 0.85) == 1.0
    assert metric_score(CellMetric.ATTENDANCE_RATE, 0.95) == 1.0
    assert metric_score(CellMetric.ATTENDANCE_RATE, 0.68) == pytest.approx(0.8)
    assert metric_score(CellMetric.ATTENDANCE_RATE, 0.0) == 0.0
    members, facts, metrics = full_inputs(spec)
    month = cell_month(spec, members, facts, {**metrics, "attendance_rate": 0.68})
    assert month.criterion("g2_attendance").points == pytest.approx(3.2)
    month = cell_month(spec, members, facts, {**metrics, "completion_rate": 0.5})
    assert month.criterion("g2_self_assess").points == 1.0


def test_count_metrics_decrease_from_one() -> None:
    for metric in (CellMetric.UNEXCUSED_ABSENCES, CellMetric.UNREACHABLE_MEMBERS):
        assert metric_score(metric, 0) == 1.0
        assert metric_score(metric, 1) == 0.75
        assert metric_score(metric, 2) == 0.5
        assert metric_score(metric, 4) == 0.0
        assert metric_score(metric, 30) == 0.0
        with pytest.raises(ScoringError):
            metric_score(metric, -1)


def test_metric_falls_back_to_a_manual_fraction(spec: FrameworkSpec) -> None:
    members, facts, metrics = full_inputs(spec)
    del metrics["attendance_rate"]
    month = cell_month(spec, members, {**facts, "g2_attendance": 0.5}, metrics)
    assert month.criterion("g2_attendance").points == 2
    assert not month.criterion("g2_attendance").missing
    # with the metric present, the metric wins
    month = cell_month(
        spec, members, {**facts, "g2_attendance": 0.5}, {**metrics, "attendance_rate": 0.9}
    )
    assert month.criterion("g2_attendance").points == 4


def test_secretary_answers_become_facts(spec: FrameworkSpec) -> None:
    facts = cell_facts_from_answers(
        spec,
        {
            "g1_resolution_passed": "yes",
            "g2_on_schedule_held": "no",
            "g3_no_discipline_ok": "some",
            "g3_dues_collected": None,
        },
    )
    assert facts == {
        "g1_resolution": 1.0,
        "g2_on_schedule": 0.0,
        "g3_no_discipline": 0.0,
        "g3_dues_full": None,
    }
    assert cell_facts_from_answers(spec, {"g3_no_discipline_ok": "none"}) == {
        "g3_no_discipline": 1.0
    }
    with pytest.raises(ScoringError, match="g1_tasks_resolution"):
        cell_facts_from_answers(spec, {"g1_tasks_resolution": "good"})


def test_bad_cell_inputs_are_rejected(spec: FrameworkSpec) -> None:
    members, facts, metrics = full_inputs(spec)
    with pytest.raises(ScoringError, match="g2_minutes"):  # a cell criterion as member data
        cell_month(spec, {**members, "g2_minutes": [1.0]}, facts, metrics)
    with pytest.raises(ScoringError, match="g1_tasks"):  # a member criterion as a fact
        cell_month(spec, members, {**facts, "g1_tasks": 1.0}, metrics)
    with pytest.raises(ScoringError, match="g2_minutes"):
        cell_month(spec, members, {**facts, "g2_minutes": 1.5}, metrics)
    with pytest.raises(ScoringError, match="g1_work"):
        cell_month(spec, {**members, "g1_work": [1.0, -0.1]}, facts, metrics)
    with pytest.raises(ScoringError, match="attendance_rate"):
        cell_month(spec, members, facts, {**metrics, "attendance_rate": 1.2})
    with pytest.raises(ScoringError, match="speed"):
        cell_month(spec, members, facts, {**metrics, "speed": 1.0})


def test_adjustments_are_applied_and_both_values_kept(spec: FrameworkSpec) -> None:
    members, facts, metrics = full_inputs(spec)
    facts.update(g3_dues_full=0.0, g3_no_discipline=0.0)
    members["g3_unity"] = [0.9]  # g3 = 13.7: does not meet
    month = cell_month(
        spec,
        members,
        facts,
        metrics,
        adjustments={
            "g3_dues_full": (3, "  Hai đồng chí đã nộp bù ngày 2.  "),
            "g2_minutes": Adjustment(1.5, "Biên bản thiếu chữ ký thư ký"),
        },
    )
    dues = month.criterion("g3_dues_full")
    assert dues.computed_points == 0
    assert dues.points == 3
    assert dues.adjustment == Adjustment(3.0, "Hai đồng chí đã nộp bù ngày 2.")
    minutes = month.criterion("g2_minutes")
    assert (minutes.computed_points, minutes.points) == (2, 1.5)
    assert month.adjusted == ("g2_minutes", "g3_dues_full")
    assert month.computed_total == pytest.approx(93.7)
    assert month.total == pytest.approx(93.7 + 3 - 0.5)
    g3 = month.group("g3")
    assert (g3.computed_points, g3.points) == (pytest.approx(13.7), pytest.approx(16.7))
    assert not g3.computed_meets and g3.meets
    assert not month.computed_four_good and month.four_good
    assert month.criterion("g1_tasks").adjustment is None


@pytest.mark.parametrize(
    ("adjustment", "message"),
    [
        ({"g2_minutes": (2.5, "quá điểm")}, "between 0 and 2"),
        ({"g2_minutes": (-1, "âm")}, "between 0 and 2"),
        ({"g2_minutes": (math.nan, "không phải số")}, "between 0 and 2"),
        ({"g2_minutes": (1, "")}, "note"),
        ({"g2_minutes": (1, "   ")}, "note"),
        ({"g2_minutes": Adjustment(1, " ")}, "note"),
        ({"g9_nothing": (1, "không có")}, "no such criterion"),
        ({"g2_minutes": (1,)}, "expected"),
    ],
)
def test_bad_adjustments_are_rejected(
    spec: FrameworkSpec, adjustment: dict[str, Any], message: str
) -> None:
    with pytest.raises(AdjustmentError, match=message) as info:
        cell_month(spec, *full_inputs(spec), adjustments=adjustment)
    assert info.value.criterion == next(iter(adjustment))


def test_adjustment_bounds_are_inclusive(spec: FrameworkSpec) -> None:
    month = cell_month(
        spec, *full_inputs(spec), adjustments={"g2_minutes": (0, "x"), "g2_prepared": (2, "y")}
    )
    assert month.criterion("g2_minutes").points == 0
    assert month.criterion("g2_prepared").points == 2
    assert month.total == 98


# --- the year ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def months(spec: FrameworkSpec) -> dict[str, CellMonth]:
    four_good = cell_month(spec, *full_inputs(spec))
    good_not_four = month_with(spec, g3_dues_full=0.0, g3_no_discipline=0.0, g3_unity=0.9)
    members, _, _ = full_inputs(spec)
    failed = cell_month(spec, {k: [0.0] for k in members}, {}, {})
    assert four_good.four_good and four_good.level == "excellent"
    assert not good_not_four.four_good and good_not_four.level == "excellent"
    assert not failed.four_good and failed.level == "not_completed"
    return {"four_good": four_good, "other": good_not_four, "failed": failed}


def test_year_nine_four_good_months_is_recognised(
    spec: FrameworkSpec, months: dict[str, CellMonth]
) -> None:
    year = year_result(spec, [months["four_good"]] * 9 + [months["other"]] * 3)
    assert year.four_good_months == 9
    assert year.four_good_months_min == 9
    assert year.months == 12 and year.months_recorded == 12
    assert year.forbidden_months == ()
    assert year.recognised
    assert year.mean_total == pytest.approx((9 * 100 + 3 * 93.7) / 12)
    assert year.level == "excellent"


def test_year_eight_four_good_months_is_not(
    spec: FrameworkSpec, months: dict[str, CellMonth]
) -> None:
    year = year_result(spec, [months["four_good"]] * 8 + [months["other"]] * 4)
    assert year.four_good_months == 8
    assert not year.recognised


def test_year_with_a_not_completed_month_is_not(
    spec: FrameworkSpec, months: dict[str, CellMonth]
) -> None:
    sequence = [months["four_good"]] * 9 + [months["other"], months["failed"], months["other"]]
    year = year_result(spec, sequence)
    assert year.four_good_months == 9
    assert year.forbidden_months == (10,)
    assert not year.recognised


def test_year_missing_months_are_not_four_good(
    spec: FrameworkSpec, months: dict[str, CellMonth]
) -> None:
    year = year_result(spec, [months["four_good"]] * 9 + [None] * 3)
    assert year.recognised
    assert year.months_recorded == 9
    assert year.mean_total == 100
    in_progress = year_result(spec, [months["four_good"]] * 8)  # a year in progress
    assert in_progress.months == 12 and in_progress.months_recorded == 8
    assert not in_progress.recognised
    empty = year_result(spec, [None] * 12)
    assert empty.mean_total is None and empty.level is None and not empty.recognised
    with pytest.raises(ScoringError, match="13 months"):
        year_result(spec, [months["four_good"]] * 13)


def test_member_year(spec: FrameworkSpec) -> None:
    best = member_result(spec, answers_at(spec, best=True))
    worst = member_result(spec, answers_at(spec, best=False))
    sequence: list[MemberResult | None] = [best] * 9 + [None] * 3
    year = member_year(spec, sequence)
    assert year.recognised
    assert (year.four_good_months, year.mean_total, year.level) == (9, 100, "excellent")
    with_failure = member_year(spec, [best] * 9 + [None, worst, None])
    assert with_failure.forbidden_months == (10,)
    assert not with_failure.recognised
    assert with_failure.mean_total == 90
    assert not member_year(spec, [best] * 8 + [None] * 4).recognised


# --- a custom framework: nothing is hard-coded ----------------------------------------------------


def custom_framework() -> FrameworkSpec:
    yes_no = [
        {"value": "yes", "label": "Có", "score": 1.0},
        {"value": "no", "label": "Không", "score": 0.0},
    ]
    return parse_framework(
        {
            "code": "custom",
            "version": 1,
            "title": "Khung thử",
            "scoring": {
                "group_meets_at": 0.6,
                "bands": [
                    {"level": "top", "min": 80, "label": "Tốt nhất"},
                    {"level": "mid", "min": 40, "label": "Giữa"},
                    {"level": "low", "min": 0, "label": "Thấp"},
                ],
                "year_end": {"four_good_months_min": 2, "months": 3, "forbid_level": "mid"},
            },
            "groups": [
                {
                    "key": "a",
                    "weight": 60,
                    "title": "Nhóm A",
                    "criteria": [
                        {
                            "key": "a_rate",
                            "points": 40,
                            "source": "member",
                            "title": "Tự chấm",
                            "questions": [
                                {"key": "a_rate_q", "kind": "score", "max": 4, "text": "Mấy điểm?"},
                                {
                                    "key": "a_rate_yn",
                                    "kind": "yes_no",
                                    "text": "Có?",
                                    "options": yes_no,
                                },
                            ],
                        },
                        {
                            "key": "a_abs",
                            "points": 20,
                            "source": "cell",
                            "metric": "unexcused_absences",
                            "title": "Vắng không lý do",
                        },
                    ],
                },
                {
                    "key": "b",
                    "weight": 40,
                    "title": "Nhóm B",
                    "criteria": [
                        {
                            "key": "b_fact",
                            "points": 40,
                            "source": "cell",
                            "title": "Việc chi bộ",
                            "questions": [
                                {
                                    "key": "b_fact_q",
                                    "kind": "yes_no",
                                    "text": "Xong?",
                                    "options": yes_no,
                                }
                            ],
                        },
                    ],
                },
            ],
        }
    )


def test_custom_framework_member_scoring() -> None:
    custom = custom_framework()
    result = member_result(custom, {"a_rate_q": "3", "a_rate_yn": "no"})
    assert result.criterion("a_rate").fraction == pytest.approx(0.375)  # mean(3/4, 0)
    assert result.criterion("a_rate").answered == 2
    assert result.points == pytest.approx(15)
    assert result.max_points == 40
    assert result.total == pytest.approx(37.5)
    assert result.level == "low"
    assert [g.key for g in result.groups] == ["a"]  # b has no member criteria
    result = member_result(custom, {"a_rate_q": "4", "a_rate_yn": None})
    assert (result.total, result.level) == (100, "top")
    assert member_result(custom, {"a_rate_q": "2", "a_rate_yn": "yes"}).total == 75
    assert member_result(custom, {"a_rate_q": "2", "a_rate_yn": "yes"}).level == "mid"
    with pytest.raises(ScoringError, match="between 0 and 4"):
        member_result(custom, {"a_rate_q": "5"})
    with pytest.raises(ScoringError, match="not a number"):
        member_result(custom, {"a_rate_q": "ba"})
    empty = member_result(custom, {})
    assert (empty.total, empty.level, empty.four_good) == (None, None, False)


def test_custom_framework_cell_month_and_year() -> None:
    custom = custom_framework()
    facts = cell_facts_from_answers(custom, {"b_fact_q": "yes"})
    # a: 40 × 0.65 + 20 × (1 − 0.25 × 1) = 26 + 15 = 41 / 60 = 68 %: meets at 60 %, not at 70 %
    month = cell_month(custom, {"a_rate": [0.6, 0.7]}, facts, {"unexcused_absences": 1})
    assert month.criterion("a_abs").points == 15
    assert month.group("a").points == pytest.approx(41)
    assert month.group("a").max_points == 60
    assert month.group("a").meets
    assert month.four_good
    assert month.total == pytest.approx(81)
    assert month.level == "top"
    weak = cell_month(custom, {"a_rate": 0.5}, facts, {"unexcused_absences": 2})
    assert weak.group("a").points == 30  # 50 %
    assert not weak.four_good
    assert weak.total == 70 and weak.level == "mid"
    year = year_result(custom, [month, month, None])
    assert year.months == 3 and year.four_good_months == 2
    assert year.recognised
    # forbid_level "mid" forbids "mid" and everything below it
    poor = cell_month(custom, {"a_rate": 0.0}, {"b_fact": 0.0}, {"unexcused_absences": 9})
    assert poor.level == "low"
    assert year_result(custom, [month, month, weak]).forbidden_months == (2,)
    assert year_result(custom, [month, month, poor]).forbidden_months == (2,)
    assert not year_result(custom, [month, month, poor]).recognised


# --- the documents' time ------------------------------------------------------------------

MEETING = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)


def test_documents_lead_hours_counts_from_the_first_document() -> None:
    sent = [MEETING - timedelta(hours=10), MEETING - timedelta(hours=30), None]
    assert documents_lead_hours(MEETING, sent) == pytest.approx(30)
    assert documents_lead_hours(MEETING, [MEETING + timedelta(minutes=90)]) == pytest.approx(-1.5)
    assert documents_lead_hours(None, sent) is None  # no meeting time: no figure
    assert documents_lead_hours(MEETING, []) is None
    assert documents_lead_hours(MEETING, [None]) is None  # a file still waiting for a choice


def test_documents_metric_meets_at_the_threshold() -> None:
    lead = CellMetric.DOCUMENTS_LEAD_HOURS
    assert metric_score(lead, 24) == 1.0  # the default: at least a day before
    assert metric_score(lead, 23.99) == 0.0
    assert metric_score(lead, -3) == 0.0  # sent after the meeting started
    assert metric_score(lead, 12, min_hours=12) == 1.0
    assert metric_score(lead, 47, min_hours=48) == 0.0
    with pytest.raises(ScoringError):
        metric_score(lead, math.nan)


def test_documents_fill_the_criterion_else_the_secretary_answers(spec: FrameworkSpec) -> None:
    members, facts, metrics = full_inputs(spec)
    facts["g2_prepared"] = 1.0  # the secretary's ✅
    late = cell_month(spec, members, facts, metrics | {"documents_lead_hours": 5.0})
    assert late.criterion("g2_prepared").points == 0  # the documents' time wins
    assert not late.criterion("g2_prepared").missing
    early = cell_month(
        spec, members, {**facts, "g2_prepared": 0.0}, {**metrics, "documents_lead_hours": 30.0}
    )
    assert early.criterion("g2_prepared").points == early.criterion("g2_prepared").max_points
    manual = cell_month(spec, members, facts, metrics | {"documents_lead_hours": None})
    assert manual.criterion("g2_prepared").points == manual.criterion("g2_prepared").max_points
    neither = cell_month(spec, members, {**facts, "g2_prepared": None}, metrics)
    assert neither.criterion("g2_prepared").missing


def test_a_framework_sets_its_own_threshold(spec: FrameworkSpec) -> None:
    data = spec.model_dump(mode="json")
    for group in data["groups"]:
        for criterion in group["criteria"]:
            if criterion["key"] == "g2_prepared":
                criterion["min_hours"] = 48
    strict = parse_framework(data)
    members, facts, metrics = full_inputs(strict)
    month = cell_month(strict, members, facts, metrics | {"documents_lead_hours": 30.0})
    assert month.criterion("g2_prepared").points == 0
