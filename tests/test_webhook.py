"""Webhook mode: Telegram's route on the process's HTTP server. The secret is checked
before the body is read, the body is capped, malformed updates answer 400, and the
server listens on loopback by default."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from telegram import Update

from bot.app.web import WebhookRoute, build_app, serving
from bot.channels.telegram import SECRET_HEADER, update_taker
from bot.core.config import load_settings
from storage import files
from storage.db import Database
from tests.fakebotapi import FakeBotAPI
from tests.harness import BotProcess, TelegramUser, arun_cli, bot_env

SECRET = "s3cret-token"
LIMIT = 64 * 1024
HUGE = 90 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def post(
    port: int,
    body: bytes,
    *,
    secret: str | None = SECRET,
    announce: int | None = None,
    path: str = "/telegram",
) -> int:
    """POST by hand; with ``announce`` the headers promise that many bytes and only
    ``body`` is sent, so an answer proves the server did not wait for the rest."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    headers = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {announce if announce is not None else len(body)}",
    ]
    if secret is not None:
        headers.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + body)
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
    return int(status_line.split()[1])


def update_body(update_id: int = 1, text: str = "/help") -> bytes:
    chat = {"id": 5, "type": "private", "first_name": "A"}
    message = {"message_id": 1, "date": 0, "chat": chat, "text": text, "from": {**chat}}
    message["from"] = {"id": 5, "is_bot": False, "first_name": "A"}
    return json.dumps({"update_id": update_id, "message": message}).encode()


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, asyncio.Queue[object]]]:
    queue: asyncio.Queue[object] = asyncio.Queue()
    route = WebhookRoute(
        "/telegram",
        secret_header=SECRET_HEADER,
        secret=SECRET,
        max_body_bytes=LIMIT,
        accept=update_taker(None, queue),  # type: ignore[arg-type]
    )
    async with serving(build_app([route]), "127.0.0.1", 0) as port:
        yield port, queue


async def test_a_right_update_is_queued(server: tuple[int, asyncio.Queue[object]]) -> None:
    port, queue = server
    assert await post(port, update_body(7)) == 200
    update = queue.get_nowait()
    assert isinstance(update, Update) and update.update_id == 7
    assert await post(port, update_body(8), path="/telegram/") == 200
    assert await post(port, update_body(9), path="/other") == 404
    assert queue.qsize() == 1


async def test_the_secret_is_checked_before_the_body_is_read(
    server: tuple[int, asyncio.Queue[object]],
) -> None:
    port, queue = server
    assert await post(port, b"", secret=None, announce=HUGE) == 403
    assert await post(port, b"{", secret="wrong", announce=HUGE) == 403
    assert await post(port, update_body(), secret="s3cret-tokem") == 403
    assert queue.empty()


async def test_the_body_is_capped(server: tuple[int, asyncio.Queue[object]]) -> None:
    port, queue = server
    assert await post(port, b"", announce=LIMIT + 1) == 413
    padded = update_body(text="x" * LIMIT)
    assert await post(port, padded) == 413
    assert queue.empty()


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'"text"', b"", b'{"message": "no id"}', b"\xff\xfe"]
)
async def test_malformed_updates_with_the_right_secret_answer_400(
    server: tuple[int, asyncio.Queue[object]], body: bytes
) -> None:
    port, queue = server
    assert await post(port, body) == 400
    assert queue.empty()


def test_loopback_and_a_small_cap_by_default() -> None:
    settings = load_settings(_env_file=None)
    assert settings.http_listen == "127.0.0.1"
    assert settings.webhook_max_body_bytes == 1024 * 1024
    env_example = (Path(__file__).parents[1] / ".env.example").read_text(encoding="utf-8")
    assert "HTTP_LISTEN=127.0.0.1" in env_example
    assert "WEBHOOK_MAX_BODY_BYTES=1048576" in env_example


def test_the_webhook_address_settings_still_name_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """WEBHOOK_LISTEN/WEBHOOK_PORT, the names before the server served more, still work."""
    monkeypatch.setenv("WEBHOOK_LISTEN", "0.0.0.0")
    monkeypatch.setenv("WEBHOOK_PORT", "8443")
    settings = load_settings(_env_file=None)
    assert (settings.http_listen, settings.http_port) == ("0.0.0.0", 8443)
    monkeypatch.setenv("HTTP_PORT", "9000")  # the new name wins
    assert load_settings(_env_file=None).http_port == 9000


@pytest.mark.e2e
async def test_the_real_bot_in_webhook_mode(tmp_path: Path) -> None:
    port = free_port()
    async with FakeBotAPI() as api:
        env = bot_env(
            api,
            tmp_path,
            TELEGRAM_MODE="webhook",
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
            HTTP_PORT=str(port),  # HTTP_LISTEN left at its default
            WEBHOOK_SECRET=SECRET,
        )
        assert (await arun_cli(["migrate"], env, cwd=tmp_path)).returncode == 0
        async with BotProcess(env, workdir=tmp_path) as bot:
            await bot.start(api)
            assert await post(port, b"", secret=None, announce=HUGE) == 403
            assert await post(port, b"", announce=2 * 1024 * 1024) == 413
            assert await post(port, b"{not json") == 400
            user = TelegramUser(api, 500, "Cường")
            await user.send("/help")  # still serving
            await user.expect_message(contains="Các việc đồng chí có thể làm")
            # the same server serves file links
            db = Database(env["DATABASE_URL"])
            try:
                async with db.session() as session:
                    token = await files.publish(
                        session, "biểu đồ.png", b"\x89PNG", datetime.now(UTC), timedelta(hours=1)
                    )
            finally:
                await db.dispose()
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                shared = await client.get(f"/files/{token}")
                assert (shared.status_code, shared.content) == (200, b"\x89PNG")
                assert shared.headers["content-type"] == "image/png"
                assert (await client.get("/files/" + "x" * 32)).status_code == 404
            assert bot.running
            assert await bot.stop() == 0  # SIGTERM ends it cleanly
        assert "Traceback" not in bot.log_text()  # refusals are not errors
