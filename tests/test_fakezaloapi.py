"""Tests of the fake Zalo Bot API itself (plain HTTP calls with httpx) and of
:mod:`zalo_harness`; no chibo process runs here except for one ``chibo --help``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

try:
    from .fakezaloapi import SECRET_HEADER, FakeZaloAPI
    from .harness import BotProcess
    from .zalo_harness import ZaloUser, parse_options, wait_zalo_ready, zalo_env
except ImportError:  # tests/ is on sys.path, not a package
    from fakezaloapi import SECRET_HEADER, FakeZaloAPI  # type: ignore[no-redef]
    from harness import BotProcess  # type: ignore[no-redef]
    from zalo_harness import (  # type: ignore[no-redef]
        ZaloUser,
        parse_options,
        wait_zalo_ready,
        zalo_env,
    )

USER = "7c3f9a01b2d4e5f6"
OTHER = "0a9b8c7d6e5f4a3b"
SECRET = "s3cret-webhook-token"

JSONDict = dict[str, Any]


@pytest.fixture
async def api() -> AsyncIterator[FakeZaloAPI]:
    async with FakeZaloAPI(idle_timeout=0.2) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def call(http: httpx.AsyncClient, api: FakeZaloAPI, method: str, **params: Any) -> JSONDict:
    """POST ``params`` as JSON; the answer must be HTTP 200 JSON with a boolean ``ok``."""
    response = await http.post(api.url(method), json=params)
    assert response.status_code == 200, response.text
    body: JSONDict = response.json()
    assert isinstance(body["ok"], bool)
    return body


class WebhookReceiver:
    """An aiohttp server playing the bot's webhook; answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[str | None, JSONDict]] = []
        self.status = 200
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> WebhookReceiver:
        async def receive(request: web.Request) -> web.Response:
            self.received.append((request.headers.get(SECRET_HEADER), await request.json()))
            return web.Response(status=self.status)

        app = web.Application()
        app.router.add_post("/zalo", receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/zalo"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


# ---------------------------------------------------------------- basics


async def test_get_me_params_token_and_unknown_methods(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot"
    me = await call(client, api, "getMe")
    assert me == {
        "ok": True,
        "result": {
            "id": api.bot_id,
            "account_name": "chibo",
            "account_type": "BASIC",
            "can_join_groups": False,
        },
    }
    # GET with query params and a form body work too
    await api.push_message(USER, "hi")
    got = await client.get(api.url("sendMessage"), params={"chat_id": USER, "text": "qua GET"})
    assert got.json()["ok"] is True
    form = await client.post(api.url("sendMessage"), data={"chat_id": USER, "text": "qua form"})
    assert form.json()["ok"] is True
    assert [m.text for m in api.messages(USER)] == ["qua GET", "qua form"]

    wrong = await client.post(f"{api.base_url}wrong-token/getMe")
    assert wrong.status_code == 200
    assert wrong.json()["ok"] is False and wrong.json()["error_code"] == 401
    for method in ("editMessageText", "sendDocument", "answerCallbackQuery", "sendmessage"):
        answer = await call(client, api, method, chat_id=USER, text="x")
        assert (answer["ok"], answer["error_code"]) == (False, 404), method
    assert [c.method for c in api.calls][:3] == ["getMe", "sendMessage", "sendMessage"]
    assert api.calls[-1].status == 200 and api.calls[-1].error_code == 404
    assert len(api.outbox) == 2


# ---------------------------------------------------------------- polling


async def test_idle_poll_answers_408_within_the_idle_timeout(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    answer = await call(client, api, "getUpdates", timeout=30)  # capped at idle_timeout
    elapsed = time.monotonic() - started
    assert answer == {"ok": False, "error_code": 408, "description": "Request timeout"}
    assert 0.15 < elapsed < 1.0, elapsed

    started = time.monotonic()
    answer = await call(client, api, "getUpdates", timeout=0)
    assert answer["error_code"] == 408
    assert time.monotonic() - started < 0.15
    assert api.failed_calls() == []  # idle polls are not failures


async def test_one_update_per_get_updates_in_order(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    api.idle_timeout = 2.0

    async def write_later() -> None:
        await asyncio.sleep(0.2)
        await api.push_message(USER, "một", display_name="An")

    writer = asyncio.create_task(write_later())
    started = time.monotonic()
    first = await call(client, api, "getUpdates", timeout=30)
    await writer
    assert 0.15 < time.monotonic() - started < 1.5  # woken by the push, not the timeout
    assert first["result"]["event_name"] == "message.text.received"
    message = first["result"]["message"]
    assert message["text"] == "một"
    assert message["from"] == {"id": USER, "display_name": "An", "is_bot": False}
    assert message["chat"] == {"id": USER, "chat_type": "PRIVATE"}
    assert isinstance(message["message_id"], str) and isinstance(message["date"], int)
    assert message["date"] > 1_600_000_000_000  # milliseconds

    for text in ("hai", "ba"):
        await api.push_message(USER, text)
    await api.push_message(OTHER, "bốn")
    texts = []
    for _ in range(3):
        answer = await call(client, api, "getUpdates", timeout=0)
        texts.append(answer["result"]["message"]["text"])  # one update, not a list
    assert texts == ["hai", "ba", "bốn"]
    assert (await call(client, api, "getUpdates", timeout=0))["error_code"] == 408
    ids = [u["message"]["message_id"] for u in api.updates]
    assert len(set(ids)) == 4


async def test_redeliver_replays_the_same_message(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    user = ZaloUser(api, USER, "An")
    update = await user.send("/start")
    await user.resend()
    first = (await call(client, api, "getUpdates", timeout=0))["result"]
    again = (await call(client, api, "getUpdates", timeout=0))["result"]
    assert first == again == update
    assert api.transcript(USER) == "→ An: /start\n→ An (replayed): /start"


# ---------------------------------------------------------------- webhook


async def test_webhook_delivery_with_secret_in_both_shapes(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    async with WebhookReceiver() as hook:
        short = await call(client, api, "setWebhook", url=hook.url, secret_token="short")
        assert short["ok"] is False and short["error_code"] == 400
        answer = await call(client, api, "setWebhook", url=hook.url, secret_token=SECRET)
        assert answer["ok"] is True and answer["result"]["url"] == hook.url
        assert (api.webhook_url, api.webhook_secret) == (hook.url, SECRET)
        info = await call(client, api, "getWebhookInfo")
        assert info["result"]["url"] == hook.url
        assert isinstance(info["result"]["updated_at"], int)

        refused = await call(client, api, "getUpdates", timeout=0)
        assert refused["ok"] is False and refused["error_code"] == 409
        assert "webhook" in refused["description"]

        first = await api.push_message(USER, "một")
        hook.status = 403
        second = await api.push_message(USER, "hai")
        assert [secret for secret, _ in hook.received] == [SECRET, SECRET]
        assert hook.received[0][1] == {"ok": True, "result": first}  # wrapped
        assert hook.received[1][1] == second  # bare
        deliveries = api.webhook_deliveries
        assert [(d.wrapped, d.status, d.ok) for d in deliveries] == [
            (True, 200, True),
            (False, 403, False),
        ]

        api.webhook_wrapped = False
        hook.status = 200
        await api.push_message(USER, "ba")
        await api.redeliver(first)
        assert [body for _, body in hook.received[2:]] == [api.updates[2], first]
        delivery = await api.post_to_webhook(first, secret_token="wrong", wrapped=True)
        assert hook.received[-1] == ("wrong", {"ok": True, "result": first})
        assert delivery.status == 200

        assert (await call(client, api, "deleteWebhook"))["result"]["url"] == ""
        assert api.webhook_url is None
        await api.push_message(USER, "bốn")
    assert len(hook.received) == 5  # polled again, not posted
    queued = await call(client, api, "getUpdates", timeout=0)
    assert queued["result"]["message"]["text"] == "bốn"


async def test_setting_a_webhook_ends_a_waiting_poll_and_failed_posts_are_recorded(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    api.idle_timeout = 5
    poll = asyncio.create_task(call(client, api, "getUpdates", timeout=30))
    await api.wait_for_call("getUpdates")
    await call(client, api, "setWebhook", url="http://127.0.0.1:9/nobody", secret_token=SECRET)
    answer = await asyncio.wait_for(poll, 2)
    assert answer["error_code"] == 409
    update = await api.push_message(USER, "có ai không?")  # the POST fails; no exception
    [delivery] = api.webhook_deliveries
    assert delivery.status is None and delivery.error and delivery.update == update
    user = ZaloUser(api, USER, "An")
    with pytest.raises(AssertionError, match="failed webhook deliveries"):
        await user.expect_message(timeout=0.05)


# ---------------------------------------------------------------- sending


async def test_text_and_caption_limits_and_unknown_chats(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    unknown = await call(client, api, "sendMessage", chat_id=USER, text="chào")
    assert unknown["ok"] is False and unknown["error_code"] == 400
    assert "not found" in unknown["description"].lower()

    await api.push_message(USER, "hi")
    ok = await call(client, api, "sendMessage", chat_id=USER, text="x" * 2000)
    assert ok["ok"] is True
    assert isinstance(ok["result"]["message_id"], str) and ok["result"]["date"] > 0
    for bad in ("x" * 2001, "", "  \n"):
        answer = await call(client, api, "sendMessage", chat_id=USER, text=bad)
        assert answer["ok"] is False and answer["error_code"] == 400, len(bad)
        assert answer["description"]
    assert (await call(client, api, "sendMessage", chat_id=USER))["error_code"] == 400

    url = "https://charts.example/a.png"
    photo = await call(client, api, "sendPhoto", chat_id=USER, photo=url, caption="c" * 2000)
    assert photo["ok"] is True
    long_caption = await call(client, api, "sendPhoto", chat_id=USER, photo=url, caption="c" * 2001)
    assert long_caption["error_code"] == 400
    not_a_url = await call(client, api, "sendPhoto", chat_id=USER, photo="chart.png")
    assert not_a_url["error_code"] == 400
    assert (await call(client, api, "sendSticker", chat_id=USER, sticker="st1"))["ok"] is True
    assert (await call(client, api, "sendChatAction", chat_id=USER, action="typing"))["ok"]
    assert (await call(client, api, "sendChatAction", chat_id=USER, action="dance"))["ok"] is False

    assert [m.kind for m in api.outbox] == ["text", "photo", "sticker"]
    assert api.outbox[1].photo_url == url and api.outbox[1].caption == "c" * 2000
    assert api.chat_actions == [(USER, "typing")]
    assert (await call(client, api, "getUpdates", timeout=0))["result"]["message"]["text"] == "hi"
    assert (await call(client, api, "getUpdates", timeout=0))["error_code"] == 408  # no echo


async def test_injected_failures(api: FakeZaloAPI, client: httpx.AsyncClient) -> None:
    await api.push_message(USER, "hi")
    await api.push_message(OTHER, "hi")
    api.fail("sendMessage", error_code=429, description="Quota exceeded")
    quota = await client.post(api.url("sendMessage"), json={"chat_id": USER, "text": "a"})
    assert quota.status_code == 200
    assert quota.json() == {"ok": False, "error_code": 429, "description": "Quota exceeded"}
    assert (await call(client, api, "sendMessage", chat_id=USER, text="a"))["ok"]  # only once

    api.fail("sendMessage", error_code=403, chat_id=OTHER, times=2)
    for _ in range(2):
        answer = await call(client, api, "sendMessage", chat_id=OTHER, text="b")
        assert answer["error_code"] == 403 and "error" in answer["description"].lower()
    assert (await call(client, api, "sendMessage", chat_id=USER, text="c"))["ok"]
    assert (await call(client, api, "sendMessage", chat_id=OTHER, text="b"))["ok"]  # used up

    api.fail("*", error_code=502, http_status=502, body="<html>Bad Gateway</html>", times=None)
    for method in ("getMe", "sendPhoto"):
        gateway = await client.post(api.url(method), json={})
        assert (gateway.status_code, gateway.text) == (502, "<html>Bad Gateway</html>")
    api.clear_failures()
    api.fail("sendMessage", disconnect=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(api.url("sendMessage"), json={"chat_id": USER, "text": "d"})

    assert [m.text for m in api.outbox] == ["a", "c", "b"]
    assert [(c.status, c.error_code) for c in api.calls] == [
        (200, 429),
        (200, None),
        (200, 403),
        (200, 403),
        (200, None),
        (200, None),
        (502, None),
        (502, None),
        (0, None),
    ]
    assert len(api.failed_calls()) == 6


async def test_echo_of_own_messages(client: httpx.AsyncClient) -> None:
    async with FakeZaloAPI(echo_own_messages=True, idle_timeout=0.2) as api:
        user = await api.push_message(USER, "chào bot", display_name="An")
        sent = await call(client, api, "sendMessage", chat_id=USER, text="chào An")
        url = "https://charts.example/b.png"
        await call(client, api, "sendPhoto", chat_id=USER, photo=url, caption="Biểu đồ")
        results = [(await call(client, api, "getUpdates", timeout=0))["result"] for _ in range(3)]
        assert results[0] == user
        echo_text, echo_photo = results[1]["message"], results[2]["message"]
        assert echo_text["from"] == {"id": api.bot_id, "display_name": "chibo", "is_bot": True}
        assert echo_text["text"] == "chào An"
        assert echo_text["message_id"] == sent["result"]["message_id"]
        assert echo_text["chat"] == {"id": USER, "chat_type": "PRIVATE"}
        assert results[2]["event_name"] == "message.image.received"
        assert (echo_photo["photo_url"], echo_photo["caption"]) == (url, "Biểu đồ")
        assert "text" not in echo_photo
        assert (await call(client, api, "getUpdates", timeout=0))["error_code"] == 408
        assert api.transcript(USER).count("chào An") == 1  # echoes are not shown twice


async def test_fetch_photos_downloads_the_url(client: httpx.AsyncClient) -> None:
    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG", content_type="image/png")

    app = web.Application()
    app.router.add_get("/chart.png", image)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with FakeZaloAPI(fetch_photos=True) as api:
            api.add_chat(USER)
            ok = await call(client, api, "sendPhoto", chat_id=USER, photo=f"{base}/chart.png")
            assert ok["ok"] is True
            missing = await call(client, api, "sendPhoto", chat_id=USER, photo=f"{base}/gone.png")
            assert missing["error_code"] == 400 and "404" in missing["description"]
            [message] = api.messages(USER)
            assert message.photo_bytes == b"\x89PNG"
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- transcripts and users


async def test_transcript_and_log_lines_in_order(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    an, binh = ZaloUser(api, USER, "An"), ZaloUser(api, OTHER, "Bình")
    await an.send("/start")
    await binh.send("xin chào")
    await call(client, api, "sendMessage", chat_id=USER, text="Chào An!\nChọn:\n1. Có\n2. Không")
    await an.send("1")
    await call(
        client, api, "sendPhoto", chat_id=USER, photo="https://x.example/c.png", caption="Kết quả"
    )
    await call(client, api, "sendMessage", chat_id=OTHER, text="Chào Bình")
    await an.send_image("https://zalo.example/p.jpg", caption="ảnh")
    await an.send_sticker("st9")
    await an.send_unsupported()

    assert api.transcript(USER) == "\n".join(
        [
            "→ An: /start",
            "← chibo: Chào An!",
            "    Chọn:",
            "    1. Có",
            "    2. Không",
            "→ An: 1",
            "← chibo: [photo https://x.example/c.png] Kết quả",
            "→ An: [image https://zalo.example/p.jpg] ảnh",
            "→ An: [sticker st9]",
            "→ An: [unsupported message]",
        ]
    )
    assert an.transcript() == api.transcript(USER)
    assert api.transcript("nobody") == "<empty chat>"
    lines = api.log_lines()
    assert lines[:2] == [f"[{USER}] → An: /start", f"[{OTHER}] → Bình: xin chào"]
    assert (
        lines.index(f"[{OTHER}] ← chibo: Chào Bình")
        == lines.index(f"[{USER}] ← chibo: [photo https://x.example/c.png] Kết quả") + 1
    )
    assert len(lines) == 12


async def test_zalo_user_reads_its_chat_in_order(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    an = ZaloUser(api, USER, "An")
    await an.send("hi")
    for text in ("một", "hai", "ba"):
        await call(client, api, "sendMessage", chat_id=USER, text=text)
    await api.push_message(OTHER, "hi")
    await call(client, api, "sendMessage", chat_id=OTHER, text="someone else")

    assert (await an.expect_message("hai")).text == "hai"  # "một" is skipped
    with pytest.raises(AssertionError, match="does not contain 'bốn'"):
        await an.expect_message("bốn", strict=True, timeout=0.1)  # consumes "ba"
    await call(client, api, "sendMessage", chat_id=USER, text="y" * 2001)  # refused
    with pytest.raises(AssertionError) as caught:
        await an.expect_message("ba", timeout=0.1)
    shown = str(caught.value)
    assert "→ An: hi" in shown and "← chibo: ba" in shown  # the transcript
    assert "text is too long" in shown  # the failed call
    await an.expect_no_message(within=0.05)

    async def later() -> None:
        await asyncio.sleep(0.1)
        await call(client, api, "sendMessage", chat_id=USER, text="bốn")

    task = asyncio.create_task(later())
    with pytest.raises(AssertionError, match="bốn"):
        await an.expect_no_message(within=1)
    await task
    assert [m.text for m in an.messages] == ["một", "hai", "ba", "bốn"]
    assert an.last_message().text == "bốn"


async def test_zalo_user_chooses_an_option_by_label(
    api: FakeZaloAPI, client: httpx.AsyncClient
) -> None:
    an = ZaloUser(api, USER, "An")
    await an.send("/danhgia")
    text = "Tiêu chí 1: Lãnh đạo\nBạn tự đánh giá:\n1. Xuất sắc\n2. Tốt\n3. Chưa đạt"
    await call(client, api, "sendMessage", chat_id=USER, text=text)
    await call(client, api, "sendMessage", chat_id=USER, text="Gợi ý: trả lời bằng số.")
    assert an.options(await an.expect_message("Lãnh đạo")) == ["Xuất sắc", "Tốt", "Chưa đạt"]
    update = await an.choose("Tốt")
    assert update["message"]["text"] == "2"
    with pytest.raises(AssertionError, match="no option 'Kém'"):
        await an.choose("Kém")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Chọn mức:\n1. Xuất sắc\n2. Tốt\n3. Đạt\n4. Chưa đạt",
            ["Xuất sắc", "Tốt", "Đạt", "Chưa đạt"],
        ),
        ("Chọn:\n1) Có\n2) Không\n\nGõ số để chọn.", ["Có", "Không"]),
        (
            "Các bước:\n1. Mở\n2. Đóng\nChọn tháng:\n1. Tháng 11\n2. Tháng 12",
            ["Tháng 11", "Tháng 12"],
        ),
        ("Chọn:  1. Có   2. Không", ["Có", "Không"]),
        ("Điểm 9.5 trên 10. Năm 2024. Hết.", []),
        ("Chọn:\n2. Tốt\n3. Đạt", []),  # not numbered from 1
        ("Chọn:\n1. Tốt\n3. Đạt", ["Tốt"]),  # a gap ends the block
        ("Không có lựa chọn nào.", []),
    ],
)
def test_options_parsing(text: str, expected: list[str]) -> None:
    assert parse_options(text) == expected
    assert ZaloUser.options(text) == expected


# ---------------------------------------------------------------- processes


def test_zalo_env(api: FakeZaloAPI, tmp_path: Path) -> None:
    env = zalo_env(api, tmp_path, ZALO_MODE="webhook")
    assert env == {
        "ZALO_BOT_TOKEN": api.token,
        "ZALO_API_URL": api.base_url,
        "ZALO_MODE": "webhook",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chibo.sqlite3'}",
        "LOG_LEVEL": "DEBUG",
        "HTTP_PORT": "0",  # side by side, each process takes a free port
    }
    assert not any(key.startswith("TELEGRAM") for key in env)


def sleeper(tmp_path: Path, seconds: float) -> BotProcess:
    """A BotProcess running a plain Python sleep instead of chibo."""
    bot = BotProcess({}, args=("sleep",), workdir=tmp_path)
    script = f"import time; time.sleep({seconds})"
    bot.process = subprocess.Popen([sys.executable, "-c", script])
    return bot


async def test_wait_zalo_ready_polling_and_webhook(
    api: FakeZaloAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    bot = sleeper(tmp_path, 10)
    try:
        waiter = asyncio.create_task(wait_zalo_ready(api, bot, 0, timeout=3))
        await call(client, api, "getUpdates", timeout=0)  # before getMe: does not count
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await call(client, api, "getMe")
        await call(client, api, "getUpdates", timeout=0)
        await asyncio.wait_for(waiter, 2)

        async with WebhookReceiver() as hook:
            since = len(api.calls)
            waiter = asyncio.create_task(wait_zalo_ready(api, bot, since, timeout=3))
            await call(client, api, "getMe")
            await call(client, api, "setWebhook", url=hook.url, secret_token="x")  # refused
            await asyncio.sleep(0.05)
            assert not waiter.done()
            await call(client, api, "setWebhook", url=hook.url, secret_token=SECRET)
            await asyncio.wait_for(waiter, 2)

        with pytest.raises(AssertionError, match=r"not ready on Zalo within 0\.2s"):
            await wait_zalo_ready(api, bot, len(api.calls), timeout=0.2)
    finally:
        bot.kill()


async def test_wait_zalo_ready_fails_when_the_process_exits(
    api: FakeZaloAPI, tmp_path: Path
) -> None:
    bot = sleeper(tmp_path, 0)
    with pytest.raises(AssertionError, match="exited with code 0 before it was ready on Zalo"):
        await wait_zalo_ready(api, bot, 0, timeout=5)


async def test_bot_process_start_dispatches_to_zalo(api: FakeZaloAPI, tmp_path: Path) -> None:
    bot = BotProcess(zalo_env(api, tmp_path), args=("--help",), workdir=tmp_path)
    with pytest.raises(AssertionError, match="ready on Zalo"):
        await bot.start(api, timeout=20)
