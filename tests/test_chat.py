"""Splitting a reply to fit a channel: every part fits, nothing is lost or reordered."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.chat import Attachment, Button, Reply, split_reply, split_text, text_length

BUTTONS = [[Button("📨 Gửi", "as:submit:1")], [Button("⏸ Tạm dừng", "as:pause:1")]]
lines = st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=120))


def visible(text: str) -> str:
    """The text without its spaces and line breaks (a cut may fall on them)."""
    return "".join(text.split())


@given(lines, st.integers(min_value=20, max_value=400))
def test_parts_fit_and_keep_every_character_in_order(texts: list[str], limit: int) -> None:
    text = "\n".join(texts)
    parts = split_text(text, limit)
    assert all(text_length(part) <= limit for part in parts)
    assert "".join(visible(part) for part in parts) == visible(text)
    if text_length(text) > limit:
        assert all(part.strip() for part in parts)


def test_short_text_is_one_part_unchanged() -> None:
    assert split_text("Xin chào\n\nđồng chí", 4096) == ["Xin chào\n\nđồng chí"]


def test_parts_end_at_line_ends() -> None:
    roster = [f"⬜ Nguyễn Văn Thành viên số {n} — chưa làm" for n in range(300)]
    parts = split_text("\n".join(roster), 4096)
    assert len(parts) > 1
    assert [line for part in parts for line in part.split("\n")] == roster


def test_length_counts_utf16_units_like_telegram() -> None:
    parts = split_text("😀" * 3000, 4096)  # each emoji is two units
    assert [text_length(p) for p in parts] == [4096, 1904]


def test_buttons_go_with_the_last_part_and_only_the_first_replaces() -> None:
    reply = Reply("\n".join(f"dòng {n} " + "x" * 80 for n in range(200)), BUTTONS, edit=True)
    parts = split_reply(reply, 4096)
    assert len(parts) > 2
    assert [p.edit for p in parts] == [True] + [False] * (len(parts) - 1)
    assert [p.buttons for p in parts] == [[]] * (len(parts) - 1) + [BUTTONS]
    assert split_reply(reply, None) == [reply]  # a channel without a limit (the console)


def test_long_caption_is_sent_as_text_before_the_file() -> None:
    photo = Attachment("photo", "chart.png", b"png")
    reply = Reply("Ghi chú " * 200, BUTTONS, attachment=photo)
    parts = split_reply(reply, 4096, caption_limit=1024)
    assert [p.attachment for p in parts] == [None, photo]
    assert parts[0].text == reply.text and parts[1].text == "" and parts[1].buttons == BUTTONS
    assert split_reply(Reply("Biểu đồ", attachment=photo), 4096, 1024) == [
        Reply("Biểu đồ", attachment=photo)
    ]
