"""The console channel: personas, numbered buttons, files saved, as in `chibo demo`."""

from __future__ import annotations

from pathlib import Path

from bot.app import demo
from bot.channels.console import ConsoleChat, run_console
from bot.services.runtime import Runtime
from handlers.secretary import file_part


async def test_demo_conversation(runtime: Runtime, tmp_path: Path) -> None:
    async with runtime.db.session() as session:
        personas = await demo.seed(session, "Asia/Ho_Chi_Minh", "vi", runtime.clock())
    shown: list[str] = []
    chat = ConsoleChat(runtime, personas, write=shown.append, files=tmp_path / "files")
    script = iter(
        [
            "/invite",
            "1",
            ":as 5",
            "PLACEHOLDER",
            ":as 2",
            "/assess",
            "2",
            ":as 1",
            "/summary",
            ":as 9",
            ":who",
            ":nonsense",
            ":quit",
            "/never-read",
        ]
    )

    async def read(prompt: str) -> str | None:
        line = next(script)
        if line == "PLACEHOLDER":  # the guest types the code the secretary just got
            line = next(s for s in reversed(shown) if "Mã: " in s).split("Mã: ")[1].split()[0]
        return line

    await run_console(chat, read)
    text = "\n".join(shown)
    assert "Chào mừng đồng chí Khách" in text  # the guest joined with the code
    assert "[Tốt]" in text and "Câu 2/16" in text  # "2" pressed the second button
    assert "— chọn từ 1 đến 5" in text and "— lệnh của bảng điều khiển" in text
    chart = next(tmp_path.glob("files/chibo-20*.png"))  # the month chart, not the invite card
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "files" / f"chibo-invite-{file_part(demo.DEMO_CELL)}.png").is_file()
    assert not any("never-read" in line for line in shown)  # :quit stopped the loop
