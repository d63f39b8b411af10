"""Button data: every family packs within Telegram's 64 bytes and parses back; junk is None."""

from __future__ import annotations

import pytest

from bot.core.chat import CALLBACK_DATA_LIMIT
from bot.core.numbers import MAX_ROW_ID
from handlers.callbacks import (
    AssessmentAction,
    ButtonData,
    CellFactToggle,
    ExcusalDecision,
    Language,
    MonthAction,
    Mute,
    Rsvp,
)

LARGEST = MAX_ROW_ID

SAMPLES: list[ButtonData] = [
    Language("vi"),
    AssessmentAction("ans", LARGEST, LARGEST, "khong_hoan_thanh_nhiem_vu"),
    AssessmentAction("pause", 7),
    AssessmentAction("edit", 7, 12),
    Rsvp(LARGEST, "n"),
    Mute(True),
    Mute(False),
    ExcusalDecision(3, "y"),
    MonthAction("year", 2026),
    CellFactToggle(LARGEST, "documents_sent_one_day_before_meeting_x"),
]


def parse(data: str) -> ButtonData | None:
    prefix, *parts = data.split(":")
    families: dict[str, type[ButtonData]] = {type(s).prefix: type(s) for s in SAMPLES}
    family = families[prefix]
    return family.parse(parts)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.pack())
def test_packs_within_the_limit_and_parses_back(sample: ButtonData) -> None:
    data = sample.pack()
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert parse(data) == sample


def test_the_wire_format_of_buttons_already_sent_is_kept() -> None:
    assert AssessmentAction("ans", 5, 9, "co").pack() == "as:ans:5:9:co"
    assert Rsvp(4, "y").pack() == "rsvp:4:y"
    assert Mute(True).pack() == "mute:1"
    assert MonthAction("detail", 8).pack() == "ev:detail:8"


@pytest.mark.parametrize(
    "data",
    [
        "as:ans:²:1:co",  # a superscript digit passes str.isdigit()
        "as:ans:1:²:co",
        "as:fly:1",  # no such verb
        "as:ans",  # too few parts
        "as:ans:1:2:co:extra",  # too many
        "as:ans:-1:2:co",
        "as:ans:1:2:Có",  # not a key
        f"as:ans:{MAX_ROW_ID + 1}:1:co",  # beyond the id column
        "rsvp:²:y",
        "rsvp:1:maybe",
        "mute:2",
        "lang:VI",  # not a key (a supported locale is checked by the handler)
        "ev:year:٢٠٢٦",  # Arabic-Indic digits
        "cf:1:",
    ],
)
def test_forged_or_malformed_data_parses_to_none(data: str) -> None:
    assert parse(data) is None
