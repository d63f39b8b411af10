"""What a committee officer sees: the cells below the committee, never individual answers."""

from __future__ import annotations

from bot.core import numbers
from bot.core.chat import Outcome, Reply
from bot.core.i18n import Translator
from bot.services import committee
from handlers.context import Turn


async def cells(turn: Turn, args: list[str]) -> Outcome:
    """/cells [YYYY-MM | YYYY]: which cells confirmed the month, or each cell's year."""
    _ = turn._
    assert turn.member is not None
    if args and (year := numbers.year(args[0])) is not None:
        return await _year(turn, year)
    month = numbers.year_month(args[0]) if args else None
    if args and month is None:
        return Outcome(
            [Reply(_("Please give a year or a month, e.g. /cells 2026 or /cells 2026-03."))]
        )
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
        *_cycle_lines(turn.t, view),
        "",
    ]
    for rank, line in enumerate(view.ranked, 1):
        assert line.record is not None
        mark = "⭐" if line.record.four_good else "•"
        total = turn.t.number(round(line.record.total, 1))
        lines.append(f"{rank}. {mark} {line.cell.name} — {total}{_cycle(turn.t, line.cycle)}")
    waiting = [line for line in view.lines if not line.confirmed]
    if waiting:
        lines += ["", _("Not confirmed yet:")]
        lines += [f"⬜ {line.cell.name}{_cycle(turn.t, line.cycle)}" for line in waiting]
    return Outcome([Reply("\n".join(lines))])


def _cycle_lines(t: Translator, view: committee.CommitteeMonth) -> list[str]:
    """The committee's figures of the monthly cycle (counts and shares, never names), and
    the key to the marks on each cell's line; nothing in a month without any."""
    _ = t.gettext
    lines = []
    done, carried = view.tasks
    if carried:
        lines.append(
            _(
                "📌 Tasks of last month's resolutions done on time: {done} of {total} ({share})"
            ).format(done=done, total=carried, share=t.percent(done / carried))
        )
    asked, answers, roll = view.consultations
    if asked:
        lines.append(
            _("💬 Drafts for comment: {n}; members who answered: {share}").format(
                n=asked, share=t.percent(answers / roll)
            )
        )
    in_time, with_documents = view.documents
    if with_documents:
        lines.append(
            _("📄 Documents sent in time before the meeting: {n} of {count} cells").format(
                n=in_time, count=with_documents
            )
        )
    return lines


def _cycle(t: Translator, figures: committee.CycleFigures) -> str:
    """A cell's cycle figures after its name: "· 📌 8/10 · 💬 75 % · 📄 ✅" (what it has)."""
    parts = []
    if figures.tasks is not None:
        done, carried = figures.tasks
        parts.append(f"📌 {t.number(done)}/{t.number(carried)}")
    if (rate := figures.answer_rate) is not None:
        parts.append(f"💬 {t.percent(rate)}")
    if figures.documents_in_time is not None:
        parts.append("📄 " + ("✅" if figures.documents_in_time else "❌"))
    return "".join(f" · {part}" for part in parts)


async def _year(turn: Turn, year: int) -> Outcome:
    """/cells YYYY: each cell's year, cells suggested for recognition first."""
    _ = turn._
    assert turn.member is not None
    years = await committee.committee_year(turn.session, turn.member.org_id, year, turn.now)
    if not years:
        return Outcome([Reply(_("No records for {year}.").format(year=year))])
    recognised = sum(1 for y in years if y.result.recognised)
    lines = [
        _("{committee}: cells in {year}").format(committee=turn.member.org.name, year=year),
        _('Suggested for recognition as "4 tốt": {n} of {count} cells').format(
            n=recognised, count=len(years)
        ),
        "",
    ]
    for rank, item in enumerate(years, 1):
        mark = "⭐" if item.result.recognised else "•"
        mean = (
            "—"
            if item.result.mean_total is None
            else turn.t.number(round(item.result.mean_total, 1))
        )
        lines.append(
            f"{rank}. {mark} {item.cell.name} — {mean} · "
            + _('{n} "4 tốt" months').format(n=item.result.four_good_months)
        )
    return Outcome([Reply("\n".join(lines))])
