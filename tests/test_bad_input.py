"""Numbers, ids and keys read from people and buttons (issue 9.8 and what the fuzz test found).

"²" passes str.isdigit() but not int(): each such example here raised ValueError before.
"""

from __future__ import annotations

import click
import pytest

from bot.app.cli import parse_offsets
from bot.core import numbers
from bot.core.chat import Outcome
from bot.rules.flow import InvalidAnswer, Problem, QuestionView, parse_answer
from bot.services.runtime import Runtime
from tests.cellworld import MEMBER_A, OFFICER, SECRETARY_A, build_world
from tests.fuzz_rights import snapshot

SUPERSCRIPT = "²"


@pytest.mark.parametrize(
    ("text", "low", "high", "expected"),
    [
        ("7", 0, 10, 7),
        ("007", 0, 10, 7),
        ("10", 0, 10, 10),
        ("11", 0, 10, None),
        ("²", 0, 10, None),
        ("٧", 0, 10, None),  # Arabic-Indic seven: int() reads it
        ("７", 0, 10, None),  # full-width seven
        (" 7", 0, 10, None),
        ("+7", 0, 10, None),
        ("1_0", 0, 100, None),
        ("7\n", 0, 10, None),
        ("", 0, 10, None),
        ("9" * 5000, 0, 10, None),  # no huge int is built (int() would refuse 4,300+ digits)
        ("0" * 5000 + "3", 0, 10, 3),
    ],
)
def test_whole_number_reads_ascii_digits_within_bounds(
    text: str, low: int, high: int, expected: int | None
) -> None:
    assert numbers.whole_number(text, low, high) == expected


def test_ids_years_months_and_decimals() -> None:
    assert numbers.row_id("2147483647") == 2**31 - 1
    assert numbers.row_id("2147483648") is None and numbers.row_id("0") is None
    assert numbers.year("2026") == 2026 and numbers.year("²²²²") is None
    assert numbers.year("02026") is None and numbers.year("0000") is None
    assert numbers.year_month("2026-03") == (2026, 3)
    assert numbers.year_month("2026-13") is None and numbers.year_month("2026-²") is None
    assert numbers.decimal("2,5") == 2.5 and numbers.decimal("4") == 4.0
    for bad in ("nan", "inf", "1e3", "٤", "²", "-1", "4.", ""):
        assert numbers.decimal(bad) is None, bad


def test_a_superscript_score_is_not_a_number() -> None:
    question = QuestionView(
        1, "q", "score", {"vi": "?"}, None, False, None, 10, (), 1, {"vi": "Nhóm"}
    )
    assert parse_answer(question, "7", typed=True, max_length=100) == "7"
    for raw, problem in (("²", Problem.NOT_A_NUMBER), ("99", Problem.OUT_OF_RANGE)):
        with pytest.raises(InvalidAnswer) as caught:
            parse_answer(question, raw, typed=True, max_length=100)
        assert caught.value.problem is problem


def said(outcome: Outcome) -> str:
    return "\n".join([*(r.text for r in outcome.replies), outcome.notice or ""])


STALE = "không còn hiệu lực"  # "This button is no longer valid."
CASES = (  # (who, text, button data, part of the expected answer); each raised ValueError
    (MEMBER_A, None, f"as:ans:{SUPERSCRIPT}:1:co", STALE),
    (MEMBER_A, None, f"as:ans:1:{SUPERSCRIPT}:co", STALE),
    (MEMBER_A, None, f"rsvp:{SUPERSCRIPT}:y", STALE),
    (MEMBER_A, None, f"go:{SUPERSCRIPT}", STALE),
    (SECRETARY_A, None, f"att:{SUPERSCRIPT}:1", STALE),
    (SECRETARY_A, None, f"att:1:{SUPERSCRIPT}", STALE),
    (SECRETARY_A, None, f"exc:1:{SUPERSCRIPT}", STALE),
    (SECRETARY_A, None, f"exa:{SUPERSCRIPT}:y", STALE),
    (SECRETARY_A, None, f"cf:{SUPERSCRIPT}:g2_on_schedule", STALE),
    (SECRETARY_A, None, f"ev:year:{SUPERSCRIPT * 4}", STALE),
    (SECRETARY_A, None, f"ev:detail:{SUPERSCRIPT}", STALE),
    (SECRETARY_A, None, f"inv:{SUPERSCRIPT}:7", STALE),
    (SECRETARY_A, f"/report {SUPERSCRIPT * 4}", None, "bốn chữ số"),
    (OFFICER, f"/cells {SUPERSCRIPT * 4}", None, "/cells 2026-03"),
    (OFFICER, f"/cells 2026-{SUPERSCRIPT * 2}", None, "/cells 2026-03"),
)
LENIENT_CASES = (  # read by int() or float() before, though not ASCII digits or out of range
    (SECRETARY_A, "/invite ٥ 3", None, "1–200"),
    (SECRETARY_A, "/invite 1_0 3", None, "1–200"),
    (SECRETARY_A, "/report 20266", None, "bốn chữ số"),
    (SECRETARY_A, "/adjust g2_on_schedule ٤ biên bản", None, "/adjust"),
    (OFFICER, "/cells 2026-13", None, "/cells 2026-03"),
)
DATE_CASES = (  # raised OverflowError: the ends of datetime's range, moved to UTC
    (SECRETARY_A, "/open 0001-01-01 00:00", None, "/open 2026-12-05 19:30"),
    (SECRETARY_A, "/meeting 9999-12-31 23:59", None, "/meeting 2026-12-05 19:30"),
    (SECRETARY_A, "/open ٢٠٢٦-١٢-١٨", None, "/open 2026-12-05 19:30"),
    (SECRETARY_A, "/open 2062-12-05", None, "hai tháng"),  # a typo for 2026: no period in 2062
)


async def test_non_ascii_digits_get_a_clear_answer_and_change_nothing(runtime: Runtime) -> None:
    world = await build_world(runtime)
    wrong = []
    for user, text, data, expected in CASES + LENIENT_CASES + DATE_CASES:
        before = snapshot(runtime)
        try:
            answer = said(await world.say(user, text, data))
        except (ValueError, OverflowError) as error:
            wrong.append(f"{text or data}: {error!r}")
            continue
        if expected not in answer or snapshot(runtime) != before:
            wrong.append(f"{text or data}: {answer!r}")
    assert wrong == []


async def test_forged_checklist_keys_are_refused(runtime: Runtime) -> None:
    """cf:<period>:<key> with a member question's key or no key at all raised before."""
    world = await build_world(runtime)
    period = world.period_of["A"]
    for key in ("g1_mobilise_people", "nosuchkey", SUPERSCRIPT):
        before = snapshot(runtime)
        outcome = await world.say(SECRETARY_A, data=f"cf:{period}:{key}")
        assert outcome.notice is not None and STALE in outcome.notice, key
        assert snapshot(runtime) == before


def test_cli_durations_refuse_superscripts() -> None:
    assert parse_offsets("3d,2h") == [4320, 120]
    for bad in ("²d", "٣h", "0m", "+5m"):
        with pytest.raises(click.BadParameter):
            parse_offsets(bad)
