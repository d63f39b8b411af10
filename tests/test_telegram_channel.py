"""The Telegram channel in process, against the fake Bot API: popups and failure replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import Application

import handlers
from bot.channels.telegram import MAX_POPUP_LENGTH, build_application, popup
from bot.core.chat import ChatEvent, Outcome
from bot.core.config import load_settings
from bot.services import membership
from bot.services.runtime import Runtime
from bot.services.setup import committee, create_cell
from storage.db import Database
from storage.models import Member, Role
from tests.conftest import FakeClock
from tests.fakebotapi import FakeBotAPI
from tests.harness import TelegramUser

SAVED = "mọi thay đổi đã được lưu"
NOTHING_CHANGED = "chưa có gì bị thay đổi"
USER = 4242


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def app(api: FakeBotAPI, sqlite_db: Database, clock: FakeClock) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    settings = load_settings(
        database_url=sqlite_db.url,
        telegram_bot_token=api.token,
        telegram_api_url=api.base_url,
        _env_file=None,
    )
    application = build_application(Runtime(settings, sqlite_db, clock=clock))
    async with application:  # getMe; no polling: updates are fed by hand
        yield application


async def deliver(app: Application, api: FakeBotAPI, update: dict[str, Any]) -> None:  # type: ignore[type-arg]
    await api.push_update(update)  # the fake learns the chat and the callback query
    await app.process_update(Update.de_json(api.updates[-1], app.bot))


async def press(app: Application, api: FakeBotAPI, user: TelegramUser, data: str) -> str:  # type: ignore[type-arg]
    sent = await app.bot.send_message(user.chat_id, "Câu hỏi")
    query = {
        "id": f"q{len(api.updates)}",
        "from": user.user_dict,
        "message": api.message_dict(user.chat_id, sent.message_id),
        "chat_instance": "1",
        "data": data,
    }
    await deliver(app, api, {"callback_query": query})
    return str(query["id"])


def test_popup_fits_telegram_and_ends_at_a_word() -> None:
    name = "Nguyễn Thị Minh Khai " * 12
    text = f"Đồng chí {name}được miễn tháng này."
    short = popup(text)
    assert short is not None and len(short) <= MAX_POPUP_LENGTH < len(text)
    assert short.endswith("…")
    assert text.startswith(short[:-1])
    assert text[len(short) - 1] == " "  # cut between words
    emoji = popup("👍" * 150)  # two UTF-16 units each
    assert emoji is not None and len(emoji.encode("utf-16-le")) // 2 <= MAX_POPUP_LENGTH
    assert popup("Đã lưu.") == "Đã lưu."
    assert popup(None) is None


async def test_a_long_notice_is_shortened_to_a_popup_telegram_accepts(
    app: Application,  # type: ignore[type-arg]
    api: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notice = "Đồng chí " + "Nguyễn Thị Minh Khai " * 12 + "được miễn tháng này."
    assert len(notice) > MAX_POPUP_LENGTH

    async def handle(runtime: Runtime, event: ChatEvent) -> Outcome:
        return Outcome(notice=notice)

    monkeypatch.setattr(handlers, "handle", handle)
    user = TelegramUser(api, USER, "An")
    query_id = await press(app, api, user, "exa:1:y")
    answer = api.callback_answers[query_id]["text"]
    assert answer == popup(notice)
    assert user.messages[-1].text == "Câu hỏi"  # no error message followed


async def test_a_reply_refused_after_the_change_says_the_change_is_saved(
    app: Application,  # type: ignore[type-arg]
    api: FakeBotAPI,
    sqlite_db: Database,
    clock: FakeClock,
) -> None:
    async with sqlite_db.session() as session:
        parent, _ = await committee(session, "Đảng bộ phường")
        cell = await create_cell(session, "Chi bộ 1", parent, timezone="UTC", locale="vi")
        code, _ = await membership.create_invite(
            session, cell, Role.SECRETARY, now=clock(), valid_for=timedelta(days=1)
        )
    user = TelegramUser(api, USER, "An")
    api.fail(
        "sendMessage", chat_id=USER, status=400, description="Bad Request: message is too long"
    )
    await deliver(app, api, {"message": user.make_message(f"/start {code}")})
    [shown] = user.messages
    assert SAVED in (shown.text or ""), shown.text
    async with sqlite_db.session() as session:
        joined = await session.scalar(select(func.count()).select_from(Member))
    assert joined == 1  # the join was committed, as the message says


async def test_a_failure_before_the_change_says_nothing_was_changed(
    app: Application,  # type: ignore[type-arg]
    api: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(turn: object) -> Outcome:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(handlers, "_route", broken)
    user = TelegramUser(api, USER, "An")
    await deliver(app, api, {"message": user.make_message("/help")})
    [shown] = user.messages
    assert NOTHING_CHANGED in (shown.text or ""), shown.text
    query_id = await press(app, api, user, "as:ans:1:1:1")
    assert api.callback_answers[query_id].get("text") is None  # the spinner stops
    assert NOTHING_CHANGED in (user.messages[-1].text or "")
