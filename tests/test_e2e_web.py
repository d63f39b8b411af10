"""End to end in a real browser: the real `chibo run` (PUBLIC_BASE_URL on its own HTTP port)
sends `/web` links through the fake Bot API, and Playwright drives Debian's Chromium
(/usr/bin/chromium, installed by .ci/run) through the web view.

Screenshots of the committee's heat map (wide and on a phone), the secretary's meeting view
and a member's page are saved to artifacts/screenshots/ (git-ignored; CI keeps them as artifacts).
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, async_playwright

from tests.deployment import CODE, Deployment, deployed
from tests.harness import TelegramUser
from tests.test_e2e_evaluation import answer_all
from tests.test_e2e_zalo import free_port
from tests.test_web_view import init_data

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/web/signin/[A-Za-z0-9_-]+)")

pytestmark = pytest.mark.e2e


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM.exists(), "Chromium is missing: apt-get install -y chromium (see .ci/run)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    port = free_port()
    async with deployed(
        tmp_path, HTTP_PORT=str(port), PUBLIC_BASE_URL=f"http://127.0.0.1:{port}"
    ) as d:
        yield d


async def web_link(user: TelegramUser) -> str:
    """The link the bot sent this user after /web."""
    await user.send("/web")
    message = await user.expect_message(contains="/web/signin/")
    found = LINK.search(message.text or "")
    assert found, message.text
    return found.group(1)


async def sign_in(browser: Browser, user: TelegramUser, **context: object) -> Page:
    context.setdefault("locale", "vi-VN")  # pages before sign-in speak the browser's language
    page = await (await browser.new_context(**context)).new_page()  # type: ignore[arg-type]
    await page.goto(await web_link(user))
    await page.get_by_role("button", name="Tiếp tục").click()
    await page.wait_for_load_state()
    return page


async def officer(d: Deployment, user_id: int) -> TelegramUser:
    out = await d.cli(
        "invite", "create", "--committee", "Đảng bộ phường Đông Mai", "--role", "committee_officer"
    )
    code = CODE.search(out)
    assert code, out
    user = TelegramUser(d.api, user_id, "Cán bộ", "Lê")
    await user.send(f"/start {code.group(1)}")
    await user.expect_message(contains="Đảng bộ phường Đông Mai")
    return user


async def no_horizontal_scroll(page: Page) -> None:
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], (page.url, widths)


async def test_committee_secretary_and_member_in_a_browser(
    deployment: Deployment, browser: Browser
) -> None:
    d = deployment
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    an = await d.secretary()
    deadline = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d 19:30")
    await an.send(f"/open {deadline}")
    await an.expect_message(contains="Đã mở đợt")
    binh = await d.member(an, 200, "Bình")
    await binh.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
    await answer_all(binh)
    other_code = await d.new_cell("Chi bộ khu Cầu Giấy")
    other = TelegramUser(d.api, 300, "Chi", "Phạm")
    await other.send(f"/start {other_code}")
    await other.expect_message(contains="bí thư")
    cam = await officer(d, 400)

    # the committee officer: the heat map, a cell's page, never a member's name
    page = await sign_in(browser, cam)
    assert page.url.endswith("/web/committee")
    heatmap = page.locator("svg.grid")
    await heatmap.wait_for()
    assert await heatmap.locator("a").count() == 2  # one link per cell
    text = await page.inner_text("body")
    assert "Chi bộ khu Biểu Nghi" in text and "Bình" not in text
    await page.screenshot(path=str(SCREENSHOTS / "committee-heatmap.png"), full_page=True)
    async with page.expect_download() as downloading:  # the table as a workbook, no names
        await page.get_by_role("link", name="Tải bảng số liệu (XLSX)").click()
    table = await downloading.value
    saved = SCREENSHOTS.parent / "chibo-cells.xlsx"
    await table.save_as(saved)
    rows = list(load_workbook(io.BytesIO(saved.read_bytes())).active.values)  # type: ignore[union-attr]
    assert any(row[0] == "Chi bộ khu Biểu Nghi" for row in rows)
    assert not any("Bình" in str(value) for row in rows for value in row)
    await heatmap.locator("a", has_text="Chi bộ khu Biểu Nghi").click()
    await page.wait_for_load_state()
    assert "/web/cell/" in page.url
    await page.locator("svg.grid").wait_for()
    assert "Bình" not in await page.inner_text("body")
    cell_id = re.search(r"/web/cell/(\d+)", page.url)
    assert cell_id
    # a forged id: the month of the officer's own cell is for its secretary only, and a cell
    # that does not exist is the same 404
    forged = await page.goto(page.url.split("/web/")[0] + f"/web/cell/{cell_id.group(1)}/month")
    assert forged is not None and forged.status == 404
    forged = await page.goto(page.url.split("/web/")[0] + "/web/cell/999999")
    assert forged is not None and forged.status == 404

    # the secretary: the month live, the workbook, the meeting view; and on a phone
    page = await sign_in(browser, an)
    assert page.url.endswith("/month")
    body = await page.inner_text("body")
    assert "Bình" in body and "An" in body
    others = re.sub(r"/web/cell/\d+/", f"/web/cell/{int(cell_id.group(1)) + 1}/", page.url)
    refused = await page.goto(others)  # the other cell's month
    assert refused is not None and refused.status == 404
    await page.go_back()
    await page.get_by_role("link", name="Cả năm").click()
    await page.wait_for_load_state()
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Tải bảng tính (XLSX)").click()
    download = await downloading.value
    saved = SCREENSHOTS.parent / "chibo-year.xlsx"
    await download.save_as(saved)
    assert download.suggested_filename.endswith(".xlsx")
    assert len(load_workbook(io.BytesIO(saved.read_bytes())).sheetnames) >= 2
    await page.get_by_role("link", name="Màn hình họp").click()
    await page.wait_for_load_state()
    refresh = await page.locator('meta[http-equiv="refresh"]').get_attribute("content")
    assert refresh is not None and int(refresh) <= 15
    assert "Bình" not in await page.inner_text("body")  # the projector shows no names
    await page.set_viewport_size({"width": 1280, "height": 720})
    await page.screenshot(path=str(SCREENSHOTS / "secretary-meeting-view.png"))

    # the month's meeting: a document (a long title), a resolution with a task, attendance
    long_title = "Đề cương sinh hoạt chuyên đề: " + "học tập và làm theo tư tưởng " * 6
    await an.send(f"/docs {long_title}")
    await an.expect_message(contains="đang được gửi đến")
    due = (datetime.now(UTC) + timedelta(days=5)).strftime("%d/%m")
    await an.send(
        f"/resolution Nghị quyết tháng này\nThăm hỏi các hộ gia đình khó khăn | tất cả | {due}"
    )
    await an.expect_message(contains="Đã ghi nghị quyết")
    await an.send("/attendance")
    await an.expect_message(contains="Điểm danh")
    phone = await sign_in(browser, an, viewport=PHONE, is_mobile=True)
    month_text = await phone.inner_text("body")
    assert "Đề cương sinh hoạt chuyên đề" in month_text and "đã đọc 0/1" in month_text
    assert "Thăm hỏi các hộ gia đình khó khăn" in month_text and "Có mặt: 2/2" in month_text
    for path, shot in (("/month", "secretary-month-phone"), ("/meeting", None), ("", "cell-year")):
        await phone.goto(re.sub(r"(/web/cell/\d+).*", r"\1", phone.url) + path)
        await no_horizontal_scroll(phone)
        if shot:
            await phone.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)

    # the member: their own months on a phone, nobody else's
    page = await sign_in(browser, binh, viewport=PHONE, is_mobile=True)
    assert page.url.endswith("/web/me")
    body = await page.inner_text("body")
    assert "Kết quả của tôi" in body and "An " not in body
    await no_horizontal_scroll(page)
    await page.screenshot(path=str(SCREENSHOTS / "member-page.png"), full_page=True)
    committee_page = await page.goto(page.url.replace("/web/me", "/web/committee"))
    assert committee_page is not None and committee_page.status == 404

    # the officer's heat map on a phone: one strip of months per cell
    page = await sign_in(browser, cam, viewport=PHONE, is_mobile=True)
    await no_horizontal_scroll(page)
    assert await page.locator("svg.grid").is_hidden()
    assert await page.locator("svg.strip").count() == 2
    await page.screenshot(path=str(SCREENSHOTS / "committee-heatmap-phone.png"), full_page=True)


async def test_a_link_works_once_and_sign_out_ends_the_session(
    deployment: Deployment, browser: Browser
) -> None:
    an = await deployment.secretary()
    link = await web_link(an)
    page = await (await browser.new_context(locale="vi-VN")).new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Tiếp tục").click()
    await page.wait_for_load_state()
    assert "/web/cell/" in page.url
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "chibo_web")
    assert session["httpOnly"] and session["sameSite"] == "Lax"

    second = await (await browser.new_context(locale="vi-VN")).new_page()  # the link, again
    await second.goto(link)
    async with second.expect_response(lambda r: r.url.endswith("/web/signin")) as posted:
        await second.get_by_role("button", name="Tiếp tục").click()
    assert (await posted.value).status == 400
    assert "không dùng được" in await second.inner_text("body")

    await page.get_by_role("button", name="Đăng xuất").click()
    await page.wait_for_load_state()
    assert "đã đăng xuất" in await page.inner_text("body")
    again = await page.goto(page.url.replace("/web/signout", "/web/me"))
    assert again is not None and again.status == 401

    # as a Telegram Mini App: the init data in the fragment signs in, no link needed
    signed = init_data(an.user_id, int(time.time()), deployment.env["TELEGRAM_BOT_TOKEN"])
    app = await (await browser.new_context(locale="vi-VN")).new_page()
    base = link.split("/web/")[0]
    await app.goto(f"{base}/web/app#tgWebAppData={quote(signed)}&tgWebAppVersion=8.0")
    await app.wait_for_url(re.compile(r".*/web/cell/\d+/month$"))
    assert "An" in await app.inner_text("header")
    forged = await (await browser.new_context(locale="vi-VN")).new_page()
    await forged.goto(f"{base}/web/app#tgWebAppData={quote(signed.replace('An', 'Ann'))}")
    await forged.wait_for_url(re.compile(r".*/web/telegram$"))
    assert "/web" in await forged.inner_text("body")
