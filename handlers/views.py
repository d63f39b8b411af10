"""Texts shown in more than one place: the secretary's progress list, a stored file."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import Attachment
from bot.core.i18n import N_, Translator
from bot.services import assessment, periods
from bot.services.periods import EXCUSED, Progress
from storage.models import Period

PROGRESS_LABELS = {
    Progress.SUBMITTED: N_("submitted"),
    Progress.IN_PROGRESS: N_("in progress"),
    Progress.NOT_STARTED: N_("not started"),
    Progress.EXCUSED_EXEMPT: N_("excused (exempt from activities)"),
    Progress.EXCUSED_JOINED_LATE: N_("excused (joined after the window opened)"),
    Progress.EXCUSED_BY_SECRETARY: N_("excused for this month"),
}
PROGRESS_MARKS = {
    Progress.SUBMITTED: "✅",
    Progress.IN_PROGRESS: "✏️",
    Progress.NOT_STARTED: "⬜",
    Progress.EXCUSED_EXEMPT: "➖",
    Progress.EXCUSED_JOINED_LATE: "➖",
    Progress.EXCUSED_BY_SECRETARY: "➖",
}


async def progress_text(
    session: AsyncSession, period: Period, t: Translator, *, only_missing: bool = False
) -> str:
    """Completion of the period, then one line per member (or only those still missing)."""
    _ = t.gettext
    rows = await periods.cell_progress(session, period)
    total = len((await assessment.questionnaire(session, period.framework_id)).questions)
    counted = [r for r in rows if r.progress not in EXCUSED]
    done = sum(r.progress is Progress.SUBMITTED for r in counted)
    lines = [
        _("Self-assessment {month}/{year}, deadline {deadline}").format(
            month=period.month, year=period.year, deadline=t.when(period.deadline_at)
        ),
        _("Submitted: {done} of {count}").format(done=done, count=len(counted)),
        "",
    ]
    for row in rows:
        if only_missing and row.progress not in {Progress.NOT_STARTED, Progress.IN_PROGRESS}:
            continue
        label = _(PROGRESS_LABELS[row.progress])
        if row.progress is Progress.IN_PROGRESS:
            label += f" ({row.answered}/{total})"
        lines.append(f"{PROGRESS_MARKS[row.progress]} {row.member.full_name} — {label}")
    return "\n".join(lines)


class StoredFile(Protocol):
    """A row that keeps a Telegram file: a meeting document, a draft, a resolution."""

    file_id: str | None
    file_name: str | None
    file_size: int | None
    mime_type: str | None
    file_link: str | None


def stored_file(row: StoredFile, default_name: str) -> Attachment | None:
    """The row's file, sent again by its Telegram file_id (or its public link on Zalo)."""
    if row.file_id is None:
        return None
    return Attachment(
        "document",
        row.file_name or default_name,
        b"",
        size=row.file_size,
        file_id=row.file_id,
        mime_type=row.mime_type,
        link=row.file_link,
    )
