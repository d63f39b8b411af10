"""A running chibo for end-to-end scenarios: fake Bot API, migrated database, real process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakebotapi import FakeBotAPI
from tests.fakezaloapi import FakeZaloAPI
from tests.harness import BotProcess, TelegramUser, arun_cli, bot_env
from tests.zalo_harness import ZaloUser, zalo_env

CODE = re.compile(r"code: (\S+)")


@dataclass
class Deployment:
    api: FakeBotAPI
    env: dict[str, str]
    bot: BotProcess
    workdir: Path

    async def cli(self, *args: str) -> str:
        """Run `chibo ARGS` against this deployment's database; fail on a non-zero exit."""
        done = await arun_cli(list(args), self.env, cwd=self.workdir)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    async def new_cell(self, name: str = "Chi bộ khu Biểu Nghi") -> str:
        """Create a cell from the CLI; return the secretary's invite code."""
        out = await self.cli("cell", "create", name, "--committee", "Đảng bộ phường Đông Mai")
        match = CODE.search(out)
        assert match, out
        return match.group(1)

    async def secretary(self, user_id: int = 100, name: str = "An") -> TelegramUser:
        code = await self.new_cell()
        user = TelegramUser(self.api, user_id, name, "Nguyễn")
        await user.send(f"/start {code}")
        await user.expect_message(contains="bí thư")
        return user

    async def member(self, secretary: TelegramUser, user_id: int, name: str) -> TelegramUser:
        """A member who joins with an invite the secretary creates in chat."""
        await secretary.send("/invite 1 7")
        invite = await secretary.expect_message(contains="Mã:")
        code = (invite.text or "").split("Mã: ")[1].split()[0]
        user = TelegramUser(self.api, user_id, name, "Trần")
        await user.send(f"/start {code}")
        await user.expect_message(contains="Chào mừng")
        return user


@asynccontextmanager
async def deployed(workdir: Path, **env_overrides: str) -> AsyncIterator[Deployment]:
    """Fake Bot API + `chibo migrate` + `chibo run` (polling unless overridden)."""
    async with FakeBotAPI() as api:
        env = bot_env(api, workdir, **env_overrides)
        migrated = await arun_cli(["migrate"], env, cwd=workdir)
        assert migrated.returncode == 0, migrated.stderr
        async with BotProcess(env, workdir=workdir) as bot:
            await bot.start(api)
            yield Deployment(api, env, bot, workdir)


INVITE_CODE = re.compile(r"Mã: (\S+)")


@dataclass
class ZaloDeployment(Deployment):
    """`chibo run` serving Zalo (and Telegram too when `api` is not None)."""

    zalo: FakeZaloAPI | None = None

    @property
    def za(self) -> FakeZaloAPI:
        assert self.zalo is not None
        return self.zalo

    async def zalo_secretary(self, user_id: str = "za100", name: str = "Nguyễn Văn An") -> ZaloUser:
        """The secretary of a new cell, on Zalo: joins by sending the code as a message."""
        user = ZaloUser(self.za, user_id, name)
        await user.send(await self.new_cell())
        await user.expect_message(contains="bí thư")
        return user

    async def zalo_member(
        self, secretary: ZaloUser | TelegramUser, user_id: str, name: str
    ) -> ZaloUser:
        """A member who joins on Zalo with an invite the secretary creates in chat."""
        await secretary.send("/invite 1 7")
        invite = await secretary.expect_message(contains="Mã:")
        assert "Trên Zalo: nhắn mã này cho chibo." in (invite.text or "")
        match = INVITE_CODE.search(invite.text or "")
        assert match, invite.text
        user = ZaloUser(self.za, user_id, name)
        await user.send(match.group(1))
        await user.expect_message(contains="Chào mừng")
        return user


@asynccontextmanager
async def deployed_zalo(
    workdir: Path, env: dict[str, str] | None = None, *, telegram: bool = False
) -> AsyncIterator[ZaloDeployment]:
    """Fake Zalo API (and fake Telegram Bot API with `telegram`) + migrate + `chibo run`."""
    async with FakeZaloAPI() as zalo, FakeBotAPI() as api:
        env = zalo_env(zalo, workdir, **(env or {}))
        if telegram:
            env = {**bot_env(api, workdir), **env}
        migrated = await arun_cli(["migrate"], env, cwd=workdir)
        assert migrated.returncode == 0, migrated.stderr
        async with BotProcess(env, workdir=workdir) as bot:
            await bot.start(zalo)
            if telegram:
                await api.wait_for_call("getUpdates", timeout=30)
            yield ZaloDeployment(api, env, bot, workdir, zalo)
