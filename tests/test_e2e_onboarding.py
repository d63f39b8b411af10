"""End to end: the real `chibo run` process driven through the fake Bot API server."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.deployment import deployed
from tests.fakebotapi import FakeBotAPI
from tests.harness import BotProcess, TelegramUser, arun_cli, bot_env


async def test_secretary_and_member_join_change_language_and_get_help(tmp_path: Path) -> None:
    async with deployed(tmp_path) as d:
        out = await d.cli(
            "cell", "create", "Chi bộ khu Biểu Nghi", "--committee", "Đảng bộ phường Đông Mai"
        )
        assert "https://t.me/chibo_test_bot?start=" in out
        code = out.split("code: ")[1].split()[0]

        an = TelegramUser(d.api, 100, "An", "Nguyễn")
        await an.send(f"/start {code}")
        welcome = await an.expect_message(contains="Chào mừng đồng chí An Nguyễn")
        assert welcome.text and "bí thư" in welcome.text and "/invite" in welcome.text

        await an.send("/invite")
        menu = await an.expect_message(contains="Tạo lời mời")
        assert len(menu.buttons) == 3
        await an.press("60 người · 7 ngày")
        invite = await an.expect_message(contains="https://t.me/chibo_test_bot?start=")
        member_code = (invite.text or "").split("Mã: ")[1].split()[0]

        binh = TelegramUser(d.api, 200, "Bình", "Trần", language_code="en")
        await binh.send(f"/start {member_code}")
        joined = await binh.expect_message(contains="Chào mừng")
        assert "/invite" not in (joined.text or "")

        await binh.send("/language")
        await binh.expect_message(contains="Chọn ngôn ngữ")
        await binh.press("English")
        await binh.expect_edit(contains="Language set to English")
        assert await binh.expect_callback_answer(contains="English")
        await binh.send("/help")
        help_text = await binh.expect_message(contains="What you can do")
        assert help_text.text and "/assess" in help_text.text and "/invite" not in help_text.text

        # a restart keeps the language (it is stored, not in memory)
        await d.bot.stop()
        await d.bot.start(d.api)
        await binh.send("/help")
        await binh.expect_message(contains="What you can do")

        commands = d.api.get_commands(language_code="")
        assert {c["command"] for c in commands} >= {"start", "help", "assess", "language"}


async def test_bad_input_is_answered_and_changes_nothing(tmp_path: Path) -> None:
    async with deployed(tmp_path) as d:
        an = await d.secretary()
        stranger = TelegramUser(d.api, 300, "Khách")
        await stranger.send("/start not-a-real-code-123")
        await stranger.expect_message(contains="Mã mời không đúng")
        await stranger.send("/invite")
        await stranger.expect_message(contains="chưa vào chi bộ")
        await an.send("/frobnicate")
        await an.expect_message(contains="Không có lệnh /frobnicate")
        await an.send("chào bot")
        await an.expect_message(contains="chưa hiểu")
        await an.press_data("inv:9999:999")
        await an.expect_message(contains="1–200")
        await an.press_data("zz:forged")
        assert await an.expect_callback_answer(contains="không còn hiệu lực")
        listing = await d.cli("cell", "list")
        assert listing.count("cell ") == 1


async def test_missing_token_stops_start_up_with_one_line(tmp_path: Path) -> None:
    done = await arun_cli(["run"], {"TELEGRAM_BOT_TOKEN": "", "ZALO_BOT_TOKEN": ""}, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "chibo: TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN: missing (get a token from @BotFather "
        "or the Zalo Bot Platform, put it in .env)"
    )
    bad = await arun_cli(["run"], {"DATABASE_URL": "mysql://x"}, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("chibo: DATABASE_URL:")
    assert len(bad.stderr.strip().splitlines()) == 1


async def test_outdated_schema_refuses_to_start(tmp_path: Path) -> None:
    async with FakeBotAPI() as api:
        env = bot_env(api, tmp_path)
        done = await arun_cli(["run"], env, cwd=tmp_path)
        assert done.returncode == 2
        assert "run chibo migrate" in done.stderr
        assert not api.calls_to("getUpdates")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_accepts_only_the_secret(tmp_path: Path) -> None:
    port = free_port()
    async with FakeBotAPI() as api:
        env = bot_env(
            api,
            tmp_path,
            TELEGRAM_MODE="webhook",
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET="s3cret-token",
        )
        assert (await arun_cli(["migrate"], env, cwd=tmp_path)).returncode == 0
        async with BotProcess(env, workdir=tmp_path) as bot:
            await bot.start(api)
            assert api.webhook_url == f"http://127.0.0.1:{port}/telegram"
            assert api.webhook_secret == "s3cret-token"
            user = TelegramUser(api, 500, "Cường")
            forged = user.make_message("/help")
            status = await api.post_to_webhook(
                {"update_id": 1, "message": forged}, secret_token="wrong"
            )
            assert status == 403
            missing = await api.post_to_webhook({"update_id": 2, "message": forged}, None)
            assert missing == 403
            await user.expect_no_message(within=1.0)
            await user.send("/help")  # delivered with the right secret
            await user.expect_message(contains="Các việc đồng chí có thể làm")
