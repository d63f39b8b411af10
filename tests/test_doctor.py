"""`chibo doctor`: one line per check, exit 0 only when every check passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx

from bot.app.doctor import Doctor
from bot.core.config import load_settings
from storage.schema import head_revision
from tests.fakebotapi import FakeBotAPI
from tests.fakezaloapi import FakeZaloAPI
from tests.harness import arun_cli, bot_env
from tests.zalo_harness import zalo_env


async def test_a_healthy_deployment_passes_every_check(tmp_path: Path) -> None:
    async with FakeBotAPI() as telegram, FakeZaloAPI() as zalo:
        env = {**bot_env(telegram, tmp_path), **zalo_env(zalo, tmp_path)}
        assert (await arun_cli(["migrate"], env, cwd=tmp_path)).returncode == 0
        done = await arun_cli(["doctor"], env, cwd=tmp_path)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(line.startswith("✓ ") for line in lines), lines
    text = done.stdout
    assert f"Cơ sở dữ liệu: kết nối được, lược đồ {head_revision()}." in text
    assert "Telegram: token dùng được (bot chibo_test_bot)." in text
    assert "Zalo: token dùng được (bot chibo)." in text
    assert "Telegram: nhận tin bằng polling." in text
    assert "Múi giờ: Asia/Ho_Chi_Minh." in text and "Ổ đĩa: còn trống" in text


async def test_a_wrong_token_and_an_old_schema_each_fail_with_their_line(tmp_path: Path) -> None:
    async with FakeBotAPI() as telegram, FakeZaloAPI() as zalo:
        env = {
            **bot_env(telegram, tmp_path),
            **zalo_env(zalo, tmp_path),
            "ZALO_BOT_TOKEN": "not-the-token",
        }
        done = await arun_cli(["doctor"], env, cwd=tmp_path)  # never migrated
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("✗ ")]
    assert len(failed) == 2, done.stdout
    assert failed[0] == (
        f"✗ Cơ sở dữ liệu: lược đồ ở —, bản chibo này cần {head_revision()}: chạy chibo migrate."
    )
    assert failed[1].startswith("✗ Zalo: token không dùng được (401")
    assert any(line.startswith("✓ Telegram: token dùng được") for line in done.stdout.splitlines())


async def test_a_clock_far_from_the_platforms_fails(tmp_path: Path) -> None:
    late = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)

    def answer(request: httpx.Request) -> httpx.Response:
        result = {"username": "chibo_bot"} if request.url.path.endswith("getMe") else {"url": ""}
        return httpx.Response(200, json={"ok": True, "result": result}, headers={"Date": late})

    settings = load_settings(
        telegram_bot_token="1:A",
        telegram_api_url="http://telegram.test/bot",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}",
        default_locale="en",
        _env_file=None,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        doctor = Doctor(settings, client)
        findings = await doctor.run()
    lines = [f.line for f in findings]
    assert not doctor.ok
    clock = [line for line in lines if line.startswith("✗ Clock: ")]
    assert len(clock) == 1 and clock[0].endswith(
        " s off Telegram's: reminders would be late or early."
    )
    assert 299 <= int(clock[0].split()[2]) <= 301  # five minutes, to the second
    assert "✓ Telegram: token works (bot chibo_bot)." in lines
