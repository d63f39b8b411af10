"""Cookies, CSRF tokens and the throttle of failed sign-ins for the web view."""

from __future__ import annotations

import hmac
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "chibo_web"
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
