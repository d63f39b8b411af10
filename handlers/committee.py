"""What a committee officer sees: the cells below the committee, never individual answers."""

from __future__ import annotations

from bot import committee
from bot.chat import Outcome, Reply
from handlers.context import Turn


async def cells(turn: Turn, args: list[str]) -> Outcome:
    """/cells [YYYY-MM]: which cells confirmed the month, their results, a ranking."""
    _ = turn._
    assert turn.member is not None
    month = None
    if args and len(args[0]) == 7 and args[0][4] == "-" and args[0].replace("-", "").isdigit():
        month = (int(args[0][:4]), int(args[0][5:]))
    month = month or await committee.latest_month(turn.session, turn.member.org_id)
    if month is None:
        return Outcome([Reply(_("No cell below your committee has a self-assessment yet."))])
    view = await committee.committee_month(turn.session, turn.member.org_id, *month)
    lines = [
        _("{committee}: cells in {month}/{year}").format(
            committee=turn.member.org.name, month=view.month, year=view.year
        ),
        _('Confirmed: {confirmed} of {count}; "4 tốt": {four_good}; mean total: {mean}').format(
            confirmed=len(view.ranked),
            count=len(view.lines),
            four_good=view.four_good,
            mean="—" if view.mean_total is None else turn.t.number(round(view.mean_total, 1)),
        ),
        "",
    ]
    for rank, line in enumerate(view.ranked, 1):
        assert line.record is not None
        mark = "⭐" if line.record.four_good else "•"
        total = turn.t.number(round(line.record.total, 1))
        lines.append(f"{rank}. {mark} {line.cell.name} — {total}")
    waiting = [line for line in view.lines if not line.confirmed]
    if waiting:
        lines += ["", _("Not confirmed yet:")]
        lines += [f"⬜ {line.cell.name}" for line in waiting]
    return Outcome([Reply("\n".join(lines[:200]))])
