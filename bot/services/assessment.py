"""The member's monthly self-assessment: storage plus the flow state machine.

Each call loads what it needs, checks that the member may act (own assessment,
period still open, draft, question of the pinned framework, allowed value),
writes, and returns the screen to show. The caller's transaction commits
before the reply is sent, so an acknowledged answer is durable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.flow import (
    Ask,
    InvalidAnswer,
    OptionView,
    Questionnaire,
    QuestionView,
    Review,
    Step,
    StoredAnswer,
    missing_required,
    next_step,
    parse_answer,
)
from bot.rules.framework import Suggestion
from bot.services import documents
from bot.services import tasks as task_service
from storage import assessments as store
from storage.frameworks import load_spec
from storage.models import Assessment, AssessmentState, Member, MemberStatus, Period

_questionnaires: dict[int, Questionnaire] = {}


async def questionnaire(session: AsyncSession, framework_id: int) -> Questionnaire:
    """The member questions of a framework version (versions never change: cached)."""
    cached = _questionnaires.get(framework_id)
    if cached is not None:
        return cached
    rows = await store.member_questions(session, framework_id)
    built = Questionnaire(
        framework_id,
        tuple(
            QuestionView(
                id=q.id,
                key=q.key,
                kind=q.kind,
                text=q.text,
                help=q.help,
                optional=q.optional,
                comment_below=q.comment_below,
                max_value=q.max_value,
                options=tuple(OptionView(o.value, o.label, o.score) for o in q.options),
                group_number=g.position + 1,
                group_title=g.title,
                suggest=q.suggest,
            )
            for q, g in rows
        ),
    )
    _questionnaires[framework_id] = built
    return built


class Refusal(StrEnum):
    NO_PERIOD = "no_period"
    EXEMPT = "exempt"
    CLOSED = "closed"  # the deadline has passed: read-only
    SUBMITTED = "submitted"  # an old button of a submitted assessment
    STALE = "stale"  # not this member's, or not a question of this assessment
    INCOMPLETE = "incomplete"


@dataclass
class Screen:
    """Everything a channel needs to render the member's assessment."""

    period: Period
    assessment: Assessment
    questionnaire: Questionnaire
    answers: dict[int, StoredAnswer]
    step: Step
    help_shown: bool = False
    read_only: bool = False  # past the deadline, or the month is confirmed
    read_hint: documents.ReadHint | None = None
    """On a question with `suggest: documents_read`: the member pressed "Read" (a hint)."""
    tasks_hint: task_service.TasksHint | None = None
    """On a question with `suggest: tasks_done`: the member's tasks of last month's resolution."""

    @property
    def submitted(self) -> bool:
        return self.assessment.state == AssessmentState.SUBMITTED


@dataclass
class Denied:
    reason: Refusal
    period: Period | None = None
    problem: InvalidAnswer | None = None
    screen: Screen | None = None  # still worth showing, e.g. the question again


Result = Screen | Denied


def is_open(period: Period, now: datetime) -> bool:
    return period.opens_at <= now < period.deadline_at


def accepts_answers(period: Period, confirmed: bool, now: datetime) -> bool:
    """Open, and not yet confirmed by the secretary (a confirmed month is frozen)."""
    return is_open(period, now) and not confirmed


async def start(session: AsyncSession, member: Member, now: datetime) -> Result:
    """/assess: start or resume at the first unanswered question (or the review)."""
    current = await store.current_with_assessment(session, member.org_id, member.id, now)
    if current is None:
        return Denied(Refusal.NO_PERIOD)
    period, confirmed, existing = current
    if member.status == MemberStatus.EXEMPT:
        return Denied(Refusal.EXEMPT, period)
    if not accepts_answers(period, confirmed, now):
        screen = await _screen(session, period, existing, review=True) if existing else None
        if screen is not None:
            screen.read_only = True
        return Denied(Refusal.CLOSED, period, screen=screen)
    assessment = existing or await store.get_or_create_assessment(
        session, period.id, member.id, now
    )
    shown = await _show(session, period, assessment, now)
    await store.save_progress(session, assessment)
    return shown


async def act(
    session: AsyncSession,
    member: Member,
    assessment_id: int,
    verb: str,
    question_id: int | None,
    value: str | None,
    now: datetime,
) -> Result:
    """A button of the assessment: answer, skip, back, help, edit, submit, reopen…"""
    loaded = await _owned(session, member, assessment_id, now)
    if isinstance(loaded, Denied):
        return loaded
    period, assessment = loaded
    result = await _act(session, period, assessment, verb, question_id, value, now)
    await store.save_progress(session, assessment)
    return result


async def _act(
    session: AsyncSession,
    period: Period,
    assessment: Assessment,
    verb: str,
    question_id: int | None,
    value: str | None,
    now: datetime,
) -> Result:
    form = await questionnaire(session, period.framework_id)
    question = form.get(question_id) if question_id is not None else None
    if question_id is not None and question is None:
        return Denied(Refusal.STALE, period)
    if verb == "reopen":
        assessment.state = AssessmentState.DRAFT
        assessment.submitted_at = None
        return await _screen(session, period, assessment, review=True)
    if assessment.state == AssessmentState.SUBMITTED:
        return Denied(Refusal.SUBMITTED, period, screen=await _screen(session, period, assessment))
    if verb == "ans" and question is not None and value is not None:
        return await _answer(session, period, assessment, question, value, typed=False, now=now)
    if verb == "skip" and question is not None and question.optional:
        await store.save_answer(
            session, assessment.id, question.id, value=None, skipped=True, now=now
        )
        assessment.awaiting_comment = False
        return await _show(session, period, assessment, now)
    if verb == "nocomment" and question is not None:
        assessment.awaiting_comment = False
        return await _show(session, period, assessment, now)
    if verb in {"back", "edit", "help"} and question is not None:
        target = form.before(question) if verb == "back" else question
        assessment.awaiting_comment = False
        return await _show(
            session, period, assessment, now, ask=target or question, help_shown=verb == "help"
        )
    if verb == "review":
        return await _screen(session, period, assessment, review=True)
    if verb == "submit":
        return await _submit(session, period, assessment, now)
    if verb in {"go", "pause"}:
        return await _show(session, period, assessment, now)
    return Denied(Refusal.STALE, period)


async def typed(
    session: AsyncSession, member: Member, text: str, now: datetime, max_length: int
) -> Result | None:
    """Typed text: a free-text or score answer, or the comment asked for; None if no draft."""
    current = await store.current_with_assessment(session, member.org_id, member.id, now)
    if current is None:
        return None
    period, confirmed, assessment = current
    if not accepts_answers(period, confirmed, now):
        return None
    if assessment is None or assessment.state != AssessmentState.DRAFT:
        return None
    result = await _typed(session, period, assessment, text, now, max_length)
    await store.save_progress(session, assessment)
    return result


async def _typed(
    session: AsyncSession,
    period: Period,
    assessment: Assessment,
    text: str,
    now: datetime,
    max_length: int,
) -> Result | None:
    if assessment.cursor_question_id is None:
        return await _screen(session, period, assessment)
    form = await questionnaire(session, period.framework_id)
    question = form.get(assessment.cursor_question_id)
    if question is None:
        return None
    if assessment.awaiting_comment:
        comment = text.strip()[:max_length]
        if comment:
            await store.save_comment(session, assessment.id, question.id, comment)
        assessment.awaiting_comment = False
        return await _show(session, period, assessment, now)
    return await _answer(
        session, period, assessment, question, text, typed=True, now=now, max_length=max_length
    )


async def _answer(
    session: AsyncSession,
    period: Period,
    assessment: Assessment,
    question: QuestionView,
    raw: str,
    *,
    typed: bool,
    now: datetime,
    max_length: int = 1000,
) -> Result:
    try:
        value = parse_answer(question, raw, typed=typed, max_length=max_length)
    except InvalidAnswer as problem:
        screen = await _show(session, period, assessment, now, ask=question)
        return Denied(Refusal.STALE, period, problem=problem, screen=screen)
    await store.save_answer(
        session, assessment.id, question.id, value=value, skipped=False, now=now
    )
    assessment.updated_at = now
    assessment.cursor_question_id = question.id
    assessment.awaiting_comment = question.asks_why(value) or await _below_suggestion(
        session, period, assessment, question, value
    )
    return await _show(session, period, assessment, now)


async def _tasks_hint(
    session: AsyncSession, period: Period, member_id: int, question: QuestionView
) -> task_service.TasksHint | None:
    spec = await load_spec(session, period.framework_id)
    found = next((q for _g, _c, q in spec.member_questions() if q.key == question.key), None)
    if found is None:
        return None
    return await task_service.tasks_hint(session, period, member_id, found)


async def _below_suggestion(
    session: AsyncSession,
    period: Period,
    assessment: Assessment,
    question: QuestionView,
    value: str | None,
) -> bool:
    """An answer scoring below the one chibo's task record suggests asks why, too."""
    if question.suggest != Suggestion.TASKS_DONE or value is None:
        return False
    hint = await _tasks_hint(session, period, assessment.member_id, question)
    if hint is None or hint.suggested is None:
        return False
    chosen, suggested = question.score(value), question.score(hint.suggested)
    return chosen is not None and suggested is not None and chosen < suggested


async def _submit(
    session: AsyncSession, period: Period, assessment: Assessment, now: datetime
) -> Result:
    screen = await _screen(session, period, assessment, review=True)
    if isinstance(screen.step, Review) and screen.step.missing:
        return Denied(Refusal.INCOMPLETE, period, screen=screen)
    assessment.state = AssessmentState.SUBMITTED
    assessment.submitted_at = now
    assessment.updated_at = now
    assessment.cursor_question_id = None
    return screen


async def _owned(
    session: AsyncSession, member: Member, assessment_id: int, now: datetime
) -> tuple[Period, Assessment] | Denied:
    found = await store.own_assessment(session, assessment_id, member.id)
    if found is None:
        return Denied(Refusal.STALE)
    assessment, period, confirmed = found
    if not accepts_answers(period, confirmed, now):
        review = await _screen(session, period, assessment, review=True)
        review.read_only = True
        return Denied(Refusal.CLOSED, period, screen=review)
    return period, assessment


async def _show(
    session: AsyncSession,
    period: Period,
    assessment: Assessment,
    now: datetime,
    *,
    ask: QuestionView | None = None,
    help_shown: bool = False,
) -> Screen:
    """Compute the next step, remember which question is on screen, return the screen."""
    screen = await _screen(session, period, assessment, ask=ask)
    screen.help_shown = help_shown
    step = screen.step
    on_screen = None if isinstance(step, Review) else step.question.id
    if on_screen is not None:
        assessment.cursor_question_id = on_screen
    elif assessment.state == AssessmentState.DRAFT:
        assessment.cursor_question_id = None
    return screen


async def _screen(
    session: AsyncSession,
    period: Period,
    assessment: Assessment,
    *,
    ask: QuestionView | None = None,
    review: bool = False,
) -> Screen:
    form = await questionnaire(session, period.framework_id)
    with session.no_autoflush:  # the assessment's changes are written once, at commit
        stored = await store.answer_rows(session, assessment.id)
    answers = {q: StoredAnswer(q, value, skipped, comment) for q, value, skipped, comment in stored}
    step: Step
    if review or assessment.state == AssessmentState.SUBMITTED:
        step = Review(missing_required(form, answers))
    elif ask is not None:
        step = Ask(ask)
    else:
        comment_for = assessment.cursor_question_id if assessment.awaiting_comment else None
        step = next_step(form, answers, comment_for)
    screen = Screen(period, assessment, form, answers, step)
    if isinstance(step, Ask) and step.question.suggest == Suggestion.DOCUMENTS_READ:
        screen.read_hint = await documents.read_hint(session, period.id, assessment.member_id)
    if isinstance(step, Ask) and step.question.suggest == Suggestion.TASKS_DONE:
        screen.tasks_hint = await _tasks_hint(session, period, assessment.member_id, step.question)
    return screen


@dataclass(frozen=True)
class Status:
    period: Period | None
    assessment: Assessment | None
    answered: int
    total: int


async def status(session: AsyncSession, member: Member, now: datetime) -> Status:
    """Where the member stands this month."""
    current = await store.current_with_assessment(session, member.org_id, member.id, now)
    if current is None:
        return Status(None, None, 0, 0)
    period, _confirmed, found = current
    form = await questionnaire(session, period.framework_id)
    answered = len(await store.answer_rows(session, found.id)) if found else 0
    return Status(period, found, answered, len(form.questions))
