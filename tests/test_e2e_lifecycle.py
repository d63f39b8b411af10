"""End to end: the secretary removes one member and moves another (/members), through the
real bot process and the fake Bot API.

Both members are told exactly once, the moved member answers /assess in the new cell,
the removed one is no longer a member, the old cell's previous month reads the same
(in chat and in the exported year), and forged member ids change nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, text

from storage.db import create_engine
from storage.models import UTCDateTime
from tests.conftest import fetch
from tests.deployment import Deployment, deployed
from tests.harness import TelegramUser
from tests.test_e2e_evaluation import answer_all

OLD_CELL, NEW_CELL = "Chi bộ khu Biểu Nghi", "Chi bộ khu Đồng Tâm"


async def into_last_month(d: Deployment, cell_id: int) -> None:
    """The cell's open month becomes last month's, closed (as if a month had passed), and
    its members joined before it."""
    now = datetime.now(UTC)
    last = now.replace(day=1) - timedelta(days=1)
    statement = text(
        "UPDATE periods SET year = :year, month = :month, opens_at = :opens, "
        "deadline_at = :deadline WHERE cell_id = :cell"
    ).bindparams(
        bindparam("opens", type_=UTCDateTime()), bindparam("deadline", type_=UTCDateTime())
    )
    engine = create_engine(d.env["DATABASE_URL"])
    try:
        async with engine.begin() as connection:
            await connection.execute(
                statement,
                {
                    "year": last.year,
                    "month": last.month,
                    "opens": now - timedelta(days=40),
                    "deadline": now - timedelta(days=1),
                    "cell": cell_id,
                },
            )
            joined = text("UPDATE members SET joined_at = :at WHERE org_id = :cell").bindparams(
                bindparam("at", type_=UTCDateTime())
            )
            await connection.execute(joined, {"at": now - timedelta(days=50), "cell": cell_id})
    finally:
        await engine.dispose()


async def one(d: Deployment, sql: str) -> int:
    """The one number `sql` selects from the deployment's database."""
    rows = await fetch(d.env["DATABASE_URL"], sql)
    assert len(rows) == 1, rows
    return int(str(rows[0][0]))


async def member_id(d: Deployment, name: str, cell: str) -> int:
    return await one(
        d,
        "SELECT m.id FROM members m JOIN organizations o ON o.id = m.org_id "
        f"WHERE m.full_name LIKE '{name}%' AND o.name = '{cell}' AND m.active",
    )


async def snapshot_of_last_month(d: Deployment, an: TelegramUser) -> tuple[str, str]:
    """/progress of the old cell's (closed) month, and its year exported as CSV."""
    await an.send("/progress")
    progress = await an.expect_message(contains="Bình")
    year = str(datetime.now(UTC).replace(day=1) - timedelta(days=1))[:4]
    out = d.workdir / f"year-{len(an.messages)}.csv"
    await d.cli("export", "--cell", OLD_CELL, "--year", year, "--out", str(out))
    return progress.text or "", out.read_text(encoding="utf-8-sig")


async def test_secretary_removes_and_moves_members(tmp_path: Path) -> None:
    async with deployed(tmp_path, SCHEDULER_INTERVAL_SECONDS="1") as d:
        an = await d.secretary()
        binh = await d.member(an, 200, "Bình")
        dung = await d.member(an, 201, "Dũng")
        code = await d.new_cell(NEW_CELL)
        cuong = TelegramUser(d.api, 300, "Cường", "Lê")
        await cuong.send(f"/start {code}")
        await cuong.expect_message(contains="bí thư")

        deadline = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d 19:30")
        await an.send(f"/open {deadline}")
        await an.expect_message(contains="Đã mở đợt")
        await answer_all(binh)  # Bình submits; Dũng does not
        old_cell = await one(d, f"SELECT id FROM organizations WHERE name = '{OLD_CELL}'")
        await into_last_month(d, old_cell)
        before = await snapshot_of_last_month(d, an)
        assert "Dũng" in before[0]

        # remove Dũng: card, reason as text, confirm
        await an.send("/members")
        await an.expect_message(contains="Đảng viên của")
        await an.press("Dũng")
        await an.expect_edit(contains="Tình trạng")
        await an.press("Xóa khỏi chi bộ")
        await an.expect_message(contains="lý do")
        await an.send("Chuyển công tác vào Nam")
        await an.expect_message(contains="Xóa Dũng")
        await an.press("Đồng ý xóa")
        await an.expect_edit(contains="đã được xóa")
        told = await dung.expect_message(contains="không còn là đảng viên", timeout=30)
        assert "Chuyển công tác vào Nam" in (told.text or "")

        # move Bình to the other cell of the same committee
        await an.send("/members")
        roster = await an.expect_message(contains="Đảng viên của")
        assert "Dũng" not in str(roster.buttons)
        await an.press("Bình")
        await an.expect_edit(contains="Tình trạng")
        await an.press("Chuyển sinh hoạt sang chi bộ khác")
        await an.expect_edit(contains="Chọn chi bộ mới")
        await an.press(NEW_CELL)
        await an.expect_edit(contains="Chuyển Bình")
        await an.press("Đồng ý chuyển")
        await an.expect_edit(contains="đã chuyển sinh hoạt")
        welcome = await binh.expect_message(contains="Chào mừng đồng chí", timeout=30)
        assert NEW_CELL in (welcome.text or "") and OLD_CELL in (welcome.text or "")

        # forged and stale ids: another cell's member, the removed one, the moved one
        cuong_id = await member_id(d, "Cường", NEW_CELL)
        binh_old = await one(
            d, "SELECT id FROM members WHERE full_name LIKE 'Bình%' AND NOT active"
        )
        for forged in (
            f"mbc:{cuong_id}",
            f"mba:rm:{binh_old}",
            f"mbs:{cuong_id}:member",
            f"mbm:{binh_old}:{old_cell}:1",
        ):
            await an.press_data(forged)
            await an.expect_callback_answer(contains="Nút này không còn hiệu lực")

        # the moved member answers in the new cell; the removed one is no longer a member
        await cuong.send(f"/open {deadline}")
        await cuong.expect_message(contains="Đã mở đợt")
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 1/16")
        await dung.send("/assess")
        await dung.expect_message(contains="chưa vào chi bộ")

        # the old cell's last month is exactly as it was
        assert await snapshot_of_last_month(d, an) == before

        # each notice went out once
        await an.expect_no_message(within=2)
        assert sum("không còn là đảng viên" in (m.text or "") for m in dung.messages) == 1
        assert sum("đã chuyển sinh hoạt đảng từ" in (m.text or "") for m in binh.messages) == 1
        rows = await fetch(
            d.env["DATABASE_URL"],
            "SELECT status, count(*) FROM notifications WHERE kind = 'member_notice' "
            "GROUP BY status",
        )
        assert rows == [("sent", 2)]
        roles = await fetch(
            d.env["DATABASE_URL"], "SELECT count(*) FROM members WHERE role = 'secretary'"
        )
        assert roles == [(2,)]  # nothing forged changed a role
