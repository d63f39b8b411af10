"""Button data: one typed family per prefix, packed and parsed in one place.

A button carries `prefix:field:field…` (Telegram allows 64 bytes). Each family
below is a frozen dataclass whose fields say what the parts are; `pack()` writes
it and `parse()` reads it back, or gives None for anything stale, forged or
malformed, so that the router answers one "This button is no longer valid." and
no handler ever splits or converts button data itself.

Field types: `int` (a database id or a small number, read by `bot.core.numbers`),
`str` (a framework key: a-z, 0-9 and _), `bool` ("1"/"0"), a `Literal` of allowed
words; a field with a default may be left off the end.
"""

from __future__ import annotations

import re
import types
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, Literal, Self, Union, get_args, get_origin, get_type_hints

from bot.core.numbers import MAX_ROW_ID, whole_number

_KEY = re.compile(r"[a-z0-9_]{1,40}")


_FIELDS: dict[type, tuple[tuple[str, Any, bool], ...]] = {}


def _field_types(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, optional) of a family's fields, read once per family."""
    if cls not in _FIELDS:
        hints = get_type_hints(cls)
        _FIELDS[cls] = tuple((f.name, hints[f.name], f.default is not MISSING) for f in fields(cls))
    return _FIELDS[cls]


def _optional_of(kind: Any) -> Any:
    """`int` for `int | None`; the type itself otherwise."""
    if get_origin(kind) in (Union, types.UnionType):
        rest = [a for a in get_args(kind) if a is not type(None)]
        return rest[0]
    return kind


def _parse_part(kind: Any, text: str) -> tuple[bool, Any]:
    kind = _optional_of(kind)
    if kind is int:
        number = whole_number(text, 0, MAX_ROW_ID)
        return number is not None, number
    if kind is bool:
        return text in {"0", "1"}, text == "1"
    if kind is str:
        return _KEY.fullmatch(text) is not None, text
    if get_origin(kind) is Literal:
        return text in get_args(kind), text
    raise TypeError(f"unsupported button field type {kind!r}")


def _pack_part(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class ButtonData:
    """Base of every button family; subclasses are frozen dataclasses."""

    prefix: ClassVar[str]

    def pack(self) -> str:
        parts = [self.prefix]
        for name, _kind, _optional in _field_types(type(self)):
            value = getattr(self, name)
            if value is None:
                break
            parts.append(_pack_part(value))
        return ":".join(parts)

    @classmethod
    def parse(cls, parts: list[str]) -> Self | None:
        """The family's fields from the parts after the prefix, or None."""
        spec = _field_types(cls)
        required = sum(1 for _name, _kind, optional in spec if not optional)
        if not required <= len(parts) <= len(spec):
            return None
        values: dict[str, Any] = {}
        for (name, kind, _optional), text in zip(spec, parts, strict=False):
            ok, value = _parse_part(kind, text)
            if not ok:
                return None
            values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class Language(ButtonData):
    prefix: ClassVar[str] = "lang"
    code: str  # checked against the supported locales by the handler


@dataclass(frozen=True)
class InvitePreset(ButtonData):
    prefix: ClassVar[str] = "inv"
    uses: int
    days: int


AssessmentVerb = Literal[
    "ans", "skip", "nocomment", "back", "edit", "help", "review", "submit", "go", "pause", "reopen"
]


@dataclass(frozen=True)
class AssessmentAction(ButtonData):
    """A step of the member's own assessment; the service checks every id again."""

    prefix: ClassVar[str] = "as"
    verb: AssessmentVerb
    assessment: int
    question: int | None = None
    value: str | None = None


@dataclass(frozen=True)
class StartAssessment(ButtonData):
    prefix: ClassVar[str] = "go"
    period: int


@dataclass(frozen=True)
class Rsvp(ButtonData):
    prefix: ClassVar[str] = "rsvp"
    period: int
    answer: Literal["y", "n"]


@dataclass(frozen=True)
class Mute(ButtonData):
    prefix: ClassVar[str] = "mute"
    muted: bool


@dataclass(frozen=True)
class AttendanceMark(ButtonData):
    prefix: ClassVar[str] = "att"
    period: int
    member: int


@dataclass(frozen=True)
class ExcuseToggle(ButtonData):
    prefix: ClassVar[str] = "exc"
    period: int
    member: int


@dataclass(frozen=True)
class ExcusalDecision(ButtonData):
    prefix: ClassVar[str] = "exa"
    excusal: int
    answer: Literal["y", "n"]


@dataclass(frozen=True)
class MonthAction(ButtonData):
    """The secretary's month buttons; `ref` is a period id, or a year for "year"."""

    prefix: ClassVar[str] = "ev"
    verb: Literal["detail", "year", "sum", "check", "confirm"]
    ref: int


@dataclass(frozen=True)
class CellFactToggle(ButtonData):
    prefix: ClassVar[str] = "cf"
    period: int
    key: str


@dataclass(frozen=True)
class AttendancePage(ButtonData):
    prefix: ClassVar[str] = "attp"
    period: int
    page: int


@dataclass(frozen=True)
class ExcusePage(ButtonData):
    prefix: ClassVar[str] = "excp"
    period: int
    page: int


@dataclass(frozen=True)
class MembersPage(ButtonData):
    """A page of the secretary's /members roster."""

    prefix: ClassVar[str] = "mbp"
    page: int


@dataclass(frozen=True)
class MemberCard(ButtonData):
    prefix: ClassVar[str] = "mbc"
    member: int


@dataclass(frozen=True)
class MemberAction(ButtonData):
    """A step on a member's card: remove (ask the reason), confirm or cancel it, choose a
    destination cell (a page of them), the status or the role menu."""

    prefix: ClassVar[str] = "mba"
    verb: Literal["rm", "rmok", "rmno", "mv", "st", "ro"]
    member: int
    page: int | None = None


@dataclass(frozen=True)
class MemberMove(ButtonData):
    """Move a member to cell `cell` (0: a cell outside chibo), once `confirmed`."""

    prefix: ClassVar[str] = "mbm"
    member: int
    cell: int
    confirmed: bool = False


MemberValue = Literal[
    "official", "probationary", "exempt", "member", "deputy_secretary", "secretary"
]


@dataclass(frozen=True)
class MemberSet(ButtonData):
    """A member's new status or role."""

    prefix: ClassVar[str] = "mbs"
    member: int
    value: MemberValue


@dataclass(frozen=True)
class DocRead(ButtonData):
    """A member's "Read" under a meeting document; the handler checks the document's cell."""

    prefix: ClassVar[str] = "dr"
    document: int


@dataclass(frozen=True)
class DocSend(ButtonData):
    """The secretary's choice for a file sent without a caption: send it, or not."""

    prefix: ClassVar[str] = "ds"
    document: int
    answer: Literal["y", "n"]


@dataclass(frozen=True)
class DocReaders(ButtonData):
    """Who has read one of the month's documents (the secretary's /docs)."""

    prefix: ClassVar[str] = "dw"
    document: int


@dataclass(frozen=True)
class ConsultAnswer(ButtonData):
    """A member's answer to a consultation: agree, disagree, or another opinion (typed next)."""

    prefix: ClassVar[str] = "ka"
    consultation: int
    choice: Literal["y", "n", "o"]


@dataclass(frozen=True)
class ConsultTally(ButtonData):
    """The secretary's tally of one consultation, with every comment and its author."""

    prefix: ClassVar[str] = "kt"
    consultation: int


@dataclass(frozen=True)
class TaskAck(ButtonData):
    """ "Nhận nhiệm vụ" under a task; the handler checks the assignment is the presser's."""

    prefix: ClassVar[str] = "ta"
    assignment: int


@dataclass(frozen=True)
class TaskReport(ButtonData):
    """A member's report on their task: done, doing, or unable (so far)."""

    prefix: ClassVar[str] = "tr"
    assignment: int
    status: Literal["done", "doing", "unable"]


@dataclass(frozen=True)
class TaskNoteSkip(ButtonData):
    """No note on the report just made."""

    prefix: ClassVar[str] = "tn"
    assignment: int


@dataclass(frozen=True)
class TaskWho(ButtonData):
    """The secretary's view of one task: who finished it and when, a page of names."""

    prefix: ClassVar[str] = "tw"
    task: int
    page: int = 0
