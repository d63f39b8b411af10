"""The criteria framework: the shipped default file and the validation of broken variants."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.rules.framework import (
    HELP_MAX_LEN,
    MAX_DEPTH,
    MAX_OPTIONS,
    OPTION_LABEL_MAX_LEN,
    PROBLEM_MAX_LEN,
    QUESTION_TEXT_MAX_LEN,
    CellMetric,
    CriterionSource,
    FrameworkError,
    FrameworkSpec,
    QuestionKind,
    default_framework_path,
    load_framework,
    localized,
    parse_framework,
)
from bot.rules.scoring import is_low

LOCALES = {"vi", "en", "de"}
TEXT_FIELDS = ("title", "text", "help", "label")


@pytest.fixture(scope="module")
def spec() -> FrameworkSpec:
    return load_framework()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(default_framework_path().read_text(encoding="utf-8"))


@pytest.fixture
def data(raw: dict[str, Any]) -> dict[str, Any]:
    # Through JSON rather than deepcopy: the YAML shares option lists through anchors,
    # and a test must change only the one place it means to break.
    return json.loads(json.dumps(raw))


def problems_of(data: dict[str, Any] | str) -> list[str]:
    with pytest.raises(FrameworkError) as info:
        parse_framework(data)
    assert info.value.problems, "a FrameworkError must list its problems"
    for problem in info.value.problems:
        assert problem in str(info.value)
    return info.value.problems


def assert_problem(data: dict[str, Any] | str, expected: str) -> None:
    found = problems_of(data)
    assert expected in found, "\n".join(found)


def question(data: dict[str, Any], g: int, c: int, q: int) -> dict[str, Any]:
    return data["groups"][g]["criteria"][c]["questions"][q]


def walk(node: Any, where: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (location, field, value) of the raw data."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield where, key, value
            yield from walk(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk(item, f"{where}[{i}]")


# --- the default framework ---------------------------------------------------------------


def test_default_path_is_the_shipped_file() -> None:
    path = default_framework_path()
    assert path.name == "four_good.yaml"
    assert path.is_file()


def test_default_loads_with_identity(spec: FrameworkSpec) -> None:
    assert spec.code == "four-good-cell"
    assert spec.version == 3
    assert localized(spec.title, "vi").startswith("Chi bộ 4 tốt")


def test_default_has_the_four_groups(spec: FrameworkSpec) -> None:
    assert [g.key for g in spec.groups] == ["g1", "g2", "g3", "g4"]
    assert [g.weight for g in spec.groups] == [30, 30, 20, 20]
    assert [g.title["vi"] for g in spec.groups] == [
        "Thi đua, hoàn thành tốt nhiệm vụ",
        "Chất lượng sinh hoạt tốt",
        "Đoàn kết tốt, kỷ luật tốt",
        "Cán bộ tốt, đảng viên tốt",
    ]
    for group in spec.groups:
        assert sum(c.points for c in group.criteria) == group.weight


def test_default_scoring(spec: FrameworkSpec) -> None:
    scoring = spec.scoring
    assert scoring.group_meets_at == 0.70
    assert [(b.level, b.min) for b in scoring.bands] == [
        ("excellent", 90),
        ("good", 70),
        ("completed", 50),
        ("not_completed", 0),
    ]
    assert scoring.bands[0].label["vi"] == "Hoàn thành xuất sắc nhiệm vụ"
    assert scoring.year_end.four_good_months_min == 9
    assert scoring.year_end.months == 12
    assert scoring.year_end.forbid_level == "not_completed"
    assert scoring.band_for(90).level == "excellent"
    assert scoring.band_for(89.9).level == "good"
    assert scoring.band_for(50).level == "completed"
    assert scoring.band_for(0).level == "not_completed"


def test_default_member_questionnaire(spec: FrameworkSpec) -> None:
    questions = spec.member_questions()
    assert len(questions) == 16
    per_group = [
        sum(1 for g, _, _ in questions if g.key == key) for key in ("g1", "g2", "g3", "g4")
    ]
    assert per_group == [4, 4, 4, 4]
    *scored, (_, _, last) = questions
    assert last.kind is QuestionKind.TEXT
    assert last.optional
    assert all(q.kind is not QuestionKind.TEXT for _, _, q in scored)
    assert all(c.source is CriterionSource.MEMBER for _, c, _ in questions)


def test_default_scales(spec: FrameworkSpec) -> None:
    tasks = spec.question("g1_tasks_resolution")
    assert [(o.label["vi"], o.score) for o in tasks.options] == [
        ("Xuất sắc", 1.0),
        ("Tốt", 0.85),
        ("Hoàn thành", 0.6),
        ("Không hoàn thành", 0.0),
    ]
    assert [o.value for o in tasks.options if is_low(o.score, tasks.comment_below)] == ["not_done"]
    attend = spec.question("g2_attend_meeting")
    assert [o.label["vi"] for o in attend.options] == [
        "Có mặt",
        "Vắng có lý do",
        "Vắng không lý do",
    ]
    assert [o.value for o in attend.options if is_low(o.score, attend.comment_below)] == [
        "excused",
        "unexcused",
    ]
    for _, _, q in spec.member_questions():
        if q.kind is QuestionKind.YES_NO:
            good, bad = q.options
            assert (good.score, bad.score) == (1.0, 0.0)
            assert not is_low(good.score, q.comment_below) and is_low(bad.score, q.comment_below)
    assert spec.question("g2_criticism_join").text["vi"].count("tự phê bình và phê bình") == 1


def test_default_cell_criteria(spec: FrameworkSpec) -> None:
    cell = {c.key: (g.key, c) for g, c in spec.cell_criteria()}
    assert set(cell) == {
        "g1_resolution", "g1_tasks_on_time", "g2_on_schedule", "g2_attendance",
        "g2_prepared", "g2_minutes", "g2_thematic", "g2_self_assess", "g3_dues_full",
        "g3_no_discipline", "g3_consulted",
    }  # fmt: skip
    assert cell["g2_attendance"][1].metric is CellMetric.ATTENDANCE_RATE
    assert cell["g2_self_assess"][1].metric is CellMetric.COMPLETION_RATE
    prepared = cell["g2_prepared"][1]
    assert prepared.metric is CellMetric.DOCUMENTS_LEAD_HOURS and prepared.min_hours == 24
    consulted = cell["g3_consulted"][1]
    assert consulted.metric is CellMetric.CONSULTATION_ANSWER_RATE and consulted.full_at == 0.8
    assert [o.score for o in consulted.questions[0].options] == [1.0, 1.0, 0.0]  # no draft: met
    for _, criterion in cell.values():
        # Filled from data, or one scored question for the secretary, or both (the
        # documents' time, the tasks, the consultations' answers; the secretary answers in
        # a month without them).
        if criterion.metric is None or criterion.key in FALLBACK_QUESTION:
            assert len(criterion.questions) == 1
            assert criterion.questions[0].kind is QuestionKind.YES_NO
        elif criterion is consulted:
            assert criterion.questions[0].kind is QuestionKind.CHOICE
        else:
            assert criterion.questions == []
    member = {q.key: q for _, _, q in spec.member_questions()}
    assert [k for k, q in member.items() if q.suggest] == [
        "g1_tasks_resolution",
        "g2_study_documents",
    ]
    assert cell["g1_tasks_on_time"][1].metric is CellMetric.TASKS_ON_TIME
    assert cell["g1_tasks_on_time"][1].full_at == 0.9
    assert cell["g1_resolution"][1].metric is CellMetric.RESOLUTION_TASKS


# metric criteria whose secretary's question counts in a month without the data
FALLBACK_QUESTION = {"g2_prepared", "g1_resolution", "g1_tasks_on_time"}


def test_every_text_is_in_vi_en_de(raw: dict[str, Any], spec: FrameworkSpec) -> None:
    count = 0
    for where, field, value in walk(raw):
        if field in TEXT_FIELDS:
            assert isinstance(value, dict), f"{where}.{field}"
            assert set(value) == LOCALES, f"{where}.{field}: {sorted(value)}"
            for locale, text in value.items():
                assert isinstance(text, str) and text.strip(), f"{where}.{field}.{locale}"
            count += 1
    assert count > 100
    assert spec.locales() == ["vi", "de", "en"]


def test_keys_and_option_values_fit(raw: dict[str, Any]) -> None:
    keys: list[str] = []
    for where, field, value in walk(raw):
        if field == "key":
            assert re.fullmatch(r"[a-z0-9_]{1,24}", value), f"{where}.key: {value!r}"
            keys.append(value)
        if field == "value":
            assert re.fullmatch(r"[a-z0-9_]{1,12}", value), f"{where}.value: {value!r}"
    assert len(keys) == len(set(keys))


def test_localized_falls_back_to_vietnamese() -> None:
    text = {"vi": "Có", "en": "Yes"}
    assert localized(text, "en") == "Yes"
    assert localized(text, "en-US") == "Yes"
    assert localized(text, "de") == "Có"
    assert localized(text, None) == "Có"
    assert localized(None, "en") == ""


def test_parse_accepts_yaml_text_and_dicts(data: dict[str, Any]) -> None:
    text = default_framework_path().read_text(encoding="utf-8")
    assert parse_framework(text) == parse_framework(data)


def test_bare_string_is_vietnamese_text(data: dict[str, Any]) -> None:
    data["title"] = "Chi bộ 4 tốt"
    assert parse_framework(data).title == {"vi": "Chi bộ 4 tốt"}


def test_question_lookup(spec: FrameworkSpec) -> None:
    assert spec.question("g4_notes").kind is QuestionKind.TEXT
    assert spec.question("g3_dues_collected").option("yes") is not None
    with pytest.raises(KeyError):
        spec.question("nope")


# --- validation: one broken variant per rule ---------------------------------------------------


def test_unknown_question_kind(data: dict[str, Any]) -> None:
    question(data, 1, 0, 0)["kind"] = "slider"
    assert_problem(
        data,
        "groups[1].criteria[0].questions[0].kind: unknown question type 'slider'"
        " (expected one of yes_no, level, score, choice, text)",
    )


def test_unknown_source_and_metric(data: dict[str, Any]) -> None:
    data["groups"][0]["criteria"][0]["source"] = "secretary"
    data["groups"][1]["criteria"][5]["metric"] = "mood"
    found = problems_of(data)
    assert (
        "groups[0].criteria[0].source: unknown criterion source 'secretary'"
        " (expected one of member, cell)" in found
    )
    assert any(p.startswith("groups[1].criteria[5].metric: unknown metric 'mood'") for p in found)


def test_group_weights_must_sum_to_100(data: dict[str, Any]) -> None:
    data["groups"][3]["weight"] = 25
    data["groups"][3]["criteria"][0]["points"] += 5
    assert problems_of(data) == ["groups: group weights add up to 105, expected 100"]


def test_criteria_points_must_sum_to_group_weight(data: dict[str, Any]) -> None:
    data["groups"][1]["criteria"][0]["points"] = 6
    assert problems_of(data) == [
        "groups[1].criteria: criteria points add up to 31, expected the group weight 30"
    ]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["groups"][1].update(key="g1"),
            "groups[1].key: duplicate key 'g1' (already used at groups[0].key)",
        ),
        (
            lambda d: d["groups"][2]["criteria"][1].update(key="g1_tasks"),
            "groups[2].criteria[1].key: duplicate key 'g1_tasks'"
            " (already used at groups[0].criteria[0].key)",
        ),
        (
            lambda d: question(d, 3, 2, 1).update(key="g2_speak_up"),
            "groups[3].criteria[2].questions[1].key: duplicate key 'g2_speak_up'"
            " (already used at groups[1].criteria[1].questions[0].key)",
        ),
        (
            # one namespace for groups, criteria and questions
            lambda d: question(d, 0, 0, 0).update(key="g2"),
            "groups[1].key: duplicate key 'g2' (already used at"
            " groups[0].criteria[0].questions[0].key)",
        ),
    ],
    ids=["group", "criterion", "question", "across-levels"],
)
def test_duplicate_keys(
    data: dict[str, Any], mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    mutate(data)
    assert_problem(data, expected)


def test_duplicate_option_values(data: dict[str, Any]) -> None:
    question(data, 0, 0, 0)["options"][2]["value"] = "good"
    assert_problem(
        data,
        "groups[0].criteria[0].questions[0].options[2].value: duplicate option value 'good'"
        " in this question (already used at options[1])",
    )


@pytest.mark.parametrize(("g", "c", "kind"), [(0, 2, "yes_no"), (0, 0, "level"), (1, 0, "choice")])
def test_options_required(data: dict[str, Any], g: int, c: int, kind: str) -> None:
    q = question(data, g, c, 0)
    assert q["kind"] == kind
    del q["options"]
    found = problems_of(data)
    assert any(
        p.startswith(f"groups[{g}].criteria[{c}].questions[0].options: a '{kind}' question needs")
        for p in found
    ), found


def test_yes_no_needs_exactly_two_options(data: dict[str, Any]) -> None:
    q = question(data, 2, 0, 0)
    q["options"].append({"value": "maybe", "label": {"vi": "Có lẽ"}, "score": 0.5})
    assert_problem(
        data,
        "groups[2].criteria[0].questions[0].options: a 'yes_no' question needs exactly 2 options,"
        " found 3",
    )


def test_options_forbidden_for_text(data: dict[str, Any]) -> None:
    question(data, 3, 2, 1)["options"] = question(data, 3, 1, 0)["options"]
    assert_problem(
        data, "groups[3].criteria[2].questions[1].options: a 'text' question takes no options"
    )


@pytest.mark.parametrize("max_value", [None, 0, -3])
def test_score_question_needs_max(data: dict[str, Any], max_value: int | None) -> None:
    q = question(data, 3, 2, 0)
    q["kind"] = "score"
    del q["options"]
    q["max"] = max_value
    assert_problem(
        data, "groups[3].criteria[2].questions[0].max: a 'score' question needs a maximum above 0"
    )


def test_score_question_with_max_is_valid(data: dict[str, Any]) -> None:
    q = question(data, 3, 2, 0)
    q["kind"] = "score"
    del q["options"]
    q["max"] = 10
    assert parse_framework(data).question("g4_self_rating").max == 10


def test_max_only_for_score_questions(data: dict[str, Any]) -> None:
    question(data, 0, 0, 0)["max"] = 10
    assert_problem(
        data, "groups[0].criteria[0].questions[0].max: only a 'score' question has a maximum"
    )


@pytest.mark.parametrize(
    ("score", "problem"),
    [(1.5, "should be less than or equal to 1"), (-0.1, "should be greater than or equal to 0")],
)
def test_option_score_in_unit_range(data: dict[str, Any], score: float, problem: str) -> None:
    question(data, 0, 0, 0)["options"][1]["score"] = score
    found = problems_of(data)
    assert any(
        p.startswith(f"groups[0].criteria[0].questions[0].options[1].score: {problem}")
        for p in found
    ), found


def test_bands_must_descend(data: dict[str, Any]) -> None:
    data["scoring"]["bands"][2]["min"] = 75
    assert_problem(
        data,
        "scoring.bands[2].min: bands must be in descending order of min, but 75 is not below 70",
    )


def test_bands_must_end_at_zero(data: dict[str, Any]) -> None:
    data["scoring"]["bands"][3]["min"] = 10
    assert_problem(data, "scoring.bands[3].min: the last band must start at 0, not 10")


def test_band_levels_unique_and_year_end_level_known(data: dict[str, Any]) -> None:
    data["scoring"]["bands"][1]["level"] = "excellent"
    data["scoring"]["year_end"]["forbid_level"] = "failed"
    data["scoring"]["year_end"]["four_good_months_min"] = 13
    found = problems_of(data)
    assert (
        "scoring.bands[1].level: duplicate level 'excellent' (already used at scoring.bands[0])"
        in found
    )
    assert any(p.startswith("scoring.year_end.forbid_level: unknown level 'failed'") for p in found)
    assert "scoring.year_end.four_good_months_min: 13 is more than the 12 months counted" in found


@pytest.mark.parametrize(
    ("value", "problem"),
    [(0, "should be greater than 0"), (1.5, "should be less than or equal to 1")],
)
def test_comment_below_in_range(data: dict[str, Any], value: float, problem: str) -> None:
    question(data, 0, 0, 0)["comment_below"] = value
    found = problems_of(data)
    assert any(
        p.startswith(f"groups[0].criteria[0].questions[0].comment_below: {problem}") for p in found
    ), found


def test_comment_below_not_for_text(data: dict[str, Any]) -> None:
    question(data, 3, 2, 1)["comment_below"] = 0.5
    assert_problem(
        data,
        "groups[3].criteria[2].questions[1].comment_below: a 'text' question has no score"
        " to compare",
    )


@pytest.mark.parametrize(
    ("mutate", "where", "bad"),
    [
        (lambda d: d["groups"][0].update(key="G1 Tasks"), "groups[0].key", "key 'G1 Tasks'"),
        (
            lambda d: d["groups"][0]["criteria"][1].update(key="a" * 25),
            "groups[0].criteria[1].key",
            f"key '{'a' * 25}'",
        ),
        (
            lambda d: question(d, 0, 0, 0)["options"][0].update(value="very_excellent"),
            "groups[0].criteria[0].questions[0].options[0].value",
            "option value 'very_excellent'",
        ),
        (
            lambda d: question(d, 0, 0, 0)["options"][0].update(value="xuất_sắc"),
            "groups[0].criteria[0].questions[0].options[0].value",
            "option value 'xuất_sắc'",
        ),
    ],
    ids=["space-and-capitals", "too-long-key", "too-long-value", "non-ascii-value"],
)
def test_key_syntax(
    data: dict[str, Any], mutate: Callable[[dict[str, Any]], None], where: str, bad: str
) -> None:
    mutate(data)
    found = problems_of(data)
    assert any(p.startswith(f"{where}: invalid {bad}: use lowercase a-z") for p in found), found


def test_at_least_one_member_question(data: dict[str, Any]) -> None:
    for group in data["groups"]:
        for criterion in group["criteria"]:
            criterion.update(source="cell", questions=[], metric=None, min_hours=None, full_at=None)
    assert problems_of(data) == [
        "groups: no member questions; at least one criterion with source 'member' needs questions"
    ]


def test_member_criterion_needs_a_scored_question(data: dict[str, Any]) -> None:
    del data["groups"][3]["criteria"][2]["questions"][0]
    assert_problem(
        data,
        "groups[3].criteria[2].questions: a member criterion needs at least one scored question"
        " (yes_no, level, score or choice)",
    )


def test_metric_only_on_cell_criteria(data: dict[str, Any]) -> None:
    data["groups"][0]["criteria"][0]["metric"] = "completion_rate"
    assert_problem(
        data,
        "groups[0].criteria[0].metric: only a criterion with source 'cell' can be filled from data",
    )


def test_cell_criterion_has_at_most_one_question(data: dict[str, Any]) -> None:
    criterion = data["groups"][0]["criteria"][4]
    extra = json.loads(json.dumps(criterion["questions"][0]))
    extra["key"] = "g1_resolution_extra"
    criterion["questions"].append(extra)
    assert_problem(
        data,
        "groups[0].criteria[4].questions: a cell criterion has at most one question"
        " (for the secretary), found 2",
    )


def test_metric_criterion_may_keep_the_secretarys_question(data: dict[str, Any]) -> None:
    """The question is the fallback for a month without the data (e.g. no documents sent)."""
    prepared = data["groups"][1]["criteria"][6]
    assert prepared["metric"] == "documents_lead_hours" and prepared["questions"]
    data["groups"][1]["criteria"][5]["questions"] = [question(data, 1, 4, 0) | {"key": "g2_x"}]
    spec = parse_framework(data)
    assert spec.groups[1].criteria[5].questions[0].key == "g2_x"


def test_min_hours_only_for_the_documents_metric(data: dict[str, Any]) -> None:
    data["groups"][1]["criteria"][5]["min_hours"] = 12
    assert_problem(
        data,
        "groups[1].criteria[5].min_hours: only a criterion with metric"
        " 'documents_lead_hours' has a threshold in hours",
    )


def test_suggestion_only_on_member_questions_with_options(data: dict[str, Any]) -> None:
    question(data, 1, 6, 0)["suggest"] = "documents_read"  # the secretary's question
    question(data, 3, 2, 1)["suggest"] = "documents_read"  # free text
    found = problems_of(data)
    assert (
        "groups[1].criteria[6].questions[0].suggest: only a member question with options"
        " can have a suggested answer"
    ) in found
    assert (
        "groups[3].criteria[2].questions[1].suggest: only a member question with options"
        " can have a suggested answer"
    ) in found


def test_unknown_suggestion(data: dict[str, Any]) -> None:
    question(data, 1, 3, 0)["suggest"] = "mind_reading"
    assert_problem(
        data,
        "groups[1].criteria[3].questions[0].suggest: unknown suggestion 'mind_reading'"
        " (expected one of documents_read, tasks_done)",
    )


def test_text_needs_vietnamese(data: dict[str, Any]) -> None:
    del data["groups"][2]["title"]["vi"]
    question(data, 0, 1, 0)["help"]["en"] = "  "
    found = problems_of(data)
    assert "groups[2].title: missing the Vietnamese text (a 'vi:' entry is required)" in found
    assert "groups[0].criteria[1].questions[0].help: empty text for locale 'en'" in found


def test_missing_and_unknown_fields(data: dict[str, Any]) -> None:
    del data["groups"][0]["criteria"][1]["points"]
    question(data, 0, 0, 0)["optinal"] = True
    found = problems_of(data)
    assert "groups[0].criteria[1].points: required field is missing" in found
    assert "groups[0].criteria[0].questions[0].optinal: unknown field (check the spelling)" in found


def test_wrong_shapes(data: dict[str, Any]) -> None:
    data["groups"][0]["criteria"] = {"key": "g1_tasks"}
    data["groups"][1]["weight"] = "thirty"
    found = problems_of(data)
    assert any(p.startswith("groups[0].criteria: should be a list") for p in found), found
    assert any(
        p.startswith("groups[1].weight: should be a valid number") and p.endswith("got 'thirty'")
        for p in found
    ), found


def test_several_problems_are_reported_together(data: dict[str, Any]) -> None:
    question(data, 0, 1, 0)["comment_below"] = None
    question(data, 0, 1, 0)["options"][3]["value"] = "good"
    data["groups"][2]["criteria"][0]["points"] = 5
    data["scoring"]["bands"][3]["min"] = 5
    found = problems_of(data)
    assert len(found) == 3, found


def test_top_level_must_be_a_mapping() -> None:
    assert problems_of("- just\n- a list\n") == [
        "the file must be a mapping (key: value) at top level, not a list"
    ]


def test_yaml_syntax_error_is_a_framework_error() -> None:
    found = problems_of("code: four-good-cell\ntitle: {vi: Chi bộ\nversion: 1\n")
    assert len(found) == 1
    assert found[0].startswith("YAML syntax: line "), found


def test_yaml_duplicate_mapping_key() -> None:
    text = default_framework_path().read_text(encoding="utf-8")
    broken = text.replace("version: 3", "version: 3\nversion: 4  #", 1)
    found = problems_of(broken)
    assert len(found) == 1
    assert re.fullmatch(
        r"YAML syntax: line \d+, column 1: the key 'version' appears twice in this mapping",
        found[0],
    ), found


def test_unquoted_yes_gets_a_hint() -> None:
    text = default_framework_path().read_text(encoding="utf-8")
    broken = text.replace('value: "yes"', "value: yes", 1)
    found = problems_of(broken)
    # The option list is a YAML anchor: every question that reuses it reports it.
    assert found[0] == (
        "groups[0].criteria[2].questions[0].options[0].value: should be text,"
        ' got a yes/no value; put it in quotes ("yes")'
    )
    assert all(
        p.endswith('options[0].value: should be text, got a yes/no value; put it in quotes ("yes")')
        for p in found
    ), found


def test_load_framework_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "province.yaml"
    path.write_text("code: [", encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert str(path) in str(info.value)
    with pytest.raises(FrameworkError, match="cannot read the file"):
        load_framework(tmp_path / "missing.yaml")


def test_framework_error_is_a_value_error() -> None:
    error = FrameworkError(["a: b"])
    assert isinstance(error, ValueError)
    assert error.problems == ["a: b"]


def test_empty_file() -> None:
    assert problems_of("") == ["the file is empty"]
    assert problems_of("# only a comment\n") == ["the file is empty"]


# --- what the channels can show ---------------------------------------------------------------


def first_with_options(data: dict[str, Any]) -> dict[str, Any]:
    return next(
        q for g in data["groups"] for c in g["criteria"] for q in c["questions"] if q["options"]
    )


def test_question_texts_and_options_must_fit_a_message_and_a_keyboard(
    data: dict[str, Any],
) -> None:
    q = first_with_options(data)
    q["text"]["vi"] = "Câu hỏi rất dài " * 400  # 6,400 characters
    q["help"] = {"vi": "Giải thích " * 200}
    q["options"][0]["label"]["vi"] = "Nhãn " * 40
    problems = "\n".join(problems_of(data))
    assert f"the 'vi' text has 6400 characters, at most {QUESTION_TEXT_MAX_LEN} fit" in problems
    assert f"at most {HELP_MAX_LEN} fit" in problems
    assert f"the 'vi' text has 200 characters, at most {OPTION_LABEL_MAX_LEN} fit" in problems


def test_the_number_of_options_is_bounded(data: dict[str, Any]) -> None:
    q = first_with_options(data)
    q.pop("suggest_levels", None)  # they name the options replaced below
    q["kind"] = "choice"
    q["options"] = [
        {"value": f"o{i}", "label": {"vi": f"Lựa chọn {i}"}, "score": 0.5} for i in range(150)
    ]
    assert any(f"150 entries, at most {MAX_OPTIONS} fit" in p for p in problems_of(data))
    assert parse_framework(data, limits=False).question(q["key"]).options[149].value == "o149"


def test_deep_nesting_is_refused_not_a_crash() -> None:
    for text in (
        "[" * 50_000 + "]" * 50_000,
        "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 3000)),
    ):
        problems = problems_of(text)
        assert any(f"nested deeper than {MAX_DEPTH} levels" in p for p in problems), problems


def test_problems_are_short_whatever_the_input(data: dict[str, Any]) -> None:
    data["code"] = "X" * 5000
    data["title"] = {"vi": "T" * 5000}
    data["groups"][0]["key"] = "K" * 5000
    data["groups"][1]["criteria"][0]["kind"] = "Z" * 5000
    problems = problems_of(data)
    assert len(problems) >= 3 and all(len(p) <= PROBLEM_MAX_LEN for p in problems)
    assert "X" * 100 not in "\n".join(problems)
