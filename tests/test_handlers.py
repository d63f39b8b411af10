"""The channel-neutral handlers, in process: roles, language, bad input, invites."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from sqlalchemy import func, select

import handlers
from bot.core.chat import Attachment, ChatEvent, Outcome
from bot.rules.framework import default_framework_path, load_framework
from bot.services import membership
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from storage import frameworks as framework_store
from storage import orgs
from storage.models import Framework, Invite, Member, OrgKind, Role
from tests.conftest import FakeClock


async def say(
    runtime: Runtime,
    user: str,
    text: str | None = None,
    *,
    data: str | None = None,
    language: str | None = None,
) -> Outcome:
    event = ChatEvent("telegram", user, user, f"User {user}", language, text, data)
    return await handlers.handle(runtime, event)


def text_of(outcome: Outcome) -> str:
    return "\n".join(r.text for r in outcome.replies)


async def seed_cell(runtime: Runtime) -> str:
    """A cell and its secretary's invite code."""
    async with runtime.db.session() as session:
        committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        cell = await create_cell(
            session, "Chi bộ khu Biểu Nghi", committee, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        code, _ = await membership.create_invite(
            session, cell, Role.SECRETARY, now=runtime.clock(), valid_for=timedelta(days=7)
        )
    return code


@pytest.fixture
async def secretary(runtime: Runtime) -> str:
    code = await seed_cell(runtime)
    outcome = await say(runtime, "100", f"/start {code}")
    assert "bí thư" in text_of(outcome)
    return "100"


async def member_count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count(Member.id))) or 0)


async def test_stranger_is_greeted_in_vietnamese_and_told_how_to_join(runtime: Runtime) -> None:
    outcome = await say(runtime, "1", "/start")
    assert "mã mời" in text_of(outcome)
    assert "/invite" not in text_of(await say(runtime, "1", "/help"))


async def test_stranger_with_german_phone_gets_german(runtime: Runtime) -> None:
    outcome = await say(runtime, "1", "/help", language="de-DE")
    assert "Was du tun kannst" in text_of(outcome)


async def test_help_depends_on_the_role(runtime: Runtime, secretary: str) -> None:
    assert "/invite" in text_of(await say(runtime, secretary, "/help"))
    invite = await say(runtime, secretary, "/invite 1 7")
    code = next(
        line.split(": ")[1] for line in text_of(invite).splitlines() if line.startswith("Mã")
    )
    assert "Chào mừng" in text_of(await say(runtime, "200", f"/start {code}"))
    member_help = text_of(await say(runtime, "200", "/help"))
    assert "/language" in member_help and "/invite" not in member_help


async def test_invite_buttons_and_link(runtime: Runtime, secretary: str) -> None:
    outcome = await say(runtime, secretary, "/invite")
    data = [b.data for row in outcome.replies[0].buttons for b in row]
    assert data == ["inv:1:7", "inv:60:7", "inv:60:30"]
    created = text_of(await say(runtime, secretary, data=data[1]))
    assert "https://t.me/chibo_test_bot?start=" in created
    async with runtime.db.session() as session:
        invite = (await session.scalars(select(Invite).order_by(Invite.id.desc()))).first()
    assert invite is not None and invite.max_uses == 60 and invite.role == Role.MEMBER


async def test_member_cannot_invite_even_with_forged_button(
    runtime: Runtime, secretary: str
) -> None:
    code = text_of(await say(runtime, secretary, "/invite 1 1")).split("Mã: ")[1].split()[0]
    await say(runtime, "300", f"/start {code}")
    assert "Chỉ bí thư" in text_of(await say(runtime, "300", "/invite"))
    forged = await say(runtime, "300", data="inv:200:30")
    assert forged.notice is not None and "Chỉ bí thư" in forged.notice
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count(Invite.id))) == 2


async def test_out_of_range_invite_is_refused(runtime: Runtime, secretary: str) -> None:
    async with runtime.db.session() as session:
        before = await session.scalar(select(func.count(Invite.id)))
    for data in ("inv:0:7", "inv:9999:1", "inv:5:365"):
        assert "1–200" in text_of(await say(runtime, secretary, data=data))
    for data in ("inv:x:y", "inv", "inv:²:7"):
        malformed = await say(runtime, secretary, data=data)
        assert malformed.notice is not None and "không còn hiệu lực" in malformed.notice
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count(Invite.id))) == before


async def test_language_is_remembered(runtime: Runtime, secretary: str) -> None:
    menu = await say(runtime, secretary, "/language")
    assert [b.data for row in menu.replies[0].buttons for b in row] == [
        "lang:vi",
        "lang:en",
        "lang:de",
    ]
    switched = await say(runtime, secretary, data="lang:en")
    assert switched.replies[0].edit and "Language set to English" in switched.replies[0].text
    assert "What you can do" in text_of(await say(runtime, secretary, "/help"))
    await say(runtime, secretary, "/language de")
    assert "Was du tun kannst" in text_of(await say(runtime, secretary, "/help"))


async def test_forged_language_is_refused(runtime: Runtime, secretary: str) -> None:
    for data in ("lang:fr", "lang:VI", "lang"):
        forged = await say(runtime, secretary, data=data)
        assert forged.notice is not None and "không còn hiệu lực" in forged.notice
    assert "Các việc" in text_of(await say(runtime, secretary, "/help"))


async def test_stranger_cannot_press_member_buttons(runtime: Runtime) -> None:
    outcome = await say(runtime, "9", data="lang:en")
    assert outcome.notice is not None and "chưa vào chi bộ" in outcome.notice


async def test_bad_input_gets_a_clear_reply_and_changes_nothing(
    runtime: Runtime, secretary: str
) -> None:
    before = await member_count(runtime)
    assert "Không có lệnh /frobnicate" in text_of(await say(runtime, secretary, "/frobnicate"))
    assert "chưa hiểu" in text_of(await say(runtime, secretary, "xin chào"))
    too_long = text_of(await say(runtime, secretary, "a" * 1001))
    assert "quá dài" in too_long and "1001" in too_long
    unknown_button = await say(runtime, secretary, data="zz:1")
    assert unknown_button.notice == "Nút này không còn hiệu lực."
    assert "chỉ đọc được" in text_of(await say(runtime, secretary, None))
    assert await member_count(runtime) == before


async def test_stranger_may_paste_a_bare_code(runtime: Runtime) -> None:
    code = await seed_cell(runtime)
    assert "Chào mừng" in text_of(await say(runtime, "5", code))
    assert await member_count(runtime) == 1


async def test_second_join_is_refused(runtime: Runtime, secretary: str) -> None:
    code = text_of(await say(runtime, secretary, "/invite 5 1")).split("Mã: ")[1].split()[0]
    again = text_of(await say(runtime, secretary, f"/start {code}"))
    assert "đã là thành viên" in again
    assert await member_count(runtime) == 1


async def test_wrong_codes_throttle_with_local_time(runtime: Runtime, clock: FakeClock) -> None:
    code = await seed_cell(runtime)
    for n in range(5):
        assert "không đúng" in text_of(await say(runtime, "7", f"/start guess-{n}-aaaaaaaaaa"))
    blocked = text_of(await say(runtime, "7", f"/start {code}"))
    assert "quá nhiều lần" in blocked
    assert "08:15" in blocked  # 01:00 UTC + 15 min, shown in Asia/Ho_Chi_Minh
    clock.now += timedelta(minutes=16)
    assert "Chào mừng" in text_of(await say(runtime, "7", f"/start {code}"))


async def test_expired_invite_in_chat(runtime: Runtime, clock: FakeClock) -> None:
    code = await seed_cell(runtime)
    clock.now += timedelta(days=8)
    assert "hết hạn" in text_of(await say(runtime, "8", f"/start {code}"))
    assert await member_count(runtime) == 0


async def upload(runtime: Runtime, user: str, content: bytes, size: int | None = None) -> str:
    document = Attachment("document", "bo-tieu-chi.yaml", content, size=size)
    event = ChatEvent("telegram", user, user, f"User {user}", None, document=document)
    return text_of(await handlers.handle(runtime, event))


async def framework_count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count(Framework.id))) or 0)


async def test_a_too_large_framework_file_gets_a_clear_reply(
    runtime: Runtime, secretary: str
) -> None:
    before = await framework_count(runtime)
    reply = await upload(runtime, secretary, b"", size=600 * 1024)
    assert "quá lớn (600 KB)" in reply and "512 KB" in reply
    reply = await upload(runtime, secretary, b"#" * (513 * 1024))
    assert "quá lớn (513 KB)" in reply
    assert await framework_count(runtime) == before


async def test_the_problem_list_of_a_bad_framework_fits_one_message(
    runtime: Runtime, secretary: str
) -> None:
    data = yaml.safe_load(default_framework_path().read_text(encoding="utf-8"))
    data["code"] = "C" * 5000
    for group in data["groups"]:
        group["title"] = {"vi": "T" * 5000}
        group["key"] = "K" * 5000
        for criterion in group["criteria"]:
            criterion["key"] = "K" * 5000
    reply = await upload(runtime, secretary, yaml.safe_dump(data, allow_unicode=True).encode())
    assert "Không dùng được tệp bộ tiêu chí" in reply and "… và" in reply
    assert len(reply) <= 4096
    deep = await upload(runtime, secretary, b"[" * 50_000 + b"]" * 50_000)
    assert "Không dùng được tệp bộ tiêu chí" in deep and len(deep) <= 4096


async def test_a_secretary_cannot_take_the_next_shipped_version(
    runtime: Runtime, secretary: str
) -> None:
    data = yaml.safe_load(default_framework_path().read_text(encoding="utf-8"))
    data["version"] += 1
    reply = await upload(runtime, secretary, yaml.safe_dump(data, allow_unicode=True).encode())
    assert f"Mã {data['code']} thuộc bộ tiêu chí dùng chung" in reply
    data["code"] = "tinh-ninh-binh"
    reply = await upload(runtime, secretary, yaml.safe_dump(data, allow_unicode=True).encode())
    assert "Đã lưu bộ tiêu chí" in reply
    async with runtime.db.session() as session:
        cell = await session.scalar(select(Member.org_id).where(Member.role == Role.SECRETARY))
        own = await session.scalar(select(Framework).where(Framework.code == "tinh-ninh-binh"))
        assert own is not None and own.owner_org_id == cell
        # the next release and new cells still get the shipped framework
        shipped = load_framework(default_framework_path())
        bumped = shipped.model_copy(update={"version": shipped.version + 1})
        stored, created = await framework_store.store(session, bumped)
        assert created and stored.owner_org_id is None
        new_cell = await create_cell(session, "Chi bộ mới", None, timezone="UTC", locale="vi")
        assert new_cell.framework_id is not None and new_cell.framework_id != own.id


async def test_the_regular_meeting_is_read_back_in_the_secretarys_language(
    runtime: Runtime, secretary: str
) -> None:
    set_day = text_of(await say(runtime, secretary, "/schedule ngày 3 19:30"))
    assert set_day == "Đã đặt lịch sinh hoạt định kỳ: ngày 3 hằng tháng, lúc 19:30."
    weekday = text_of(await say(runtime, secretary, "/schedule thứ sáu đầu tiên 14:00"))
    assert weekday == "Đã đặt lịch sinh hoạt định kỳ: Thứ Sáu tuần đầu tiên hằng tháng, lúc 14:00."
    await say(runtime, secretary, "/language de")
    last = text_of(await say(runtime, secretary, "/schedule last sat 08:00"))
    assert "am letzten Samstag jedes Monats um 08:00" in last
