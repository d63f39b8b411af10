"""Several bots in one deployment: each serves a subtree; accounts remember their bot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.app.serve import BotSpec, bot_specs
from bot.core.chat import ChatEvent
from bot.core.config import load_settings
from bot.services import entrances, membership
from bot.services.planner import Kind
from bot.services.runtime import Runtime
from handlers import handle
from storage import bots as bot_store
from storage import orgs
from storage.db import Database
from storage.models import ChatIdentity, Organization, OrgKind, Role
from tests.harness import run_cli
from tests.test_outbox_channels import Outbox, ScriptedSender, box  # noqa: F401 (fixture)


async def cell_and_committee(db: Database) -> tuple[Organization, Organization]:
    async with db.session() as session:
        cell = await session.scalar(select(Organization).where(Organization.kind == OrgKind.CELL))
        assert cell is not None and cell.parent_id is not None
        committee = await session.get(Organization, cell.parent_id)
        assert committee is not None
        return cell, committee


async def test_the_bot_an_account_writes_to_carries_its_notifications(box: Outbox) -> None:  # noqa: F811
    _cell, committee = await cell_and_committee(box.db)
    async with box.db.session() as session:
        extra = await bot_store.add(session, "telegram", "42:extra", committee)
        await session.execute(
            update(ChatIdentity).where(ChatIdentity.external_id == "3").values(bot_id=extra.id)
        )
    second = ScriptedSender("telegram")
    box.dispatcher.bots[extra.id] = second
    await box.tick()
    assert second.to("3") == ["window_open → User 3"]  # through the member's own bot
    assert box.sender.to("3") == [] and box.sender.to("2") == ["window_open → User 2"]
    [row] = await box.rows("3", Kind.WINDOW_OPEN)
    assert (row["status"], row["channel"]) == ("sent", "telegram")


async def test_a_member_whose_bot_is_gone_is_written_to_by_the_default_bot(box: Outbox) -> None:  # noqa: F811
    _cell, committee = await cell_and_committee(box.db)
    async with box.db.session() as session:
        extra = await bot_store.add(session, "telegram", "42:extra", committee)
        await session.execute(
            update(ChatIdentity).where(ChatIdentity.external_id == "3").values(bot_id=extra.id)
        )
    await box.tick()  # this process does not run bot `extra`
    assert box.sender.to("3") == ["window_open → User 3"]


async def test_the_nearest_bot_up_the_tree_serves_an_organisation(db: Database) -> None:
    settings = load_settings(database_url=db.url, zalo_bot_token="z-default", _env_file=None)
    async with db.session() as session:
        top = await orgs.create(session, "Đảng bộ tỉnh", OrgKind.COMMITTEE)
        ward = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE, top)
        cell = await orgs.create(session, "Chi bộ khu Biểu Nghi", OrgKind.CELL, ward)
        other = await orgs.create(session, "Chi bộ khác", OrgKind.CELL, top)
        assert (await entrances.of(session, settings, cell.id, "chibo_bot")).telegram_username == (
            "chibo_bot"
        )
        ward_bot = await bot_store.add(session, "telegram", "1:ward", ward)
        ward_bot.username = "ward_bot"
        await bot_store.add(session, "zalo", "z-ward", ward, link="https://zalo.me/ward")
        ways = await entrances.of(session, settings, cell.id, "chibo_bot")
        assert ways.telegram_link("C0DE") == "https://t.me/ward_bot?start=C0DE"
        assert (ways.zalo, ways.zalo_link) == (True, "https://zalo.me/ward")
        elsewhere = await entrances.of(session, settings, other.id, "chibo_bot")
        assert elsewhere.telegram_username == "chibo_bot" and elsewhere.zalo_link is None
        assert elsewhere.zalo  # the default Zalo bot serves it


async def test_run_serves_the_default_bots_and_every_extra_one(db: Database) -> None:
    settings = load_settings(
        database_url=db.url, telegram_bot_token="1:default", zalo_bot_token="z", _env_file=None
    )
    runtime = Runtime(settings, db)
    async with db.session() as session:
        ward = await orgs.create(session, "Đảng bộ phường", OrgKind.COMMITTEE)
        extra = await bot_store.add(session, "zalo", "z-ward", ward)
    specs = await bot_specs(runtime)
    assert specs == [
        BotSpec("zalo", "z"),
        BotSpec("telegram", "1:default"),
        BotSpec("zalo", "z-ward", extra.id),
    ]
    assert specs[2].webhook_url("https://x.org/zalo") == f"https://x.org/zalo/{extra.id}"
    assert specs[0].webhook_url("https://x.org/zalo") == "https://x.org/zalo"


async def test_joining_and_writing_through_a_bot_remember_it(runtime: Runtime) -> None:
    async with runtime.db.session() as session:
        ward = await orgs.create(session, "Đảng bộ phường", OrgKind.COMMITTEE)
        cell = await orgs.create(session, "Chi bộ khu Biểu Nghi", OrgKind.CELL, ward)
        extra = await bot_store.add(session, "zalo", "z-ward", ward)
        code, _invite = await membership.create_invite(
            session, cell, Role.MEMBER, now=runtime.clock(), valid_for=timedelta(days=1)
        )
    await handle(runtime, ChatEvent("zalo", "z1", "z1", "An", text=code, bot=extra.id))
    async with runtime.db.session() as session:
        [account] = (await session.scalars(select(ChatIdentity))).all()
    assert (account.external_id, account.bot_id) == ("z1", extra.id)
    await handle(runtime, ChatEvent("zalo", "z1", "z1", "An", text="/help"))  # the default bot
    async with runtime.db.session() as session:
        assert await session.scalar(select(ChatIdentity.bot_id)) is None


def test_the_cli_adds_lists_and_removes_bots(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chibo.sqlite3'}"}
    assert run_cli(["migrate"], env, cwd=tmp_path).returncode == 0
    made = run_cli(["cell", "create", "Chi bộ A", "--committee", "Đảng bộ X"], env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    both = run_cli(
        ["bot", "add", "zalo", "--token", "t", "--cell", "Chi bộ A", "--committee", "Đảng bộ X"],
        env,
        cwd=tmp_path,
    )
    assert both.returncode == 2 and "exactly one" in both.stderr
    added = run_cli(["bot", "add", "zalo", "--token", "t", "--cell", "Chi bộ A"], env, cwd=tmp_path)
    assert added.returncode == 0 and "added zalo bot 1 for Chi bộ A" in added.stdout
    again = run_cli(["bot", "add", "zalo", "--token", "t", "--cell", "Chi bộ A"], env, cwd=tmp_path)
    assert again.returncode == 2 and "already added" in again.stderr
    listed = run_cli(["bot", "list"], env, cwd=tmp_path)
    assert "1\tzalo" in listed.stdout and "Chi bộ A" in listed.stdout
    load_settings(_env_file=None).require_channel(extra_bots=1)  # an extra bot is enough
    assert run_cli(["bot", "remove", "1"], env, cwd=tmp_path).returncode == 0
    assert "no extra bots" in run_cli(["bot", "list"], env, cwd=tmp_path).stdout
