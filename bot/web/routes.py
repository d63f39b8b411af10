"""The web view's routes: sign-in with a one-time link, sign-out, and the pages of each role.

Every page opens the session from the cookie, checks the member's role and, for a cell's
page, that the cell is within the member's scope (a committee officer: the cells below the
committee; a secretary: their own cell). Anything else answers 404, the same as a cell that
does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from http import HTTPStatus
from typing import Any

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.core import numbers
from bot.core.i18n import Translator, normalize_locale
from bot.render import reports
from bot.render.bars import share_bars_svg
from bot.render.exports import CellYearLine, committee_csv, committee_workbook
from bot.render.heatmap import (
    FAILS_COLOURS,
    LEVEL_COLOURS,
    MARK,
    MEETS_COLOURS,
    Row,
    Square,
    grid_svg,
    level_colours,
    strip_svg,
)
from bot.rules.framework import FrameworkSpec
from bot.rules.scoring import CellMonth
from bot.services import committee, meetings, membership, reporting, web_access
from bot.services.committee import CellYear, Trend, four_good_shares, trend
from bot.services.evaluation import MonthFigures
from bot.services.runtime import Runtime
from bot.web import auth, templating
from bot.web.month_facts import month_facts
from storage import assessments, orgs
from storage.models import Member, Organization, OrgKind, Role

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a sign-in link must never leave in a Referer
    "Cache-Control": "private, no-store",
}
MEETING_REFRESH_SECONDS = 10
YEARS_SHOWN = 5  # the year filter offers this year and the four before
PAGE_ROWS = 200  # cells on one page of the heat map: a province's 2,000 make ten pages
TREND_ARROWS = {Trend.UP: "↑", Trend.DOWN: "↓", Trend.FLAT: "→"}


@dataclass
class Visit:
    """One signed-in request: its database session, who is looking, in which language."""

    session: AsyncSession
    member: Member
    csrf: str
    t: Translator
    now: datetime
    form: dict[str, str] | None = None  # a POST's fields

    @property
    def is_officer(self) -> bool:
        return self.member.role == Role.COMMITTEE_OFFICER

    @property
    def in_cell(self) -> bool:
        return self.member.org.kind == OrgKind.CELL and not self.is_officer

    @property
    def is_secretary(self) -> bool:
        return self.in_cell and membership.is_secretary(self.member)

    @property
    def this_year(self) -> int:
        return self.now.astimezone(self.t.zone).year


@dataclass(frozen=True)
class Later:
    """What a page finishes after its database session is closed: rendering a template or
    writing a workbook from plain data. (On SQLite every transaction holds the write lock,
    so the chat's turns wait for as long as a session is open.)"""

    finish: Callable[[], Awaitable[Response]]


Page = Callable[[Request, Visit], Awaitable[Response | Later]]


class WebView:
    """The routes of the web view, for `chibo run`'s HTTP server."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.site = auth.Site.of(runtime.settings.public_base_url)
        self.throttle = auth.Throttle()
        self.signin_guard = auth.SignInGuard()

    def routes(self) -> list[BaseRoute]:
        get = partial(Route, methods=["GET"])
        return [
            get("/web", self._signed(self.home)),
            get("/web/", self._signed(self.home)),
            get("/web/static/style.css", self.style),
            get("/web/static/miniapp.js", self.script),
            get("/web/app", self.mini_app),
            Route("/web/telegram", self.sign_in_from_telegram, methods=["POST"]),
            get("/web/signin/{token}", self.sign_in_page),
            Route("/web/signin", self.sign_in, methods=["POST"]),
            Route("/web/signout", self._signed(self.sign_out), methods=["POST"]),
            get("/web/committee", self._signed(self.committee)),
            get("/web/committee.csv", self._signed(self.committee_csv)),
            get("/web/committee.xlsx", self._signed(self.committee_workbook)),
            get("/web/cell/{cell}", self._signed(self.cell)),
            get("/web/cell/{cell}/month", self._signed(self.month)),
            get("/web/cell/{cell}/meeting", self._signed(self.meeting)),
            get("/web/cell/{cell}/year.xlsx", self._signed(self.workbook)),
            get("/web/me", self._signed(self.me)),
        ]

    # --- plumbing -------------------------------------------------------------------------

    def _signed(self, page: Page) -> Callable[[Request], Awaitable[Response]]:
        """Run `page` for the session's member, or answer 401 with how to sign in."""

        async def endpoint(request: Request) -> Response:
            token = auth.session_token(request)
            now = self.runtime.clock()
            # a form is read before the session opens: a slow sender holds no database lock
            form = await auth.form(request) if request.method == "POST" else None
            async with self.runtime.db.session() as session:
                visitor = await web_access.visitor(session, token, now) if token else None
                if visitor is None:
                    return self._signed_out(request, HTTPStatus.UNAUTHORIZED)
                member = visitor.member
                t = Translator(member.locale or member.org.locale, member.org.timezone)
                answer = await page(request, Visit(session, member, visitor.csrf, t, now, form))
            return await answer.finish() if isinstance(answer, Later) else answer

        return endpoint

    def _page(self, template: str, visit: Visit, **context: Any) -> Later:
        """A signed-in page, rendered once the database session is closed."""

        async def finish() -> Response:
            return self._html(template, visit.t, visit, **context)

        return Later(finish)

    def _html(
        self,
        template: str,
        t: Translator,
        visit: Visit | None = None,
        status: int = HTTPStatus.OK,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        body = templating.render(
            template,
            t,
            url=self.site.url,
            visit=visit,
            nav=self._nav(visit) if visit else [],
            **context,
        )
        return HTMLResponse(
            body, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
        )

    def _message(
        self,
        t: Translator,
        title: str,
        text: str,
        status: int,
        visit: Visit | None = None,
    ) -> HTMLResponse:
        return self._html("message.html", t, visit, status, title=title, text=text)

    def _guest(self, request: Request) -> Translator:
        """The language of someone not signed in: their browser's, else the default."""
        first = request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()
        settings = self.runtime.settings
        return Translator(
            normalize_locale(first, settings.default_locale), settings.default_timezone
        )

    def _signed_out(self, request: Request, status: int) -> HTMLResponse:
        t = self._guest(request)
        return self._message(
            t,
            t.gettext("Sign in"),
            t.gettext(
                "You are not signed in, or your session has ended. Send /web to chibo in the "
                "chat for a personal link."
            ),
            status,
        )

    def _not_found(self, visit: Visit) -> HTMLResponse:
        _ = visit.t.gettext
        return self._message(
            visit.t,
            _("Not found"),
            _("This page does not exist or is not yours to see."),
            HTTPStatus.NOT_FOUND,
            visit,
        )

    def _nav(self, visit: Visit) -> list[tuple[str, str]]:
        _ = visit.t.gettext
        links = []
        if visit.is_officer:
            links.append((_("Cells"), self.site.url("/web/committee")))
        if visit.is_secretary:
            cell = visit.member.org_id
            links += [
                (_("This month"), self.site.url(f"/web/cell/{cell}/month")),
                (_("Meeting view"), self.site.url(f"/web/cell/{cell}/meeting")),
                (_("The year"), self.site.url(f"/web/cell/{cell}")),
            ]
        if visit.in_cell:
            links.append((_("My results"), self.site.url("/web/me")))
        return links

    def _year(self, request: Request, visit: Visit) -> int | None:
        given = request.query_params.get("year")
        return visit.this_year if given is None else numbers.year(given)

    def _bad_year(self, visit: Visit) -> HTMLResponse:
        _ = visit.t.gettext
        return self._message(
            visit.t,
            _("Not found"),
            _("Please choose a year from the list."),
            HTTPStatus.BAD_REQUEST,
            visit,
        )

    async def _cell_in_scope(
        self, request: Request, visit: Visit, *, secretary_only: bool = False
    ) -> Organization | None:
        """The cell the path names, if the member may see it: an officer any cell below the
        committee (unless `secretary_only`), a secretary their own cell; else None."""
        cell_id = numbers.row_id(request.path_params["cell"])
        if cell_id is None:
            return None
        if visit.is_officer and not secretary_only:
            cells = await orgs.cells_under(visit.session, visit.member.org_id)
            return next((c for c in cells if c.id == cell_id), None)
        if visit.is_secretary and visit.member.org_id == cell_id:
            return visit.member.org
        return None

    # --- signing in and out ---------------------------------------------------------------

    async def style(self, request: Request) -> Response:
        css = (templating.STATIC / "style.css").read_bytes()
        return Response(
            css,
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def script(self, request: Request) -> Response:
        js = (templating.STATIC / "miniapp.js").read_bytes()
        return Response(
            js,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def mini_app(self, request: Request) -> Response:
        """The Telegram Mini App's entry (the bot's menu button): its script posts the init
        data Telegram put in the fragment to /web/telegram."""
        t = self._guest(request)
        csp = SECURITY_HEADERS["Content-Security-Policy"] + "; script-src 'self'"
        return self._html("app.html", t, headers={"Content-Security-Policy": csp})

    async def sign_in_from_telegram(self, request: Request) -> Response:
        """A session from a Mini App's init data, signed with one of the bots' tokens."""
        t = self._guest(request)
        who = request.client.host if request.client else "?"
        if self.throttle.blocked(who):
            return self._message(
                t,
                t.gettext("Sign in"),
                t.gettext("Too many attempts with links that do not work. Try again later."),
                HTTPStatus.TOO_MANY_REQUESTS,
            )
        if auth.cross_site(request):  # login CSRF: another site posting someone's init data
            log.info("web: a Mini App sign-in posted from another site was refused")
            return self._message(
                t,
                t.gettext("Sign in"),
                t.gettext("Open the web view with /web in the chat."),
                HTTPStatus.FORBIDDEN,
            )
        fields = await auth.form(request)
        now = self.runtime.clock()
        async with self.runtime.db.session() as session:
            signed = await web_access.sign_in_from_telegram(
                session,
                (fields or {}).get("init_data", ""),
                self.runtime.settings.telegram_bot_token,
                now,
            )
        if signed is None:
            self.throttle.failed(who)
            return self._message(
                t,
                t.gettext("Sign in"),
                t.gettext("Open the web view with /web in the chat."),
                HTTPStatus.FORBIDDEN,
            )
        log.info("web: member %d signed in from the Telegram Mini App", signed.member.id)
        return self._signed_in(signed, now)

    def _signed_in(self, signed: web_access.Signed, now: datetime) -> Response:
        response = RedirectResponse(self.site.url("/web/"), status_code=HTTPStatus.SEE_OTHER)
        max_age = int((signed.expires_at - now).total_seconds())
        auth.set_session_cookie(response, self.site, signed.token, max_age)
        return response

    async def sign_in_page(self, request: Request) -> Response:
        """GET of a link: a button that signs in. The link is used up only by the POST, so a
        chat app fetching a preview of the link does not spend it."""
        t = self._guest(request)
        token = request.path_params["token"]
        if not web_access.TOKEN_SHAPE.fullmatch(token):
            return self._bad_link(t, HTTPStatus.NOT_FOUND)
        nonce, csrf = self.signin_guard.issue(token)
        response = self._html("signin.html", t, token=token, csrf=csrf)
        auth.set_signin_cookie(response, self.site, nonce)
        return response

    async def sign_in(self, request: Request) -> Response:
        t = self._guest(request)
        who = request.client.host if request.client else "?"
        if self.throttle.blocked(who):
            return self._message(
                t,
                t.gettext("Sign in"),
                t.gettext("Too many attempts with links that do not work. Try again later."),
                HTTPStatus.TOO_MANY_REQUESTS,
            )
        fields = await auth.form(request)
        token = (fields or {}).get("token", "")
        if not self.signin_guard.check(
            request.cookies.get(auth.SIGNIN_COOKIE), (fields or {}).get("csrf"), token
        ):  # not from the link's page in this browser: the link stays unspent
            log.info("web: a sign-in form without a valid form token was refused")
            return self._message(
                t,
                t.gettext("Sign in"),
                t.gettext(
                    "This form has expired or did not come from your link. Open the link "
                    "from chibo again."
                ),
                HTTPStatus.FORBIDDEN,
            )
        now = self.runtime.clock()
        signed = None
        if web_access.TOKEN_SHAPE.fullmatch(token):
            async with self.runtime.db.session() as session:
                signed = await web_access.redeem(session, token, now)
        if signed is None:
            self.throttle.failed(who)
            return self._bad_link(t, HTTPStatus.BAD_REQUEST)
        log.info("web: member %d signed in", signed.member.id)
        response = self._signed_in(signed, now)
        auth.clear_signin_cookie(response, self.site)
        return response

    def _bad_link(self, t: Translator, status: int) -> HTMLResponse:
        return self._message(
            t,
            t.gettext("Sign in"),
            t.gettext(
                "This link does not work: it was used already, it has expired, or it is "
                "incomplete. Send /web to chibo in the chat for a new one."
            ),
            status,
        )

    async def sign_out(self, request: Request, visit: Visit) -> Response | Later:
        if not auth.csrf_ok((visit.form or {}).get("csrf"), visit.csrf):
            _ = visit.t.gettext
            return self._message(
                visit.t,
                _("Sign out"),
                _("This form has expired. Please reload the page and try again."),
                HTTPStatus.FORBIDDEN,
                visit,
            )
        token = auth.session_token(request)
        assert token is not None
        await web_access.sign_out(visit.session, token)
        response = self._message(
            visit.t,
            visit.t.gettext("Sign out"),
            visit.t.gettext("You are signed out. Send /web in the chat to sign in again."),
            HTTPStatus.OK,
        )
        auth.clear_session_cookie(response, self.site)
        return response

    async def home(self, request: Request, visit: Visit) -> Response | Later:
        """The member's first page, by role."""
        if visit.is_officer:
            target = "/web/committee"
        elif visit.is_secretary:
            target = f"/web/cell/{visit.member.org_id}/month"
        elif visit.in_cell:
            target = "/web/me"
        else:
            return self._not_found(visit)
        return RedirectResponse(self.site.url(target), status_code=HTTPStatus.SEE_OTHER)

    # --- committee officers ---------------------------------------------------------------

    async def committee(self, request: Request, visit: Visit) -> Response | Later:
        """Cells × months of a year: a heat map, the ranking, who has not confirmed."""
        if not visit.is_officer:
            return self._not_found(visit)
        year = self._year(request, visit)
        if year is None:
            return self._bad_year(visit)
        t, _ = visit.t, visit.t.gettext
        units = await orgs.committees_under(visit.session, visit.member.org_id)
        unit = self._unit(request, visit, units)
        if unit is None:
            return self._not_found(visit)
        cells = await orgs.cells_under(visit.session, unit.id)
        years = await committee.committee_year(visit.session, unit.id, year, visit.now, cells)
        listed = {item.cell.id for item in years}
        idle = [c for c in cells if c.id not in listed]
        # cells without any month this year come last, with an empty row each
        ranked: list[tuple[Organization, CellYear | None]] = [
            *((item.cell, item) for item in years),
            *((cell, None) for cell in idle),
        ]
        pages = max(1, math.ceil(len(ranked) / PAGE_ROWS))
        page = numbers.whole_number(request.query_params.get("page", "1"), 1, pages)
        if page is None:
            return self._not_found(visit)
        first = (page - 1) * PAGE_ROWS
        shown = [  # only this page's squares are drawn: a province has 2,000 cells
            Row(
                f"{rank}. {cell.name}{self._arrow(item)}",
                [None] * 12
                if item is None
                else [self._figure_square(t, year, m, f) for m, f in enumerate(item.months, 1)],
                href=self.site.url(f"/web/cell/{cell.id}?year={year}"),
                tail=str(item.result.four_good_months if item else 0),
            )
            for rank, (cell, item) in enumerate(ranked[first : first + PAGE_ROWS], first + 1)
        ]
        months = [reports.month_label(t, m) for m in range(1, 13)]
        title = _("Cells × months of {year}").format(year=year)
        heatmap = grid_svg(months, shown, title=title, tail_head=MARK)
        phone = [  # the same rows for a phone: the name, then the months in two lines
            (row, Markup(strip_svg(months, row.squares, title=row.label))) for row in shown
        ]
        month = self._latest_month(t, year, years, idle)
        shares = four_good_shares(years)
        share_chart = (
            Markup(
                share_bars_svg(
                    months,
                    shares,
                    [t.percent(share) if share is not None else "" for share in shares],
                    title=_('Share of "4 tốt" cells, month by month'),
                )
            )
            if any(share is not None for share in shares)
            else None
        )
        return self._page(
            "committee.html",
            visit,
            share_chart=share_chart,
            year=year,
            years=self._years(visit),
            committee=unit,
            units=[visit.member.org, *units] if units else [],
            unit=unit,
            heatmap=Markup(heatmap),
            phone=phone,
            page=page,
            pages=pages,
            cells=len(ranked),
            recognised=sum(1 for y in years if y.result.recognised),
            month=month,
            legend=self._legend(t),
        )

    def _latest_month(
        self, t: Translator, year: int, years: list[CellYear], idle: list[Organization]
    ) -> dict[str, Any] | None:
        """The year's latest month with any record, as /cells shows it: how many cells
        confirmed it, how many of those are "4 tốt", their mean total, who has not."""
        latest = max(
            (m for item in years for m, f in enumerate(item.months, 1) if f is not None),
            default=None,
        )
        if latest is None:
            return None
        index = latest - 1
        done = [item for item in years if item.confirmed[index]]
        totals = [f.total for item in done if (f := item.months[index]) is not None]
        waiting = [item.cell for item in years if not item.confirmed[index]] + idle
        return {
            "month": latest,
            "year": year,
            "confirmed": len(done),
            "count": len(years) + len(idle),
            "four_good": sum(1 for item in done if (f := item.months[index]) and f.four_good),
            "mean": reports.points(t, sum(totals) / len(totals)) if totals else "—",
            "waiting": sorted(waiting, key=lambda c: c.name),
        }

    def _arrow(self, item: CellYear | None) -> str:
        direction = trend(item) if item is not None else None
        return f" {TREND_ARROWS[direction]}" if direction else ""

    async def _committee_table(
        self, request: Request, visit: Visit
    ) -> Response | tuple[int, Organization, list[CellYear]]:
        """The year, the committee and its cells' years of a download, or the refusal."""
        if not visit.is_officer:
            return self._not_found(visit)
        year = self._year(request, visit)
        if year is None:
            return self._bad_year(visit)
        unit = self._unit(
            request, visit, await orgs.committees_under(visit.session, visit.member.org_id)
        )
        if unit is None:
            return self._not_found(visit)
        return year, unit, await committee.committee_year(visit.session, unit.id, year, visit.now)

    def _cell_lines(self, years: list[CellYear]) -> list[CellYearLine]:
        return [
            CellYearLine(
                item.cell.name,
                [m.total if m else None for m in item.months],
                [bool(m and m.four_good) for m in item.months],
                item.result.four_good_months,
                item.result.recognised,
                self._arrow(item).strip(),
            )
            for item in years
        ]

    async def committee_workbook(self, request: Request, visit: Visit) -> Response | Later:
        """The heat map's figures as an XLSX sheet, with trends and the "4 tốt" shares."""
        found = await self._committee_table(request, visit)
        if isinstance(found, Response):
            return found
        year, unit, years = found
        lines, shares, name = self._cell_lines(years), four_good_shares(years), unit.name
        from bot.app.web import CONTENT_TYPES, disposition

        async def finish() -> Response:  # written from plain data, the session closed
            content = await asyncio.to_thread(
                committee_workbook, year, name, lines, shares, visit.t
            )
            return Response(
                content,
                media_type=CONTENT_TYPES[".xlsx"],
                headers={
                    **SECURITY_HEADERS,
                    "Content-Disposition": disposition(f"chibo-{year}-cells.xlsx"),
                },
            )

        return Later(finish)

    async def committee_csv(self, request: Request, visit: Visit) -> Response | Later:
        """The heat map's figures as CSV: cells × months, no member anywhere."""
        found = await self._committee_table(request, visit)
        if isinstance(found, Response):
            return found
        year, _unit, years = found
        from bot.app.web import CONTENT_TYPES, disposition

        lines = self._cell_lines(years)
        return Response(
            committee_csv(year, lines, visit.t),
            media_type=CONTENT_TYPES[".csv"],
            headers={
                **SECURITY_HEADERS,
                "Content-Disposition": disposition(f"chibo-{year}-cells.csv"),
            },
        )

    def _unit(
        self, request: Request, visit: Visit, units: list[Organization]
    ) -> Organization | None:
        """The committee the page is filtered to: the officer's own (no `unit`), or one
        below it; None for any other id."""
        given = request.query_params.get("unit")
        if given is None:
            return visit.member.org
        unit_id = numbers.row_id(given)
        if unit_id == visit.member.org_id:
            return visit.member.org
        return next((u for u in units if u.id == unit_id), None)

    def _figure_square(
        self, t: Translator, year: int, month: int, figures: MonthFigures | None
    ) -> Square | None:
        if figures is None:
            return None
        fill, ink = level_colours(figures.level)
        level = (
            t.gettext(reports.LEVEL_SHORT[figures.level])
            if figures.level in reports.LEVEL_SHORT
            else figures.level
        )
        title = f"{month}/{year}: {reports.points(t, figures.total)} — {level}"
        if figures.four_good:
            title += " — " + t.gettext('"4 tốt"')
        return Square(f"{round(figures.total)}", fill, ink, title, mark=figures.four_good)

    def _legend(self, t: Translator) -> list[tuple[str, str, str]]:
        return [
            (fill, ink, t.gettext(reports.LEVEL_SHORT[level]))
            for level, (fill, ink) in LEVEL_COLOURS.items()
        ]

    def _years(self, visit: Visit) -> list[int]:
        return list(range(visit.this_year, visit.this_year - YEARS_SHOWN, -1))

    # --- a cell's year (officers and its secretary) -----------------------------------------

    async def cell(self, request: Request, visit: Visit) -> Response | Later:
        """The cell's months × groups: points of each group, total and level; never members."""
        cell = await self._cell_in_scope(request, visit)
        if cell is None:
            return self._not_found(visit)
        year = self._year(request, visit)
        if year is None:
            return self._bad_year(visit)
        t, _ = visit.t, visit.t.gettext
        built = await reporting.year_report(visit.session, cell, year, t)
        grid = None
        summary: list[str] = []
        groups: list[str] = []
        if built is not None:
            spec, data = built
            groups = [reports.group_title(spec, g.key, t) for g in spec.groups]
            rows = [
                Row(
                    reports.month_label(t, number),
                    self._month_squares(spec, t, month.result if month else None, len(groups)),
                    tail=""
                    if month is None or month.result is None
                    else ("✓" if month.confirmed else "*"),
                )
                for number, month in enumerate(data.months, 1)
            ]
            grid = Markup(
                grid_svg(
                    [str(i) for i in range(1, len(groups) + 1)] + [_("Total")],
                    rows,
                    title=_("{cell}: months × groups of {year}").format(cell=cell.name, year=year),
                    label_width=60,
                    tail_width=30,
                )
            )
            summary = [
                _("4-good months: {n} of {months}").format(
                    n=data.result.four_good_months, months=data.result.months
                ),
                reports.verdict(t, data.result.recognised),
            ]
            if data.result.mean_total is not None:
                summary.insert(
                    1,
                    _("Mean total: {total} — {label}").format(
                        total=reports.points(t, data.result.mean_total),
                        label=reports.level_label(spec, data.result.level, t),
                    ),
                )
        period = await assessments.current_period(visit.session, cell.id, visit.now)
        facts = (  # the latest month's meeting, counts only (an officer sees this page too)
            await month_facts(visit.session, period, cell, t, names=False)
            if period is not None and period.year == year
            else None
        )
        return self._page(
            "cell.html",
            visit,
            facts=facts,
            cell=cell,
            year=year,
            years=self._years(visit),
            grid=grid,
            groups=groups,
            summary=summary,
            workbook=visit.is_secretary,
        )

    def _month_squares(
        self, spec: FrameworkSpec, t: Translator, result: CellMonth | None, count: int
    ) -> list[Square | None]:
        if result is None:
            return [None] * (count + 1)
        squares: list[Square | None] = []
        for group in result.groups:
            fill, ink = MEETS_COLOURS if group.meets else FAILS_COLOURS
            percent = math.floor(group.fraction * 100 + 1e-9)
            mark = reports.MEETS if group.meets else reports.FAILS
            title = (
                f"{reports.group_title(spec, group.key, t)}: {reports.points(t, group.points)}"
                f"/{reports.max_points(t, group.max_points)}"
            )
            squares.append(Square(f"{mark}{percent}", fill, ink, title))
        fill, ink = level_colours(result.level)
        title = f"{reports.points(t, result.total)} — {reports.level_label(spec, result.level, t)}"
        squares.append(Square(f"{round(result.total)}", fill, ink, title, mark=result.four_good))
        return squares

    async def workbook(self, request: Request, visit: Visit) -> Response | Later:
        """The year's XLSX workbook, as /report sends it (the secretary's own cell only: it
        names members)."""
        cell = await self._cell_in_scope(request, visit, secretary_only=True)
        if cell is None:
            return self._not_found(visit)
        year = self._year(request, visit)
        if year is None:
            return self._bad_year(visit)
        built = await reporting.year_report(visit.session, cell, year, visit.t)
        if built is None:
            return self._message(
                visit.t,
                visit.t.gettext("Not found"),
                visit.t.gettext("No records for {year}.").format(year=year),
                HTTPStatus.NOT_FOUND,
                visit,
            )
        from bot.app.web import CONTENT_TYPES, disposition
        from bot.render.exports import year_workbook

        async def finish() -> Response:  # written from plain data, the session closed
            content = await asyncio.to_thread(year_workbook, *built, visit.t)
            return Response(
                content,
                media_type=CONTENT_TYPES[".xlsx"],
                headers={
                    **SECURITY_HEADERS,
                    "Content-Disposition": disposition(f"chibo-{year}.xlsx"),
                },
            )

        return Later(finish)

    # --- the secretary's month ----------------------------------------------------------------

    async def _month_data(self, visit: Visit, cell: Organization) -> dict[str, Any] | None:
        period = await assessments.current_period(visit.session, cell.id, visit.now)
        if period is None:
            return None
        t = visit.t
        computed, report = await reporting.month_report(visit.session, period, cell, t)
        spec = computed.spec
        expected = [m for m in report.members if m.progress != reports.EXCUSED]
        done = sum(1 for m in expected if m.progress == reports.SUBMITTED)
        result = computed.result
        groups = [
            {
                "title": reports.group_title(spec, g.key, t),
                "points": reports.points(t, g.points),
                "max": reports.max_points(t, g.max_points),
                "percent": math.floor(g.fraction * 100 + 1e-9),
                "meets": g.meets,
            }
            for g in result.groups
        ]
        return {
            "period": period,
            "report": report,
            "groups": groups,
            "total": reports.points(t, result.total),
            "level": reports.level_label(spec, result.level, t),
            "four_good": result.four_good,
            "done": done,
            "expected": len(expected),
            "completion": math.floor(100 * done / len(expected)) if expected else 0,
            "progress_labels": {k: t.gettext(v) for k, v in reports.PROGRESS_LABELS.items()},
            "meeting_at": t.when(period.meeting_at) if period.meeting_at else None,
            "deadline": t.when(period.deadline_at),
        }

    async def month(self, request: Request, visit: Visit) -> Response | Later:
        """The month live: who answered, the groups, low answers, RSVPs."""
        cell = await self._cell_in_scope(request, visit, secretary_only=True)
        if cell is None:
            return self._not_found(visit)
        data = await self._month_data(visit, cell)
        rsvps: list[tuple[str, bool | None, str | None]] = []
        facts = None
        if data is not None:
            rsvps = [
                (m.full_name, r.attending if r else None, r.reason if r else None)
                for m, r in await meetings.rsvps_of(visit.session, data["period"])
            ]
            facts = await month_facts(visit.session, data["period"], cell, visit.t, names=True)
        return self._page("month.html", visit, cell=cell, data=data, rsvps=rsvps, facts=facts)

    async def meeting(self, request: Request, visit: Visit) -> Response | Later:
        """The month for a projector: big type, the groups, completion; refreshes itself."""
        cell = await self._cell_in_scope(request, visit, secretary_only=True)
        if cell is None:
            return self._not_found(visit)
        data = await self._month_data(visit, cell)
        return self._page(
            "meeting.html",
            visit,
            cell=cell,
            data=data,
            refresh=MEETING_REFRESH_SECONDS,
        )

    # --- a member's own results -----------------------------------------------------------

    async def me(self, request: Request, visit: Visit) -> Response | Later:
        """The member's own months and scores, nobody else's."""
        if not visit.in_cell:
            return self._not_found(visit)
        year = self._year(request, visit)
        if year is None:
            return self._bad_year(visit)
        t = visit.t
        found = await reporting.member_year(visit.session, visit.member, year)
        months: list[tuple[str, str | None, str | None, bool]] = []
        verdict = None
        if found is not None:
            for number, score in enumerate(found.months, 1):
                if score is None:
                    missing = (
                        t.gettext("not submitted")
                        if found.opened[number - 1]
                        else t.gettext("no self-assessment")
                    )
                    months.append((reports.month_label(t, number), None, missing, False))
                else:
                    months.append(
                        (
                            reports.month_label(t, number),
                            reports.points(t, score.total),
                            reports.level_label(found.spec, score.level, t),
                            score.four_good,
                        )
                    )
            verdict = t.gettext("4-good months: {n} of {months}").format(
                n=found.result.four_good_months, months=found.result.months
            )
        return self._page(
            "me.html", visit, year=year, years=self._years(visit), months=months, verdict=verdict
        )
