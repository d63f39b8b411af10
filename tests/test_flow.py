"""The assessment state machine alone: no database, no chat."""

from __future__ import annotations

import pytest

from bot.rules.flow import (
    Ask,
    AskComment,
    InvalidAnswer,
    OptionView,
    Problem,
    Questionnaire,
    QuestionView,
    Review,
    StoredAnswer,
    next_step,
    parse_answer,
)

YES_NO = (OptionView("yes", {"vi": "Có"}, 1.0), OptionView("no", {"vi": "Không"}, 0.0))


def question(qid: int, kind: str = "yes_no", **kw: object) -> QuestionView:
    fields: dict[str, object] = {
        "id": qid,
        "key": f"q{qid}",
        "kind": kind,
        "text": {"vi": f"Câu {qid}"},
        "help": None,
        "optional": False,
        "comment_below": 0.5 if kind != "text" else None,
        "max_value": None,
        "options": YES_NO if kind in {"yes_no", "level", "choice"} else (),
        "group_number": 1,
        "group_title": {"vi": "Nhóm 1"},
    }
    fields.update(kw)
    return QuestionView(**fields)  # type: ignore[arg-type]


FORM = Questionnaire(
    1,
    (
        question(1),
        question(2, "score", max_value=10, comment_below=0.5),
        question(3, "text", optional=True),
        question(4),
    ),
)


def answered(*pairs: tuple[int, str | None]) -> dict[int, StoredAnswer]:
    return {qid: StoredAnswer(qid, value, skipped=value is None) for qid, value in pairs}


def test_starts_at_the_first_question() -> None:
    assert next_step(FORM, {}) == Ask(FORM.questions[0])


def test_resumes_at_the_first_unanswered_question_in_order() -> None:
    step = next_step(FORM, answered((1, "yes"), (2, "7"), (4, "no")))
    assert step == Ask(FORM.questions[2])


def test_a_pending_comment_comes_before_the_next_question() -> None:
    step = next_step(FORM, answered((1, "no")), comment_for=1)
    assert step == AskComment(FORM.questions[0])


def test_review_when_all_answered_and_lists_missing_required() -> None:
    assert next_step(FORM, answered((1, "yes"), (2, "3"), (3, None), (4, "yes"))) == Review()
    with_skipped_required = answered((1, None), (2, "3"), (3, None), (4, "yes"))
    assert next_step(FORM, with_skipped_required) == Review((FORM.questions[0],))


def test_low_answers_ask_why() -> None:
    yes_no, score = FORM.questions[0], FORM.questions[1]
    assert yes_no.asks_why("no") and not yes_no.asks_why("yes")
    assert score.asks_why("4") and not score.asks_why("5")
    assert not FORM.questions[2].asks_why("anything")


@pytest.mark.parametrize(
    ("qid", "raw", "typed", "problem"),
    [
        (1, "maybe", False, Problem.NOT_AN_OPTION),
        (1, "yes", True, Problem.BUTTONS_ONLY),
        (2, "ten", True, Problem.NOT_A_NUMBER),
        (2, "11", True, Problem.OUT_OF_RANGE),
        (2, "-1", True, Problem.NOT_A_NUMBER),
        (3, "   ", True, Problem.EMPTY),
        (3, "x" * 21, True, Problem.TOO_LONG),
        (3, "text", False, Problem.NOT_AN_OPTION),
    ],
)
def test_invalid_answers_are_refused(qid: int, raw: str, typed: bool, problem: Problem) -> None:
    target = FORM.get(qid)
    assert target is not None
    with pytest.raises(InvalidAnswer) as caught:
        parse_answer(target, raw, typed=typed, max_length=20)
    assert caught.value.problem is problem


def test_valid_answers_are_normalised_but_text_kept_exactly() -> None:
    assert parse_answer(FORM.questions[0], "no", typed=False, max_length=20) == "no"
    assert parse_answer(FORM.questions[1], " 07 ", typed=True, max_length=20) == "7"
    text = "Ổn định 👍🏽 — e\u0301"  # emoji with skin tone, combining acute accent
    assert parse_answer(FORM.questions[2], f"  {text}\n", typed=True, max_length=20) == text


def test_navigation_helpers() -> None:
    assert FORM.before(FORM.questions[0]) is None
    assert FORM.before(FORM.questions[2]) == FORM.questions[1]
    assert FORM.number(FORM.questions[3]) == 4
    assert FORM.get(99) is None


def test_button_data_over_telegrams_limit_is_refused() -> None:
    from bot.core.chat import Button

    longest = "as:nocomment:2147483647:2147483647"  # the longest data the flow builds
    assert len(Button("x", longest).data.encode()) <= 64
    with pytest.raises(ValueError, match="64 bytes"):
        Button("x", "as:ans:" + "9" * 58)
