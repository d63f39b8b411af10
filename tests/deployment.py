"""A running chibo for end-to-end scenarios: fake Bot API, migrated database, real process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakebotapi import FakeBotAPI
from tests.harness import BotProcess, TelegramUser, arun_cli, bot_env

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
