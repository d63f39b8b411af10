"""Meeting documents in chat: /docs to send or see them, a file's choice, the "Read" button."""

from __future__ import annotations

import re
from datetime import datetime

from bot.core.chat import Attachment, Button, Outcome, Reply
from bot.core.i18n import Translator
from bot.rules.framework import CellMetric
from bot.rules.scoring import DOCUMENTS_MIN_HOURS, documents_lead_hours, metric_score
from bot.services import documents, membership
from bot.services.documents import Problem, Publishing, Refused
from handlers import secretary
from handlers.callbacks import DocRead, DocReaders, DocSend
from handlers.context import Turn, current_period, stale
from handlers.views import stored_file
from storage.frameworks import load_spec
from storage.models import MeetingDocument, Period

_DOCS_CAPTION = re.compile(r"^/docs(?:@\S+)?(?:\s+|$)", re.IGNORECASE)
TITLE_WIDTH = 80  # a document's title in the secretary's overview


async def docs(turn: Turn, args: list[str]) -> Outcome:
    """/docs TEXT-or-LINK sends a document (secretaries); /docs alone lists the month's."""
    assert turn.member is not None
    is_secretary = membership.is_secretary(turn.member)
    if args:
        if not is_secretary:
            return Outcome([Reply(turn._("Only the cell secretary can send documents."))])
        text = _DOCS_CAPTION.sub("", (turn.event.text or "").strip(), count=1)
        return await _send_now(turn, text, None)
    if is_secretary:
        return await overview(turn, await current_period(turn), None)
    return await _member_view(turn)


async def uploaded(turn: Turn, file: Attachment, caption: str | None) -> Outcome:
    """A file from a secretary: a framework (YAML), or a meeting document.

    With a caption it goes out at once, the caption as its title; without one the
    secretary is asked first, as a file may have been sent by mistake.
    """
    text = (caption or "").strip()
    asked_for_docs = _DOCS_CAPTION.match(text) is not None
    if documents.is_framework_file(file) and not asked_for_docs:
        return await secretary.import_framework(turn, file)
    text = _DOCS_CAPTION.sub("", text, count=1)
    if text or asked_for_docs:
        return await _send_now(turn, text, file)
    try:
        document = await _draft(turn, "", file)
    except Refused as refused:
        return Outcome([Reply(problem_text(turn, refused.problem, file))])
    _ = turn._
    question = _("Send {name} to every member as a document for this month's meeting?").format(
        name=file.filename
    )
    buttons = [
        [Button("📎 " + _("Meeting document"), DocSend(document.id, "y").pack())],
        [Button("✖ " + _("Do not send"), DocSend(document.id, "n").pack())],
    ]
    return Outcome([Reply(question, buttons)])


async def _draft(turn: Turn, text: str, file: Attachment | None) -> MeetingDocument:
    assert turn.member is not None
    settings = turn.runtime.settings
    return await documents.draft(
        turn.session,
        turn.member.org_id,
        turn.member,
        text,
        turn.now,
        file,
        Publishing(settings.public_base_url or None, settings.file_link_days),
    )


async def _send_now(turn: Turn, text: str, file: Attachment | None) -> Outcome:
    assert turn.member is not None
    try:
        document = await _draft(turn, text, file)
    except Refused as refused:
        return Outcome([Reply(problem_text(turn, refused.problem, file))])
    count = await documents.send(turn.session, document, turn.member.org_id, turn.now)
    return Outcome([Reply(_sent_text(turn, count))])


def _sent_text(turn: Turn, count: int) -> str:
    return (
        turn.t.ngettext(
            "The document is being sent to {n} member.",
            "The document is being sent to {n} members.",
            count,
        ).format(n=count)
        + " "
        + turn._("See who has read it with /docs.")
    )


async def decide(turn: Turn, data: DocSend) -> Outcome:
    """The secretary's choice for a file sent without a caption."""
    assert turn.member is not None
    found = await documents.own(turn.session, data.document, turn.member.org_id)
    if found is None:
        return stale(turn)
    if found.document.sent_at is not None:
        return Outcome(notice=turn._("This document has already been sent."))
    if data.answer == "n":
        await documents.discard(turn.session, found.document)
        return Outcome([Reply(turn._("The file was not sent."), edit=True)])
    count = await documents.send(turn.session, found.document, turn.member.org_id, turn.now)
    return Outcome([Reply(_sent_text(turn, count), edit=True)])


async def read(turn: Turn, data: DocRead) -> Outcome:
    """ "✅ Read" under a document: recorded once; pressing again changes nothing."""
    assert turn.member is not None
    first = await documents.mark_read(turn.session, turn.member, data.document, turn.now)
    if first is None:
        return stale(turn)
    text = turn._("Noted: you read the document ({time}). Thank you!").format(
        time=turn.t.when(first)
    )
    return Outcome([Reply(text)], notice=text)


def problem_text(turn: Turn, problem: Problem, file: Attachment | None) -> str:
    _ = turn._
    if problem is Problem.NO_PERIOD:
        return _(
            "This month is not open yet, so the documents have no meeting to go with. Open it "
            "with /open (or set the meeting with /meeting), then send the documents again."
        )
    if problem is Problem.TOO_MANY:
        return _("At most {n} documents can be sent in a month.").format(n=documents.MAX_PER_MONTH)
    if problem is Problem.TOO_LARGE and file is not None:
        return _(
            "This file is too large ({size} MB). A meeting document may be at most {limit} MB; "
            "send a link to it instead, e.g. /docs https://…"
        ).format(
            size=turn.t.number(round(file.byte_size / 2**20, 1)),
            limit=documents.MAX_FILE_BYTES // 2**20,
        )
    if problem is Problem.UNKNOWN_TYPE and file is not None:
        return _(
            "chibo cannot send this kind of file ({name}). Send a PDF, Word, Excel, "
            "PowerPoint, OpenDocument, text or picture (JPG, PNG) file, or a link."
        ).format(name=file.filename)
    return _(
        "Write the document's text or link after /docs, e.g. /docs Nghị quyết tháng 12: https://…"
    )


def document_reply(
    t: Translator, document: MeetingDocument, period: Period, read_at: datetime | None = None
) -> Reply:
    """A document as a member sees it: its text or link, the file, and the "Read" button."""
    _ = t.gettext
    assert document.sent_at is not None
    lines = [
        "📄 "
        + _("Documents for the cell meeting {month}/{year}").format(
            month=period.month, year=period.year
        ),
        document.title,
        "",
    ]
    buttons: list[list[Button]] = []
    if read_at is None:
        lines.append(_('Please read them before the meeting, then press "Read".'))
        buttons = [[Button("✅ " + _("Read"), DocRead(document.id).pack())]]
    else:
        lines.append("✅ " + _("You read them ({time}).").format(time=t.when(read_at)))
    return Reply("\n".join(lines), buttons, attachment=stored_file(document, "document"))


async def _member_view(turn: Turn) -> Outcome:
    assert turn.member is not None
    period = await current_period(turn)
    month = await documents.of_month(turn.session, period) if period is not None else None
    if period is None or month is None or not month.documents:
        return Outcome([Reply(turn._("No documents have been sent this month yet."))])
    reads = await documents.reads_of(turn.session, period.id, turn.member.id)
    return Outcome([document_reply(turn.t, d, period, reads.get(d.id)) for d in month.documents])


async def overview(turn: Turn, period: Period | None, shown: MeetingDocument | None) -> Outcome:
    """The month's documents, when they went out and who has read them (secretaries);
    the names are those of `shown` (default: the latest document)."""
    _ = turn._
    assert turn.member is not None
    month = await documents.of_month(turn.session, period) if period is not None else None
    if period is None or month is None or not month.documents:
        return Outcome(
            [
                Reply(
                    _(
                        "No documents have been sent this month yet. Send one with /docs TEXT "
                        "or /docs LINK; on Telegram you can also send a file (PDF, Word…) "
                        "with a caption."
                    )
                )
            ]
        )
    lines = [
        "📄 "
        + _("Documents for the cell meeting {month}/{year}").format(
            month=period.month, year=period.year
        )
    ]
    for number, document in enumerate(month.documents, 1):
        assert document.sent_at is not None
        lines.append(
            _("{number}. {title} — sent {time} — read by {read} of {members}").format(
                number=number,
                title=_short(document.title),
                time=turn.t.when(document.sent_at),
                read=month.read_counts.get(document.id, 0),
                members=month.audiences[document.id],
            )
        )
    lead = await _lead_line(turn, period, month.documents)
    if lead:
        lines.append(lead)
    shown = shown if shown in month.documents else month.documents[-1]
    who = await documents.readers(turn.session, shown, turn.member.org_id)
    number = month.documents.index(shown) + 1
    lines += [
        "",
        _("Document {number}: {title}").format(number=number, title=_short(shown.title)),
        _("Read ({n}):").format(n=len(who.read)),
    ]
    lines += [f"✅ {m.full_name} — {turn.t.when(at)}" for m, at in who.read]
    lines.append(_("Not read yet ({n}):").format(n=len(who.unread)))
    lines += [f"⬜ {m.full_name}" for m in who.unread]
    buttons: list[list[Button]] = []
    if len(month.documents) > 1:
        row = [Button(f"👥 {n}", DocReaders(d.id).pack()) for n, d in enumerate(month.documents, 1)]
        buttons = [row[i : i + 5] for i in range(0, len(row), 5)]
    return Outcome([Reply("\n".join(lines), buttons)])


async def _lead_line(turn: Turn, period: Period, sent: list[MeetingDocument]) -> str | None:
    """How long before the meeting the first document went out, against the framework's rule."""
    lead = documents_lead_hours(period.meeting_at, [d.sent_at for d in sent])
    if lead is None:
        return None
    spec = await load_spec(turn.session, period.framework_id)
    criterion = next(
        (c for _g, c in spec.cell_criteria() if c.metric is CellMetric.DOCUMENTS_LEAD_HOURS), None
    )
    if criterion is None:
        return None
    threshold = criterion.min_hours if criterion.min_hours is not None else DOCUMENTS_MIN_HOURS
    met = metric_score(CellMetric.DOCUMENTS_LEAD_HOURS, lead, criterion.min_hours) >= 1
    return ("✅ " if met else "❌ ") + turn._(
        "The first document went out {hours} hours before the meeting (at least {min} needed)."
    ).format(hours=turn.t.number(round(lead, 1)), min=turn.t.number(threshold))


async def readers_of(turn: Turn, data: DocReaders) -> Outcome:
    """A document's number under /docs: who has read that one."""
    assert turn.member is not None
    found = await documents.own(turn.session, data.document, turn.member.org_id)
    if found is None or found.document.sent_at is None:
        return stale(turn)
    return await overview(turn, found.period, found.document)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TITLE_WIDTH else flat[: TITLE_WIDTH - 1].rstrip() + "…"
