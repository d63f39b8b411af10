"""The member's self-assessment conversation: /assess, its buttons, typed answers, /status.

Button data is `as:<verb>:<assessment>[:<question>[:<value>]]`; everything in
it is checked again against the database by `bot.services.assessment`.
"""

from __future__ import annotations

from bot.core.chat import Button, Outcome, Reply
from bot.rules.flow import (
    Ask,
    AskComment,
    OptionView,
    Problem,
    QuestionView,
    Review,
    StoredAnswer,
)
from bot.rules.framework import localized
from bot.services import assessment
from bot.services.assessment import Denied, Refusal, Screen
from bot.services.tasks import TasksHint
from handlers.callbacks import AssessmentAction, AssessmentVerb
from handlers.context import Turn

ANSWER_WIDTH = 100  # an answer with its reason, in the review: an excerpt, the rest ends in "…"


def data(
    verb: AssessmentVerb, assessment_id: int, question_id: int | None = None, value: object = None
) -> str:
    """A button of this member's assessment."""
    shown = None if value is None else str(value)
    return AssessmentAction(verb, assessment_id, question_id, shown).pack()


async def assess(turn: Turn, args: list[str]) -> Outcome:
    """/assess: start or resume this month's self-assessment."""
    assert turn.member is not None
    result = await assessment.start(turn.session, turn.member, turn.now)
    return render(turn, result, edit=False)


async def button(turn: Turn, data: AssessmentAction) -> Outcome:
    """Any assessment button; stale or forged ids are refused by the service."""
    assert turn.member is not None
    result = await assessment.act(
        turn.session,
        turn.member,
        data.assessment,
        data.verb,
        data.question,
        data.value,
        turn.now,
    )
    if data.verb == "pause" and isinstance(result, Screen):
        return paused(turn, result)
    return render(turn, result, edit=True)


async def typed(turn: Turn, text: str) -> Outcome | None:
    """Typed text during an assessment; None when no assessment is waiting for it."""
    assert turn.member is not None
    result = await assessment.typed(
        turn.session, turn.member, text, turn.now, turn.runtime.settings.max_text_length
    )
    return None if result is None else render(turn, result, edit=False)


def paused(turn: Turn, screen: Screen) -> Outcome:
    _ = turn._
    text = _(
        "Paused. Your answers are saved. Send /assess to continue any time before {deadline}."
    ).format(deadline=turn.t.when(screen.period.deadline_at))
    return Outcome([Reply(text, edit=True)])


def render(turn: Turn, result: Screen | Denied, *, edit: bool) -> Outcome:
    if isinstance(result, Denied):
        return _denied(turn, result, edit)
    return Outcome([_screen(turn, result, edit)])


def _denied(turn: Turn, denied: Denied, edit: bool) -> Outcome:
    _ = turn._
    if denied.problem is not None and denied.screen is not None:
        problems = {
            Problem.BUTTONS_ONLY: _("Please choose one of the options."),
            Problem.NOT_A_NUMBER: _("Please type a whole number."),
            Problem.OUT_OF_RANGE: _("That number is outside the allowed range."),
            Problem.EMPTY: _("The answer is empty; please type a few words."),
            Problem.TOO_LONG: _("The answer is too long."),
            Problem.NOT_AN_OPTION: _("This button is no longer valid."),
        }
        note = problems.get(denied.problem.problem, _("This button is no longer valid."))
        return Outcome([Reply(note), _screen(turn, denied.screen, edit=False)], notice=note)
    messages = {
        Refusal.NO_PERIOD: _(
            "No self-assessment is open for your cell right now. "
            "You will get a message when this month's opens."
        ),
        Refusal.EXEMPT: _(
            "You are exempt from party activities, so you do not need to do the monthly "
            "self-assessment. You are shown as excused."
        ),
        Refusal.CLOSED: _("This month's self-assessment is closed; answers can no longer change."),
        Refusal.SUBMITTED: _(
            "This assessment has been submitted. To change an answer, use Change answers below."
        ),
        Refusal.STALE: _("This button is no longer valid."),
        Refusal.INCOMPLETE: _("Some required questions are not answered yet."),
    }
    text = messages[denied.reason]
    replies = [Reply(text)]
    if denied.screen is not None:
        replies.append(_screen(turn, denied.screen, edit=False))
    return Outcome(replies, notice=text if edit else None)


def _screen(turn: Turn, screen: Screen, edit: bool) -> Reply:
    step = screen.step
    if isinstance(step, Review):
        return _review(turn, screen, step, edit)
    if isinstance(step, AskComment):
        return _comment(turn, screen, step.question, edit)
    assert isinstance(step, Ask)
    return _question(turn, screen, step.question, edit)


def _header(turn: Turn, screen: Screen, question: QuestionView) -> str:
    return turn._("Question {number}/{total} · Group {group}: {title}").format(
        number=screen.questionnaire.number(question),
        total=len(screen.questionnaire.questions),
        group=question.group_number,
        title=localized(question.group_title, turn.t.locale),
    )


def answer_label(turn: Turn, question: QuestionView, answer: StoredAnswer | None) -> str:
    _ = turn._
    if answer is None:
        return _("not answered")
    if answer.skipped or answer.value is None:
        return _("skipped")
    option = question.option(answer.value)
    label = localized(option.label, turn.t.locale) if option else answer.value
    if question.kind == "score":
        label = f"{answer.value}/{question.max_value}"
    if answer.comment:
        label += f" — {answer.comment}"
    return label


def _question(turn: Turn, screen: Screen, question: QuestionView, edit: bool) -> Reply:
    _ = turn._
    aid = screen.assessment.id
    lines = [_header(turn, screen, question), "", localized(question.text, turn.t.locale)]
    if screen.help_shown and question.help:
        lines += ["", "ℹ️ " + localized(question.help, turn.t.locale)]
    current = screen.answers.get(question.id)
    suggested = _suggestion(turn, screen, question, lines)
    if current is not None:
        lines += [
            "",
            _("Current answer: {answer}").format(answer=answer_label(turn, question, current)),
        ]
    buttons: list[list[Button]] = []
    typed = False
    if question.options:
        for option in question.options:
            mark = "✓ " if current is not None and current.value == option.value else ""
            if current is None and suggested is not None and option.value == suggested.value:
                mark = "👉 "
            label = mark + localized(option.label, turn.t.locale)
            buttons.append([Button(label, data("ans", aid, question.id, option.value))])
    elif question.kind == "score" and question.max_value is not None and question.max_value <= 10:
        numbers = [
            Button(str(n), data("ans", aid, question.id, n)) for n in range(question.max_value + 1)
        ]
        buttons += [numbers[i : i + 6] for i in range(0, len(numbers), 6)]
    else:
        limit = turn.runtime.settings.max_text_length
        hint = (
            _("Type a number from 0 to {max}.").format(max=question.max_value)
            if question.kind == "score"
            else _("Type your answer (at most {limit} characters).").format(limit=limit)
        )
        lines += ["", hint]
        typed = True
    navigation = []
    if screen.questionnaire.before(question) is not None:
        navigation.append(Button("◀ " + _("Back"), data("back", aid, question.id)))
    if question.help and not screen.help_shown:
        navigation.append(Button("❓ " + _("Explain"), data("help", aid, question.id)))
    navigation.append(Button("⏸ " + _("Pause"), data("pause", aid)))
    if question.optional:
        buttons.append([Button(_("Skip") + " ▶", data("skip", aid, question.id))])
    buttons.append(navigation)
    return Reply("\n".join(lines), buttons, edit=edit, typed=typed)


def _suggestion(
    turn: Turn, screen: Screen, question: QuestionView, lines: list[str]
) -> OptionView | None:
    """What chibo's records suggest for this question (a hint; the member still chooses)."""
    if screen.tasks_hint is not None:
        return _tasks_suggestion(turn, screen.tasks_hint, question, lines)
    hint = screen.read_hint
    suggested = question.best_option() if hint is not None else None
    if hint is None or suggested is None:
        return None
    text = turn._('You pressed "Read" on the meeting documents at {time}.').format(
        time=turn.t.when(hint.last_read_at)
    )
    if hint.read < hint.total:
        text += " " + turn._("({read} of {total} documents)").format(
            read=hint.read, total=hint.total
        )
    suggestion = turn._("Suggested answer: {answer} (the choice is yours).").format(
        answer=localized(suggested.label, turn.t.locale)
    )
    lines += ["", "💡 " + text, suggestion]
    return suggested


TASK_LINES = 10  # tasks listed under the question; more are counted


def _tasks_suggestion(
    turn: Turn, hint: TasksHint, question: QuestionView, lines: list[str]
) -> OptionView | None:
    """The member's own task record under the question on tasks, and the level it suggests."""
    _ = turn._
    lines += ["", "📋 " + _("Your tasks from last month's resolution:")]
    for found in hint.assigned[:TASK_LINES]:
        task, assignment = found.task, found.assignment
        if assignment.done_at is not None and assignment.done_at <= task.due_at:
            state = "✅ " + _("done on time ({time})").format(time=turn.t.when(assignment.done_at))
        elif assignment.done_at is not None:
            state = "🟡 " + _("done late ({time})").format(time=turn.t.when(assignment.done_at))
        else:
            state = "❌ " + _("not done")
        lines.append(f"• {_one_line(task.description)} — {state}")
    if len(hint.assigned) > TASK_LINES:
        lines.append(_("… and {n} more (/tasks)").format(n=len(hint.assigned) - TASK_LINES))
    suggested = question.option(hint.suggested) if hint.suggested else None
    if suggested is None:
        return None
    lines.append(
        _("Suggested answer: {answer} (the choice is yours; a lower answer asks why).").format(
            answer=localized(suggested.label, turn.t.locale)
        )
    )
    return suggested


def _one_line(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _comment(turn: Turn, screen: Screen, question: QuestionView, edit: bool) -> Reply:
    _ = turn._
    answer = screen.answers.get(question.id)
    lines = [
        _header(turn, screen, question),
        "",
        localized(question.text, turn.t.locale),
        "",
        _("Your answer: {answer}").format(answer=answer_label(turn, question, answer)),
        _("Please write briefly why (type your reply)."),
    ]
    buttons = [
        [Button(_("No comment") + " ▶", data("nocomment", screen.assessment.id, question.id))]
    ]
    return Reply("\n".join(lines), buttons, edit=edit, typed=True)


def _review(turn: Turn, screen: Screen, step: Review, edit: bool) -> Reply:
    _ = turn._
    aid = screen.assessment.id
    period = screen.period
    if screen.submitted:
        title = _("Your self-assessment for {month}/{year} is submitted. Thank you!")
    else:
        title = _("Review your answers for {month}/{year} before sending:")
    lines = [title.format(month=period.month, year=period.year), ""]
    if screen.submitted and edit and not turn.event.edits:
        # the review is still on screen above: a new message need not repeat it
        return _after_submit(turn, screen, lines, edit)
    group = 0
    for number, question in enumerate(screen.questionnaire.questions, 1):
        if question.group_number != group:
            group = question.group_number
            lines.append(
                _("Group {group}: {title}").format(
                    group=group, title=localized(question.group_title, turn.t.locale)
                )
            )
        text = _short(localized(question.text, turn.t.locale))
        label = _short(answer_label(turn, question, screen.answers.get(question.id)), ANSWER_WIDTH)
        lines.append(f"{number}. {text} → {label}")
    lines.append("")
    if screen.read_only or not assessment.is_open(period, turn.now) or screen.submitted:
        return _after_submit(turn, screen, lines, edit)
    deadline = turn.t.when(period.deadline_at)
    if step.missing:
        missing = ", ".join(str(screen.questionnaire.number(q)) for q in step.missing)
        lines.append(_("Still to answer: questions {numbers}.").format(numbers=missing))
    lines.append(
        _("Tap a number to change that answer. Deadline: {deadline}.").format(deadline=deadline)
    )
    edits = [
        Button(str(n), data("edit", aid, q.id))
        for n, q in enumerate(screen.questionnaire.questions, 1)
    ]
    buttons = [edits[i : i + 6] for i in range(0, len(edits), 6)]
    if not step.missing:
        buttons.append([Button("📨 " + _("Submit"), data("submit", aid))])
    buttons.append([Button("⏸ " + _("Pause"), data("pause", aid))])
    return Reply("\n".join(lines), buttons, edit=edit)


def _after_submit(turn: Turn, screen: Screen, lines: list[str], edit: bool) -> Reply:
    """The end of a submitted or closed review: until when it can change, and how."""
    _ = turn._
    period = screen.period
    if screen.read_only or not assessment.is_open(period, turn.now):
        lines.append(_("The deadline has passed; the answers can no longer change."))
        return Reply("\n".join(lines), [], edit=edit)
    deadline = turn.t.when(period.deadline_at)
    lines.append(_("You can still change answers until {deadline}.").format(deadline=deadline))
    reopen = Button("✏️ " + _("Change answers"), data("reopen", screen.assessment.id))
    return Reply("\n".join(lines), [[reopen]], edit=edit)


def _short(text: str, limit: int = 70) -> str:
    """One line of at most `limit` characters; a longer text ends in "…"."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


async def status(turn: Turn, args: list[str]) -> Outcome:
    """/status: this month's period, deadline, meeting time and how far the member is."""
    _ = turn._
    assert turn.member is not None
    current = await assessment.status(turn.session, turn.member, turn.now)
    period = current.period
    if period is None:
        return Outcome(
            [
                Reply(
                    _(
                        "No self-assessment is open for your cell right now. "
                        "You will get a message when this month's opens."
                    )
                )
            ]
        )
    lines = [_("Self-assessment {month}/{year}").format(month=period.month, year=period.year)]
    if period.meeting_at is not None:
        lines.append(_("Cell meeting: {time}").format(time=turn.t.when(period.meeting_at)))
    lines.append(_("Deadline: {time}").format(time=turn.t.when(period.deadline_at)))
    if current.assessment is not None and current.assessment.state == "submitted":
        lines.append(_("Your self-assessment is submitted."))
    elif turn.member.status == "exempt":
        lines.append(_("You are exempt from activities and shown as excused."))
    else:
        lines.append(
            _("You have answered {done} of {total} questions.").format(
                done=current.answered, total=current.total
            )
        )
    if assessment.is_open(period, turn.now):
        lines.append(_("Send /assess to continue."))
    else:
        lines.append(_("The deadline has passed; the answers can no longer change."))
    return Outcome([Reply("\n".join(lines))])
