"""Buttons as numbered options (bot/channels/numbered.py): fold, number, choose, render."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.numbered import Choice, Option, Prompt, options_text, render
from bot.core.chat import Button, Outcome, Reply
from bot.core.i18n import Translator
from bot.core.words import fold

EN = Translator("en")
VI = Translator("vi")


def buttons(*labels: str) -> list[list[Button]]:
    """One row of buttons whose data is "d:<label>"."""
    return [[Button(label, f"d:{label}") for label in labels]]


def picked(prompt: Prompt, text: str) -> str | None:
    """The data of the option `text` picks, or None."""
    option = prompt.choose(text).option
    return option.data if option is not None else None


YES_NO = Prompt.of(buttons("Có", "Không"))
GRADES = Prompt.of(
    [
        [Button("Xuất sắc", "g:5"), Button("Tốt", "g:4")],
        [Button("Hoàn thành", "g:3"), Button("Không hoàn thành ▶", "g:1")],
    ]
)


# --------------------------------------------------------------------------- fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Không hoàn thành ▶", "khong hoan thanh"),
        ("Xuất sắc", "xuat sac"),
        ("ĐẢNG VIÊN", "dang vien"),
        ("Đồng ý", "dong y"),
        ("đảng đoàn", "dang doan"),
        ("Ưu tiên Ơn Ấy Ỷ Ỹ", "uu tien on ay y y"),
        ("KHONG", "khong"),
        ("👍 Có ✓", "co"),
        ("◀ Quay lại", "quay lai"),
        ("  Tạm   dừng ⏸  ", "tam dung"),
        ("Câu 3/16: 10 điểm!", "cau 3 16 10 diem"),
        ("▶ ✓ 🎉", ""),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_treats_precomposed_and_decomposed_text_alike() -> None:
    import unicodedata

    text = "Không hoàn thành đợt"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == "khong hoan thanh dot"


# --------------------------------------------------------------------------- Prompt.of


def numbering(prompt: Prompt) -> list[tuple[int, str]]:
    return [(o.number, o.label) for o in prompt.options]


def test_options_are_numbered_in_order_from_one_across_rows() -> None:
    assert numbering(GRADES) == [
        (1, "Xuất sắc"),
        (2, "Tốt"),
        (3, "Hoàn thành"),
        (4, "Không hoàn thành ▶"),
    ]
    assert [o.data for o in GRADES.options] == ["g:5", "g:4", "g:3", "g:1"]
    assert GRADES.typed is False


def test_numeric_labels_keep_their_number_and_the_others_follow_the_highest() -> None:
    scores = [Button(str(n), f"s:{n}") for n in range(11)]
    prompt = Prompt.of(
        [scores[:6], scores[6:], [Button("Bỏ qua ▶", "skip")], [Button("◀ Quay lại", "back")]]
    )
    assert numbering(prompt) == [(n, str(n)) for n in range(11)] + [
        (11, "Bỏ qua ▶"),
        (12, "◀ Quay lại"),
    ]
    assert picked(prompt, "0") == "s:0"
    assert picked(prompt, "10") == "s:10"
    assert picked(prompt, "12") == "back"


def test_numeric_labels_anywhere_in_the_rows_keep_their_number() -> None:
    prompt = Prompt.of([[Button("Tạm dừng", "pause")], [Button("3", "c3"), Button(" 7 ", "c7")]])
    assert numbering(prompt) == [(3, "3"), (7, "7"), (8, "Tạm dừng")]
    assert picked(prompt, "8") == "pause"
    assert picked(prompt, "7") == "c7"
    assert prompt.choose("1") == Choice(None, unknown_number=True)


def test_duplicate_numeric_labels_fall_back_to_sequential_numbers() -> None:
    prompt = Prompt.of([[Button("2", "first"), Button("2", "second"), Button("Khác", "other")]])
    assert [(o.number, o.data) for o in prompt.options] == [
        (1, "first"),
        (2, "second"),
        (3, "other"),
    ]


def test_no_buttons_make_an_empty_prompt() -> None:
    assert Prompt.of([]) == Prompt()
    assert Prompt.of([[]], typed=True) == Prompt((), typed=True)


# --------------------------------------------------------------------------- choose


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("1", "g:5"),
        ("4", "g:1"),
        (" 2 ", "g:4"),
        ("3.", "g:3"),
        ("3)", "g:3"),
        ("xuat sac", "g:5"),
        ("XUẤT SẮC", "g:5"),
        ("Xuất sắc", "g:5"),
        ("tot", "g:4"),
        ("Tốt!", "g:4"),
        ("khong hoan thanh", "g:1"),
        ("Không hoàn thành", "g:1"),
        ("hoan thanh", "g:3"),  # exact wins over "khong hoan thanh"
        ("xu", "g:5"),  # a unique prefix of two characters
        ("Xuất", "g:5"),
        ("kh", "g:1"),
        ("ho", "g:3"),
    ],
)
def test_choose_by_number_or_words(text: str, data: str) -> None:
    assert picked(GRADES, text) == data
    assert GRADES.choose(text).unknown_number is False


@pytest.mark.parametrize(
    ("text", "data"),
    [("co", "d:Có"), ("Có", "d:Có"), ("CO", "d:Có"), ("KHONG", "d:Không"), ("không", "d:Không")],
)
def test_yes_and_no_with_or_without_diacritics_in_any_case(text: str, data: str) -> None:
    assert picked(YES_NO, text) == data


@pytest.mark.parametrize("text", ["0", "5", "99", "5.", "12)"])
def test_a_number_out_of_range_is_an_unknown_number(text: str) -> None:
    assert GRADES.choose(text) == Choice(None, unknown_number=True)


@pytest.mark.parametrize(
    "text",
    [
        "x",  # a one-letter prefix is too short
        "h",
        "t",
        "hoan thanh xuat sac",  # longer than any label
        "thanh",  # not a prefix
        "xin chào",
        "👍",  # folds to nothing
        "",
        "   ",
        "/help",
        "/1",
        "/ 1",
        "/Tốt",
    ],
)
def test_free_text_and_commands_pick_nothing(text: str) -> None:
    assert GRADES.choose(text) == Choice()


def test_an_ambiguous_prefix_picks_nothing() -> None:
    prompt = Prompt.of(buttons("Hoàn thành tốt", "Hoàn thành", "Không hoàn thành"))
    assert prompt.choose("hoan") == Choice()  # two labels start with it
    assert picked(prompt, "hoan thanh") == "d:Hoàn thành"  # exact
    assert picked(prompt, "hoan thanh t") == "d:Hoàn thành tốt"  # unique again


def test_two_labels_that_fold_alike_pick_nothing() -> None:
    prompt = Prompt.of(buttons("Có", "Co"))
    assert prompt.choose("co") == Choice()
    assert picked(prompt, "2") == "d:Co"


def test_a_typed_prompt_never_reads_digits_as_options() -> None:
    prompt = Prompt.of(buttons("◀ Quay lại", "⏸ Tạm dừng"), typed=True)
    for text in ["1", "2", "2.", "1)", "3", "0"]:
        assert prompt.choose(text) == Choice(), text


def test_a_typed_prompt_takes_exact_words_but_never_prefixes() -> None:
    prompt = Prompt.of(buttons("Không góp ý ▶"), typed=True)
    assert picked(prompt, "khong gop y") == "d:Không góp ý ▶"
    assert picked(prompt, "KHÔNG GÓP Ý") == "d:Không góp ý ▶"
    assert prompt.choose("khong") == Choice()  # a free answer that starts like the label
    assert prompt.choose("kh") == Choice()
    untyped = Prompt.of(buttons("Không góp ý ▶"))
    assert picked(untyped, "khong") == "d:Không góp ý ▶"  # the same prefix without `typed`


@pytest.mark.parametrize("typed", [False, True])
@pytest.mark.parametrize("text", ["1", "7", "co", "hello"])
def test_no_options_never_mean_an_unknown_number(text: str, typed: bool) -> None:
    assert Prompt((), typed).choose(text) == Choice()


@pytest.mark.parametrize("text", ["²", "①", "3²"])
def test_digit_like_characters_do_not_crash_choose(text: str) -> None:
    assert GRADES.choose(text).option is None


# --------------------------------------------------------------------------- JSON


@pytest.mark.parametrize(
    "prompt",
    [
        GRADES,
        Prompt.of(buttons("0", "1", "Bỏ qua ▶"), typed=True),
        Prompt(),
        Prompt((Option(12, 'Ngày 5 "họp"', "m:5:ok"),)),
    ],
)
def test_json_round_trip(prompt: Prompt) -> None:
    stored = json.loads(json.dumps(prompt.to_json()))  # as the database keeps it
    assert Prompt.from_json(stored) == prompt


def test_from_json_reads_what_to_json_wrote() -> None:
    assert GRADES.to_json() == {
        "typed": False,
        "options": [
            [1, "Xuất sắc", "g:5"],
            [2, "Tốt", "g:4"],
            [3, "Hoàn thành", "g:3"],
            [4, "Không hoàn thành ▶", "g:1"],
        ],
    }
    assert Prompt.from_json({"options": [["2", "B", "b"]]}) == Prompt((Option(2, "B", "b"),))


# --------------------------------------------------------------------------- render


def test_options_are_listed_under_the_reply_with_buttons() -> None:
    outcome = Outcome([Reply("Câu 1/16", buttons("Có", "Không"))])
    rendered = render(outcome, EN)
    assert rendered.texts == ["Câu 1/16\n\nReply with a number:\n1. Có\n2. Không"]
    assert rendered.prompt == YES_NO


def test_options_go_under_the_last_reply_with_buttons() -> None:
    outcome = Outcome(
        [Reply("Đã lưu."), Reply("Câu 2", buttons("Có", "Không")), Reply("Ghi chú cuối.")]
    )
    rendered = render(outcome, EN)
    assert rendered.texts == [
        "Đã lưu.",
        "Câu 2\n\nReply with a number:\n1. Có\n2. Không",
        "Ghi chú cuối.",
    ]


def test_the_options_of_several_replies_are_one_list() -> None:
    outcome = Outcome(
        [Reply("Chọn tháng", buttons("Tháng 11", "Tháng 12")), Reply("Hoặc", buttons("Hủy"))]
    )
    rendered = render(outcome, EN)
    assert rendered.texts == [
        "Chọn tháng",
        "Hoặc\n\nReply with a number:\n1. Tháng 11\n2. Tháng 12\n3. Hủy",
    ]
    assert rendered.prompt is not None
    assert picked(rendered.prompt, "3") == "d:Hủy"
    assert picked(rendered.prompt, "1") == "d:Tháng 11"


def test_a_reply_with_only_buttons_gets_just_the_options() -> None:
    rendered = render(Outcome([Reply("", buttons("Có"))]), EN)
    assert rendered.texts == ["Reply with a number:\n1. Có"]


def test_numeric_labels_are_listed_on_one_line() -> None:
    prompt = Prompt.of(buttons("0", "1", "2", "Bỏ qua ▶"))
    assert options_text(prompt, EN) == "Reply with a number:\n0  1  2\n3. Bỏ qua ▶"


@pytest.mark.parametrize("notice", ["Đã ghi nhận.", None])
def test_a_notice_without_replies_is_its_own_message(notice: str | None) -> None:
    rendered = render(Outcome([], notice=notice), EN)
    assert rendered.texts == ([notice] if notice else [])
    assert rendered.prompt is None


def test_empty_replies_count_as_none() -> None:
    rendered = render(Outcome([Reply("")], notice="Nút này không còn hiệu lực."), EN)
    assert rendered.texts == ["Nút này không còn hiệu lực."]
    assert rendered.prompt is None


def test_replies_without_buttons_keep_the_earlier_options() -> None:
    rendered = render(Outcome([Reply("Câu trả lời không hợp lệ."), Reply("Thử lại")]), EN)
    assert rendered.texts == ["Câu trả lời không hợp lệ.", "Thử lại"]
    assert rendered.prompt is None


def test_a_typed_reply_without_buttons_clears_the_options() -> None:
    rendered = render(Outcome([Reply("Lý do vắng mặt:", typed=True)]), EN)
    assert rendered.texts == ["Lý do vắng mặt:"]
    assert rendered.prompt == Prompt()
    assert rendered.prompt.choose("1") == Choice()  # "1" is then just text


def test_a_typed_prompt_invites_typing_and_shows_no_numbers() -> None:
    reply = Reply("Góp ý ngắn:", buttons("Không góp ý ▶", "⏸ Tạm dừng"), typed=True)
    rendered = render(Outcome([reply]), EN)
    assert rendered.texts == ["Góp ý ngắn:\n\nOr type one of:\nKhông góp ý ▶\n⏸ Tạm dừng"]
    assert rendered.prompt is not None and rendered.prompt.typed


def test_one_typed_reply_makes_the_whole_list_typed() -> None:
    rendered = render(Outcome([Reply("A", buttons("Có")), Reply("B", typed=True)]), EN)
    assert rendered.prompt == Prompt((Option(1, "Có", "d:Có"),), typed=True)
    assert rendered.texts == ["A\n\nOr type one of:\nCó", "B"]


def test_vietnamese_headers() -> None:
    plain = render(Outcome([Reply("Câu 1", buttons("Có", "Không"))]), VI)
    assert plain.texts == ["Câu 1\n\nTrả lời bằng số:\n1. Có\n2. Không"]
    typed = render(Outcome([Reply("Góp ý:", buttons("Không góp ý ▶"), typed=True)]), VI)
    assert typed.texts == ["Góp ý:\n\nHoặc gõ một trong các lựa chọn:\nKhông góp ý ▶"]


# --------------------------------------------------------------------------- properties

# letters with and without Vietnamese diacritics, digits, spaces and a few symbols
ALPHABET = "abcdeghiklmnopqrstuvxyđàáảãạâấầẩẫậăắằẳẵặêếềểễệôốồổỗộơớờởỡợưứừửữựĐÂÊÔƠƯ0123456789 ▶✓.)"


def usable(label: str) -> bool:
    """A label a person can type: it has words, is no number, and is no command."""
    stripped = label.strip()
    return (
        bool(fold(label)) and not stripped.rstrip(".)").isdigit() and not stripped.startswith("/")
    )


LABELS = st.lists(
    st.text(alphabet=ALPHABET, min_size=1, max_size=16).filter(usable),
    min_size=1,
    max_size=8,
    unique_by=fold,
)


@settings(max_examples=150, deadline=None)
@given(labels=LABELS, typed=st.booleans(), per_row=st.integers(1, 4))
def test_each_option_is_picked_by_its_number_and_by_its_label(
    labels: list[str], typed: bool, per_row: int
) -> None:
    flat = [Button(label, f"d:{n}") for n, label in enumerate(labels)]
    rows = [flat[i : i + per_row] for i in range(0, len(flat), per_row)]
    prompt = Prompt.of(rows, typed=typed)
    assert [o.number for o in prompt.options] == list(range(1, len(labels) + 1))
    assert Prompt.from_json(prompt.to_json()) == prompt
    for option in prompt.options:
        assert prompt.choose(option.label) == Choice(option)
        assert prompt.choose(option.label.upper()) == Choice(option)
        number = prompt.choose(str(option.number))
        if typed:
            assert number.option is None or fold(number.option.label) == str(option.number)
        else:
            assert number == Choice(option)
            assert prompt.choose(f"{option.number}.") == Choice(option)


@settings(max_examples=200, deadline=None)
@given(
    labels=LABELS,
    text=st.text(st.characters(blacklist_categories=("No", "Cs")), max_size=12),
    typed=st.booleans(),
)
def test_choose_never_raises_and_picks_only_offered_options(
    labels: list[str], text: str, typed: bool
) -> None:
    prompt = Prompt.of(buttons(*labels), typed=typed)
    choice = prompt.choose(text)
    assert choice.option is None or choice.option in prompt.options
    assert not (choice.unknown_number and choice.option is not None)
    if typed or text.strip().startswith("/"):
        assert not choice.unknown_number
