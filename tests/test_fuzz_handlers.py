"""Random texts, commands and button data from every kind of sender, straight to the handlers.

For each sender (a member, a secretary, a committee officer, the secretary of another cell,
a stranger) Hypothesis sends short sequences of events built from every command in
`handlers.COMMANDS` and every button prefix in `handlers.BUTTONS`, with fields drawn from
the real ids of both cells (periods, members, assessments, questions, excusals), odd numbers
("²", "٣", huge, negative) and free text, at moments before and after the meeting and the
deadline. Every turn must return without raising, every reply must fit Telegram, and no row
outside the sender's rights (`tests.fuzz_rights`) may change.

Derandomized, so CI runs the same examples every time; it runs on SQLite for speed (the
storage layer's two-database behaviour has its own tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import handlers
from bot.core.chat import ChatEvent, Outcome
from bot.core.config import load_settings
from bot.services.runtime import Runtime
from storage import schema
from storage.db import Database
from tests.cellworld import (
    MEMBER_A,
    OFFICER,
    SECRETARY_A,
    SECRETARY_B,
    STRANGER,
    World,
    build_world,
)
from tests.conftest import FakeClock
from tests.fuzz_rights import Sender, snapshot, violations

TEXT_LIMIT, CAPTION_LIMIT, POPUP_LIMIT, BUTTONS_LIMIT = 4096, 1024, 200, 100  # Telegram's
EXAMPLES_PER_SENDER = 200
SENDERS = {
    "member": MEMBER_A,
    "secretary": SECRETARY_A,
    "committee officer": OFFICER,
    "secretary of another cell": SECRETARY_B,
    "stranger": STRANGER,
}
MOMENTS = (  # the world's period: meeting 15 Dec 19:30, deadline 20 Dec 19:30 (UTC+7)
    datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
    datetime(2026, 12, 15, 13, 0, tzinfo=UTC),  # after the meeting
    datetime(2026, 12, 21, 1, 0, tzinfo=UTC),  # after the deadline
    datetime(2027, 1, 3, 1, 0, tzinfo=UTC),  # the next month, not opened yet
)
ODD = (  # numbers and words a parser might choke on: "²" and "①" pass str.isdigit(), not int()
    *("²", "①", "٣", "３", "", " ", "00", "-1", "+1", "1_0", "1e3", "nan", "4,5", "\n", ":"),
    *("2147483648", "9" * 30),
)


def text(min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    chars = st.characters(exclude_categories=["Cs"])  # control characters included
    return st.text(chars, min_size=min_size, max_size=max_size)


AS_VERBS = ("ans", "skip", "nocomment", "back", "edit", "help", "review", "submit", "go", "pause")
RULE_WORDS = ("ngày", "3", "31", "0", "thứ", "sáu", "đầu", "tiên", "last", "sat", "first", "fri")
DATES = ("2026-12-18", "2027-01-10", "05/12/2026", "0001-01-01", "9999-12-31", "2026-02-30")
TIMES = ("19:30", "00:00", "23:59", "25:61")
MEMBER_VALUES = (
    *("official", "probationary", "exempt", "member", "deputy_secretary", "secretary"),
    *("committee_officer", "x"),
)
YEARS = ("2026", "2025", "1899", "3000", "0000", "9999", "2026-12", "2026-13", "2026-00", "2026-1")


def one_of_words(*words: str) -> st.SearchStrategy[str]:
    return st.sampled_from(words)


def shaped(*fields: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    """Fields in the order a button or command expects them: all well-formed (ids of any
    cell, so forged ones too), or one of them odd, or one field too few or too many."""
    odd = st.one_of(st.sampled_from(ODD), st.integers(-3, 2**40).map(str), text(max_size=8))
    exact = st.tuples(*fields).map(list)
    one_odd = st.tuples(exact, st.integers(0, max(len(fields) - 1, 0)), odd).map(
        lambda t: [*t[0][: t[1]], t[2], *t[0][t[1] + 1 :]]
    )
    return st.one_of(
        exact, exact, one_odd, one_odd, exact.map(lambda f: f[:-1]), exact.map(lambda f: [*f, "1"])
    )


def joined(separator: str, head: str, fields: list[str]) -> str:
    return separator.join([head, *fields])


def events(world: World) -> st.SearchStrategy[tuple[str | None, str | None]]:
    """(text, callback data): a typed text, a command with arguments, or a button press."""

    def ids(values: list[int]) -> st.SearchStrategy[str]:
        return st.sampled_from(sorted({str(v) for v in values}))

    periods, members = ids(world.period_ids), ids(list(world.member_ids.values()))
    cells, pages = ids(list(world.cell_ids.values())), one_of_words("0", "1", "99")
    assessments, questions = ids(world.assessment_ids), ids(world.question_ids)
    excusals = ids(world.excusal_ids)
    documents = ids(world.document_ids)
    options = st.sampled_from(sorted(world.option_values))
    keys = st.sampled_from(sorted(world.question_keys))
    yes_no = one_of_words("y", "n")
    small = one_of_words("1", "2", "3", "4", "5")  # tasks and assignments of any cell (none exist)
    words = text(min_size=1, max_size=30)
    buttons = {  # each prefix of handlers.BUTTONS with the fields its handler reads
        "lang": shaped(one_of_words("vi", "en", "de", "fr", "VI")),
        "inv": shaped(one_of_words("1", "60", "200", "201"), one_of_words("1", "7", "30", "31")),
        "as": shaped(one_of_words(*AS_VERBS, "reopen"), assessments, questions, options),
        "go": shaped(periods),
        "rsvp": shaped(periods, yes_no),
        "mute": shaped(one_of_words("0", "1")),
        "att": shaped(periods, members),
        "exc": shaped(periods, members),
        "attp": shaped(periods, one_of_words("0", "1", "2", "99", "-1")),
        "excp": shaped(periods, one_of_words("0", "1", "2", "99", "-1")),
        "exa": shaped(excusals, yes_no),
        "ev": shaped(
            one_of_words("detail", "year", "sum", "check", "confirm"),
            periods | one_of_words(*YEARS),
        ),
        "cf": shaped(periods, keys),
        "mbp": shaped(one_of_words("0", "1", "99", "-1")),
        "mbc": shaped(members),
        "mba": shaped(one_of_words("rm", "rmok", "rmno", "mv", "st", "ro"), members, pages),
        "mbm": shaped(members, cells | one_of_words("0"), one_of_words("0", "1")),
        "mbs": shaped(members, one_of_words(*MEMBER_VALUES)),
        "ta": shaped(small),
        "tr": shaped(small, one_of_words("done", "doing", "unable", "open")),
        "tn": shaped(small),
        "tw": shaped(small, one_of_words("0", "1", "99", "-1")),
        "dr": shaped(documents),
        "ds": shaped(documents, yes_no),
        "dw": shaped(documents),
        "ka": shaped(one_of_words("1", "2", "99", "0"), one_of_words("y", "n", "o", "x")),
        "kt": shaped(one_of_words("1", "2", "99", "0")),
        "zz": shaped(words),
    }
    assert set(buttons) - {"zz"} == set(handlers.BUTTONS), "a new button prefix: shape it here"
    button_events = st.one_of(
        *(fields.map(partial(joined, ":", prefix)) for prefix, fields in buttons.items())
    )
    date, time = one_of_words(*DATES), one_of_words(*TIMES)
    place = text(max_size=40).map(lambda t: t.replace("|", " "))
    commands = {  # each command of handlers.COMMANDS with the arguments it reads
        "start": shaped(text(min_size=1, max_size=12)),
        "language": shaped(one_of_words("vi", "en", "de", "fr")),
        "excuse": shaped(words),
        "open": shaped(date, time),
        "meeting": st.one_of(
            shaped(date, time, one_of_words("|"), place, one_of_words("|"), place),
            shaped(one_of_words("skip", "bỏ", "hủy")),
            shaped(date, time, one_of_words("| chuyên đề")),
        ),
        "schedule": st.lists(one_of_words(*RULE_WORDS, *TIMES), max_size=5),
        "adjust": shaped(keys, one_of_words("0", "4", "2,5", "99", "-1"), words),
        "notes": shaped(words),
        "reopen": shaped(words),
        "report": shaped(one_of_words(*YEARS)),
        "invite": shaped(one_of_words("1", "5", "200", "201"), one_of_words("1", "30", "31")),
        "cells": shaped(one_of_words(*YEARS)),
        "resolution": st.lists(
            one_of_words("Nghị", "quyết", "|", "tất cả", "20/12", "\n"), max_size=8
        ),
        "task": st.one_of(
            shaped(one_of_words("cancel", "delete", "hủy"), one_of_words(*ODD, "1", "2"), words),
            shaped(words, one_of_words("|"), words, one_of_words("|"), date),
        ),
        "tasks": shaped(one_of_words("mine", "x")),
        "docs": st.one_of(shaped(words), shaped(one_of_words("https://example.org/a.pdf"))),
    }
    unknown = set(commands) - {c.name for c in handlers.COMMANDS}
    assert not unknown, unknown
    bare = st.builds(
        lambda name, bot: f"/{name}{bot}",
        st.sampled_from([c.name for c in handlers.COMMANDS] + ["nosuchcommand"]),
        st.sampled_from(["", "@chibo_test_bot"]),
    )
    command_events = st.one_of(
        bare,
        *(args.map(partial(joined, " ", f"/{name}")) for name, args in commands.items()),
    )
    texts = st.one_of(
        text(max_size=80),
        text(min_size=995, max_size=1005),  # around MAX_TEXT_LENGTH
        st.sampled_from([*ODD, *DATES, *TIMES, "0", "5", "10"]),
    )
    return st.one_of(
        texts.map(lambda t: (t, None)),
        command_events.map(lambda t: (t, None)),
        button_events.map(lambda d: (None, d)),
    )


def check_fits(outcome: Outcome) -> None:
    for reply in outcome.replies:
        limit = CAPTION_LIMIT if reply.attachment else TEXT_LIMIT
        assert len(reply.text) <= limit, (len(reply.text), reply.text[:200])
        assert reply.text.strip() or reply.attachment, "an empty message"
        assert sum(len(row) for row in reply.buttons) <= BUTTONS_LIMIT
    if outcome.notice is not None:
        assert len(outcome.notice) <= POPUP_LIMIT, outcome.notice


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The test drives its own loop: Hypothesis calls the examples synchronously."""
    running = asyncio.new_event_loop()
    yield running
    running.close()


@pytest.fixture
def world(loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[World]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.sqlite3'}"
    schema.upgrade(url)
    db = Database(url)
    config = load_settings(database_url=url, _env_file=None)
    runtime = Runtime(config, db, clock=FakeClock(MOMENTS[0]), bot_username="chibo_test_bot")
    yield loop.run_until_complete(build_world(runtime))
    loop.run_until_complete(db.dispose())


def sender_of(world: World, user: str) -> Sender:
    member_id = world.member_ids.get(user)
    cells = {SECRETARY_A: "A", MEMBER_A: "A", SECRETARY_B: "B"}
    cell_id = world.cell_ids[cells[user]] if user in cells else None
    return Sender(user, member_id, cell_id, secretary=user in {SECRETARY_A, SECRETARY_B})


async def play(world: World, sender: Sender, sequence: list[tuple[str | None, str | None]]) -> None:
    """Send the events in order; each answer fits Telegram and only the sender's rows change."""
    before = snapshot(world.runtime)
    for text, data in sequence:
        event = ChatEvent("telegram", sender.user, sender.user, "User", "vi", text, data)
        check_fits(await handlers.handle(world.runtime, event))
    assert violations(sender, before, snapshot(world.runtime)) == []


@pytest.mark.parametrize("role", list(SENDERS))
def test_random_events_raise_nothing_fit_telegram_and_respect_rights(
    role: str, world: World, loop: asyncio.AbstractEventLoop
) -> None:
    sender = sender_of(world, SENDERS[role])
    clock = world.runtime.clock
    assert isinstance(clock, FakeClock)

    @settings(
        max_examples=EXAMPLES_PER_SENDER,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.sampled_from(MOMENTS), st.lists(events(world), min_size=1, max_size=3))
    def example(moment: datetime, sequence: list[tuple[str | None, str | None]]) -> None:
        clock.now = moment
        loop.run_until_complete(play(world, sender, sequence))

    example()
