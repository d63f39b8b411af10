"""The assessment state machine, without storage or chat.

A member's position is derived from their stored answers: the first question
without an answer is asked next; a "why?" comment is asked right after a low
answer; when everything is answered the review screen follows. Any process can
therefore continue any member's conversation after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.core.numbers import is_digits, whole_number
from bot.rules.scoring import is_low

SCORED_KINDS = frozenset({"yes_no", "level", "choice", "score"})
OPTION_KINDS = frozenset({"yes_no", "level", "choice"})


@dataclass(frozen=True)
class OptionView:
    value: str
    label: Mapping[str, str]
    score: float


@dataclass(frozen=True)
class QuestionView:
    id: int
    key: str
    kind: str
    text: Mapping[str, str]
    help: Mapping[str, str] | None
    optional: bool
    comment_below: float | None
    max_value: int | None
    options: tuple[OptionView, ...]
    group_number: int
    group_title: Mapping[str, str]
    suggest: str | None = None  # a `Suggestion` of the framework: chibo may suggest an answer

    def option(self, value: str) -> OptionView | None:
        return next((o for o in self.options if o.value == value), None)

    def score(self, value: str | None) -> float | None:
        """The answer's score (0–1), as `bot.rules.scoring.answer_score`; None if not scored."""
        if value is None or self.kind not in SCORED_KINDS:
            return None
        if self.kind == "score":
            return float(value) / self.max_value if self.max_value else None
        option = self.option(value)
        return option.score if option is not None else None

    def best_option(self) -> OptionView | None:
        """The option a suggestion points to: the highest score (e.g. "Có")."""
        return max(self.options, key=lambda o: o.score, default=None)

    def asks_why(self, value: str | None) -> bool:
        """A low answer (`bot.rules.scoring.is_low`) asks for a short comment."""
        return is_low(self.score(value), self.comment_below)


@dataclass(frozen=True)
class Questionnaire:
    """The member questions of one framework version, in the order they are asked."""

    framework_id: int
    questions: tuple[QuestionView, ...]

    def get(self, question_id: int) -> QuestionView | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def number(self, question: QuestionView) -> int:
        return self.questions.index(question) + 1

    def before(self, question: QuestionView) -> QuestionView | None:
        position = self.questions.index(question)
        return self.questions[position - 1] if position > 0 else None


@dataclass(frozen=True)
class StoredAnswer:
    question_id: int
    value: str | None
    skipped: bool = False
    comment: str | None = None


@dataclass(frozen=True)
class Ask:
    question: QuestionView


@dataclass(frozen=True)
class AskComment:
    question: QuestionView


@dataclass(frozen=True)
class Review:
    missing: tuple[QuestionView, ...] = ()


Step = Ask | AskComment | Review


def next_step(
    questionnaire: Questionnaire,
    answers: Mapping[int, StoredAnswer],
    comment_for: int | None = None,
) -> Step:
    """What to show next: a pending comment, the first unanswered question, or the review."""
    if comment_for is not None:
        question = questionnaire.get(comment_for)
        if question is not None:
            return AskComment(question)
    for question in questionnaire.questions:
        if question.id not in answers:
            return Ask(question)
    return Review(missing_required(questionnaire, answers))


def missing_required(
    questionnaire: Questionnaire, answers: Mapping[int, StoredAnswer]
) -> tuple[QuestionView, ...]:
    return tuple(
        q
        for q in questionnaire.questions
        if not q.optional and (q.id not in answers or answers[q.id].skipped)
    )


class Problem(StrEnum):
    NOT_AN_OPTION = "not_an_option"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    BUTTONS_ONLY = "buttons_only"
    NOT_OPTIONAL = "not_optional"


class InvalidAnswer(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def parse_answer(question: QuestionView, raw: str, *, typed: bool, max_length: int) -> str:
    """The value to store for a button press (`typed=False`) or a typed reply."""
    if question.kind in OPTION_KINDS:
        if typed:
            raise InvalidAnswer(Problem.BUTTONS_ONLY)
        if question.option(raw) is None:
            raise InvalidAnswer(Problem.NOT_AN_OPTION)
        return raw
    text = raw.strip()
    if question.kind == "score":
        if not is_digits(text):
            raise InvalidAnswer(Problem.NOT_A_NUMBER)
        number = whole_number(text, 0, question.max_value or 0)
        if question.max_value is None or number is None:
            raise InvalidAnswer(Problem.OUT_OF_RANGE)
        return str(number)
    if not typed:
        raise InvalidAnswer(Problem.NOT_AN_OPTION)
    if not text:
        raise InvalidAnswer(Problem.EMPTY)
    if len(text) > max_length:
        raise InvalidAnswer(Problem.TOO_LONG)
    return text


def can_skip(question: QuestionView) -> bool:
    return question.optional
