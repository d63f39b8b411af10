"""The web view over HTTP (httpx against the ASGI app, both databases): a one-time link from
`/web` signs in once and expires; sessions expire and sign out only with the CSRF token;
every page checks the session's scope, forged ids across cells and committees answer 404;
committee officers never see members' names."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app.web import build_app
from bot.core.config import load_settings
from bot.render.heatmap import Row, Square, grid_svg
from bot.rules.scoring import YearResult
from bot.services import web_access
from bot.services.committee import CellYear, Trend, four_good_shares, trend
from bot.services.evaluation import MonthFigures
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from bot.web import WebView, auth, routes
from storage import assessments, orgs
from storage.db import Database
from storage.models import (
    CellEvaluation,
    Consultation,
    MeetingDocument,
    Member,
    OrgKind,
    Period,
    Role,
    TaskAssignment,
)
from tests.conftest import FakeClock
from tests.test_evaluation_chat import Chats

BASE = "http://chibo.test"
LINK = re.compile(re.escape(BASE) + r"/web/signin/([A-Za-z0-9_-]+)")
SECRETARY, MEMBER, LOW, OTHER_SECRETARY, OFFICER = "1", "2", "3", "9", "50"
FAR_SECRETARY, FAR_OFFICER = "70", "80"


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


async def spend(client: httpx.AsyncClient, token: str, path: str = "/web") -> httpx.Response:
    """Open the link's page, then press its button: the form carries the page's token."""
    page = await client.get(f"{path}/signin/{token}")
    found = CSRF_FIELD.search(page.text)
    assert found, page.text
    return await client.post(f"{path}/signin", data={"token": token, "csrf": found.group(1)})


@dataclass
class Site:
    chats: Chats
    cells: dict[str, int]  # "1", "2" (the ward's), "far" (another committee's)

    def client(self, base: str = BASE) -> httpx.AsyncClient:
        app = build_app(WebView(self.chats.runtime).routes())
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)

    async def link(self, user: str) -> str:
        text = await self.chats.text(user, "/web")
        found = LINK.search(text)
        assert found, text
        return found.group(1)

    @asynccontextmanager
    async def signed_in(self, user: str) -> AsyncIterator[httpx.AsyncClient]:
        async with self.client() as client:
            answer = await spend(client, await self.link(user))
            assert answer.status_code == 303, answer.text
            yield client


@pytest.fixture
async def site(db: Database, clock: FakeClock) -> AsyncIterator[Site]:
    settings = load_settings(database_url=db.url, public_base_url=BASE, _env_file=None)
    runtime = Runtime(settings, db, clock=clock, bot_username="chibo_test_bot")
    cells: dict[str, int] = {}
    async with db.session() as session:
        ward = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        far = await orgs.create(session, "Đảng bộ xã Xa", OrgKind.COMMITTEE)
        for key, name, parent in (
            ("1", "Chi bộ 1", ward),
            ("2", "Chi bộ 2", ward),
            ("far", "Chi bộ Xa", far),
        ):
            cell = await create_cell(
                session, name, parent, timezone="Asia/Ho_Chi_Minh", locale="vi"
            )
            cells[key] = cell.id
    chats = Chats(runtime, clock)
    await chats.join("Chi bộ 1", SECRETARY, Role.SECRETARY)
    await chats.join("Chi bộ 1", MEMBER)
    await chats.join("Chi bộ 1", LOW)
    await chats.join("Chi bộ 2", OTHER_SECRETARY, Role.SECRETARY)
    await chats.join("Chi bộ Xa", FAR_SECRETARY, Role.SECRETARY)
    await chats.join("Đảng bộ phường Đông Mai", OFFICER, Role.COMMITTEE_OFFICER)
    await chats.join("Đảng bộ xã Xa", FAR_OFFICER, Role.COMMITTEE_OFFICER)
    clock.now += timedelta(minutes=1)
    for secretary in (SECRETARY, OTHER_SECRETARY, FAR_SECRETARY):
        await chats.say(secretary, "/open 2026-12-05 19:30")
    await chats.complete(MEMBER)
    await chats.complete(LOW, worst=True)  # low answers, each with the reason "Vì ốm"
    yield Site(chats, cells)


async def test_a_link_signs_in_once(site: Site) -> None:
    token = await site.link(MEMBER)
    async with site.client() as client:
        page = await client.get(f"/web/signin/{token}")  # a link preview must not spend it
        assert page.status_code == 200 and 'name="token"' in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        first = await spend(client, token)
        assert first.status_code == 303
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "Path=/web" in cookie and "Secure" not in cookie  # PUBLIC_BASE_URL is http
        home = await client.get("/web/")
        assert home.status_code == 303 and home.headers["location"] == "/web/me"
    async with site.client() as other:
        again = await spend(other, token)
        assert again.status_code == 400 and "/web" in again.text
        assert "chibo_web=" not in again.headers.get("set-cookie", "")
        assert (await other.get("/web/me")).status_code == 401


async def test_the_sign_in_form_needs_the_token_of_its_own_page(site: Site) -> None:
    """Login CSRF: another site making this browser post a link (say, the attacker's own)
    is refused and changes nothing; the link still works from its own page."""
    token, other_token = await site.link(MEMBER), await site.link(SECRETARY)
    async with site.client() as attacker:  # a page of the other link, in another browser
        theirs = await attacker.get(f"/web/signin/{other_token}")
        their_form = CSRF_FIELD.search(theirs.text)
        assert their_form
    async with site.client() as victim:
        refused = [
            await victim.post("/web/signin", data={"token": token}),  # no form token at all
            await victim.post("/web/signin", data={"token": token, "csrf": "1.x"}),
            await victim.post("/web/signin", data={"token": token, "csrf": their_form.group(1)}),
        ]
        page = await victim.get(f"/web/signin/{other_token}")  # this browser, another link
        mine = CSRF_FIELD.search(page.text)
        assert mine
        refused.append(
            await victim.post("/web/signin", data={"token": token, "csrf": mine.group(1)})
        )
        victim.cookies.clear()  # the right form token, but not this browser's cookie
        refused.append(
            await victim.post("/web/signin", data={"token": other_token, "csrf": mine.group(1)})
        )
        for answer in refused:
            assert answer.status_code == 403 and "set-cookie" not in answer.headers
        assert (await victim.get("/web/me")).status_code == 401
    async with site.client() as client:  # nothing was spent: both links still sign in
        assert (await spend(client, token)).status_code == 303
    async with site.client() as client:
        assert (await spend(client, other_token)).status_code == 303


async def test_a_link_expires_within_minutes(site: Site, clock: FakeClock) -> None:
    token = await site.link(SECRETARY)
    clock.now += web_access.LINK_VALID + timedelta(seconds=1)
    async with site.client() as client:
        late = await spend(client, token)
        assert late.status_code == 400 and "set-cookie" not in late.headers


async def test_forged_links_are_refused_then_throttled(site: Site) -> None:
    async with site.client() as client:
        assert (await client.get("/web/signin/short")).status_code == 404
        forged = "A" * 32
        for _ in range(10):
            answer = await spend(client, forged)
            assert answer.status_code == 400
        token = await site.link(MEMBER)  # even a good link waits now: the address is throttled
        assert (await client.post("/web/signin", data={"token": token})).status_code == 429
        assert (await client.post("/web/signin", content=b"token=x")).status_code == 429


async def test_links_are_rate_limited_per_member(site: Site) -> None:
    for _ in range(web_access.LINKS_PER_WINDOW):
        await site.link(MEMBER)
    refused = await site.chats.text(MEMBER, "/web")
    assert "/web/signin/" not in refused and "thử lại" in refused
    site.chats.clock.now += web_access.LINK_WINDOW
    await site.link(MEMBER)


async def test_without_public_base_url_the_chat_says_so(db: Database, site: Site) -> None:
    runtime = site.chats.runtime
    runtime.settings = load_settings(database_url=db.url, _env_file=None)
    text = await site.chats.text(MEMBER, "/web")
    assert "PUBLIC_BASE_URL" in text and "/web/signin" not in text


async def test_sessions_expire(site: Site, clock: FakeClock) -> None:
    async with site.signed_in(MEMBER) as client:
        assert (await client.get("/web/me")).status_code == 200
        clock.now += web_access.SESSION_VALID
        gone = await client.get("/web/me")
        assert gone.status_code == 401 and "/web" in gone.text


async def test_sign_out_needs_the_csrf_token(site: Site) -> None:
    async with site.signed_in(SECRETARY) as client:
        page = await client.get("/web/me")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        forged = await client.post("/web/signout", data={"csrf": "x" * 32})
        assert forged.status_code == 403
        missing = await client.post("/web/signout")
        assert missing.status_code == 403
        assert (await client.get("/web/me")).status_code == 200  # still signed in
        cookie = client.cookies.get("chibo_web")
        done = await client.post("/web/signout", data={"csrf": csrf.group(1)})
        assert done.status_code == 200 and "chibo_web=" in done.headers["set-cookie"]
        assert (await client.get("/web/me")).status_code == 401
    async with site.client() as replay:  # the old cookie, kept by someone: the session is gone
        replay.cookies.set("chibo_web", cookie or "", path="/web")
        assert (await replay.get("/web/me")).status_code == 401


async def test_secure_cookie_behind_https(db: Database, site: Site) -> None:
    site.chats.runtime.settings = load_settings(
        database_url=db.url, public_base_url="https://chibo.test/chibo", _env_file=None
    )
    text = await site.chats.text(MEMBER, "/web")
    found = re.search(r"https://chibo\.test/chibo/web/signin/(\S+)", text)
    assert found, text
    async with site.client("https://chibo.test") as client:
        page = await client.get(f"/web/signin/{found.group(1)}")
        nonce = page.headers["set-cookie"]
        assert "Path=/chibo/web/signin" in nonce and "Secure" in nonce
        assert "samesite=strict" in nonce.lower() and "HttpOnly" in nonce
        form = CSRF_FIELD.search(page.text)
        assert form
        answer = await client.post(  # the proxy strips /chibo: send the cookie as it would
            "/web/signin",
            data={"token": found.group(1), "csrf": form.group(1)},
            headers={"cookie": nonce.split(";")[0]},
        )
        cookie = answer.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/chibo/web" in cookie
        assert answer.headers["location"] == "/chibo/web/"


async def test_every_page_checks_the_scope(site: Site) -> None:
    one, two, far = site.cells["1"], site.cells["2"], site.cells["far"]
    allowed = {
        OFFICER: ["/web/committee", f"/web/cell/{one}", f"/web/cell/{two}"],
        SECRETARY: [
            f"/web/cell/{one}",
            f"/web/cell/{one}/month",
            f"/web/cell/{one}/meeting",
            f"/web/cell/{one}/year.xlsx",
            "/web/me",
        ],
        MEMBER: ["/web/me"],
        FAR_OFFICER: ["/web/committee", f"/web/cell/{far}"],
    }
    refused = {
        OFFICER: [
            f"/web/cell/{far}",  # another committee's cell
            f"/web/cell/{one}/month",  # members' names and answers: secretaries only
            f"/web/cell/{one}/meeting",
            f"/web/cell/{one}/year.xlsx",
            "/web/me",
        ],
        SECRETARY: [
            "/web/committee",
            f"/web/cell/{two}",
            f"/web/cell/{two}/month",
            f"/web/cell/{far}/meeting",
            f"/web/cell/{two}/year.xlsx",
        ],
        MEMBER: ["/web/committee", f"/web/cell/{one}", f"/web/cell/{one}/month"],
        FAR_OFFICER: [f"/web/cell/{one}", f"/web/cell/{two}"],
    }
    forged = ["0", "-1", "abc", "1e3", "99999999999999999999", "٣", f"{one}.0"]
    for user in allowed:
        async with site.signed_in(user) as client:
            for path in allowed[user]:
                answer = await client.get(path)
                assert answer.status_code == 200, (user, path, answer.text[:300])
            for path in refused[user]:
                answer = await client.get(path)
                assert answer.status_code == 404, (user, path)
            for cell in forged:
                assert (await client.get(f"/web/cell/{cell}")).status_code == 404, cell
    async with site.client() as stranger:
        for path in allowed[SECRETARY]:
            assert (await stranger.get(path)).status_code == 401, path


async def test_the_committee_sees_cells_never_members(site: Site) -> None:
    async with site.signed_in(OFFICER) as client:
        page = (await client.get("/web/committee?year=2026")).text
        assert "<svg" in page and "Chi bộ 1" in page and "Chi bộ 2" in page
        assert "Chi bộ Xa" not in page
        assert f"/web/cell/{site.cells['1']}?year=2026" in page
        cell = (await client.get(f"/web/cell/{site.cells['1']}")).text
        for text in (page, cell):
            for member in (SECRETARY, MEMBER, LOW):
                assert f"User {member}" not in text
            assert "Vì ốm" not in text
        assert "<svg" in cell
        assert (await client.get("/web/committee?year=20x6")).status_code == 400
        table = await client.get("/web/committee.csv?year=2026")
        assert table.headers["content-type"].startswith("text/csv")
        rows = table.content.decode("utf-8-sig").splitlines()
        assert rows[0].startswith("Chi bộ,T1,") and any(r.startswith("Chi bộ 1,") for r in rows)
        assert "User " not in table.text and "Chi bộ Xa" not in table.text
    async with site.signed_in(SECRETARY) as client:
        assert (await client.get("/web/committee.csv")).status_code == 404


async def test_the_secretary_sees_the_month_live(site: Site) -> None:
    async with site.signed_in(SECRETARY) as client:
        month = (await client.get(f"/web/cell/{site.cells['1']}/month")).text
        assert "User 2" in month and "User 3" in month and "Vì ốm" in month
        assert "Nộp: 2/3" in month or "2/3" in month
        meeting = await client.get(f"/web/cell/{site.cells['1']}/meeting")
        assert 'http-equiv="refresh"' in meeting.text and "User 3" not in meeting.text
        book = await client.get(f"/web/cell/{site.cells['1']}/year.xlsx?year=2026")
        assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in book.headers["content-disposition"]
        sheets = load_workbook(io.BytesIO(book.content)).sheetnames
        assert len(sheets) >= 2


async def test_the_month_shows_the_meeting_and_the_committee_only_counts(site: Site) -> None:
    """Attendance, documents read, consultation answers and the resolution's tasks: with
    names for the secretary (as /attendance shows them), counts only for the officer."""
    chats, one = site.chats, site.cells["1"]
    await chats.say(SECRETARY, "/docs Đề cương sinh hoạt chuyên đề")
    await chats.say(SECRETARY, "/consult 4/12 17:00 | Dự thảo nghị quyết tháng 12")
    await chats.say(SECRETARY, "/resolution Nghị quyết tháng 12\nThăm hộ nghèo | tất cả | 20/12")
    async with chats.runtime.db.session() as session:
        document = await session.scalar(select(MeetingDocument.id))
        consultation = await session.scalar(select(Consultation.id))
        low, member = [
            await session.scalar(select(Member).where(Member.full_name == f"User {u}"))
            for u in (LOW, MEMBER)
        ]
        assert document and consultation and low and member
        assignment = await session.scalar(
            select(TaskAssignment.id).where(TaskAssignment.member_id == member.id)
        )
        period = await assessments.current_period(session, one, chats.clock())
        assert assignment and period
    await chats.say(MEMBER, data=f"dr:{document}")
    await chats.say(LOW, data=f"dr:{document}")
    await chats.say(MEMBER, data=f"ka:{consultation}:y")
    await chats.say(MEMBER, data=f"tr:{assignment}:done")
    async with site.signed_in(SECRETARY) as client:
        before = (await client.get(f"/web/cell/{one}/month")).text
        assert "chưa được ghi" in before  # attendance not taken yet
    await chats.say(SECRETARY, "/attendance")  # every one present (no RSVP), then LOW:
    await chats.say(SECRETARY, data=f"att:{period.id}:{low.id}")  # absent with reason
    async with site.signed_in(SECRETARY) as client:
        month = (await client.get(f"/web/cell/{one}/month")).text
    assert "Có mặt: 2/3" in month and "vắng có lý do: 1" in month, month
    attendance = month.split("Điểm danh buổi sinh hoạt")[1]
    assert re.search(r"User 3</span> <span class=\"state\">◐", attendance), attendance
    assert re.search(r"User 2</span> <span class=\"state\">✓", attendance)
    assert "Đề cương sinh hoạt chuyên đề" in month and "đã đọc 2/2" in month
    assert "Dự thảo nghị quyết tháng 12" in month and "Đồng ý 1" in month
    assert "Nghị quyết tháng 12" in month and "Thăm hộ nghèo" in month
    assert "đã xong 1/3, đúng hạn 1" in month
    async with site.signed_in(OFFICER) as client:
        cell = (await client.get(f"/web/cell/{one}?year=2026")).text
    assert "Đề cương sinh hoạt chuyên đề" in cell and "đã đọc 2/2" in cell
    assert "Dự thảo nghị quyết tháng 12" in cell and "Có mặt: 2/3" in cell
    assert "Thăm hộ nghèo" in cell and "đã xong 1/3, đúng hạn 1" in cell
    for user in (SECRETARY, MEMBER, LOW):
        assert f"User {user}" not in cell
    assert "◐" not in cell and "Vì ốm" not in cell


async def test_a_member_sees_only_their_own_scores(site: Site) -> None:
    score = await site.chats.text(LOW, "/score")
    total = re.search(r"(\d+(?:,\d)?) điểm", score)
    assert total, score
    async with site.signed_in(LOW) as client:
        page = (await client.get("/web/me?year=2026")).text
        assert total.group(1) in page
        assert "User 2" not in page and "User 1" not in page


async def test_the_committee_filters_by_sub_committee_within_its_scope(site: Site) -> None:
    async with site.chats.runtime.db.session() as session:
        ward = await orgs.find_by_name(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        far = await orgs.find_by_name(session, "Đảng bộ xã Xa", OrgKind.COMMITTEE)
        assert ward is not None and far is not None
        block = await orgs.create(session, "Chi ủy khu phố 4", OrgKind.COMMITTEE, ward)
        await create_cell(session, "Chi bộ 4", block, timezone="Asia/Ho_Chi_Minh", locale="vi")
        block_id, ward_id, far_id = block.id, ward.id, far.id
    async with site.signed_in(OFFICER) as client:
        whole = (await client.get("/web/committee")).text
        assert "Chi bộ 1" in whole and "Chi bộ 4" in whole and "Chi ủy khu phố 4" in whole
        part = await client.get(f"/web/committee?unit={block_id}")
        assert part.status_code == 200
        heatmap = part.text.split("<svg", 1)[1]
        assert "Chi bộ 4" in heatmap and "Chi bộ 1" not in heatmap
        assert (await client.get(f"/web/committee?unit={ward_id}")).status_code == 200
        for forged in (str(far_id), "0", "x", "99999999999"):
            answer = await client.get(f"/web/committee?unit={forged}")
            assert answer.status_code == 404, forged


async def test_help_lists_web_for_every_role(site: Site) -> None:
    for user in (MEMBER, SECRETARY, OFFICER):
        assert "/web — " in await site.chats.text(user, "/help"), user
    stranger = await site.chats.text("999", "/web")
    assert "/web/signin/" not in stranger


def test_names_in_the_heat_map_are_escaped() -> None:
    hostile = '<script>alert("x")</script> & "Chi bộ"'
    svg = grid_svg(
        ["T1"],
        [Row(hostile, [Square("85", "#0072B2", "#FFFFFF", hostile, mark=True)], href="/a?b=1&c=2")],
        title=hostile,
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'href="/a?b=1&amp;c=2"' in svg and "★85" in svg


async def seed_confirmed(site: Site, cell: str, months: dict[int, tuple[float, bool]]) -> None:
    """Confirmed months of 2026 before December, as `/confirm` leaves them: a period and its
    stored record (total, "4 tốt")."""
    async with site.chats.runtime.db.session() as session:
        december = await assessments.current_period(session, site.cells[cell], site.chats.clock())
        assert december is not None
        for month, (total, four_good) in months.items():
            opens = datetime(2026, month, 1, tzinfo=UTC)
            period = Period(
                cell_id=site.cells[cell],
                year=2026,
                month=month,
                framework_id=december.framework_id,
                opens_at=opens,
                deadline_at=opens + timedelta(days=10),
            )
            session.add(period)
            await session.flush()
            session.add(
                CellEvaluation(
                    period_id=period.id,
                    total=total,
                    level="excellent" if four_good else "good",
                    four_good=four_good,
                    result={},
                    confirmed_at=opens + timedelta(days=9),
                )
            )


def test_a_cells_trend_reads_its_last_three_confirmed_months() -> None:
    def year(*months: tuple[float, bool, bool] | None) -> CellYear:
        """Months from January: (total, confirmed, "4 tốt") or None."""
        figures = [MonthFigures(m[0], "good", m[2]) if m else None for m in months]
        confirmed = [bool(m and m[1]) for m in months]
        rest = 12 - len(months)
        result = YearResult(12, 0, 0, 9, (), False, None, None)
        return CellYear(
            None,  # type: ignore[arg-type]
            result,
            (*figures, *[None] * rest),
            (*confirmed, *[False] * rest),
        )

    ok, draft, good = (True, False), (False, False), (True, True)
    assert trend(year((60, *ok))) is None
    assert trend(year((95, *ok), (60, *ok), (70, *ok), (80, *ok))) == Trend.UP
    assert trend(year((80, *ok), (75, *ok), (70, *draft))) == Trend.DOWN  # the last: a draft
    assert trend(year((80, *ok), None, (80.5, *ok), (99, *draft))) == Trend.FLAT
    years = [year((90, *good), (80, *ok)), year((70, *ok), None, (70, *good))]
    assert four_good_shares(years)[:4] == [0.5, 0.0, 1.0, None]


async def test_the_committee_sees_trends_shares_and_a_workbook(site: Site) -> None:
    await seed_confirmed(site, "1", {9: (70.0, False), 10: (80.0, False), 11: (92.0, True)})
    await seed_confirmed(site, "2", {10: (90.0, False), 11: (80.0, False)})
    async with site.signed_in(OFFICER) as client:
        page = (await client.get("/web/committee?year=2026")).text
        assert re.search(r"Chi bộ 1 ↑<", page) and re.search(r"Chi bộ 2 ↓<", page), page
        shares = page.split('class="chart share"')[1]
        assert "50" in shares and "<svg" in shares  # November: one of two cells
        book = await client.get("/web/committee.xlsx?year=2026")
        assert book.status_code == 200 and "attachment" in book.headers["content-disposition"]
        assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(book.content)).active
        assert sheet is not None
        cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
        text = " ".join(str(c) for row in cells for c in row if c is not None)
        assert "User " not in text and "Vì ốm" not in text and "Chi bộ Xa" not in text
        one = next(row for row in cells if row[0] == "Chi bộ 1")
        assert one[9:12] == [70, 80, 92] and "↑" in one
        share_row = cells[-1]
        assert share_row[10:12] == [0, 0.5]
    async with site.signed_in(SECRETARY) as client:
        assert (await client.get("/web/committee.xlsx")).status_code == 404
    async with site.signed_in(FAR_OFFICER) as client:
        far = await client.get("/web/committee.xlsx?year=2026")
        assert "Chi bộ 1" not in str(list(load_workbook(io.BytesIO(far.content)).active.values))  # type: ignore[union-attr]


async def test_a_large_committee_pages_its_heat_map(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "PAGE_ROWS", 1)
    async with site.signed_in(OFFICER) as client:
        first = (await client.get("/web/committee?year=2026")).text
        second = (await client.get("/web/committee?year=2026&page=2")).text
        assert "1/2" in first or "1 / 2" in first or "Trang 1" in first
        names = ("Chi bộ 1", "Chi bộ 2")
        assert [n in first.split("<svg", 2)[2] for n in names].count(True) == 1
        assert [n in second.split("<svg", 2)[2] for n in names].count(True) == 1
        assert "2. Chi bộ" in second
        for page in ("0", "3", "x"):
            answer = await client.get(f"/web/committee?year=2026&page={page}")
            assert answer.status_code == 404, page


TOKEN = "123456:TEST-TOKEN"


def init_data(user_id: int, auth_date: int, token: str = TOKEN, **extra: str) -> str:
    """Init data as a Telegram client passes it to a Mini App, signed as Telegram documents:
    HMAC-SHA-256 of the sorted "key=value" lines, keyed with HMAC-SHA-256("WebAppData", token)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": "An", "language_code": "vi"}),
        "auth_date": str(auth_date),
        **extra,
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


async def test_the_telegram_mini_app_signs_in_with_signed_init_data(
    db: Database, site: Site
) -> None:
    site.chats.runtime.settings = load_settings(
        database_url=db.url, public_base_url=BASE, telegram_bot_token=TOKEN, _env_file=None
    )
    now = int(site.chats.clock.now.timestamp())
    async with site.client() as client:
        app = await client.get("/web/app")
        assert app.status_code == 200 and "miniapp.js" in app.text
        assert "script-src 'self'" in app.headers["content-security-policy"]
        assert (await client.get("/web/static/miniapp.js")).status_code == 200
        refused = [
            init_data(int(MEMBER), now, token="654321:OTHER-BOT"),  # another bot's
            init_data(int(MEMBER), now - 2 * 3600),  # stale: replayed
            init_data(999, now),  # nobody chibo knows
            init_data(int(MEMBER), now).replace("first_name", "first_nam3"),  # tampered
            init_data(int(MEMBER), now) + "&user=%7B%22id%22%3A3%7D",  # a second user
            "",
        ]
        for data in refused:
            answer = await client.post("/web/telegram", data={"init_data": data})
            assert answer.status_code == 403, data
            assert "set-cookie" not in answer.headers
        good = {"init_data": init_data(int(LOW), now)}
        for site_header in ("cross-site", "same-site"):  # another site's page posting it
            answer = await client.post(
                "/web/telegram", data=good, headers={"sec-fetch-site": site_header}
            )
            assert answer.status_code == 403 and "set-cookie" not in answer.headers
        assert (await client.get("/web/me")).status_code == 401
        signed = await client.post(
            "/web/telegram", data=good, headers={"sec-fetch-site": "same-origin"}
        )
        assert signed.status_code == 303 and "HttpOnly" in signed.headers["set-cookie"]
        page = await client.get("/web/me")
        assert page.status_code == 200 and "User 3" in page.text


def test_a_sign_in_form_token_is_short_lived() -> None:
    now = [1_000_000.0]
    guard = auth.SignInGuard(clock=lambda: now[0])
    nonce, form = guard.issue("L" * 32)
    assert guard.check(nonce, form, "L" * 32)
    assert not guard.check(nonce, form, "M" * 32) and not guard.check("n" * 32, form, "L" * 32)
    now[0] += auth.SIGNIN_FORM_VALID + 1
    assert not guard.check(nonce, form, "L" * 32)
    assert not auth.SignInGuard().check(nonce, form, "L" * 32)  # another process's key
