"""The resolution and its tasks in chat: /resolution, /task, /tasks, and the task buttons."""

from __future__ import annotations

import re

from bot.core.chat import Attachment, Button, Outcome, Reply
from bot.core.i18n import Translator
from bot.core.numbers import whole_number
from bot.rules import tasks as rules
from bot.services import membership
from bot.services import tasks as service
from bot.services.documents import Publishing
from bot.services.tasks import Problem, Refused
from handlers import paging
from handlers.callbacks import TaskAck, TaskNoteSkip, TaskReport, TaskWho
from handlers.context import Turn, stale
from handlers.views import stored_file
from storage.models import Member, Period, Resolution, ResolutionTask, TaskAssignment, TaskStatus
from storage.tasks import Assigned, Overdue

MAX_MESSAGE = 4000  # characters of a /resolution or /task message (Telegram's 4,096 less a margin)
LONG_COMMANDS = re.compile(r"^/(resolution|task)(?:@\S+)?(?:\s|$)", re.IGNORECASE)
_COMMAND = re.compile(r"^/(?:resolution|task)(?:@\S+)?[ \t]*", re.IGNORECASE)
WIDTH = 80  # a task's description in lists
STATUS_WORDS = {"done": TaskStatus.DONE, "doing": TaskStatus.DOING, "unable": TaskStatus.UNABLE}


def _after_command(turn: Turn) -> str:
    """The message after its command, newlines kept (the quick form is one task a line)."""
    return _COMMAND.sub("", (turn.event.text or "").strip(), count=1)


def _status_label(t: Translator, status: str) -> str:
    _ = t.gettext
    return {
        TaskStatus.OPEN: "⬜ " + _("not reported yet"),
        TaskStatus.DONE: "✅ " + _("Done"),
        TaskStatus.DOING: "🔄 " + _("In progress"),
        TaskStatus.UNABLE: "❌ " + _("Not able to yet"),
    }[TaskStatus(status)]


def _short(text: str, width: int = WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


# --- /resolution -----------------------------------------------------------------------


async def resolution(turn: Turn, args: list[str]) -> Outcome:
    """/resolution TITLE [text, task lines] records the month's resolution (secretaries);
    alone, it shows the cell's latest resolution."""
    assert turn.member is not None
    if not args:
        return await _show_resolution(turn)
    if not membership.is_secretary(turn.member):
        return Outcome([Reply(turn._("Only the cell secretary can record the resolution."))])
    return await _record(turn, _after_command(turn), None)


async def uploaded(turn: Turn, file: Attachment, caption: str) -> Outcome:
    """A file sent with the caption "/resolution TITLE": the resolution's text as a file."""
    return await _record(turn, _COMMAND.sub("", caption.strip(), count=1), file)


def wants_file(caption: str | None) -> bool:
    return caption is not None and re.match(r"^/resolution\b", caption.strip(), re.I) is not None


async def _record(turn: Turn, text: str, file: Attachment | None) -> Outcome:
    assert turn.member is not None
    settings = turn.runtime.settings
    try:
        done = await service.record(
            turn.session,
            turn.member.org,
            turn.member,
            text,
            turn.now,
            file,
            Publishing(settings.public_base_url or None, settings.file_link_days),
        )
    except Refused as refused:
        return Outcome([Reply(problem_text(turn, refused, file))])
    _ = turn._
    heading = (
        _("The resolution of {month}/{year} is recorded.")
        if done.created
        else _("The resolution of {month}/{year} is updated.")
    )
    lines = [heading.format(month=done.period.month, year=done.period.year)]
    if done.added:
        lines.append(_added_line(turn, done))
    else:
        lines.append(
            _(
                "Add its tasks, one a line: /task description | who (names, or all) | due "
                "date, e.g. /task Tuyên truyền lịch gieo trồng | tất cả | 20/12"
            )
        )
    lines.append(_("See the tasks and who reported with /tasks."))
    return Outcome([Reply("\n".join(lines))])


def _added_line(turn: Turn, done: service.Recorded) -> str:
    return turn.t.ngettext(
        "{n} task added; {people} members are told.",
        "{n} tasks added; {people} members are told.",
        len(done.added),
    ).format(n=len(done.added), people=done.assignees)


async def _show_resolution(turn: Turn) -> Outcome:
    assert turn.member is not None
    month = await service.month_tasks(turn.session, turn.member.org_id, turn.now)
    if month is None:
        text = turn._("No resolution has been recorded yet.")
        if membership.is_secretary(turn.member):
            text += "\n" + usage_text(turn)
        return Outcome([Reply(text)])
    reply = resolution_reply(turn.t, month.resolution, month.period)
    live = [line.task for line in month.tasks if line.task.cancelled_at is None]
    if live:
        reply.text += (
            "\n\n"
            + turn._("Tasks:")
            + "\n"
            + "\n".join(
                f"{t.position}. {_short(t.description)} — {turn.t.day(t.due_at)}" for t in live
            )
        )
    reply.text += "\n\n" + turn._("Your own tasks: /tasks")
    return Outcome([reply])


def resolution_reply(t: Translator, resolution: Resolution, period: Period) -> Reply:
    """The resolution as members see it: its title, text and file."""
    _ = t.gettext
    lines = [
        "📜 "
        + _("Resolution of the cell meeting {month}/{year}").format(
            month=period.month, year=period.year
        ),
        resolution.title,
    ]
    if resolution.body:
        lines += ["", resolution.body]
    return Reply("\n".join(lines), attachment=stored_file(resolution, "resolution"))


def usage_text(turn: Turn) -> str:
    return turn._(
        "Record it after the meeting: /resolution TITLE on the first line, then its text, "
        "and its tasks one a line as description | who | due date, e.g.\n"
        "/resolution Nghị quyết tháng 12\n"
        "Tuyên truyền lịch gieo trồng | tất cả | 20/12\n"
        "Vận động hộ dân dọn vệ sinh | Lan, Minh | 15/12\n"
        "On Telegram you can also send the resolution as a file with the caption /resolution TITLE."
    )


def problem_text(turn: Turn, refused: Refused, file: Attachment | None = None) -> str:
    _ = turn._
    problem = refused.problem
    if problem is Problem.NO_PERIOD:
        return _("This month is not open yet, so the resolution has no month. Open it with /open.")
    if problem is Problem.EMPTY or problem is Problem.NO_RESOLUTION:
        return _("First record the resolution.") + "\n" + usage_text(turn)
    if problem is Problem.LONG_TITLE:
        return _("The title (first line) is too long: at most {n} characters.").format(
            n=service.MAX_TITLE
        )
    if problem is Problem.TOO_MANY:
        return _("A resolution has at most {n} tasks.").format(n=rules.MAX_TASKS)
    if problem is Problem.UNKNOWN_TASK:
        return _("There is no task with that number. See the numbers with /tasks.")
    if problem is Problem.REPORTED:
        return _(
            "Members have reported on this task, so it cannot be deleted. Cancel it with a "
            "reason instead: /task cancel NUMBER REASON"
        )
    if problem is Problem.NO_REASON:
        return _("Give the reason: /task cancel NUMBER REASON")
    if problem is Problem.CANCELLED:
        return _("This task is already cancelled.")
    if problem is Problem.TOO_LARGE and file is not None:
        return _(
            "This file is too large ({size} MB; at most {limit} MB). Send the resolution's "
            "text instead, or a link to the file."
        ).format(size=turn.t.number(round(file.byte_size / 2**20, 1)), limit=20)
    if problem is Problem.UNKNOWN_TYPE and file is not None:
        return _(
            "chibo cannot keep this kind of file ({name}). Send a PDF, Word, OpenDocument, "
            "text or picture file, or type the resolution's text."
        ).format(name=file.filename)
    lines = [_("Nothing was saved. Please correct these lines and send them again:")]
    lines += [_line_problem(turn, p) for p in refused.lines]
    return "\n".join(lines)


def _line_problem(turn: Turn, found: rules.Problem) -> str:
    _ = turn._
    kind = found.problem
    where = _("Line {n}:").format(n=found.line)
    if kind is rules.LineProblem.SHAPE:
        text = _("write it as description | who | due date")
    elif kind is rules.LineProblem.EMPTY_DESCRIPTION:
        text = _("the task's description is missing")
    elif kind is rules.LineProblem.LONG_DESCRIPTION:
        text = _("the description is too long (at most {n} characters)").format(
            n=rules.MAX_DESCRIPTION
        )
    elif kind is rules.LineProblem.NO_ONE:
        text = _('say who carries it out: names separated by commas, or "tất cả"')
    elif kind is rules.LineProblem.UNKNOWN_NAME:
        text = _('no member is called "{name}"').format(name=found.text)
        if found.candidates:
            text += " — " + _("did you mean: {names}?").format(names=", ".join(found.candidates))
    elif kind is rules.LineProblem.AMBIGUOUS_NAME:
        text = _('"{name}" could be: {names}. Write the full name.').format(
            name=found.text, names=", ".join(found.candidates)
        )
    elif kind is rules.LineProblem.PAST_DATE:
        text = _("the due date {date} has passed").format(date=found.text)
    elif kind is rules.LineProblem.FAR_DATE:
        text = _("the due date {date} is more than six months ahead").format(date=found.text)
    else:
        text = _('"{date}" is not a date: write day/month, e.g. 20/12 or 20/12/2026').format(
            date=found.text
        )
    return f"• {where} {text}"


# --- /task (secretaries) ---------------------------------------------------------------


async def task(turn: Turn, args: list[str]) -> Outcome:
    """/task LINES adds tasks; /task cancel N REASON; /task delete N."""
    assert turn.member is not None
    _ = turn._
    if not args:
        return Outcome([Reply(usage_text(turn))])
    verb = args[0].lower()
    try:
        if verb in {"cancel", "huy", "hủy", "delete", "xoa", "xóa"} and len(args) >= 2:
            number = whole_number(args[1], 1, rules.MAX_TASKS)
            if number is None:
                raise Refused(Problem.UNKNOWN_TASK)
            found, _resolution, period = await service.task_by_number(
                turn.session, turn.member.org_id, number, turn.now
            )
            if verb in {"delete", "xoa", "xóa"}:
                await service.delete(turn.session, found, period)
                return Outcome([Reply(_("Task {n} is deleted.").format(n=number))])
            reason = " ".join(args[2:])
            await service.cancel(turn.session, found, period, turn.member, reason, turn.now)
            return Outcome([Reply(_("Task {n} is cancelled.").format(n=number))])
        done = await service.add_tasks(
            turn.session, turn.member.org, turn.member, _after_command(turn), turn.now
        )
    except Refused as refused:
        return Outcome([Reply(problem_text(turn, refused))])
    return Outcome([Reply(_added_line(turn, done))])


# --- /tasks ------------------------------------------------------------------------------


async def tasks(turn: Turn, args: list[str]) -> Outcome:
    """A member's open tasks with report buttons; a secretary's overview of every task."""
    assert turn.member is not None
    mine = bool(args) and args[0].lower() in {"mine", "cua-toi", "toi"}
    if membership.is_secretary(turn.member) and not mine:
        return await overview(turn)
    return await my_tasks(turn)


async def my_tasks(turn: Turn) -> Outcome:
    assert turn.member is not None
    _ = turn._
    open_ = await service.open_tasks(turn.session, turn.member)
    done = await service.done_recently(turn.session, turn.member, turn.now)
    if not open_ and not done:
        return Outcome([Reply(_("You have no tasks from the cell's resolution."))])
    replies = [task_reply(turn.t, a) for a in open_]
    if done:
        lines = [_("Done:")] + [
            "✅ "
            + _("{task} — {time}").format(
                task=_short(a.task.description),
                time=turn.t.when(a.assignment.done_at or turn.now),
            )
            for a in done
        ]
        replies.append(Reply("\n".join(lines)))
    if not open_:
        replies.insert(0, Reply(_("All your tasks are done. Thank you!")))
    return Outcome(replies)


def task_text(t: Translator, found: Assigned) -> str:
    _ = t.gettext
    task, assignment = found.task, found.assignment
    lines = [
        "📌 "
        + _("Task {n} of the resolution {month}/{year}").format(
            n=task.position, month=found.period.month, year=found.period.year
        ),
        task.description,
        _("Due: {day}").format(day=t.day(task.due_at)),
        _("Status: {status}").format(status=_status_label(t, assignment.status)),
    ]
    if assignment.note:
        lines.append(_("Your note: {note}").format(note=assignment.note))
    return "\n".join(lines)


def report_buttons(t: Translator, found: Assigned) -> list[list[Button]]:
    _ = t.gettext
    n, aid = found.task.position, found.assignment.id
    return [
        [Button(f"✅ {n} · " + _("Done"), TaskReport(aid, "done").pack())],
        [Button(f"🔄 {n} · " + _("In progress"), TaskReport(aid, "doing").pack())],
        [Button(f"❌ {n} · " + _("Not able to yet"), TaskReport(aid, "unable").pack())],
    ]


def task_reply(t: Translator, found: Assigned) -> Reply:
    """A member's task with its report buttons (and "Nhận nhiệm vụ" until acknowledged)."""
    buttons = report_buttons(t, found)
    if found.assignment.acknowledged_at is None:
        label = f"👍 {found.task.position} · " + t.gettext("Accept the task")
        buttons.insert(0, [Button(label, TaskAck(found.assignment.id).pack())])
    return Reply(task_text(t, found), buttons)


def assigned_reply(t: Translator, found: list[Assigned]) -> Reply:
    """The notice that tells an assignee of their new tasks (one message of the secretary's
    gives one notice), with "Nhận nhiệm vụ" for each task."""
    _ = t.gettext
    if len(found) == 1:
        text = (
            _("The cell's resolution gives you a task ({title}):").format(
                title=_short(found[0].resolution.title)
            )
            + "\n\n"
            + task_text(t, found[0])
            + "\n\n"
            + _('Press "Accept the task"; report on it with /tasks.')
        )
        label = "👍 " + _("Accept the task")
        return Reply(text, [[Button(label, TaskAck(found[0].assignment.id).pack())]])
    heading = t.ngettext(
        "The cell's resolution gives you {n} task ({title}):",
        "The cell's resolution gives you {n} tasks ({title}):",
        len(found),
    ).format(n=len(found), title=_short(found[0].resolution.title))
    parts = [heading, *(task_text(t, item) for item in found)]
    parts.append(_('Press "Accept the task" for each; report on them with /tasks.'))
    buttons = [
        [
            Button(
                f"👍 {item.task.position} · " + _("Accept the task"),
                TaskAck(item.assignment.id).pack(),
            )
        ]
        for item in found
    ]
    return Reply("\n\n".join(parts), buttons)


def due_reply(t: Translator, found: Assigned) -> Reply:
    """The reminder before a task falls due, with the report buttons."""
    text = "⏰ " + t.gettext("This task falls due tomorrow. How is it going?") + "\n\n"
    return Reply(text + task_text(t, found), report_buttons(t, found))


async def acknowledge(turn: Turn, data: TaskAck) -> Outcome:
    assert turn.member is not None
    found = await service.acknowledge(turn.session, turn.member, data.assignment, turn.now)
    if found is None:
        return stale(turn)
    text = turn._("Noted: you accepted task {n}. Report on it with /tasks.").format(
        n=found.task.position
    )
    return Outcome([Reply(text)], notice=text)


async def report(turn: Turn, data: TaskReport) -> Outcome:
    assert turn.member is not None
    status = STATUS_WORDS[data.status]
    found = await service.report(turn.session, turn.member, data.assignment, status, turn.now)
    if found is None:
        return stale(turn)
    _ = turn._
    text = _("Noted: task {n} — {status}.").format(
        n=found.task.position, status=_status_label(turn.t, status)
    )
    ask = _("Add a note if you like (type it now)")
    if turn.event.channel == "telegram":
        ask += _(", or send a photo as evidence")
    ask += "."
    buttons = [[Button("⏭ " + _("No note"), TaskNoteSkip(found.assignment.id).pack())]]
    return Outcome([Reply(text + "\n" + ask, buttons, typed=True)], notice=text)


def wants_note(turn: Turn) -> bool:
    return turn.member is not None and service.noting(turn.member) is not None


def forget_note(turn: Turn) -> None:
    assert turn.member is not None
    service.skip_note(turn.member)


async def note(turn: Turn, text: str | None, photo: Attachment | None = None) -> Outcome:
    """The text (or photo) after a report: its note."""
    assert turn.member is not None
    assignment_id = service.noting(turn.member)
    if assignment_id is None:
        return stale(turn)
    if text is not None and len(text) > service.MAX_NOTE:
        return Outcome(
            [
                Reply(
                    turn._("The note is too long ({length} characters; at most {limit}).").format(
                        length=len(text), limit=service.MAX_NOTE
                    )
                )
            ]
        )
    photo_id = photo.file_id if photo is not None else None
    found = await service.add_note(
        turn.session, turn.member, assignment_id, text, photo_id, turn.now
    )
    if found is None:
        return stale(turn)
    said = turn._("Photo saved with task {n}.") if photo_id else turn._("Note saved with task {n}.")
    return Outcome([Reply(said.format(n=found.task.position))])


async def skip_note(turn: Turn, data: TaskNoteSkip) -> Outcome:
    assert turn.member is not None
    if service.noting(turn.member) != data.assignment:
        return stale(turn)
    service.skip_note(turn.member)
    return Outcome([Reply(turn._("Thank you. See your tasks with /tasks."))])


# --- the secretary's view ------------------------------------------------------------------


async def overview(turn: Turn) -> Outcome:
    """Every task of the latest resolution: counts, and a button per task for the names."""
    assert turn.member is not None
    _ = turn._
    month = await service.month_tasks(turn.session, turn.member.org_id, turn.now)
    if month is None:
        return Outcome([Reply(_("No resolution has been recorded yet.") + "\n" + usage_text(turn))])
    lines = [
        "📜 "
        + _("Resolution {month}/{year}: {title}").format(
            month=month.period.month, year=month.period.year, title=_short(month.resolution.title)
        )
    ]
    if not month.tasks:
        lines.append(_("No tasks yet.") + " " + usage_text(turn))
    buttons: list[Button] = []
    for line in month.tasks:
        task, counts = line.task, line.counts
        if task.cancelled_at is not None:
            lines.append(
                "🚫 "
                + _("{n}. {task} — cancelled: {reason}").format(
                    n=task.position, task=_short(task.description), reason=task.cancel_reason
                )
            )
            continue
        late = " ⚠️" if task.due_at <= turn.now and counts.done < counts.assigned else ""
        lines.append(
            _(
                "{n}. {task} — due {day}{late}\n"
                "   ✅ {done}/{assigned} done ({on_time} on time) · 🔄 {doing} · ❌ {unable} "
                "· 👍 {ack} accepted"
            ).format(
                n=task.position,
                task=_short(task.description),
                day=turn.t.day(task.due_at),
                late=late,
                done=counts.done,
                assigned=counts.assigned,
                on_time=counts.on_time,
                doing=counts.doing,
                unable=counts.unable,
                ack=counts.acknowledged,
            )
        )
        buttons.append(Button(f"👥 {task.position}", TaskWho(task.id).pack()))
    lines += [
        "",
        _("Tap a task's number for who finished it and when."),
        _("Cancel a task: /task cancel NUMBER REASON · your own tasks: /tasks mine"),
    ]
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    return Outcome([Reply("\n".join(lines), rows)])


async def who(turn: Turn, data: TaskWho) -> Outcome:
    """One task: who finished it and when, who is on it, who has not reported (paged)."""
    assert turn.member is not None
    _ = turn._
    found = await service.task_of_cell(turn.session, data.task, turn.member.org_id)
    if found is None:
        return stale(turn)
    task, _resolution, _period = found
    people = await service.who(turn.session, task.id)
    order = {TaskStatus.DONE: 0, TaskStatus.DOING: 1, TaskStatus.UNABLE: 2, TaskStatus.OPEN: 3}
    people.sort(key=lambda pair: (order[TaskStatus(pair[0].status)], pair[1].full_name))
    shown = paging.page(people, data.page)
    lines = [
        _("Task {n}: {task}").format(n=task.position, task=_short(task.description, 200)),
        _("Due: {day}").format(day=turn.t.day(task.due_at)),
    ]
    lines += [_person_line(turn, task, a, m) for a, m in shown.items]
    text = paging.with_caption("\n".join(lines), turn.t, shown)
    nav = paging.navigation(turn.t, shown, lambda n: TaskWho(task.id, n).pack())
    return Outcome([Reply(text, nav)])


def _person_line(turn: Turn, task: ResolutionTask, a: TaskAssignment, m: Member) -> str:
    _ = turn._
    if a.status == TaskStatus.DONE and a.done_at is not None:
        late = "" if a.done_at <= task.due_at else " " + _("(late)")
        line = f"✅ {m.full_name} — {turn.t.when(a.done_at)}{late}"
    elif a.status == TaskStatus.OPEN:
        line = f"⬜ {m.full_name}"
    else:
        line = f"{_status_label(turn.t, a.status)[:1]} {m.full_name}"
    if a.note:
        line += f" · {_short(a.note, 120)}"
    if a.photo_file_id:
        line += " 📷"
    return line


def overdue_text(t: Translator, period: Period, items: list[Overdue]) -> str:
    """The secretaries' list of tasks past due and not done (the notice)."""
    _ = t.gettext
    lines = [
        "⚠️ "
        + _("Tasks of the resolution {month}/{year} past due and not done:").format(
            month=period.month, year=period.year
        )
    ]
    current: int | None = None
    for item in items:
        if item.task.id != current:
            current = item.task.id
            lines.append(
                _("{n}. {task} (due {day}):").format(
                    n=item.task.position,
                    task=_short(item.task.description),
                    day=t.day(item.task.due_at),
                )
            )
        lines.append(f"   {_status_label(t, item.assignment.status)[:1]} {item.member.full_name}")
    lines.append(_("See every task with /tasks."))
    return "\n".join(lines)
