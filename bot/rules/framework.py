"""The criteria framework: groups → criteria → questions, loaded from a data file.

A framework file (YAML, see ``bot/frameworks/four_good.yaml``) holds everything
a province may want to change without touching code: the four criteria
groups and their weights, each criterion's points, the member questionnaire
with its answer options and their scores, the classification bands and the
year-end rule.  This module parses and validates such a file; it does not
score anything (that is ``bot.rules.scoring``).

Validation runs in two passes: pydantic checks the shape of the data (types,
required and unknown fields, ranges), then :func:`_check_rules` checks the
rules that span several fields (points add up, keys are unique, a question
kind has the options it needs, …).  Every problem found is reported with its
location, e.g. ``groups[1].criteria[0].questions[2].kind``, in one
:class:`FrameworkError`, so whoever edits a province file can fix them all at
once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import PydanticCustomError

DEFAULT_LOCALE = "vi"
TOTAL_POINTS = 100.0
KEY_MAX_LEN = 24
OPTION_VALUE_MAX_LEN = 12  # option values travel in Telegram callback data (≤ 64 bytes)
_KEY_RE = re.compile(r"[a-z0-9_]+")
_CODE_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_EPSILON = 1e-6  # points may be fractional (e.g. 2.5); compare sums with a tolerance

# What the chat channels can show (Telegram: 4,096 characters a message, buttons of about
# a phone's width). A question is one message: header, text, help and the current answer;
# its options are one button each.
QUESTION_TEXT_MAX_LEN = 1000
HELP_MAX_LEN = 1000
TITLE_MAX_LEN = 200
OPTION_LABEL_MAX_LEN = 60
MAX_OPTIONS = 12
MAX_GROUPS = 12
MAX_CRITERIA = 40  # per group
MAX_QUESTIONS = 20  # per criterion
MAX_MEMBER_QUESTIONS = 100
MAX_BANDS = 12
MAX_DEPTH = 24  # nesting of the YAML file; a valid framework needs about 10
PROBLEM_MAX_LEN = 300  # one reported problem, so that ten of them fit one message


class QuestionKind(StrEnum):
    """How a question is answered."""

    YES_NO = "yes_no"  # two options
    LEVEL = "level"  # an ordered scale of options
    SCORE = "score"  # an integer from 0 to ``max``
    CHOICE = "choice"  # options without an order
    TEXT = "text"  # free text, never scored

    @property
    def has_options(self) -> bool:
        return self in (QuestionKind.YES_NO, QuestionKind.LEVEL, QuestionKind.CHOICE)

    @property
    def is_scored(self) -> bool:
        return self is not QuestionKind.TEXT


class CriterionSource(StrEnum):
    """Where a criterion's score comes from."""

    MEMBER = "member"  # members' self-assessment answers
    CELL = "cell"  # a cell-level fact the secretary confirms, or a metric from data


class CellMetric(StrEnum):
    """Cell-level figures the bot can compute from its own records."""

    COMPLETION_RATE = "completion_rate"  # share of members who submitted the self-assessment
    ATTENDANCE_RATE = "attendance_rate"  # share of members present at the monthly meeting
    UNEXCUSED_ABSENCES = "unexcused_absences"  # count of absences without reason
    UNREACHABLE_MEMBERS = "unreachable_members"  # count of members the bot cannot reach
    DOCUMENTS_LEAD_HOURS = "documents_lead_hours"  # hours from the first document to the meeting
    CONSULTATION_ANSWER_RATE = "consultation_answer_rate"  # share of the roll who gave opinions
    TASKS_ON_TIME = "tasks_on_time"  # share of last month's resolution's tasks done on time
    RESOLUTION_TASKS = "resolution_tasks"  # 1 when the month's resolution has tasks, else 0


SHARE_METRICS = frozenset({CellMetric.TASKS_ON_TIME, CellMetric.CONSULTATION_ANSWER_RATE})
"""Shares (0–1) that earn full points from a criterion's ``full_at``, proportionally below."""


class Suggestion(StrEnum):
    """What chibo's own records can suggest as a member's answer (still the member's choice)."""

    DOCUMENTS_READ = "documents_read"  # the member pressed "Read" on the month's documents
    TASKS_DONE = "tasks_done"  # the member's tasks of last month's resolution, done on time


# --- field types ------------------------------------------------------------


def _as_localized(value: Any) -> Any:
    # A bare string is accepted as Vietnamese-only text: handy in hand-written files.
    return {DEFAULT_LOCALE: value} if isinstance(value, str) else value


def _check_localized(value: dict[str, str]) -> dict[str, str]:
    if DEFAULT_LOCALE not in value:
        raise PydanticCustomError(
            "missing_vi", "missing the Vietnamese text (a 'vi:' entry is required)"
        )
    for locale, text in value.items():
        if not locale.strip():
            raise PydanticCustomError("empty_locale", "empty locale name")
        if not text.strip():
            raise PydanticCustomError(
                "empty_text", "empty text for locale '{locale}'", {"locale": locale}
            )
    return value


LocalizedText = Annotated[
    dict[str, str], BeforeValidator(_as_localized), AfterValidator(_check_localized)
]
"""Text in several languages: ``{"vi": ..., "en": ..., "de": ...}``; ``vi`` is required."""


def localized(text: Mapping[str, str] | None, locale: str | None = None) -> str:
    """The text in ``locale`` ("en", "en-US", "de_DE" …), else its base language, else vi."""
    if not text:
        return ""
    if locale:
        if locale in text:
            return text[locale]
        base = re.split(r"[-_]", locale, maxsplit=1)[0].lower()
        if base in text:
            return text[base]
    return text.get(DEFAULT_LOCALE) or next(iter(text.values()))


def _key_checker(max_len: int, what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not _KEY_RE.fullmatch(value) or len(value) > max_len:
            raise PydanticCustomError(
                "bad_key",
                "invalid {what} '{value}': use lowercase a-z, digits and _ only,"
                " at most {max_len} characters",
                {"what": what, "value": _shorten(value, 40), "max_len": max_len},
            )
        return value

    return AfterValidator(check)


def _code_check(value: str) -> str:
    if not _CODE_RE.fullmatch(value):
        raise PydanticCustomError(
            "bad_code",
            "invalid framework code '{value}': use lowercase a-z, digits, '-', '_' or '.',"
            " at most 64 characters",
            {"value": _shorten(value, 40)},
        )
    return value


def _enum_checker(enum: type[StrEnum], what: str) -> BeforeValidator:
    """Reject an unknown enum value with a message that lists the accepted ones."""

    def check(value: Any) -> Any:
        if value is None or (isinstance(value, str) and value in {m.value for m in enum}):
            return value
        raise PydanticCustomError(
            "unknown_value",
            "unknown {what} '{value}' (expected one of {expected})",
            {"what": what, "value": str(value), "expected": ", ".join(m.value for m in enum)},
        )

    return BeforeValidator(check)


Key = Annotated[str, _key_checker(KEY_MAX_LEN, "key")]
OptionValue = Annotated[str, _key_checker(OPTION_VALUE_MAX_LEN, "option value")]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
"""A share in [0, 1]."""


class _Spec(BaseModel):
    # Unknown fields are an error: a misspelt "optinal:" must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the specification --------------------------------------------------------


class OptionSpec(_Spec):
    """One answer option; ``score`` is the share of the criterion's points it earns."""

    value: OptionValue
    label: LocalizedText
    score: Unit


class SuggestLevelSpec(_Spec):
    """For ``suggest: tasks_done``: at least this share of tasks done on time → this option."""

    min: Unit
    value: OptionValue


class QuestionSpec(_Spec):
    key: Key
    kind: Annotated[QuestionKind, _enum_checker(QuestionKind, "question type")]
    text: LocalizedText
    help: LocalizedText | None = None
    optional: bool = False
    options: list[OptionSpec] = Field(default_factory=list)
    comment_below: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    """Ask the member why when the answer's score (0–1) is below this (`scoring.is_low`)."""
    max: int | None = None
    """For ``score`` questions: the highest number a member may give (the lowest is 0)."""
    suggest: Annotated[Suggestion, _enum_checker(Suggestion, "suggestion")] | None = None
    """Suggest the best option when chibo's records show it (e.g. ``documents_read``)."""
    suggest_levels: list[SuggestLevelSpec] | None = None
    """For ``tasks_done``: the option suggested for a share of the member's tasks done on
    time, highest ``min`` first, the last at 0 (default: the highest-scoring option at 1.0,
    the lowest below)."""

    def option(self, value: str) -> OptionSpec | None:
        return next((o for o in self.options if o.value == value), None)


class CriterionSpec(_Spec):
    key: Key
    title: LocalizedText
    points: Annotated[float, Field(gt=0.0)]
    source: Annotated[CriterionSource, _enum_checker(CriterionSource, "criterion source")]
    metric: Annotated[CellMetric, _enum_checker(CellMetric, "metric")] | None = None
    """For ``cell`` criteria filled from data; ``None`` means the secretary confirms it.
    With a question too, the secretary's answer counts in a month without the data."""
    min_hours: Annotated[float, Field(ge=0.0, le=24 * 31)] | None = None
    """For ``documents_lead_hours``: hours before the meeting the first document must go out
    (default ``scoring.DOCUMENTS_MIN_HOURS``, 24)."""
    full_at: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    """For the share metrics (``tasks_on_time``, ``consultation_answer_rate``): the share that
    earns full points; below it the points are proportional (defaults:
    ``scoring.FULL_AT_DEFAULTS``)."""
    help: LocalizedText | None = None
    questions: list[QuestionSpec] = Field(default_factory=list)


class GroupSpec(_Spec):
    key: Key
    weight: Annotated[float, Field(gt=0.0)]
    title: LocalizedText
    criteria: list[CriterionSpec]


class BandSpec(_Spec):
    """A classification level reached at ``min`` points or more (out of 100)."""

    level: Key
    min: Annotated[float, Field(ge=0.0, le=TOTAL_POINTS)]
    label: LocalizedText


class YearEndSpec(_Spec):
    """Year-end recognition: enough "4-good" months and no month at ``forbid_level``."""

    four_good_months_min: Annotated[int, Field(ge=0)]
    months: Annotated[int, Field(gt=0)] = 12
    forbid_level: Key | None = None


class ScoringSpec(_Spec):
    group_meets_at: Annotated[float, Field(gt=0.0, le=1.0)] = 0.70
    """A group "meets" when it earns at least this share of its weight."""
    bands: list[BandSpec]
    """Descending by ``min``; the last one starts at 0."""
    year_end: YearEndSpec

    def band_for(self, points: float) -> BandSpec:
        """The highest band whose minimum ``points`` reaches."""
        for band in self.bands:
            if points >= band.min - _EPSILON:
                return band
        return self.bands[-1]


class FrameworkSpec(_Spec):
    code: Annotated[str, AfterValidator(_code_check)]
    version: Annotated[int, Field(ge=1)]
    title: LocalizedText
    scoring: ScoringSpec
    groups: list[GroupSpec]

    def member_questions(self) -> list[tuple[GroupSpec, CriterionSpec, QuestionSpec]]:
        """The member questionnaire, in the order it is asked."""
        return [
            (group, criterion, question)
            for group in self.groups
            for criterion in group.criteria
            if criterion.source is CriterionSource.MEMBER
            for question in criterion.questions
        ]

    def cell_criteria(self) -> list[tuple[GroupSpec, CriterionSpec]]:
        """Cell-level criteria (secretary-confirmed or from data), in file order."""
        return [
            (group, criterion)
            for group in self.groups
            for criterion in group.criteria
            if criterion.source is CriterionSource.CELL
        ]

    def question(self, key: str) -> QuestionSpec:
        """The question with this key (member or secretary); KeyError if there is none."""
        for group in self.groups:
            for criterion in group.criteria:
                for question in criterion.questions:
                    if question.key == key:
                        return question
        raise KeyError(key)

    def locales(self) -> list[str]:
        """Locales every text of the framework is written in, ``vi`` first."""
        common: set[str] | None = None
        for text in _texts(self):
            common = set(text) if common is None else common & set(text)
        found = common or {DEFAULT_LOCALE}
        return sorted(found, key=lambda loc: (loc != DEFAULT_LOCALE, loc))


def _texts(spec: FrameworkSpec) -> list[dict[str, str]]:
    texts: list[dict[str, str]] = [spec.title]
    texts += [band.label for band in spec.scoring.bands]
    for group in spec.groups:
        texts.append(group.title)
        for criterion in group.criteria:
            texts.append(criterion.title)
            texts += [criterion.help] if criterion.help else []
            for question in criterion.questions:
                texts.append(question.text)
                texts += [question.help] if question.help else []
                texts += [option.label for option in question.options]
    return texts


# --- errors and loading ---------------------------------------------------------


class FrameworkError(ValueError):
    """A framework file that cannot be used; ``problems`` lists each one with its location."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = [_shorten(p, PROBLEM_MAX_LEN) for p in problems]
        self.source = source
        where = f" {source}" if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid criteria framework{where}:\n{lines}")


def default_framework_path() -> Path:
    """The shipped default framework (the "4-good cell", Quảng Ninh style)."""
    resource = resources.files("bot.frameworks").joinpath("four_good.yaml")
    if isinstance(resource, Path):
        return resource
    return Path(__file__).parents[1] / "frameworks" / "four_good.yaml"


@cache
def shipped_framework() -> FrameworkSpec:
    """The framework shipped with this version of chibo; its code is reserved for it."""
    return load_framework()


def load_framework(path: str | Path | None = None) -> FrameworkSpec:
    """Read and validate a framework file (the shipped default when ``path`` is None)."""
    path = Path(path) if path is not None else default_framework_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError([f"cannot read the file: {exc}"], source=str(path)) from exc
    try:
        return parse_framework(text)
    except FrameworkError as exc:
        raise FrameworkError(exc.problems, source=str(path)) from None


def parse_framework(data: dict[str, Any] | str, *, limits: bool = True) -> FrameworkSpec:
    """Validate a framework given as YAML text or as already-parsed data.

    ``limits=False`` skips what the channels can show (:func:`_check_limits`): for a
    version already stored, which must load whatever later versions of chibo allow.
    """
    if isinstance(data, str):
        data = _load_yaml(data)
    if data is None:
        raise FrameworkError(["the file is empty"])
    if not isinstance(data, dict):
        raise FrameworkError(
            [f"the file must be a mapping (key: value) at top level, not {_type_name(data)}"]
        )
    try:
        spec = FrameworkSpec.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError([_describe(err) for err in exc.errors()]) from None
    problems = _check_rules(spec) + (_check_limits(spec) if limits else [])
    if problems:
        raise FrameworkError(problems)
    return spec


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (YAML keeps the last)
    and nesting deeper than a framework needs (deep nesting exhausts Python's stack)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key '{_shorten(str(key), 40)}' appears twice in this mapping",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: safe
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        context = f" ({exc.context})" if exc.context else ""
        raise FrameworkError([f"YAML syntax: {where}{exc.problem}{context}"]) from None
    except yaml.YAMLError as exc:
        raise FrameworkError([f"YAML syntax: {exc}"]) from None


# --- problem descriptions -------------------------------------------------------------


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a yes/no value ({value})"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, str):
        return repr(_shorten(value, 40))
    return type(value).__name__


def _describe(err: Any) -> str:
    """One pydantic error as ``location: problem`` in words a file editor understands."""
    where = _path(tuple(err["loc"]))
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return f"{where}: required field is missing"
    if kind == "extra_forbidden":
        return f"{where}: unknown field (check the spelling)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where}: should be a mapping (key: value), got {_type_name(value)}"
    if kind == "list_type":
        return f"{where}: should be a list (lines starting with '-'), got {_type_name(value)}"
    if kind == "string_type" and isinstance(value, bool):
        # YAML 1.1 reads unquoted yes/no/on/off as booleans.
        word = "yes" if value else "no"
        return f'{where}: should be text, got a yes/no value; put it in quotes ("{word}")'
    message = err["msg"]
    if message.startswith("Input should"):
        message = "should" + message[len("Input should") :] + f", got {_type_name(value)}"
    return f"{where}: {message}"


def _check_rules(spec: FrameworkSpec) -> list[str]:
    """Rules that pydantic's per-field checks cannot see; every problem, in file order."""
    problems: list[str] = []
    problems += _check_scoring(spec.scoring)

    seen_keys: dict[str, str] = {}

    def claim(key: str, where: str) -> None:
        if key in seen_keys:
            problems.append(f"{where}: duplicate key '{key}' (already used at {seen_keys[key]})")
        else:
            seen_keys[key] = where

    if not spec.groups:
        problems.append("groups: the framework needs at least one group")
    weights = sum(g.weight for g in spec.groups)
    if spec.groups and not math.isclose(weights, TOTAL_POINTS, abs_tol=_EPSILON):
        problems.append(
            f"groups: group weights add up to {_num(weights)}, expected {_num(TOTAL_POINTS)}"
        )

    for gi, group in enumerate(spec.groups):
        gloc = f"groups[{gi}]"
        claim(group.key, f"{gloc}.key")
        if not group.criteria:
            problems.append(f"{gloc}.criteria: a group needs at least one criterion")
            continue
        points = sum(c.points for c in group.criteria)
        if not math.isclose(points, group.weight, abs_tol=_EPSILON):
            problems.append(
                f"{gloc}.criteria: criteria points add up to {_num(points)},"
                f" expected the group weight {_num(group.weight)}"
            )
        for ci, criterion in enumerate(group.criteria):
            cloc = f"{gloc}.criteria[{ci}]"
            claim(criterion.key, f"{cloc}.key")
            problems += _check_criterion(criterion, cloc)
            for qi, question in enumerate(criterion.questions):
                qloc = f"{cloc}.questions[{qi}]"
                claim(question.key, f"{qloc}.key")
                problems += _check_question(question, qloc)

    if not spec.member_questions():
        problems.append(
            "groups: no member questions; at least one criterion with source 'member'"
            " needs questions"
        )
    return problems


def _check_limits(spec: FrameworkSpec) -> list[str]:
    """What the chat channels can show: every text fits its message or button, every
    list its keyboard or screen."""
    problems: list[str] = []

    def fits(text: Mapping[str, str] | None, max_len: int, where: str) -> None:
        for locale, value in (text or {}).items():
            if len(value) > max_len:
                problems.append(
                    f"{where}: the '{locale}' text has {len(value)} characters,"
                    f" at most {max_len} fit"
                )

    def few(items: list[Any], max_count: int, where: str) -> None:
        if len(items) > max_count:
            problems.append(f"{where}: {len(items)} entries, at most {max_count} fit")

    fits(spec.title, TITLE_MAX_LEN, "title")
    few(spec.scoring.bands, MAX_BANDS, "scoring.bands")
    for bi, band in enumerate(spec.scoring.bands):
        fits(band.label, TITLE_MAX_LEN, f"scoring.bands[{bi}].label")
    few(spec.groups, MAX_GROUPS, "groups")
    for gi, group in enumerate(spec.groups):
        fits(group.title, TITLE_MAX_LEN, f"groups[{gi}].title")
        few(group.criteria, MAX_CRITERIA, f"groups[{gi}].criteria")
        for ci, criterion in enumerate(group.criteria):
            cloc = f"groups[{gi}].criteria[{ci}]"
            fits(criterion.title, TITLE_MAX_LEN, f"{cloc}.title")
            fits(criterion.help, HELP_MAX_LEN, f"{cloc}.help")
            few(criterion.questions, MAX_QUESTIONS, f"{cloc}.questions")
            for qi, question in enumerate(criterion.questions):
                qloc = f"{cloc}.questions[{qi}]"
                fits(question.text, QUESTION_TEXT_MAX_LEN, f"{qloc}.text")
                fits(question.help, HELP_MAX_LEN, f"{qloc}.help")
                few(question.options, MAX_OPTIONS, f"{qloc}.options")
                for oi, option in enumerate(question.options):
                    fits(option.label, OPTION_LABEL_MAX_LEN, f"{qloc}.options[{oi}].label")
    few(spec.member_questions(), MAX_MEMBER_QUESTIONS, "groups (member questions)")
    return problems


def _check_scoring(scoring: ScoringSpec) -> list[str]:
    problems: list[str] = []
    bands = scoring.bands
    if not bands:
        problems.append("scoring.bands: at least one band is needed")
    for i in range(1, len(bands)):
        if bands[i].min >= bands[i - 1].min:
            problems.append(
                f"scoring.bands[{i}].min: bands must be in descending order of min,"
                f" but {_num(bands[i].min)} is not below {_num(bands[i - 1].min)}"
            )
    if bands and bands[-1].min != 0:
        problems.append(
            f"scoring.bands[{len(bands) - 1}].min: the last band must start at 0,"
            f" not {_num(bands[-1].min)}"
        )
    levels: dict[str, int] = {}
    for i, band in enumerate(bands):
        if band.level in levels:
            problems.append(
                f"scoring.bands[{i}].level: duplicate level '{band.level}'"
                f" (already used at scoring.bands[{levels[band.level]}])"
            )
        levels.setdefault(band.level, i)
    year_end = scoring.year_end
    if year_end.four_good_months_min > year_end.months:
        problems.append(
            f"scoring.year_end.four_good_months_min: {year_end.four_good_months_min}"
            f" is more than the {year_end.months} months counted"
        )
    if year_end.forbid_level is not None and year_end.forbid_level not in levels:
        problems.append(
            f"scoring.year_end.forbid_level: unknown level '{year_end.forbid_level}'"
            f" (expected one of {', '.join(levels)})"
        )
    return problems


def _check_criterion(criterion: CriterionSpec, loc: str) -> list[str]:
    problems: list[str] = []
    if criterion.min_hours is not None and criterion.metric is not CellMetric.DOCUMENTS_LEAD_HOURS:
        problems.append(
            f"{loc}.min_hours: only a criterion with metric"
            f" '{CellMetric.DOCUMENTS_LEAD_HOURS}' has a threshold in hours"
        )
    if criterion.full_at is not None and criterion.metric not in SHARE_METRICS:
        names = ", ".join(f"'{m}'" for m in SHARE_METRICS)
        problems.append(
            f"{loc}.full_at: only a criterion with a share metric ({names}) has a share"
            " for full points"
        )
    for number, question in enumerate(criterion.questions):
        problems += _check_suggest_levels(question, f"{loc}.questions[{number}]")
        if question.suggest is not None and (
            criterion.source is not CriterionSource.MEMBER or not question.kind.has_options
        ):
            problems.append(
                f"{loc}.questions[{number}].suggest: only a member question with options"
                " can have a suggested answer"
            )
    if criterion.source is CriterionSource.MEMBER:
        if criterion.metric is not None:
            problems.append(
                f"{loc}.metric: only a criterion with source 'cell' can be filled from data"
            )
        if not any(q.kind.is_scored for q in criterion.questions):
            problems.append(
                f"{loc}.questions: a member criterion needs at least one scored question"
                " (yes_no, level, score or choice)"
            )
    elif len(criterion.questions) > 1:
        problems.append(
            f"{loc}.questions: a cell criterion has at most one question (for the secretary),"
            f" found {len(criterion.questions)}"
        )
    elif criterion.questions and not criterion.questions[0].kind.is_scored:
        problems.append(f"{loc}.questions[0].kind: the secretary's question must be scored")
    return problems


def _check_suggest_levels(question: QuestionSpec, loc: str) -> list[str]:
    levels = question.suggest_levels
    if levels is None:
        return []
    if question.suggest is not Suggestion.TASKS_DONE:
        return [f"{loc}.suggest_levels: only a question with suggest '{Suggestion.TASKS_DONE}'"]
    problems: list[str] = []
    mins = [level.min for level in levels]
    if not levels or mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        problems.append(f"{loc}.suggest_levels: give shares from the highest down, each once")
    elif mins[-1] != 0:
        problems.append(f"{loc}.suggest_levels: the last level needs min 0 (every share)")
    for number, level in enumerate(levels):
        if question.option(level.value) is None:
            problems.append(
                f"{loc}.suggest_levels[{number}].value: '{level.value}' is not an option"
                " of the question"
            )
    return problems


def _check_question(question: QuestionSpec, loc: str) -> list[str]:
    problems: list[str] = []
    kind = question.kind
    if kind.has_options:
        if kind is QuestionKind.YES_NO and len(question.options) != 2:
            problems.append(
                f"{loc}.options: a 'yes_no' question needs exactly 2 options,"
                f" found {len(question.options)}"
            )
        elif len(question.options) < 2:
            problems.append(
                f"{loc}.options: a '{kind}' question needs at least 2 options,"
                f" found {len(question.options)}"
            )
    elif question.options:
        problems.append(f"{loc}.options: a '{kind}' question takes no options")
    if kind is QuestionKind.SCORE:
        if question.max is None or question.max <= 0:
            problems.append(f"{loc}.max: a 'score' question needs a maximum above 0")
    elif question.max is not None:
        problems.append(f"{loc}.max: only a 'score' question has a maximum")
    if kind is QuestionKind.TEXT and question.comment_below is not None:
        problems.append(f"{loc}.comment_below: a 'text' question has no score to compare")
    first_at: dict[str, int] = {}
    for oi, option in enumerate(question.options):
        if option.value in first_at:
            problems.append(
                f"{loc}.options[{oi}].value: duplicate option value '{option.value}'"
                f" in this question (already used at options[{first_at[option.value]}])"
            )
        first_at.setdefault(option.value, oi)
    return problems


def _num(value: float) -> str:
    return f"{value:g}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "BandSpec",
    "CellMetric",
    "CriterionSource",
    "CriterionSpec",
    "FrameworkError",
    "FrameworkSpec",
    "GroupSpec",
    "LocalizedText",
    "OptionSpec",
    "QuestionKind",
    "QuestionSpec",
    "ScoringSpec",
    "SuggestLevelSpec",
    "Suggestion",
    "YearEndSpec",
    "default_framework_path",
    "load_framework",
    "localized",
    "parse_framework",
    "shipped_framework",
]
