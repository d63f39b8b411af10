"""Updates of different chats run concurrently; one chat's updates keep their order."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from telegram import Update

from bot.channels.telegram import PerChatUpdateProcessor
from storage.db import Database
from tests.conftest import BACKENDS, POSTGRES_URL, reset_postgres
from tests.deployment import deployed
from tests.harness import TelegramUser
from tests.test_e2e_assessment import ASSESSMENT_DEADLINE


def update(update_id: int, chat_id: int) -> Update:
    chat = {"id": chat_id, "type": "private", "first_name": "A"}
    message = {
        "message_id": update_id,
        "date": 0,
        "chat": chat,
        "text": "x",
        "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
    }
    return Update.de_json({"update_id": update_id, "message": message}, None)


class Recorder:
    """Handlers that log when they start and end, and count how many run at once."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.running = 0
        self.peak = 0

    async def handle(
        self, name: str, delay: float = 0.0, gate: asyncio.Event | None = None
    ) -> None:
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.log.append(f"start {name}")
        if gate is not None:
            await gate.wait()
        await asyncio.sleep(delay)
        self.log.append(f"end {name}")
        self.running -= 1

    async def until(self, entry: str) -> None:
        while entry not in self.log:
            await asyncio.sleep(0)


async def test_same_chat_in_order_other_chats_in_parallel() -> None:
    processor = PerChatUpdateProcessor(16)
    r = Recorder()
    jobs = [
        processor.process_update(update(1, 100), r.handle("a1", 0.05)),
        processor.process_update(update(2, 100), r.handle("a2", 0.0)),
        processor.process_update(update(3, 200), r.handle("b1", 0.01)),
    ]
    await asyncio.gather(*jobs)
    assert r.log.index("end a1") < r.log.index("start a2")  # one chat: strictly in order
    assert r.log.index("start b1") < r.log.index("end a1")  # another chat did not wait
    assert r.peak == 2
    assert processor._lanes.busy() == 0  # nothing kept once a chat is idle


async def test_an_update_arriving_while_another_waits_runs_after_it() -> None:
    """The old lock was dropped when the first update ended although the second still
    waited for it; a third update then got a fresh lock and ran beside the second."""
    processor = PerChatUpdateProcessor(16)
    r = Recorder()
    gate = asyncio.Event()
    first = asyncio.create_task(processor.process_update(update(1, 100), r.handle("1", gate=gate)))
    second = asyncio.create_task(processor.process_update(update(2, 100), r.handle("2", 0.05)))
    await r.until("start 1")
    gate.set()
    await r.until("end 1")
    third = asyncio.create_task(processor.process_update(update(3, 100), r.handle("3")))
    await asyncio.gather(first, second, third)
    assert r.log == ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]
    assert r.peak == 1
    assert processor._lanes.busy() == 0


async def test_a_busy_chat_does_not_starve_the_others() -> None:
    """Waiting updates of one chat hold no slot: another chat still gets one."""
    processor = PerChatUpdateProcessor(2)
    r = Recorder()
    gate = asyncio.Event()
    busy = [
        asyncio.create_task(processor.process_update(update(n, 100), r.handle(f"a{n}", gate=gate)))
        for n in range(1, 6)
    ]
    other = asyncio.create_task(processor.process_update(update(9, 200), r.handle("b")))
    await asyncio.wait_for(other, 2)  # chat 100's first update is still blocked
    assert "end a1" not in r.log
    gate.set()
    await asyncio.gather(*busy)
    assert [e for e in r.log if e.startswith(("start a", "end a"))] == [
        f"{kind} a{n}" for n in range(1, 6) for kind in ("start", "end")
    ]


async def test_a_failing_update_does_not_stop_the_chat() -> None:
    processor = PerChatUpdateProcessor(4)
    r = Recorder()
    gate = asyncio.Event()

    async def fail() -> None:
        await gate.wait()
        raise RuntimeError("boom")

    jobs = [
        asyncio.create_task(processor.process_update(update(1, 100), fail())),
        asyncio.create_task(processor.process_update(update(2, 100), r.handle("2"))),
    ]
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(*jobs)
    assert r.log == ["start 2", "end 2"]
    assert processor._lanes.busy() == 0


# ---------------------------------------------------------------- through the real bot

USERS = 4
COMMANDS = 150
UNKNOWN = re.compile(r"/c(\d+)\b")


@pytest.mark.e2e
async def test_many_commands_from_several_users_are_answered_in_order(tmp_path: Path) -> None:
    async with deployed(tmp_path) as d:
        users = [TelegramUser(d.api, 700 + n, f"Người {n}") for n in range(USERS)]
        for k in range(1, COMMANDS + 1):
            for user in users:
                await user.send(f"/c{k}")

        def answered() -> bool:
            return all(len(user.messages) >= COMMANDS for user in users)

        assert await d.api.wait_until(answered, 240), [len(u.messages) for u in users]
        for user in users:
            numbers = [int(m) for msg in user.messages for m in UNKNOWN.findall(msg.text or "")]
            assert numbers == list(range(1, COMMANDS + 1)), user


TAPS = 6
TAP_GAP = 0.03  # the race needs a new tap while an earlier one still waits
TRIALS = 8


async def stored_answer(url: str, question_id: int) -> str | None:
    database = Database(url)
    try:
        async with database.session() as session:
            result = await session.execute(
                text("select value from answers where question_id = :q"), {"q": question_id}
            )
            return result.scalar_one_or_none()
    finally:
        await database.dispose()


@pytest.mark.e2e
@pytest.mark.parametrize("backend", BACKENDS)
async def test_rapid_taps_on_one_question_store_the_last_tap(tmp_path: Path, backend: str) -> None:
    env: dict[str, str] = {}
    if backend == "postgresql":
        await reset_postgres()
        env["DATABASE_URL"] = POSTGRES_URL
    async with deployed(tmp_path, **env) as d:
        url = d.env["DATABASE_URL"]
        an = await d.secretary()
        await an.send(f"/open {ASSESSMENT_DEADLINE}")
        await an.expect_message(contains="Đã mở đợt tự đánh giá")
        binh = await d.member(an, 200, "Bình")
        await binh.send("/assess")
        question = await binh.expect_message(contains="Câu 1/")
        choices = [
            data for row in question.buttons for label, data in row if data and ":ans:" in data
        ][:3]  # the options that need no reason
        question_id = int(choices[0].split(":")[3])
        wrong: list[int] = []
        for trial in range(TRIALS):
            taps = [choices[(trial + n) % len(choices)] for n in range(TAPS)]
            ids = []
            for data in taps:  # a few milliseconds apart, as a finger taps
                ids.append(await binh.press_data(data, question.message_id))
                await asyncio.sleep(TAP_GAP)

            def answered(ids: list[str] = ids) -> bool:
                return all(q in d.api.callback_answers for q in ids)

            assert await d.api.wait_until(answered, 30), binh.transcript()
            popups = [
                c.params["callback_query_id"]
                for c in d.api.calls_to("answerCallbackQuery")
                if c.params["callback_query_id"] in ids
            ]
            stored = await stored_answer(url, question_id)
            if popups != ids or stored != taps[-1].split(":")[4]:
                wrong.append(trial)
        assert wrong == [], (
            f"taps answered out of order or not the last one stored in trials {wrong}"
        )
