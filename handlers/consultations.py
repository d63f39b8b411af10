"""Opinions on a draft in chat: /consult to ask or see, the three answers, the tally."""

from __future__ import annotations

import re

from bot.core.chat import Attachment, Button, Outcome, Reply
from bot.core.i18n import Translator
from bot.services import consultations, membership
from bot.services.consultations import Answered, Problem, Refused, Tally
from bot.services.documents import Publishing
from handlers.callbacks import ConsultAnswer, ConsultTally
from handlers.context import Turn, stale
from handlers.views import stored_file
from storage.models import Consultation, ConsultationChoice, ConsultationResponse, Period

_CONSULT_CAPTION = re.compile(r"^/consult(?:@\S+)?(?:\s+|$)", re.IGNORECASE)
TITLE_WIDTH = 80  # a consultation's text in overviews
CHOICES = {
    "y": ConsultationChoice.AGREE,
    "n": ConsultationChoice.DISAGREE,
    "o": ConsultationChoice.OTHER,
}


def is_consult_caption(caption: str | None) -> bool:
    return _CONSULT_CAPTION.match((caption or "").strip()) is not None


async def consult(turn: Turn, args: list[str]) -> Outcome:
    """/consult DEADLINE | TEXT asks every member (secretaries); /consult alone lists them."""
    assert turn.member is not None
    if args:
        if not membership.is_secretary(turn.member):
            return Outcome([Reply(turn._("Only the cell secretary can ask for opinions."))])
        rest = _CONSULT_CAPTION.sub("", (turn.event.text or "").strip(), count=1)
        return await _ask(turn, rest, None)
    if membership.is_secretary(turn.member):
        return await _secretary_view(turn)
    return await _member_view(turn)


async def uploaded(turn: Turn, file: Attachment, caption: str | None) -> Outcome:
    """A file from a secretary with the caption "/consult DEADLINE | TEXT"."""
    rest = _CONSULT_CAPTION.sub("", (caption or "").strip(), count=1)
    return await _ask(turn, rest, file)


async def _ask(turn: Turn, rest: str, file: Attachment | None) -> Outcome:
    assert turn.member is not None
    when, bar, text = rest.partition("|")
    if not bar and file is None:
        return Outcome([Reply(usage(turn))])
    deadline = consultations.parse_deadline(when.strip(), turn.t.zone, turn.now)
    settings = turn.runtime.settings
    try:
        consultation, count = await consultations.create(
            turn.session,
            turn.member.org_id,
            turn.member,
            text,
            deadline,
            turn.now,
            file,
            Publishing(settings.public_base_url or None, settings.file_link_days),
        )
    except Refused as refused:
        return Outcome([Reply(problem_text(turn, refused.problem, file))])
    sent = turn.t.ngettext(
        "The draft is being sent to {n} member for their opinion.",
        "The draft is being sent to {n} members for their opinion.",
        count,
    ).format(n=count)
    more = turn._(
        "Deadline: {deadline}. One reminder goes to those who have not answered, and you get "
        "the tally at the deadline; see it any time with /consult."
    ).format(deadline=turn.t.when(consultation.deadline_at))
    return Outcome([Reply(sent + "\n" + more)])


def usage(turn: Turn) -> str:
    return turn._(
        "Write the deadline, a bar and the draft, e.g. /consult 20/12 17:00 | Dự thảo nghị "
        "quyết tháng 12: … On Telegram you can also send a file (PDF, Word, or a criteria "
        "framework as YAML) with the caption /consult 20/12 17:00 | what it is."
    )


def problem_text(turn: Turn, problem: Problem, file: Attachment | None) -> str:
    _ = turn._
    if problem is Problem.NO_PERIOD:
        return _(
            "This month is not open yet, so the result has no month to be kept with. Open it "
            "with /open (or set the meeting with /meeting), then ask again."
        )
    if problem is Problem.BAD_DEADLINE:
        return _("I could not read the deadline.") + " " + usage(turn)
    if problem is Problem.PAST_DEADLINE:
        return _("The deadline must be in the future.")
    if problem is Problem.FAR_DEADLINE:
        return _("The deadline can be at most {days} days ahead.").format(
            days=consultations.MAX_AHEAD.days
        )
    if problem is Problem.TOO_MANY:
        return _("At most {n} consultations can be open at a time.").format(
            n=consultations.MAX_OPEN
        )
    if problem is Problem.TOO_LARGE and file is not None:
        return _(
            "This file is too large ({size} MB). A draft may be at most {limit} MB; "
            "send a link to it in the text instead."
        ).format(
            size=turn.t.number(round(file.byte_size / 2**20, 1)),
            limit=consultations.documents.MAX_FILE_BYTES // 2**20,
        )
    if problem is Problem.UNKNOWN_TYPE and file is not None:
        return _(
            "chibo cannot send this kind of file ({name}). Send a PDF, Word, Excel, "
            "PowerPoint, OpenDocument, text, picture (JPG, PNG) or YAML file, or a link."
        ).format(name=file.filename)
    return _("Write the draft after the bar.") + " " + usage(turn)


def choice_label(t: Translator, choice: str) -> str:
    _ = t.gettext
    if choice == ConsultationChoice.AGREE:
        return _("Agree")
    if choice == ConsultationChoice.DISAGREE:
        return _("Disagree")
    return _("Other opinion")


def answer_buttons(t: Translator, consultation: Consultation) -> list[list[Button]]:
    return [
        [Button("👍 " + t.gettext("Agree"), ConsultAnswer(consultation.id, "y").pack())],
        [Button("👎 " + t.gettext("Disagree"), ConsultAnswer(consultation.id, "n").pack())],
        [Button("💬 " + t.gettext("Other opinion"), ConsultAnswer(consultation.id, "o").pack())],
    ]


def consultation_reply(
    t: Translator,
    consultation: Consultation,
    period: Period,
    response: ConsultationResponse | None,
    *,
    is_open: bool,
    reminder: bool = False,
) -> Reply:
    """A consultation as a member sees it: the draft, the deadline, their answer, the buttons."""
    _ = t.gettext
    heading = (
        _("Reminder: the cell asks for your opinion on a draft.")
        if reminder
        else _("The cell asks for your opinion on a draft.")
    )
    lines = ["📝 " + heading, consultation.text, ""]
    lines.append(_("Deadline: {deadline}").format(deadline=t.when(consultation.deadline_at)))
    if response is not None:
        lines.append(_yours(t, response))
    buttons: list[list[Button]] = []
    if is_open:
        if response is not None:
            lines.append(_("You can change your answer until the deadline."))
        buttons = answer_buttons(t, consultation)
    else:
        lines.append(_("The consultation is closed."))
    return Reply("\n".join(lines), buttons, attachment=stored_file(consultation, "draft"))


def _yours(t: Translator, response: ConsultationResponse) -> str:
    text = t.gettext("Your answer: {answer}").format(answer=choice_label(t, response.choice))
    if response.comment:
        text += " — " + response.comment
    return text


async def answer(turn: Turn, data: ConsultAnswer) -> Outcome:
    """👍 / 👎 under a consultation are stored at once; 💬 asks for the opinion's text."""
    assert turn.member is not None
    found = await consultations.own(turn.session, data.consultation, turn.member.org_id)
    if found is None:
        return stale(turn)
    if found.consultation.deadline_at <= turn.now:
        return _closed(turn)
    if data.choice == "o":
        consultations.ask_comment(turn.member, found.consultation)
        text = turn._("Please type your opinion in one message (at most {n} characters).").format(
            n=turn.runtime.settings.max_text_length
        )
        return Outcome([Reply(text, typed=True)])
    return await _store(turn, data.consultation, CHOICES[data.choice], None)


async def comment(turn: Turn, text: str) -> Outcome:
    """Typed text after "Other opinion": the opinion."""
    assert turn.member is not None
    consultation_id = consultations.comment_pending(turn.member)
    consultations.stop_asking(turn.member)
    if consultation_id is None:
        return Outcome([Reply(turn._("This button is no longer valid."))])
    return await _store(turn, consultation_id, ConsultationChoice.OTHER, text)


def wants_comment(turn: Turn) -> bool:
    return turn.member is not None and consultations.comment_pending(turn.member) is not None


async def _store(
    turn: Turn, consultation_id: int, choice: ConsultationChoice, text: str | None
) -> Outcome:
    assert turn.member is not None
    result, _found = await consultations.answer(
        turn.session, turn.member, consultation_id, choice, text, turn.now
    )
    if result is Answered.UNKNOWN:
        return stale(turn)
    if result is Answered.CLOSED:
        return _closed(turn)
    noted = turn._("Noted: {answer}. Thank you! You can change it until the deadline.").format(
        answer=choice_label(turn.t, choice)
    )
    return Outcome([Reply(noted)], notice=noted[:200])


def _closed(turn: Turn) -> Outcome:
    text = turn._("The deadline of this consultation has passed; answers can no longer change.")
    return Outcome([Reply(text)], notice=text[:200])


async def _member_view(turn: Turn) -> Outcome:
    """The open and recent consultations of the member's cell, with their own answers."""
    assert turn.member is not None
    found = await consultations.recent(turn.session, turn.member.org_id, turn.now)
    if not found:
        return Outcome([Reply(turn._("No consultation is open in your cell."))])
    mine = await consultations.answers_of(turn.session, found, turn.member)
    counts = await consultations.counts_of(turn.session, [c.id for c in found])
    replies = []
    for consultation in reversed(found):  # the latest deadline last, nearest the keyboard
        is_open = consultation.deadline_at > turn.now
        period = await turn.session.get(Period, consultation.period_id)
        assert period is not None
        reply = consultation_reply(
            turn.t, consultation, period, mine.get(consultation.id), is_open=is_open
        )
        if not is_open:
            tally = Tally(consultation, counts.get(consultation.id, {}), consultation.roll)
            reply.text += "\n" + counts_line(turn.t, tally)
        replies.append(reply)
    return Outcome(replies)


def counts_line(t: Translator, tally: Tally) -> str:
    """ "Agree 5 · Disagree 1 · Other 2 · answered 8 of 10" (no names: anyone may see it)."""
    return t.gettext(
        "Agree {agree} · Disagree {disagree} · Other opinion {other} · answered {answered} "
        "of {roll}"
    ).format(
        agree=tally.count(ConsultationChoice.AGREE),
        disagree=tally.count(ConsultationChoice.DISAGREE),
        other=tally.count(ConsultationChoice.OTHER),
        answered=tally.answered,
        roll=tally.roll,
    )


async def _secretary_view(turn: Turn) -> Outcome:
    """The open and recent consultations with their counts; a button per one for details."""
    _ = turn._
    assert turn.member is not None
    found = await consultations.recent(turn.session, turn.member.org_id, turn.now)
    if not found:
        return Outcome([Reply(usage(turn))])
    counts = await consultations.counts_of(turn.session, [c.id for c in found])
    lines = ["📝 " + _("Consultations on drafts")]
    for number, consultation in enumerate(found, 1):
        state = (
            _("open until {deadline}")
            if consultation.deadline_at > turn.now
            else _("closed {deadline}")
        ).format(deadline=turn.t.when(consultation.deadline_at))
        tally = Tally(consultation, counts.get(consultation.id, {}), consultation.roll)
        lines += [
            f"{number}. {_short(consultation.text)} — {state}",
            "   " + counts_line(turn.t, tally),
        ]
    lines += ["", _("Tap a number for every answer with its author.")]
    row = [Button(f"👥 {n}", ConsultTally(c.id).pack()) for n, c in enumerate(found, 1)]
    buttons = [row[i : i + 5] for i in range(0, len(row), 5)]
    return Outcome([Reply("\n".join(lines), buttons)])


async def tally_of(turn: Turn, data: ConsultTally) -> Outcome:
    """One consultation's tally with every comment and its author (secretaries)."""
    assert turn.member is not None
    found = await consultations.own(turn.session, data.consultation, turn.member.org_id)
    if found is None:
        return stale(turn)
    tally = await consultations.tally(
        turn.session, found.consultation, turn.member.org_id, detailed=True
    )
    return Outcome([Reply(tally_text(turn.t, tally))])


def tally_text(t: Translator, tally: Tally) -> str:
    """The tally for secretaries: counts, every answer with its author, who has not answered."""
    _ = t.gettext
    consultation = tally.consultation
    lines = [
        "📊 " + _("Opinions on the draft: {title}").format(title=_short(consultation.text)),
        _("Deadline: {deadline}").format(deadline=t.when(consultation.deadline_at)),
        counts_line(t, tally),
        "",
    ]
    for choice in ConsultationChoice:
        given = [(r, m) for r, m in tally.responses if r.choice == choice]
        if not given:
            continue
        lines.append(f"{choice_label(t, choice)} ({len(given)}):")
        for response, member in given:
            line = f"• {member.full_name}"
            if response.comment:
                line += ": " + response.comment
            lines.append(line)
    lines.append(_("Not answered ({n}):").format(n=len(tally.missing)))
    lines += [f"⬜ {m.full_name}" for m in tally.missing]
    return "\n".join(lines)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TITLE_WIDTH else flat[: TITLE_WIDTH - 1].rstrip() + "…"
