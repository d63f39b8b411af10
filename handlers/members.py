"""The secretary's /members: the cell's roster, a card per member, and the member's life
in the cell (remove with a reason, move to another cell, status, role).

Every button names a member by id; the handler checks again that the member is a
current member of the secretary's own cell (and a destination one of the cells under
the same committee), so stale or forged data changes nothing.
"""

from __future__ import annotations

from typing import cast

from bot.core.chat import Button, Outcome, Reply
from bot.render.names import role_name, status_name
from bot.services import lifecycle
from bot.services.lifecycle import Refusal, Refused
from bot.services.membership import is_secretary
from handlers import paging
from handlers.callbacks import (
    MemberAction,
    MemberCard,
    MemberMove,
    MemberSet,
    MembersPage,
    MemberValue,
)
from handlers.context import Turn, stale
from storage.models import Member, MemberStatus, Organization, Role

OUTSIDE = 0  # MemberMove's cell for "a cell outside chibo"


async def roster(turn: Turn, args: list[str]) -> Outcome:
    """/members: the cell's members, a page at a time; tap a name for their card."""
    return await _roster(turn, edit=False)


async def roster_page(turn: Turn, data: MembersPage) -> Outcome:
    """‹ Previous / Next › on the roster."""
    return await _roster(turn, edit=True, number=data.page)


async def _roster(
    turn: Turn, edit: bool, *, number: int = 0, member: Member | None = None
) -> Outcome:
    _ = turn._
    assert turn.member is not None
    members = await lifecycle.roster(turn.session, turn.member.org_id)
    ids = [m.id for m in members]
    shown = paging.page_of(ids, member.id) if member else paging.page(ids, number)
    on_page = set(shown.items)
    buttons = [
        [Button(_label(turn, m), MemberCard(m.id).pack())] for m in members if m.id in on_page
    ]
    buttons += paging.navigation(turn.t, shown, lambda n: MembersPage(n).pack())
    text = _("Members of {cell}: {count}. Tap a name to see the member's card.").format(
        cell=turn.member.org.name, count=len(members)
    )
    return Outcome([Reply(paging.with_caption(text, turn.t, shown), buttons, edit=edit)])


def _label(turn: Turn, member: Member) -> str:
    parts = [member.full_name]
    if member.role != Role.MEMBER:
        parts.append(role_name(turn.t, member.role))
    if member.status != MemberStatus.OFFICIAL:
        parts.append(status_name(turn.t, member.status))
    return " · ".join(parts)


async def _target(turn: Turn, member_id: int) -> Member | None:
    """The member a button names, if they are a current member of the presser's cell."""
    assert turn.member is not None
    member = await turn.session.get(Member, member_id)
    if member is None or member.org_id != turn.member.org_id or not member.active:
        return None
    return member


async def card(turn: Turn, data: MemberCard) -> Outcome:
    member = await _target(turn, data.member)
    if member is None:
        return stale(turn)
    return _card(turn, member)


def _card(turn: Turn, member: Member, heading: str | None = None) -> Outcome:
    _ = turn._
    lines = [heading] if heading else []
    lines += [
        "👤 " + member.full_name,
        _("Status: {status}").format(status=status_name(turn.t, member.status)),
        _("Role: {role}").format(role=role_name(turn.t, member.role)),
        _("Joined: {date}").format(date=turn.t.day(member.joined_at) if member.joined_at else "—"),
    ]
    buttons = [
        [Button("✖ " + _("Remove from the cell"), MemberAction("rm", member.id).pack())],
        [Button("➡ " + _("Moved to another cell"), MemberAction("mv", member.id).pack())],
        [Button(_("Change status"), MemberAction("st", member.id).pack())],
        [Button(_("Change role"), MemberAction("ro", member.id).pack())],
        [Button("‹ " + _("All members"), MembersPage(0).pack())],
    ]
    return Outcome([Reply("\n".join(lines), buttons, edit=True)])


async def action(turn: Turn, data: MemberAction) -> Outcome:
    """A button on a member's card."""
    _ = turn._
    assert turn.member is not None
    member = await _target(turn, data.member)
    if member is None:
        return stale(turn)
    if data.verb == "rm":
        if (refused := _self_refusal(turn, member)) is not None:
            return refused
        lifecycle.ask_removal_reason(turn.member, member)
        text = _("Please write the reason for removing {name} from the cell:").format(
            name=member.full_name
        )
        cancel = [[Button(_("Cancel"), MemberAction("rmno", member.id).pack())]]
        return Outcome([Reply(text, cancel, typed=True)])
    if data.verb == "rmok":
        return await _confirm_removal(turn, member)
    if data.verb == "rmno":
        lifecycle.forget_removal(turn.member)
        return _card(turn, member)
    if data.verb == "mv":
        if (refused := _self_refusal(turn, member)) is not None:
            return refused
        return await _destinations(turn, member, data.page or 0)
    if data.verb == "st":
        return _choices(
            turn, member, [(s, status_name(turn.t, s)) for s in lifecycle.STATUSES], member.status
        )
    return _choices(
        turn, member, [(r, role_name(turn.t, r)) for r in lifecycle.CELL_ROLES], member.role
    )


def _choices(turn: Turn, member: Member, options: list[tuple[str, str]], current: str) -> Outcome:
    _ = turn._
    buttons = [
        [
            Button(
                ("✓ " if value == current else "") + label,
                MemberSet(member.id, cast(MemberValue, value)).pack(),
            )
        ]
        for value, label in options
    ]
    buttons.append([Button("‹ " + _("Back"), MemberCard(member.id).pack())])
    text = _("{name}: choose the new value.").format(name=member.full_name)
    return Outcome([Reply(text, buttons, edit=True)])


async def set_value(turn: Turn, data: MemberSet) -> Outcome:
    """A new status or role for the member, from now on; they are told."""
    _ = turn._
    assert turn.member is not None
    member = await _target(turn, data.member)
    if member is None:
        return stale(turn)
    try:
        if data.value in lifecycle.STATUSES:
            changed = await lifecycle.set_status(
                turn.session, member, data.value, turn.now, by=turn.member
            )
        else:
            changed = await lifecycle.set_role(
                turn.session, member, data.value, turn.now, by=turn.member
            )
    except Refused as exc:
        return _refused(turn, exc.why)
    if changed is None:
        return Outcome(notice=_("Nothing changed."))
    done = _("Saved; {name} is told.").format(name=member.full_name)
    outcome = _card(turn, member, heading="✅ " + done)
    outcome.notice = done
    return outcome


async def removal_reason(turn: Turn, text: str) -> Outcome:
    """Typed text after "Remove from the cell": the reason; then a confirm step."""
    _ = turn._
    assert turn.member is not None
    target = lifecycle.removal_target(turn.member)
    member = await _target(turn, target) if target is not None else None
    if member is None or not is_secretary(turn.member):
        lifecycle.forget_removal(turn.member)
        return Outcome([Reply(_("This button is no longer valid."))])
    lifecycle.hold_reason(turn.member, text)
    question = _("Remove {name} from the cell? Reason: {reason}\nThey will be told.").format(
        name=member.full_name, reason=text[: lifecycle.MAX_REASON_LENGTH]
    )
    buttons = [
        [Button("✖ " + _("Yes, remove"), MemberAction("rmok", member.id).pack())],
        [Button(_("Cancel"), MemberAction("rmno", member.id).pack())],
    ]
    return Outcome([Reply(question, buttons)])


def wants_removal_reason(turn: Turn) -> bool:
    member = turn.member
    return member is not None and lifecycle.removal_target(member) is not None


async def _confirm_removal(turn: Turn, member: Member) -> Outcome:
    _ = turn._
    assert turn.member is not None
    reason = turn.member.pending_text
    if lifecycle.removal_target(turn.member) != member.id or not reason:
        return stale(turn)
    try:
        await lifecycle.remove(turn.session, member, reason, turn.now, by=turn.member)
    except Refused as exc:
        return _refused(turn, exc.why)
    lifecycle.forget_removal(turn.member)
    text = _("{name} was removed from the cell and is told.").format(name=member.full_name)
    return Outcome([Reply(text, edit=True)], notice=text)


async def _destinations(turn: Turn, member: Member, number: int) -> Outcome:
    _ = turn._
    assert turn.member is not None
    cells = await lifecycle.destinations(turn.session, turn.member.org)
    shown = paging.page(cells, number)
    buttons = [[Button(c.name, MemberMove(member.id, c.id).pack())] for c in shown.items]
    buttons += paging.navigation(turn.t, shown, lambda n: MemberAction("mv", member.id, n).pack())
    buttons.append([Button(_("A cell outside chibo"), MemberMove(member.id, OUTSIDE).pack())])
    buttons.append([Button("‹ " + _("Back"), MemberCard(member.id).pack())])
    text = _("Where has {name} moved? Choose the new cell:").format(name=member.full_name)
    return Outcome([Reply(paging.with_caption(text, turn.t, shown), buttons, edit=True)])


async def move(turn: Turn, data: MemberMove) -> Outcome:
    """A destination chosen: ask to confirm, then move (or remove, for outside chibo)."""
    _ = turn._
    assert turn.member is not None
    member = await _target(turn, data.member)
    if member is None:
        return stale(turn)
    target: Organization | None = None
    if data.cell != OUTSIDE:
        cells = await lifecycle.destinations(turn.session, turn.member.org)
        target = next((c for c in cells if c.id == data.cell), None)
        if target is None:
            return stale(turn)
    if (refused := _self_refusal(turn, member)) is not None:
        return refused
    where = target.name if target is not None else _("a cell outside chibo")
    if not data.confirmed:
        question = _("Move {name} to {cell}? They will be told.").format(
            name=member.full_name, cell=where
        )
        buttons = [
            [Button("✅ " + _("Yes, move"), MemberMove(member.id, data.cell, True).pack())],
            [Button(_("Cancel"), MemberCard(member.id).pack())],
        ]
        return Outcome([Reply(question, buttons, edit=True)])
    try:
        if target is None:
            await lifecycle.remove(
                turn.session, member, None, turn.now, by=turn.member, moved_away=True
            )
        else:
            await lifecycle.move(turn.session, member, target, turn.now, by=turn.member)
    except Refused as exc:
        return _refused(turn, exc.why)
    text = _("{name} has moved to {cell} and is told.").format(name=member.full_name, cell=where)
    return Outcome([Reply(text, edit=True)], notice=text)


def _self_refusal(turn: Turn, member: Member) -> Outcome | None:
    assert turn.member is not None
    return _refused(turn, Refusal.SELF) if member.id == turn.member.id else None


def _refused(turn: Turn, why: Refusal) -> Outcome:
    _ = turn._
    texts = {
        Refusal.SELF: _(
            "You cannot do this to yourself: you would lose the secretary's commands. "
            "Ask another secretary of the cell, or an administrator."
        ),
        Refusal.LAST_SECRETARY: _(
            "The cell would be left without a secretary. First make another member "
            "secretary or deputy secretary."
        ),
    }
    if why not in texts:
        return stale(turn)
    return Outcome([Reply(texts[why])], notice=texts[why][:200])
