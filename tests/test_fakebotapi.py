"""Tests of the fake Bot API itself, with python-telegram-bot's own ``telegram.Bot``."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

try:
    from .fakebotapi import FakeBotAPI
    from .harness import TelegramUser
except ImportError:  # tests/ is on sys.path, not a package
    from fakebotapi import FakeBotAPI  # type: ignore[no-redef]
    from harness import TelegramUser  # type: ignore[no-redef]

# PTB 22 warns that RetryAfter.retry_after will become a timedelta
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")

TOKEN = "987654:FAKE-token_for-tests"
USER = 4242


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


@pytest.fixture
def user(api: FakeBotAPI) -> TelegramUser:
    return TelegramUser(api, USER, "An", "Nguyễn")


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def retry_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    return value if isinstance(value, int) else value.total_seconds()


async def test_get_me_and_token_check(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 987654
    assert me.is_bot
    assert me.first_name == "Chibo"
    assert me.username == "chibo_test_bot"
    assert me.can_join_groups
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot"

    with pytest.raises(InvalidToken):
        async with Bot("987654:wrong", base_url=api.base_url):  # initialize() calls getMe
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendFlyingPig", api_kwargs={"chat_id": 1})
    assert [c.method for c in api.calls] == ["getMe", "getMe", "sendFlyingPig"]
    assert api.calls[-1].status == 404


async def test_send_message_with_keyboard_reaches_the_user(
    api: FakeBotAPI, bot: Bot, user: TelegramUser
) -> None:
    markup = keyboard([("Có", "vote:yes"), ("Không", "vote:no")], [("Huỷ", "cancel")])
    sent = await bot.send_message(
        USER, "<b>Bạn đồng ý?</b> &lt;3", parse_mode="HTML", reply_markup=markup
    )

    assert sent.text == "Bạn đồng ý? <3"  # Telegram answers the visible text
    assert sent.reply_markup == markup
    assert sent.chat.id == USER
    assert sent.from_user is not None and sent.from_user.id == 987654
    call = await api.wait_for_call("sendMessage")
    assert call.params["chat_id"] == USER
    assert call.params["reply_markup"]["inline_keyboard"][1][0]["callback_data"] == "cancel"

    shown = await user.expect_message(contains="đồng ý")
    assert shown.message_id == sent.message_id
    assert shown.raw_text == "<b>Bạn đồng ý?</b> &lt;3"
    assert shown.buttons == [[("Có", "vote:yes"), ("Không", "vote:no")], [("Huỷ", "cancel")]]

    with pytest.raises(AssertionError, match="buttons: 'Có'"):
        await user.press("Đồng ý luôn")
    query_id = await user.press("Không")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None
    assert update.callback_query.id == query_id
    assert update.callback_query.data == "vote:no"
    assert update.callback_query.from_user.first_name == "An"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == sent.message_id

    assert user.callback_answers == []
    assert await bot.answer_callback_query(query_id, text="Đã ghi nhận")
    assert user.callback_answers == ["Đã ghi nhận"]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("123", text="?")


async def test_long_polling_waits_for_a_pushed_update_and_honours_offset(
    api: FakeBotAPI, bot: Bot, user: TelegramUser
) -> None:
    async def write_later() -> None:
        await asyncio.sleep(0.3)
        await user.send("/start ma_moi")

    writer = asyncio.create_task(write_later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    elapsed = time.monotonic() - started
    await writer

    assert 0.25 < elapsed < 1.5, elapsed
    [update] = updates
    assert update.message is not None
    assert update.message.text == "/start ma_moi"
    assert update.message.chat.type == "private"
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "vi"
    assert update.message.entities == (
        MessageEntity(type=MessageEntity.BOT_COMMAND, offset=0, length=6),
    )

    # not confirmed yet: delivered again; confirmed by offset: gone
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [update.update_id]
    await user.send("second")
    await user.send("third")
    rest = await bot.get_updates(offset=update.update_id + 1, timeout=0, limit=1)
    assert [u.message.text for u in rest if u.message] == ["second"]
    rest = await bot.get_updates(offset=rest[0].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["third"]

    started = time.monotonic()
    assert await bot.get_updates(offset=rest[0].update_id + 1, timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_second_poller_terminates_the_first(api: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for_call("getUpdates")
    async with Bot(TOKEN, base_url=api.base_url) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)


async def test_edit_message_text(api: FakeBotAPI, bot: Bot, user: TelegramUser) -> None:
    sent = await bot.send_message(USER, "Chọn:", reply_markup=keyboard([("A", "a")]))
    await user.expect_message("Chọn")

    edited = await bot.edit_message_text(
        "Đã chọn *A*",
        chat_id=USER,
        message_id=sent.message_id,
        parse_mode="MarkdownV2",
        reply_markup=keyboard([("Sửa", "edit")]),
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Đã chọn A"
    assert edited.edit_date is not None

    seen = await user.expect_edit(contains="Đã chọn A")
    assert seen.message_id == sent.message_id
    assert seen.buttons == [[("Sửa", "edit")]]
    assert [m.text for m in user.messages] == ["Đã chọn A"]  # the screen shows the edit
    await user.expect_no_message(within=0.1)

    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(
            chat_id=USER, message_id=sent.message_id, reply_markup=keyboard([("Sửa", "edit")])
        )
    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    assert (await user.expect_edit()).buttons == []
    with pytest.raises(BadRequest, match=r"[Mm]essage to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match="reserved"):
        await bot.edit_message_text(
            "1. mục", chat_id=USER, message_id=sent.message_id, parse_mode="MarkdownV2"
        )


async def test_send_document_and_photo_keep_the_uploaded_bytes(
    api: FakeBotAPI, bot: Bot, user: TelegramUser
) -> None:
    content = "họ tên;điểm\nAn;9\n".encode()
    sent = await bot.send_document(
        USER, document=content, filename="bao_cao.csv", caption="Báo cáo tháng"
    )
    assert sent.document is not None
    assert sent.document.file_name == "bao_cao.csv"
    assert sent.document.file_size == len(content)
    assert sent.caption == "Báo cáo tháng"

    call = await api.wait_for_call("sendDocument")
    assert call.params["document"].content == content
    assert call.params["document"].filename == "bao_cao.csv"
    shown = await user.expect_message(contains="Báo cáo")
    assert shown.method == "sendDocument"
    assert shown.document_bytes == content

    photo = b"\x89PNG\r\n\x1a\nfake"
    await bot.send_photo(USER, photo=photo, filename="chart.png")
    shown = await user.expect_message()
    assert shown.photo_bytes == photo

    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content


async def test_failure_injection(api: FakeBotAPI, bot: Bot) -> None:
    api.fail("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "a")
    assert retry_seconds(caught.value) == 7
    await bot.send_message(1, "a")  # only once
    assert api.stats["429"] == 1

    api.fail("sendMessage", chat_id=2, status=403, times=2)
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(2, "b")
    await bot.send_message(3, "c")  # other chats unaffected
    await bot.send_message(2, "b")  # used up

    api.fail("sendMessage", status=400)
    with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
        await bot.send_message(4, "d")
    api.fail("*", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_me()

    api.block(5)
    with pytest.raises(Forbidden):
        await bot.send_message(5, "e")
    api.unblock(5)
    await bot.send_message(5, "e")
    assert [c.status for c in api.calls] == [200, 429, 200, 403, 403, 200, 200, 400, 502, 403, 200]


async def test_rate_limits_answer_429(bot: Bot) -> None:
    async with (
        FakeBotAPI(token=TOKEN, per_chat_rate=1, global_rate=3) as api,
        Bot(TOKEN, base_url=api.base_url) as limited,
    ):
        await limited.send_message(1, "1")
        with pytest.raises(RetryAfter) as caught:
            await limited.send_message(1, "2")  # same chat within a second
        assert retry_seconds(caught.value) == 1
        await limited.send_message(2, "3")
        await limited.send_message(3, "4")
        with pytest.raises(RetryAfter):
            await limited.send_message(4, "5")  # fourth message within a second
        assert api.stats["429"] == 2
        assert [len(api.messages(chat)) for chat in (1, 2, 3, 4)] == [1, 1, 1, 0]


async def test_malformed_html_is_rejected_and_shown_in_expectations(
    api: FakeBotAPI, bot: Bot, user: TelegramUser
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
        await bot.send_message(USER, "điểm < 5", parse_mode="HTML")
    with pytest.raises(AssertionError, match="can't parse entities") as caught:
        await user.expect_message(timeout=0.2)
    assert "expected a new message" in str(caught.value)


async def test_expectations_read_the_chat_in_order(
    api: FakeBotAPI, bot: Bot, user: TelegramUser
) -> None:
    for text in ("một", "hai", "ba"):
        await bot.send_message(USER, text)
    await bot.send_message(USER + 1, "someone else")

    assert (await user.expect_message("hai")).text == "hai"  # "một" is skipped
    with pytest.raises(AssertionError, match="does not contain 'bốn'"):
        await user.expect_message("bốn", strict=True, timeout=0.1)  # consumes "ba"
    with pytest.raises(AssertionError, match="chat screen"):
        await user.expect_message(timeout=0.1)
    await user.expect_no_message(within=0.1)
    assert user.last_message().text == "ba"

    async def later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(USER, "bốn")

    task = asyncio.create_task(later())
    with pytest.raises(AssertionError, match="bốn"):
        await user.expect_no_message(within=1)
    await task


async def test_commands_are_stored_per_scope_and_language(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Bắt đầu"), ("help", "Trợ giúp")])
    await bot.set_my_commands([("start", "Start")], language_code="en")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert api.get_commands(language_code="en") == [{"command": "start", "description": "Start"}]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest):
        await bot.set_my_commands([("Bad-Name", "x")])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_webhook_delivery_with_secret(api: FakeBotAPI, bot: Bot, user: TelegramUser) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((secret, await request.json()))
        return web.Response(status=200 if secret == "s3cret" else 403)

    app = web.Application()
    app.router.add_post("/telegram", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/telegram"
    try:
        assert await bot.set_webhook(url, secret_token="s3cret")
        info = await bot.get_webhook_info()
        assert info.url == url
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)

        assert await api.push_update({"message": {"text": "qua webhook"}}) == 200
        secret, update = received[-1]
        assert secret == "s3cret"
        assert update["message"]["text"] == "qua webhook"
        assert isinstance(update["update_id"], int)

        await user.send("xin chào")
        assert received[-1][1]["message"]["from"]["id"] == USER

        assert await api.post_to_webhook({"message": {"text": "giả"}}, secret_token="wrong") == 403
        assert received[-1][0] == "wrong"
        assert await api.post_to_webhook({"message": {"text": "giả"}}, secret_token=None) == 403
        assert received[-1][0] is None
        assert [d.status for d in api.webhook_deliveries] == [200, 200, 403, 403]

        assert await bot.delete_webhook()
        assert await api.push_update({"message": user.make_message("polling")}) is None
        assert len(received) == 4
        [queued] = await bot.get_updates(timeout=0)
        assert queued.message is not None and queued.message.text == "polling"
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- Telegram's limits


async def test_text_limits(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(USER, "x" * 4096)
    await bot.send_message(USER, "👍" * 2048)  # 4,096 UTF-16 units
    await bot.send_message(USER, f"<b>{'x' * 4096}</b>", parse_mode="HTML")  # counted after markup
    for too_long in ("x" * 4097, "👍" * 2049):
        with pytest.raises(BadRequest, match=r"^Message is too long$"):
            await bot.send_message(USER, too_long)
    for empty in ("", "  \n "):
        with pytest.raises(BadRequest, match=r"^Message text is empty$"):
            await bot.send_message(USER, empty)
    sent = await bot.send_message(USER, "a")
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.edit_message_text("x" * 4097, chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.edit_message_text(" ", chat_id=USER, message_id=sent.message_id)
    assert len(api.messages(USER)) == 4


def grid(count: int, per_row: int) -> InlineKeyboardMarkup:
    buttons = [(str(n), f"b:{n}") for n in range(count)]
    return keyboard(*[buttons[i : i + per_row] for i in range(0, count, per_row)])


async def test_keyboard_limits(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "100", reply_markup=grid(100, 8))
    assert sent.reply_markup is not None
    with pytest.raises(BadRequest, match=r"^Reply markup is too long$"):
        await bot.send_message(USER, "101", reply_markup=grid(101, 8))
    with pytest.raises(BadRequest, match=r"^Reply markup is too long$"):
        await bot.edit_message_reply_markup(
            chat_id=USER, message_id=sent.message_id, reply_markup=grid(101, 1)
        )
    with pytest.raises(BadRequest, match=r"(?i)too many buttons in a row"):
        await bot.send_message(USER, "9 in a row", reply_markup=grid(9, 9))
    await bot.send_message(USER, "64 bytes", reply_markup=keyboard([("a", "đ" * 32)]))
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(USER, "65 bytes", reply_markup=keyboard([("a", "đ" * 32 + "x")]))
    assert [m.text for m in api.messages(USER)] == ["100", "64 bytes"]


async def test_popup_limit(api: FakeBotAPI, bot: Bot, user: TelegramUser) -> None:
    await bot.send_message(USER, "?", reply_markup=keyboard([("A", "a")]))
    first, second = await user.press("A"), await user.press("A")
    assert await bot.answer_callback_query(first, text="x" * 200)
    with pytest.raises(BadRequest, match=r"^Message_too_long$"):
        await bot.answer_callback_query(second, text="👍" * 101)
    assert user.callback_answers == ["x" * 200]


async def test_caption_limit(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_document(USER, b"a", filename="a.txt", caption="x" * 1024)
    await bot.send_photo(USER, b"png", filename="a.png", caption="x" * 1024)
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_document(USER, b"a", filename="a.txt", caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(USER, b"png", filename="a.png", caption="👍" * 513)
    assert len(api.messages(USER)) == 2


async def test_file_size_limits(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_photo(USER, b"p" * (10 * 1024 * 1024), filename="big.png")
    with pytest.raises(BadRequest, match=r"^Photo_save_file_invalid$"):
        await bot.send_photo(USER, b"p" * (10 * 1024 * 1024 + 1), filename="huge.png")
    await bot.send_document(USER, b"d" * (50 * 1024 * 1024), filename="big.xlsx")
    with pytest.raises(NetworkError, match="Request Entity Too Large"):
        await bot.send_document(USER, b"d" * (50 * 1024 * 1024 + 1), filename="huge.xlsx")
    assert [c.status for c in api.calls_to("sendPhoto") + api.calls_to("sendDocument")] == [
        200,
        400,
        200,
        413,
    ]
    assert len(api.messages(USER)) == 2


async def test_command_list_limit(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([(f"c{n}", "x") for n in range(100)])
    with pytest.raises(BadRequest, match=r"^Bot_commands_too_much$"):
        await bot.set_my_commands([(f"c{n}", "x") for n in range(101)])
    assert len(api.get_commands()) == 100
