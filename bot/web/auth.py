"""Cookies, CSRF tokens and the throttle of failed sign-ins for the web view."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "chibo_web"
SIGNIN_COOKIE = "chibo_signin"  # the browser half of the sign-in form's token
SIGNIN_FORM_VALID = 600  # seconds: as long as a link works
MAX_FORM_BYTES = 4096  # the web view's forms carry a token or two, nothing more


@dataclass(frozen=True)
class Site:
    """Where the web view is published: the path prefix of PUBLIC_BASE_URL (behind a reverse
    proxy that strips it) and whether it is HTTPS (then cookies are Secure)."""

    root: str  # "" or "/chibo": prefix of every link in the pages
    secure: bool

    @classmethod
    def of(cls, public_base_url: str) -> Site:
        parts = urlparse(public_base_url)
        return cls(parts.path.rstrip("/"), parts.scheme == "https")

    def url(self, path: str) -> str:
        return self.root + path


def session_token(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    return token if token and len(token) <= 64 else None


def set_session_cookie(response: Response, site: Site, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path=site.url("/web"),
        secure=site.secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, site: Site) -> None:
    response.delete_cookie(
        COOKIE, path=site.url("/web"), secure=site.secure, httponly=True, samesite="lax"
    )


async def form(request: Request) -> dict[str, str] | None:
    """A small urlencoded form (first value of each field), or None when it is not one."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("ascii"), max_num_fields=8, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items()}


@dataclass(frozen=True)
class SignInGuard:
    """Against login CSRF: the form that spends a one-time link must come from a page this
    browser fetched. The GET of the link page sets a random nonce in a cookie (path
    /web/signin, SameSite=Strict) and puts in the form a token signed with this process's key
    over the nonce, the link's token and the time. Another site can make a browser POST a
    link (its own, to sign the victim in as someone else), but it can neither read nor set
    that cookie, nor sign a token for it. After a restart the key is new: the form asks to
    open the link again (which still works, it was not spent)."""

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    valid: int = SIGNIN_FORM_VALID
    clock: Callable[[], float] = time.time

    def issue(self, link: str) -> tuple[str, str]:
        """A fresh (cookie nonce, form token) pair for the page of `link`."""
        nonce = secrets.token_urlsafe(24)
        issued = str(int(self.clock()))
        return nonce, f"{issued}.{self._mac(nonce, link, issued)}"

    def check(self, nonce: str | None, given: str | None, link: str) -> bool:
        if not nonce or not given or len(nonce) > 64 or len(given) > 80:
            return False
        issued, _, mac = given.partition(".")
        if not issued.isdigit() or not 0 <= self.clock() - int(issued) <= self.valid:
            return False
        return hmac.compare_digest(mac.encode(), self._mac(nonce, link, issued).encode())

    def _mac(self, nonce: str, link: str, issued: str) -> str:
        digest = hmac.new(self.key, f"{nonce}|{link}|{issued}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def cross_site(request: Request) -> bool:
    """A browser says the request comes from another site's page (Sec-Fetch-Site, which
    pages cannot set). Without the header (an old browser) nothing is known: False."""
    return request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


def set_signin_cookie(response: Response, site: Site, nonce: str) -> None:
    response.set_cookie(
        SIGNIN_COOKIE,
        nonce,
        max_age=SIGNIN_FORM_VALID,
        path=site.url("/web/signin"),
        secure=site.secure,
        httponly=True,
        samesite="strict",
    )


def clear_signin_cookie(response: Response, site: Site) -> None:
    response.delete_cookie(
        SIGNIN_COOKIE,
        path=site.url("/web/signin"),
        secure=site.secure,
        httponly=True,
        samesite="strict",
    )


def csrf_ok(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class Throttle:
    """At most `limit` failures within `window` seconds from one client address, in this
    process. Tokens are 192 random bits, so guessing is hopeless anyway: this keeps a flood
    of forged links from reaching the database."""

    limit: int = 10
    window: float = 600.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def blocked(self, who: str) -> bool:
        recent = self._recent(who)
        return len(recent) >= self.limit

    def failed(self, who: str) -> None:
        self._recent(who).append(self._now())
        if len(self._failures) > 10_000:  # many addresses: forget the quiet ones
            for key in [k for k, v in self._failures.items() if not v]:
                del self._failures[key]

    def _recent(self, who: str) -> deque[float]:
        recent = self._failures.setdefault(who, deque())
        while recent and recent[0] <= self._now() - self.window:
            recent.popleft()
        return recent

    def _now(self) -> float:
        return self.clock()
