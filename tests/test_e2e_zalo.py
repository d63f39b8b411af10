"""End to end on Zalo: the real `chibo run` against the fake Zalo Bot API."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.core.words import fold
from tests.conftest import fetch, fresh_database_url
from tests.deployment import CODE, ZaloDeployment, deployed_zalo
from tests.deployment import INVITE_CODE as INVITE
from tests.fakebotapi import FakeBotAPI
from tests.fakezaloapi import FakeZaloAPI
from tests.harness import BotProcess, TelegramUser
from tests.zalo_harness import ZaloMessage, ZaloUser, zalo_env

DEADLINE = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%d 19:30")
FAST = {"SCHEDULER_INTERVAL_SECONDS": "1"}
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


async def query(d: ZaloDeployment, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql` on the deployment's database (SQLite or PostgreSQL)."""
    return await fetch(d.env["DATABASE_URL"], sql)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """FAST settings on a fresh database of each kind (PostgreSQL for real, as in CI)."""
    return {**FAST, "DATABASE_URL": await fresh_database_url(request.param, tmp_path)}


async def open_month(d: ZaloDeployment) -> tuple[ZaloUser, ZaloUser]:
    an = await d.zalo_secretary()
    await an.send(f"/open {DEADLINE}")
    await an.expect_message(contains="Đã mở đợt tự đánh giá")
    binh = await d.zalo_member(an, "za200", "Trần Thị Bình")
    await binh.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
    return an, binh


async def answer_until_review(user: ZaloUser, screen: ZaloMessage, *, by_words: bool) -> int:
    """From question `screen` on, answer each question with its first option (by number,
    or by its words typed without diacritics in capitals), typing a text where one is
    asked; the number of answers given."""
    for given in range(60):
        if "Xem lại" in screen.body:
            return given
        if "Trả lời bằng số" in screen.body:
            first = user.options(screen)[0]
            await user.send(fold(first).upper() if by_words else "1")
        else:
            await user.send("Không có đề xuất ạ")
        screen = await user.expect_message(strict=True)
    raise AssertionError("no review screen:\n" + user.transcript())


async def test_a_member_joins_by_code_and_does_the_whole_assessment_by_numbers(
    tmp_path: Path, store: dict[str, str]
) -> None:
    async with deployed_zalo(tmp_path, store) as d:
        an, binh = await open_month(d)
        meeting = (datetime.now(UTC) + timedelta(days=2)).astimezone(HCM)
        await an.send(f"/meeting {meeting:%Y-%m-%d %H:%M} | Hội trường khu dân cư")
        notice = await binh.expect_message(contains="Lịch sinh hoạt", timeout=30)
        assert binh.options(notice)[:2] == ["✅ Tôi sẽ dự", "❌ Tôi vắng (ghi lý do)"]
        await binh.send("1")  # RSVP by number
        await binh.expect_message(contains="sẽ dự", strict=True)
        await binh.send("/assess")
        first = await binh.expect_message(contains="Câu 1/16 · Nhóm 1:")
        assert binh.options(first)[:4] == ["Xuất sắc", "Tốt", "Hoàn thành", "Không hoàn thành"]
        assert len(first.body) <= 2000
        await binh.send("4")  # "Không hoàn thành": a reason is asked
        await binh.expect_message(contains="Xin đồng chí ghi ngắn gọn lý do")
        await binh.send("Ốm cả tháng")
        second = await binh.expect_message(contains="Câu 2/16")
        await binh.send("99")  # a number that means nothing changes nothing
        await binh.expect_message(contains="không ứng với lựa chọn nào", strict=True)
        await answer_until_review(binh, second, by_words=False)
        await binh.send("gửi")  # the Submit option, by its word
        done = await binh.expect_message(contains="Đã gửi bản tự đánh giá", strict=True)
        assert "Nhóm 1" not in done.body  # the review just above is not repeated
        assert binh.options(done) == ["✏️ Sửa câu trả lời"]
        await binh.send("/score")
        await binh.expect_message(strict=True)
        rows = await query(
            d,
            "SELECT a.state, count(x.id) FROM assessments a JOIN answers x"
            " ON x.assessment_id = a.id GROUP BY a.id",
        )
        assert rows == [("submitted", 16)]
        answer = await query(d, "SELECT value, comment FROM answers ORDER BY id LIMIT 1")
        assert answer[0][1] == "Ốm cả tháng"
        (tmp_path / "zalo-transcript.txt").write_text(binh.transcript())  # for reading


async def test_options_answer_by_their_words_without_diacritics(tmp_path: Path) -> None:
    async with deployed_zalo(tmp_path, FAST) as d:
        _, binh = await open_month(d)
        await binh.send("/assess")
        first = await binh.expect_message(contains="Câu 1/16")
        given = await answer_until_review(binh, first, by_words=True)
        assert given >= 16
        review = binh.last_message()
        assert "Xem lại" in review.body and "Gửi" in review.body
        answered = await query(d, "SELECT count(*) FROM answers")
        assert answered == [(16,)]


async def test_replays_stickers_groups_and_own_messages_change_nothing(tmp_path: Path) -> None:
    async with deployed_zalo(tmp_path, FAST) as d:
        _, binh = await open_month(d)
        d.za.echo_own_messages = True  # Zalo may hand the bot its own messages back
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 1/16")
        update = await binh.send("1")
        await binh.expect_message(contains="Câu 2/16")
        await binh.resend(update)  # Zalo delivers the same message again
        await binh.send_sticker()
        sticker = await binh.expect_message()
        assert "chỉ đọc được tin nhắn chữ" in sticker.body
        group = ZaloUser(d.za, "za200", "Trần Thị Bình", chat_id="grp1")
        await group.send("/assess")
        await group.expect_no_message(within=1.0)
        assert await query(d, "SELECT count(*) FROM answers") == [(1,)]
        stranger = ZaloUser(d.za, "za999", "Người lạ")
        await stranger.send("2")
        hello = await stranger.expect_message()
        assert "mã mời" in hello.body
        await binh.expect_no_message(within=0.5)  # its own echoed messages got no answer


def zalo_sent(d: ZaloDeployment, user: ZaloUser, needle: str) -> int:
    return sum(1 for m in d.za.messages(user.chat_id) if needle in m.body)


def telegram_sent(d: ZaloDeployment, user: TelegramUser, needle: str) -> int:
    return sum(1 for m in d.api.messages(user.chat_id) if needle in (m.text or ""))


async def test_one_cell_on_both_apps_gets_each_reminder_once_and_counts_people(
    tmp_path: Path, store: dict[str, str]
) -> None:
    async with deployed_zalo(tmp_path, store, telegram=True) as d:
        an = await d.secretary()  # on Telegram
        binh = await d.zalo_member(an, "za200", "Trần Thị Bình")  # Zalo only
        cuong = await d.member(an, 300, "Cường")  # Telegram only
        dung = await d.zalo_member(an, "za400", "Phạm Thị Dung")  # Zalo, then Telegram too
        await dung.send("/link")
        code = (await dung.expect_message(contains="Mã liên kết")).body.split(": ")[1].split()[0]
        dung_tg = TelegramUser(d.api, 401, "Dung", "Phạm")
        await dung_tg.send(code)
        await dung_tg.expect_message(contains="Đã liên kết")
        await dung_tg.send(code)  # once is enough: the account is linked now
        await dung_tg.expect_message(contains="đã thuộc về")
        await an.send(f"/open {DEADLINE}")
        await an.expect_message(contains="Đã mở đợt tự đánh giá")
        for user in (binh, cuong, dung_tg):
            await user.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)

        await an.send("/remind")
        await an.expect_message(contains="Đã nhắc 4 đảng viên")
        await binh.expect_message(contains="⏰", timeout=15)
        await cuong.expect_message(contains="⏰", timeout=15)
        await dung_tg.expect_message(contains="⏰", timeout=15)  # the app Dung used last
        await asyncio.sleep(3)  # a few more ticks: nothing is sent again
        assert zalo_sent(d, binh, "⏰") == 1
        assert telegram_sent(d, cuong, "⏰") == 1
        assert telegram_sent(d, dung_tg, "⏰") == 1 and zalo_sent(d, dung, "⏰") == 0
        assert zalo_sent(d, binh, "Đã mở đợt tự đánh giá") == 1
        channels = await query(
            d,
            "SELECT channel, count(*) FROM notifications WHERE status = 'sent'"
            " GROUP BY channel ORDER BY channel",
        )
        assert {channel for channel, _ in channels} == {"telegram", "zalo"}

        await an.send("/progress")
        progress = await an.expect_message(contains="Đã gửi:")
        assert "Đã gửi: 0/4" in (progress.text or "")  # four people, five chat accounts
        assert (progress.text or "").count("Phạm Thị Dung") == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


MEMBERS = 40


async def test_a_large_cell_on_a_zalo_webhook_with_charts_as_links(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **FAST,
        "ZALO_MODE": "webhook",
        "ZALO_WEBHOOK_URL": f"{base}/zalo-hook",
        "ZALO_WEBHOOK_SECRET": "zalo-secret-123",
        "HTTP_PORT": str(port),
        "PUBLIC_BASE_URL": base,
        "LOG_LEVEL": "INFO",
    }
    async with deployed_zalo(tmp_path, env) as d:
        assert d.za.webhook_url == f"{base}/zalo-hook"
        an = await d.zalo_secretary()
        await an.send(f"/invite {MEMBERS} 7")
        code = INVITE.search((await an.expect_message(contains="Mã:")).body)
        assert code is not None
        names = [f"Nguyễn Thị Phương Thảo khu dân cư Biểu Nghi số {n:03d}" for n in range(MEMBERS)]
        users = [ZaloUser(d.za, f"zm{n:03d}", name) for n, name in enumerate(names)]
        for user in users:  # the fake posts each message to the webhook as it is sent
            await user.send(code.group(1))
        for user in users:
            await user.expect_message(contains="Chào mừng", timeout=30)
        meeting = datetime.now(UTC) + timedelta(days=2)
        await an.send(f"/open {DEADLINE}")
        await an.expect_message(contains="Đã mở đợt tự đánh giá")
        await an.send(f"/meeting {meeting.astimezone(HCM):%Y-%m-%d %H:%M} | Hội trường")
        notice = await users[0].expect_message(contains="Lịch sinh hoạt", timeout=30)
        options = users[0].options(notice)
        await users[0].send(str(options.index("✅ Tôi sẽ dự") + 1))  # RSVP by number
        await users[0].expect_message(contains="sẽ dự", strict=True)

        start = len(d.za.outbox)
        await an.send("/progress")
        await an.expect_message(contains=names[-1], timeout=15)
        parts = [m for m in d.za.outbox[start:] if m.chat_id == an.chat_id]
        assert len(parts) >= 2 and all(len(m.body) <= 2000 for m in parts)
        text = "\n".join(m.body for m in parts)
        positions = [text.index(name) for name in names]  # every member, in order
        assert positions == sorted(positions)

        await an.send("/summary")
        photos = await d.za.wait_until(
            lambda: [m for m in d.za.messages(an.chat_id) if m.kind == "photo"], 30
        )
        assert photos, an.transcript()[-2000:]
        photo = photos[0]
        assert photo.photo_url is not None and photo.photo_url.startswith(base + "/files/")
        async with httpx.AsyncClient() as client:
            chart = await client.get(photo.photo_url)
        assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
        assert all(delivery.status == 200 for delivery in d.za.webhook_deliveries)


async def test_kill_9_mid_assessment_then_the_numbers_still_mean_the_same(
    tmp_path: Path, store: dict[str, str]
) -> None:
    async with deployed_zalo(tmp_path, store) as d:
        _, binh = await open_month(d)
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 1/16")
        await binh.send("2")
        second = await binh.expect_message(contains="Câu 2/16")
        d.bot.kill()  # a crash: no shutdown code runs
        await d.bot.start(d.za)
        await binh.send("2")  # the options of question 2, as shown before the crash
        await binh.expect_message(contains="Câu 3/16", strict=True)
        answers = await query(d, "SELECT value FROM answers ORDER BY id")
        assert answers == [("good",), ("good",)]
        assert binh.options(second)[1] == "Tốt"


async def test_two_zalo_bots_in_one_process_each_serve_their_cells(tmp_path: Path) -> None:
    ward = FakeZaloAPI(token="zalo-ward-token", bot_id="ward-bot", account_name="chibo phường")
    async with FakeZaloAPI() as zalo:
        zalo.add_bot(ward)  # both bots behind one ZALO_API_URL
        env = zalo_env(zalo, tmp_path, **FAST)
        d = ZaloDeployment(FakeBotAPI(), env, BotProcess(env, workdir=tmp_path), tmp_path, zalo)
        await d.cli("migrate")
        code_a = await d.new_cell("Chi bộ A")
        out = await d.cli("cell", "create", "Chi bộ B", "--committee", "Đảng bộ phường Đông Mai")
        code_b = CODE.search(out.split("created cell")[1])
        assert code_b is not None
        added = await d.cli(
            "bot", "add", "zalo", "--token", ward.token, "--cell", "Chi bộ B",
            "--link", "https://zalo.me/chibo-phuong",
        )  # fmt: skip
        assert "added zalo bot 1 for Chi bộ B" in added
        async with d.bot:
            await d.bot.start(zalo)
            await ward.wait_for_call("getUpdates", timeout=30)  # the extra bot polls too
            an = ZaloUser(zalo, "za100", "Nguyễn Văn An")  # cell A, on the default bot
            await an.send(code_a)
            await an.expect_message(contains="bí thư")
            bich = ZaloUser(ward, "wb100", "Lê Thị Bích")  # cell B, on the ward's bot
            await bich.send(code_b.group(1))
            await bich.expect_message(contains="bí thư")
            await bich.send("/invite 1 7")
            invite = await bich.expect_message(contains="Mã:")
            assert "Trên Zalo: mở https://zalo.me/chibo-phuong" in invite.body
            code = INVITE.search(invite.body)
            assert code is not None
            cuc = ZaloUser(ward, "wb200", "Đỗ Văn Cúc")
            await cuc.send(code.group(1))
            await cuc.expect_message(contains="Chào mừng")
            await bich.send(f"/open {DEADLINE}")
            await bich.expect_message(contains="Đã mở đợt tự đánh giá")
            await an.send(f"/open {DEADLINE}")
            await an.expect_message(contains="Đã mở đợt tự đánh giá")
            await cuc.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
            await asyncio.sleep(2)  # more ticks: nothing goes through the other bot
            assert {m.chat_id for m in ward.outbox} == {"wb100", "wb200"}
            assert {m.chat_id for m in zalo.outbox} == {"za100"}
            bots = await query(d, "SELECT external_id, bot_id FROM chat_identities ORDER BY id")
            assert bots == [("za100", None), ("wb100", 1), ("wb200", 1)]


async def test_sigterm_stops_both_apps_cleanly(tmp_path: Path) -> None:
    async with deployed_zalo(tmp_path, FAST, telegram=True) as d:
        an = await d.zalo_secretary()
        await an.send("/help")
        await an.expect_message(contains="/assess")
        code = await d.bot.stop(timeout=15)  # SIGTERM, then SIGKILL after 15 s
        assert code == 0, d.bot.log_tail()
        log = d.bot.log_text()
        assert "Traceback" not in log and " ERROR " not in log, d.bot.log_tail()
