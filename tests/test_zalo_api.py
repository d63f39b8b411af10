"""The Zalo Bot API client (bot/channels/zalo_api.py) against the fake server on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from bot.channels.zalo_api import ZaloBotAPI, ZaloError, ZaloNetworkError
from tests.fakezaloapi import EVENT_TEXT, FakeZaloAPI

USER = "7c3f9a01b2d4e5f6"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloAPI]:
    async with FakeZaloAPI(idle_timeout=0.1) as server:
        yield server


@pytest.fixture
async def api(fake: FakeZaloAPI) -> AsyncIterator[ZaloBotAPI]:
    client = ZaloBotAPI(fake.token, fake.base_url, timeout=5)
    yield client
    await client.close()


async def test_get_me(api: ZaloBotAPI, fake: FakeZaloAPI) -> None:
    me = await api.get_me()
    assert me == fake.bot_info
    assert me["id"] == "5f1d2c3b4a596877"
    assert [c.method for c in fake.calls] == ["getMe"]


async def test_get_update_returns_one_update_then_none_when_idle(
    api: ZaloBotAPI, fake: FakeZaloAPI
) -> None:
    first = await fake.push_message(USER, "xin chào", display_name="An")
    second = await fake.push_message(USER, "Có", display_name="An")
    assert await api.get_update(1) == first
    assert await api.get_update(1) == second
    assert await api.get_update(1) is None  # the fake's 408 after its 0.1 s idle timeout
    polls = fake.calls_to("getUpdates")
    assert [p.params["timeout"] for p in polls] == [1, 1, 1]
    assert [p.error_code for p in polls] == [None, None, 408]
    assert first["event_name"] == EVENT_TEXT and first["message"]["text"] == "xin chào"


async def test_send_message(api: ZaloBotAPI, fake: FakeZaloAPI) -> None:
    await fake.push_message(USER, "xin chào")
    result = await api.send_message(USER, "Chào đồng chí")
    assert result["message_id"] == fake.outbox[0].message_id
    assert [(m.chat_id, m.text) for m in fake.messages(USER)] == [(USER, "Chào đồng chí")]


@pytest.mark.parametrize("code", [403, 429, 500])
async def test_ok_false_on_http_200_raises_with_the_code(
    api: ZaloBotAPI, fake: FakeZaloAPI, code: int
) -> None:
    fake.add_chat(USER)
    fake.fail("sendMessage", code, "refused by the fake")
    with pytest.raises(ZaloError) as raised:
        await api.send_message(USER, "Nhắc lịch")
    assert raised.value.error_code == code
    assert raised.value.description == "refused by the fake"
    assert fake.calls[-1].status == 200
    assert fake.outbox == []
    await api.send_message(USER, "Nhắc lịch")  # the failure was for one call
    assert len(fake.outbox) == 1


async def test_other_errors_the_api_answers(api: ZaloBotAPI, fake: FakeZaloAPI) -> None:
    with pytest.raises(ZaloError) as unknown_chat:
        await api.send_message("nobody", "xin chào")
    assert unknown_chat.value.error_code == 400
    assert "Chat not found" in unknown_chat.value.description
    fake.fail("getUpdates", 409, "Conflict: a webhook is active")
    with pytest.raises(ZaloError) as conflict:
        await api.get_update(1)  # only 408 means "nothing"
    assert conflict.value.error_code == 409


async def test_a_wrong_token_is_401(fake: FakeZaloAPI) -> None:
    client = ZaloBotAPI("not-the-token", fake.base_url, timeout=5)
    try:
        with pytest.raises(ZaloError) as raised:
            await client.get_me()
    finally:
        await client.close()
    assert raised.value.error_code == 401


async def test_a_non_json_error_page_raises_with_its_status(
    api: ZaloBotAPI, fake: FakeZaloAPI
) -> None:
    fake.add_chat(USER)
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    fake.fail("sendMessage", http_status=502, body=page)
    with pytest.raises(ZaloError) as raised:
        await api.send_message(USER, "Nhắc lịch")
    assert raised.value.error_code == 502
    assert raised.value.description == page


async def test_a_dropped_connection_may_have_been_sent(api: ZaloBotAPI, fake: FakeZaloAPI) -> None:
    fake.add_chat(USER)
    fake.fail("sendMessage", disconnect=True)
    with pytest.raises(ZaloNetworkError) as raised:
        await api.send_message(USER, "Nhắc lịch")
    assert raised.value.sent is True
    assert raised.value.args[0].startswith("sendMessage: ")
    assert fake.outbox == []
    await api.send_message(USER, "Nhắc lịch")  # the client still works afterwards
    assert len(fake.outbox) == 1


async def test_no_server_means_not_sent() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ZaloBotAPI("token", f"http://127.0.0.1:{port}/bot", timeout=5)
    try:
        with pytest.raises(ZaloNetworkError) as raised:
            await client.send_message(USER, "Nhắc lịch")
    finally:
        await client.close()
    assert raised.value.sent is False
