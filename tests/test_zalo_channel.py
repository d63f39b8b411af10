"""The Zalo channel without a network: updates as chat events, the sender's outcomes and
the options it remembers (bot/channels/zalo.py), on a fake API object."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest
from tenacity import wait_none

from bot.channels import numbered
from bot.channels.numbered import Prompt
from bot.channels.zalo import TEXT_LIMIT, Part, ZaloSender, event_of
from bot.channels.zalo_api import ZaloBotAPI, ZaloError, ZaloNetworkError
from bot.core.chat import Button, ChatEvent, Reply
from bot.core.config import load_settings
from bot.services.notify import Delivery
from bot.services.runtime import Runtime
from storage import prompts
from storage.db import Database
from tests.conftest import FakeClock

BOT = "5f1d2c3b4a596877"
USER = "7c3f9a01b2d4e5f6"


# --------------------------------------------------------------------------- event_of


DEFAULT: Any = object()


def update(
    text: Any = "xin chào",
    *,
    event: str = "message.text.received",
    sender: Any = DEFAULT,
    chat: Any = DEFAULT,
    **message: Any,
) -> dict[str, Any]:
    """A user's update as Zalo sends it; `sender` is `from`, `message` adds or replaces fields."""
    body: dict[str, Any] = {
        "from": {"id": USER, "display_name": "Nguyễn Văn An", "is_bot": False},
        "chat": {"id": USER, "chat_type": "PRIVATE"},
        "message_id": "a1b2c3d4e5f6",
        "date": 1764547200000,
    }
    if sender is not DEFAULT:
        body["from"] = sender
    if chat is not DEFAULT:
        body["chat"] = chat
    if text is not None:
        body["text"] = text
    body.update(message)
    return {"event_name": event, "message": body}


def test_a_private_text_is_an_event() -> None:
    assert event_of(update("Có"), BOT) == ChatEvent(
        channel="zalo",
        user_id=USER,
        chat_id=USER,
        display_name="Nguyễn Văn An",
        text="Có",
        message_id="a1b2c3d4e5f6",
        edits=False,
    )


def test_a_wrapped_webhook_body_is_read_like_a_bare_update() -> None:
    bare = update("/start ABC123")
    wrapped = {"ok": True, "result": copy.deepcopy(bare)}
    assert event_of(wrapped, BOT) == event_of(bare, BOT)
    event = event_of(wrapped, BOT)
    assert event is not None and event.text == "/start ABC123"


def test_a_name_instead_of_display_name() -> None:
    event = event_of(update(sender={"id": USER, "name": "Trần Thị Bình"}), BOT)
    assert event is not None and event.display_name == "Trần Thị Bình"
    nameless = event_of(update(sender={"id": USER}), BOT)
    assert nameless is not None and nameless.display_name == ""


def test_numeric_ids_and_no_message_id() -> None:
    raw = update(sender={"id": 42, "display_name": "An"}, chat={"id": 42})
    del raw["message"]["message_id"]
    event = event_of(raw, BOT)
    assert event is not None
    assert (event.user_id, event.chat_id, event.message_id) == ("42", "42", None)


def test_control_characters_are_cleaned() -> None:
    event = event_of(update("Có\x00\x07"), BOT)
    assert event is not None and event.text == "Có"


@pytest.mark.parametrize(
    "raw",
    [
        update(sender={"id": BOT, "display_name": "chibo"}),  # the bot's own id
        update(sender={"id": "other-bot", "display_name": "x", "is_bot": True}),
        update(chat={"id": "g1", "chat_type": "GROUP"}),
        update(chat={"id": "g1", "chat_type": "group"}),
        update(""),
        update("   \n\t"),
        update(None),  # a text event without text
        update(text=123),
        {"event_name": "message.text.received"},  # no message
        {"event_name": "message.text.received", "message": "xin chào"},  # not a dict
        {"event_name": "message.text.received", "message": ["xin chào"]},
        update(event="message.reaction.received"),  # unknown event
        update(event="user.follow"),
        {"message": update()["message"]},  # no event name
        {},
        {"ok": True, "result": None},
        {"ok": True, "result": [update()]},
        {"ok": False, "error_code": 408, "description": "Request timeout"},
        update(sender="An"),
        update(chat=None),
        update(sender={"display_name": "no id"}),
        update(chat={"chat_type": "PRIVATE"}),
    ],
)
def test_what_chibo_ignores(raw: dict[str, Any]) -> None:
    assert event_of(raw, BOT) is None


@pytest.mark.parametrize(
    "event",
    ["message.image.received", "message.sticker.received", "message.unsupported.received"],
)
def test_images_stickers_and_unsupported_messages_are_events_without_text(event: str) -> None:
    found = event_of(update("a caption", event=event, photo_url="https://x/y.jpg"), BOT)
    assert found is not None
    assert (found.text, found.user_id, found.message_id) == (None, USER, "a1b2c3d4e5f6")


def test_without_a_known_bot_id_only_is_bot_tells_the_bot_apart() -> None:
    assert event_of(update(sender={"id": BOT}), None) is not None
    assert event_of(update(sender={"id": BOT, "is_bot": True}), None) is None


def test_long_ids_are_cut_to_the_column_size() -> None:
    long = "9" * 80
    event = event_of(update(sender={"id": long}, chat={"id": long}, message_id=long), BOT)
    assert event is not None
    assert len(event.user_id) == len(event.chat_id) == len(event.message_id or "") == 64


# --------------------------------------------------------------------------- ZaloSender


class FakeAPI:
    """Stands in for ZaloBotAPI: keeps each message; raises the error given for a call."""

    def __init__(self, errors: dict[int, Exception] | None = None) -> None:
        self.errors = errors or {}  # call number (from 0) → what that call raises
        self.calls = 0
        self.sent: list[tuple[str, str]] = []

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        number, self.calls = self.calls, self.calls + 1
        if number in self.errors:
            raise self.errors[number]
        assert len(text) <= TEXT_LIMIT, "Zalo refuses longer texts"
        self.sent.append((chat_id, text))
        return {"message_id": f"m{number}", "date": 0}

    def texts(self) -> list[str]:
        return [text for _chat, text in self.sent]


def zalo_sender(runtime: Runtime, api: FakeAPI) -> ZaloSender:
    return ZaloSender(runtime, cast(ZaloBotAPI, api))


@pytest.fixture
def zalo_runtime(db: Database, clock: FakeClock) -> Runtime:
    """A runtime on each database backend."""
    settings = load_settings(database_url=db.url, _env_file=None)
    return Runtime(settings, db, clock=clock)


async def shown(runtime: Runtime, chat_id: str) -> Prompt | None:
    async with runtime.db.session() as session:
        stored = await prompts.shown(session, "zalo", chat_id)
    return Prompt.from_json(stored) if stored is not None else None


@pytest.mark.parametrize(
    ("error", "delivery"),
    [
        (ZaloError(429, "Quota exceeded"), Delivery.RETRY),
        (ZaloError(500, "Internal server error"), Delivery.RETRY),
        (ZaloError(502, "<html>Bad gateway</html>"), Delivery.RETRY),
        (ZaloError(503, "Service unavailable"), Delivery.RETRY),
        (ZaloError(401, "Unauthorized"), Delivery.RETRY),
        (ZaloError(403, "Internal error"), Delivery.REFUSED),
        (ZaloError(400, "Chat not found"), Delivery.FAILED),
        (ZaloError(404, "Not found"), Delivery.FAILED),
        (ZaloNetworkError("sendMessage: ConnectError", sent=False), Delivery.RETRY),
        (ZaloNetworkError("sendMessage: ReadTimeout", sent=True), Delivery.UNKNOWN),
    ],
)
async def test_errors_map_to_outcomes(
    runtime: Runtime, error: Exception, delivery: Delivery
) -> None:
    api = FakeAPI({0: error})
    result = await zalo_sender(runtime, api).send(USER, Reply("Nhắc lịch họp chi bộ"))
    assert result.delivery is delivery
    assert result.error == str(error)
    assert api.calls == 1 and api.sent == []


async def test_a_short_notice_is_one_message(runtime: Runtime) -> None:
    api = FakeAPI()
    result = await zalo_sender(runtime, api).send(USER, Reply("Nhắc lịch họp chi bộ"))
    assert result.delivery is Delivery.SENT and result.error is None
    assert api.sent == [(USER, "Nhắc lịch họp chi bộ")]


LINES = [f"Dòng {n:03d}: nội dung nhắc việc của chi bộ khu dân cư số 4" for n in range(81)]
LONG = "\n".join(LINES)  # 81 lines of 55 characters: 4,535 characters


async def test_a_long_notice_goes_as_three_messages_with_the_options_at_the_end(
    zalo_runtime: Runtime,
) -> None:
    assert 4500 <= len(LONG) < 4600
    api = FakeAPI()
    reply = Reply(LONG, [[Button("Có mặt", "rsvp:yes"), Button("Vắng mặt", "rsvp:no")]])
    result = await zalo_sender(zalo_runtime, api).send(USER, reply, locale="en")
    assert result.delivery is Delivery.SENT
    texts = api.texts()
    assert len(texts) == 3
    assert all(len(text) <= TEXT_LIMIT for text in texts)
    options = "Reply with a number:\n1. Có mặt\n2. Vắng mặt"
    assert texts[-1].endswith("\n\n" + options)
    assert all("Reply with a number" not in text and "Có mặt" not in text for text in texts[:2])
    assert "\n".join(texts).split("\n")[: len(LINES)] == LINES  # every line, in order
    assert {chat for chat, _text in api.sent} == {USER}


@pytest.mark.parametrize(
    ("error", "delivery"),
    [
        (ZaloError(429, "Quota exceeded"), Delivery.UNKNOWN),
        (ZaloError(503, "Service unavailable"), Delivery.UNKNOWN),
        (ZaloError(403, "Internal error"), Delivery.UNKNOWN),
        (ZaloNetworkError("sendMessage: ConnectError", sent=False), Delivery.UNKNOWN),
        (ZaloNetworkError("sendMessage: ReadTimeout", sent=True), Delivery.UNKNOWN),
        (ZaloError(400, "text is too long"), Delivery.FAILED),
    ],
)
async def test_a_failure_after_the_first_part_is_never_retried(
    runtime: Runtime, error: Exception, delivery: Delivery
) -> None:
    api = FakeAPI({1: error})
    result = await zalo_sender(runtime, api).send(USER, Reply(LONG))
    assert result.delivery is delivery
    assert result.error is not None and result.error.startswith("part 2 of 3: ")
    assert len(api.sent) == 1 and api.sent[0][1].startswith(LINES[0])
    assert api.calls == 2  # the third part is not tried


async def test_a_notification_leaves_its_options_for_a_typed_number(
    zalo_runtime: Runtime,
) -> None:
    api = FakeAPI()
    reply = Reply(
        "Đã mở đợt tự đánh giá tháng 12/2026.",
        [[Button("Bắt đầu", "assess:start")], [Button("Tắt nhắc", "mute:on")]],
    )
    result = await zalo_sender(zalo_runtime, api).send(USER, reply)
    assert result.delivery is Delivery.SENT
    assert api.texts() == [
        "Đã mở đợt tự đánh giá tháng 12/2026.\n\nTrả lời bằng số:\n1. Bắt đầu\n2. Tắt nhắc"
    ]
    prompt = await shown(zalo_runtime, USER)
    assert prompt is not None
    assert prompt.choose("1").option == prompt.options[0]
    assert prompt.options[0].data == "assess:start"
    assert await shown(zalo_runtime, "another chat") is None

    typed = ChatEvent("zalo", USER, USER, "An", text="1", message_id="m-1")
    read = await numbered.pressed(zalo_runtime, typed)
    event = read.event
    assert read.answer is None and read.label == "Bắt đầu"
    assert (event.text, event.callback_data, event.message_id) == (None, "assess:start", "m-1")
    words = await numbered.pressed(zalo_runtime, ChatEvent("zalo", USER, USER, "An", text="tat"))
    assert words.event.callback_data == "mute:on"
    stray = await numbered.pressed(zalo_runtime, ChatEvent("zalo", USER, USER, "An", text="7."))
    assert stray.event.text == "7." and stray.event.callback_data is None
    answer = stray.answer
    assert answer is not None
    assert answer.replies[0].text.startswith("Số 7 không ứng với lựa chọn nào")


async def test_later_notifications_replace_keep_or_clear_the_options(
    zalo_runtime: Runtime,
) -> None:
    sender = zalo_sender(zalo_runtime, FakeAPI())
    await sender.send(USER, Reply("Họp chi bộ?", [[Button("Có", "y"), Button("Không", "n")]]))
    first = await shown(zalo_runtime, USER)
    await sender.send(USER, Reply("Nhắc: hạn chót là ngày 5."))  # no buttons: kept
    assert await shown(zalo_runtime, USER) == first
    await sender.send(USER, Reply("Chọn", [[Button("Xem", "see")]]))  # replaced
    replaced = await shown(zalo_runtime, USER)
    assert replaced is not None and [o.data for o in replaced.options] == ["see"]
    await sender.send(USER, Reply("Lý do vắng mặt:", typed=True))  # cleared
    assert await shown(zalo_runtime, USER) is None


async def test_an_undelivered_notification_leaves_the_shown_options(runtime: Runtime) -> None:
    api = FakeAPI({1: ZaloError(403, "Internal error")})
    sender = zalo_sender(runtime, api)
    await sender.send(USER, Reply("Họp chi bộ?", [[Button("Có", "rsvp:yes")]]))
    result = await sender.send(USER, Reply("Tự đánh giá", [[Button("Bắt đầu", "assess:start")]]))
    assert result.delivery is Delivery.REFUSED and len(api.sent) == 1
    prompt = await shown(runtime, USER)
    assert prompt is not None
    option = prompt.choose("1").option
    assert option is not None and option.data == "rsvp:yes"  # what the person saw last


@pytest.mark.parametrize(
    ("errors", "calls", "delivered"),
    [
        ({0: ZaloError(429, "Quota exceeded"), 1: ZaloError(429, "Quota exceeded")}, 3, True),
        ({0: ZaloNetworkError("connect failed", sent=False)}, 2, True),
        ({n: ZaloError(429, "Quota exceeded") for n in range(4)}, 4, False),  # gives up
        ({0: ZaloError(400, "text too long")}, 1, False),  # never again: it cannot help
        ({0: ZaloNetworkError("read timed out", sent=True)}, 1, False),  # may have arrived
    ],
)
async def test_a_reply_is_tried_again_only_when_that_cannot_show_it_twice(
    runtime: Runtime, errors: dict[int, Exception], calls: int, delivered: bool
) -> None:
    api = FakeAPI(errors)
    sender = zalo_sender(runtime, api)
    sender.reply_wait = wait_none()
    try:
        await sender.deliver(USER, [Part("Câu 2/16")])
    except (ZaloError, ZaloNetworkError):
        assert not delivered
    else:
        assert delivered
    assert api.calls == calls
    assert api.texts() == (["Câu 2/16"] if delivered else [])
