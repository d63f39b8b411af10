"""The printable invite card: its QR codes read back, and where /invite and the CLI make it."""

from __future__ import annotations

import asyncio
import io
import warnings
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import segno
import zxingcpp
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.app.cli import main as chibo
from bot.core.config import load_settings
from bot.render.invite_card import CARD_PX, QR_ERROR, QUIET_ZONE, invite_card
from bot.services.runtime import Runtime
from handlers.secretary import file_part
from storage.db import Database
from storage.models import Invite
from tests.conftest import FakeClock
from tests.test_handlers import say, seed_cell, text_of

TELEGRAM = "https://t.me/chibo_test_bot?start=AbCd-fGh_jKlMnOp"
ZALO = "https://zalo.me/4294967296123456789"
EXPIRES = "Hết hạn: 19:30 ngày 9/12/2026"
LINES = [
    "Telegram: đồng chí quét mã QR rồi bấm Bắt đầu (Start) để tham gia.",
    "Zalo: đồng chí quét mã QR, rồi nhắn cho chibo mã trong khung.",
]


def grey_pixels(png: bytes) -> np.ndarray:
    """The card's pixels, 0 (black) to 255 (white); it must be print-sized and colourless."""
    rgba = matplotlib.image.imread(io.BytesIO(png))
    width, height = CARD_PX
    assert rgba.shape[:2] == (height, width)
    rgb = rgba[..., :3]
    assert (rgb == rgb[..., :1]).all(), "a cheap printer gets black and white, no colour"
    return np.asarray((rgb[..., 0] * 255).round(), dtype=np.uint8)


def qr_codes(png: bytes) -> dict[str, int]:
    """Each QR code on the card: its text → its pixels a module.

    A QR code must read back (zxing-cpp) and be drawn pixel for pixel as segno makes it
    for that text, with its white quiet zone.
    """
    pixels = grey_pixels(png)
    found: dict[str, int] = {}
    for barcode in zxingcpp.read_barcodes(pixels):
        assert barcode.format == zxingcpp.BarcodeFormat.QRCode
        matrix = np.asarray(segno.make(barcode.text, error=QR_ERROR, micro=False).matrix, bool)
        corners = barcode.position
        xs = [corners.top_left.x, corners.top_right.x, corners.bottom_left.x]
        ys = [corners.top_left.y, corners.top_right.y, corners.bottom_left.y]
        slack = 2 * (max(xs) - min(xs)) // len(matrix)  # two modules, inside the quiet zone
        top, left = min(ys) - slack, min(xs) - slack
        around = pixels[top : max(ys) + slack + 1, left : max(xs) + slack + 1]
        dark_rows, dark_columns = np.nonzero(around < 128)
        y0, y1 = top + dark_rows.min(), top + dark_rows.max() + 1
        x0, x1 = left + dark_columns.min(), left + dark_columns.max() + 1
        scale, rest = divmod(x1 - x0, len(matrix))
        assert rest == 0 and y1 - y0 == x1 - x0 and scale >= 3
        expected = np.where(np.kron(matrix, np.ones((scale, scale), bool)), 0, 255)
        assert (pixels[y0:y1, x0:x1] == expected).all(), f"{barcode.text}: not pixel for pixel"
        quiet = QUIET_ZONE * scale
        zone = pixels[y0 - quiet : y1 + quiet, x0 - quiet : x1 + quiet].copy()
        zone[quiet:-quiet, quiet:-quiet] = 255
        assert (zone == 255).all(), f"{barcode.text}: something drawn in the quiet zone"
        found[barcode.text] = scale
    return found


def test_two_apps_two_qr_codes_that_read_back_pixel_for_pixel() -> None:
    png = invite_card(
        "Chi bộ khu Biểu Nghi",
        "AbCd-fGh_jKlMnOp",
        [("Telegram", TELEGRAM), ("Zalo", ZALO)],
        EXPIRES,
        LINES,
    )
    assert png.startswith(b"\x89PNG")
    codes = qr_codes(png)
    assert codes.keys() == {TELEGRAM, ZALO}
    assert min(codes.values()) >= 8  # 45 modules of ≥ 0.68 mm at 300 dpi


def test_one_app_one_larger_qr_code() -> None:
    one = qr_codes(
        invite_card("Chi bộ 3", "AbCd-fGh_jKlMnOp", [("Zalo", ZALO)], EXPIRES, LINES[1:])
    )
    two = qr_codes(
        invite_card(
            "Chi bộ 3", "AbCd-fGh_jKlMnOp", [("Telegram", TELEGRAM), ("Zalo", ZALO)], EXPIRES, LINES
        )
    )
    assert one.keys() == {ZALO}
    assert one[ZALO] > two[ZALO]
    modules = len(segno.make(ZALO, error=QR_ERROR, micro=False).matrix) + 2 * QUIET_ZONE
    assert modules * one[ZALO] > CARD_PX[0] / 2  # alone, over half the card's width


def test_long_texts_shrink_and_wrap_around_the_qr_codes() -> None:
    cell = (
        "Chi bộ khu dân cư số 12 — Đảng bộ phường Đông Mai, thị xã Quảng Yên, tỉnh Quảng Ninh " * 2
    )
    lines = [line * 3 for line in LINES]
    codes = qr_codes(
        invite_card(cell, "x" * 64, [("Telegram", TELEGRAM), ("Zalo", ZALO)], EXPIRES * 2, lines)
    )
    assert codes.keys() == {TELEGRAM, ZALO}


def test_vietnamese_letters_all_have_glyphs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of each glyph its font lacks
        invite_card(
            "Đảng bộ Ứng Hoà: ẤẦẨẪẬ ẮẰẲẴẶ ẾỀỂỄỆ ỐỒỔỖỘ ỚỜỞỠỢ ỨỪỬỮỰ ỲỴỶỸ đ",
            "AbCd-fGh_jKlMnOp",
            [("Zalo", ZALO)],
            EXPIRES,
            ["Nhắn mã cho chibo: ạ ả ã ẹ ẻ ẽ ị ỉ ĩ ọ ỏ õ ụ ủ ũ ỳ ỵ ỷ ỹ ơ ư"],
        )


@pytest.mark.parametrize("count", [0, 3])
def test_one_or_two_links(count: int) -> None:
    with pytest.raises(ValueError, match="1 to 2 links"):
        invite_card("Chi bộ 3", "AbCd-fGh_jKlMnOp", [("Zalo", ZALO)] * count, EXPIRES, LINES)


def test_file_part_is_plain_ascii() -> None:
    assert file_part("Chi bộ khu Biểu Nghi") == "chi-bo-khu-bieu-nghi"
    assert file_part("Đảng bộ 3/2 (Đông)") == "dang-bo-3-2-dong"
    assert file_part("漢字 / ..") == "cell"


# --- /invite in chat ------------------------------------------------------------------------


def runtime_with(db: Database, clock: FakeClock, username: str | None, zalo: str) -> Runtime:
    settings = load_settings(
        database_url=db.url,
        telegram_bot_username=username or "",
        zalo_bot_token="zalo-token" if zalo else "",
        zalo_bot_link=zalo,
        _env_file=None,
    )
    return Runtime(settings, db, clock=clock, bot_username=username)


async def invite_card_of(runtime: Runtime) -> tuple[str, bytes | None]:
    """The invite code and the card /invite sends with it (None: no card)."""
    await say(runtime, "100", f"/start {await seed_cell(runtime)}")
    outcome = await say(runtime, "100", "/invite 5 3")
    code = text_of(outcome).split("Mã: ")[1].split()[0]
    [text, *cards] = outcome.replies
    assert f"Mã: {code}" in text.text and text.attachment is None
    if not cards:
        return code, None
    [card] = cards
    assert card.attachment is not None and card.attachment.kind == "photo"
    assert card.attachment.filename == "chibo-invite-chi-bo-khu-bieu-nghi.png"
    return code, card.attachment.content


async def test_invite_sends_a_card_with_the_zalo_link(
    sqlite_db: Database, clock: FakeClock
) -> None:
    _, card = await invite_card_of(runtime_with(sqlite_db, clock, None, ZALO))
    assert card is not None and qr_codes(card).keys() == {ZALO}


async def test_invite_card_shows_both_apps(sqlite_db: Database, clock: FakeClock) -> None:
    code, card = await invite_card_of(runtime_with(sqlite_db, clock, "chibo_test_bot", ZALO))
    assert card is not None
    assert qr_codes(card).keys() == {f"https://t.me/chibo_test_bot?start={code}", ZALO}


async def test_no_links_no_card(sqlite_db: Database, clock: FakeClock) -> None:
    _, card = await invite_card_of(runtime_with(sqlite_db, clock, None, ""))
    assert card is None


# --- chibo invite create --card ------------------------------------------------------------


async def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """`chibo ARGS` in process (in a thread: it runs its own event loop)."""
    done = await asyncio.to_thread(CliRunner().invoke, chibo, args, env=env)
    return done.exit_code, done.output


async def test_cli_writes_the_card_of_the_invite_it_prints(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_cell(runtime)
    monkeypatch.chdir(tmp_path)  # no .env
    env = {
        "DATABASE_URL": runtime.db.url,
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_BOT_USERNAME": "chibo_ward_bot",
        "ZALO_BOT_TOKEN": "zalo-token",
        "ZALO_BOT_LINK": ZALO,
    }
    card = tmp_path / "moi.png"
    args = ["invite", "create", "--cell", "Chi bộ khu Biểu Nghi", "--uses", "60", "--card"]
    status, output = await invoke([*args, str(card)], env)
    assert status == 0, output
    [link] = [line.split(": ", 1)[1] for line in output.splitlines() if "link: " in line]
    assert f"card: {card}" in output
    assert qr_codes(card.read_bytes()).keys() == {link, ZALO}

    async def invites() -> int:
        async with runtime.db.session() as session:
            return int(await session.scalar(select(func.count(Invite.id))) or 0)

    before = await invites()
    status, output = await invoke([*args, str(tmp_path / "moi.pdf")], env)
    assert status == 2 and "FILE.png" in output
    no_links = {**env, "TELEGRAM_BOT_USERNAME": "", "ZALO_BOT_TOKEN": ""}
    status, output = await invoke([*args, str(tmp_path / "none.png")], no_links)
    assert status == 2 and "--card needs a link" in output
    assert await invites() == before  # no invite made for a card that cannot be printed
    assert not (tmp_path / "none.png").exists()
