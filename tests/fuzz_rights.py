"""What one chat turn may change: a snapshot of every table and the sender's rights over rows.

A member may change their own member row (language, reminders, pending input), their own
assessment and answers, RSVPs, excusal requests and "Read" marks on their cell's documents,
and the notifications those send to their secretary. A secretary may also change their
cell's data (periods, meetings, documents, attendance, excusals, facts, records, invites,
the audit log, notifications) and their cell's members (/members: remove, move, status,
role — with the member's events, chat accounts and notices, and the row a move makes in
the other cell). Nobody else changes another member's row or answers, another cell's data,
a framework, or a role; nobody changes the cell of a member row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import make_url

from bot.services.planner import Kind
from bot.services.runtime import Runtime
from storage.models import Base

Row = Mapping[str, Any]
Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]  # table → primary key → row

FRAMEWORK_TABLES = frozenset(
    {"frameworks", "criterion_groups", "criteria", "questions", "question_options"}
)
CELL_TABLES = frozenset(
    {
        "periods",
        "cell_schedules",
        "meeting_overrides",
        "attendance",
        "cell_facts",
        "cell_evaluations",
        "audit_log",
        "invites",
        "notifications",
        "rsvps",
        "excusals",
        "resolutions",
        "resolution_tasks",
        "task_assignments",
        "meeting_documents",
    }
)
OWN_ROW_TABLES = frozenset(
    {"rsvps", "excusals", "task_assignments"}
)  # besides the secretary, the member it is of


BOOKKEEPING = {"chat_identities": {"last_seen_at"}, "processed_messages": {"at"}}
"""Columns every message may write: when an account was last used (notifications follow it)."""


def snapshot(runtime: Runtime) -> Snapshot:
    """Every committed row of every table, by primary key (SQLite, read directly: fast),
    without the bookkeeping columns that any message may update."""
    path = make_url(runtime.db.url).database
    assert runtime.db.url.startswith("sqlite") and path, "snapshots read a SQLite file"
    taken: Snapshot = {}
    with closing(sqlite3.connect(path)) as connection:
        for table in Base.metadata.sorted_tables:
            keys = [c.name for c in table.primary_key.columns]
            cursor = connection.execute(f'SELECT * FROM "{table.name}"')
            names = [d[0] for d in cursor.description]
            skip = BOOKKEEPING.get(table.name, set())
            rows = [
                {n: v for n, v in zip(names, values, strict=True) if n not in skip}
                for values in cursor
            ]
            taken[table.name] = {tuple(r[k] for k in keys): r for r in rows}
    return taken


@dataclass(frozen=True)
class Sender:
    user: str  # the chat user id
    member_id: int | None  # None: a stranger
    cell_id: int | None  # None: a stranger or a committee officer (no cell)
    secretary: bool


@dataclass(frozen=True)
class Owners:
    """Who each row belongs to, from the rows before and after the turn."""

    member_org: dict[int, int]
    period_cell: dict[int, int]
    assessment_member: dict[int, int]
    moved_from: dict[int, int | None]
    document_cell: dict[int, int]
    resolution_period: dict[int, int]
    task_resolution: dict[int, int]

    @classmethod
    def of(cls, *snapshots: Snapshot) -> Owners:
        members: dict[int, int] = {}
        periods: dict[int, int] = {}
        assessments: dict[int, int] = {}
        moved: dict[int, int | None] = {}
        documents: dict[int, int] = {}
        resolutions: dict[int, int] = {}
        tasks: dict[int, int] = {}
        for taken in snapshots:
            members |= {r["id"]: r["org_id"] for r in taken["members"].values()}
            periods |= {r["id"]: r["cell_id"] for r in taken["periods"].values()}
            assessments |= {r["id"]: r["member_id"] for r in taken["assessments"].values()}
            moved |= {r["id"]: r["moved_from_id"] for r in taken["members"].values()}
            resolutions |= {r["id"]: r["period_id"] for r in taken["resolutions"].values()}
            tasks |= {r["id"]: r["resolution_id"] for r in taken["resolution_tasks"].values()}
        for taken in snapshots:
            for r in taken["meeting_documents"].values():
                documents[r["id"]] = periods.get(r["period_id"], -1)
        return cls(members, periods, assessments, moved, documents, resolutions, tasks)

    def cells_of_member(self, member_id: int | None) -> set[int]:
        """The member row's cell, and for a row a move made, the cell it came from."""
        if member_id is None:
            return set()
        origin = self.moved_from.get(member_id)
        cells = {self.member_org.get(member_id), self.member_org.get(origin or -1)}
        return {c for c in cells if c is not None}

    def cell_of(self, table: str, row: Row) -> int | None:
        if table == "organizations":
            return int(row["id"])
        if table == "task_assignments":
            return self.cell_of(
                "resolution_tasks", {"resolution_id": self.task_resolution.get(row["task_id"], -1)}
            )
        if table == "resolution_tasks":
            period = self.resolution_period.get(row["resolution_id"], -1)
            return self.period_cell.get(period)
        if "cell_id" in row:
            return row["cell_id"]
        if "period_id" in row:
            return self.period_cell.get(row["period_id"])
        if "org_id" in row:
            return row["org_id"]
        return None


def may_change(sender: Sender, table: str, row: Row, owners: Owners) -> bool:
    """Whether the turn of `sender` may insert, update or delete this row."""
    if table in FRAMEWORK_TABLES:
        return False  # no documents are sent: nothing may touch a framework
    if table == "join_attempts":
        return row["external_id"] == sender.user
    if sender.member_id is None:
        return False
    member_rows = {"members": "id", "chat_identities": "member_id", "member_events": "member_id"}
    if sender.secretary and table in member_rows | {"notifications": ""}:
        key = member_rows.get(table, "member_id")
        if (table != "notifications" or row["period_id"] is None) and sender.cell_id in (
            owners.cells_of_member(row.get(key))
        ):
            return True  # /members: the secretary's cell's members and what follows them
    if table == "document_reads":  # a mark of the member's own, on their cell's document
        document_cell = owners.document_cell.get(row["document_id"])
        return row["member_id"] == sender.member_id and document_cell == sender.cell_id
    own_member = {
        "members": row.get("id"),
        "chat_identities": row.get("member_id"),
        "assessments": row.get("member_id"),
        "answers": owners.assessment_member.get(row.get("assessment_id", -1)),
    }
    if table in own_member:
        return own_member[table] == sender.member_id
    cell = owners.cell_of(table, row)
    if cell is None or cell != sender.cell_id:
        return False
    if sender.secretary:
        return table in CELL_TABLES or table == "organizations"
    if table in OWN_ROW_TABLES:
        return row["member_id"] == sender.member_id
    if table == "notifications":
        # a member's excusal request is sent to the secretaries; a task reported done
        # settles the secretaries' overdue list of its day
        told = {Kind.EXCUSAL_REQUEST, Kind.TASKS_OVERDUE}
        return row["kind"] in told or row["member_id"] == sender.member_id
    return False


def violations(sender: Sender, before: Snapshot, after: Snapshot) -> list[str]:
    """Every row changed beyond the sender's rights, and every changed role or cell."""
    owners = Owners.of(before, after)
    found = []
    for table in before:
        old, new = before[table], after[table]
        for key in old.keys() | new.keys():
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if not all(may_change(sender, table, r, owners) for r in (was, now) if r is not None):
                found.append(f"{table} {key}: {was} → {now}")
    for key, was in before["members"].items():
        now = after["members"].get(key)
        if now is None or was["org_id"] != now["org_id"]:
            found.append(f"members {key}: cell {was} → {now}")
        elif was["role"] != now["role"] and not (
            sender.secretary and sender.cell_id == was["org_id"]
        ):
            found.append(f"members {key}: role {was} → {now}")
    return found
