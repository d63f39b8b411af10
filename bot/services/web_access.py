"""Signing in to the web view: one-time links from the chat, browser sessions, sign-out.

`/web` gives a member a personal link that works once and expires within minutes; opening
it starts a browser session bound to that member (and so to their role and their cell or
committee). The HTTP side (`bot.web`) sets the cookie; this module never sees HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage import bots as bot_store
from storage import members as member_store
from storage import web_sessions
from storage.models import Member

PATH = "/web"  # the web view's prefix on the HTTP server
SIGN_IN_PATH = PATH + "/signin/"
LINK_VALID = timedelta(minutes=10)
LINKS_PER_WINDOW = 5  # links a member may ask for within LINK_WINDOW
LINK_WINDOW = timedelta(minutes=15)
SESSION_VALID = timedelta(hours=12)
INIT_DATA_VALID = timedelta(hours=1)  # a Mini App's init data older than this is refused
MAX_INIT_DATA = 4096
TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")  # what token_urlsafe(TOKEN_BYTES) makes


@dataclass(frozen=True)
class SignInLink:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Throttled:
    """Too many links asked for: the next one can be had at `retry_at`."""

    retry_at: datetime


@dataclass(frozen=True)
class Signed:
    """A browser session just opened: the cookie's token and the forms' CSRF token."""

    token: str
    csrf: str
    member: Member
    expires_at: datetime


def sign_in_url(base_url: str, token: str) -> str:
    if not base_url:
        raise ValueError("PUBLIC_BASE_URL is not set: the web view needs the server's public URL")
    return base_url.rstrip("/") + SIGN_IN_PATH + token


async def new_link(
    session: AsyncSession, member: Member, now: datetime, base_url: str
) -> SignInLink | Throttled:
    """A personal one-time link for `member`, unless they asked for too many lately."""
    count, oldest = await web_sessions.sign_ins_since(session, member.id, now - LINK_WINDOW)
    if count >= LINKS_PER_WINDOW and oldest is not None:
        return Throttled(oldest + LINK_WINDOW)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    url = sign_in_url(base_url, token)  # no base URL: fail before anything is stored
    expires = now + LINK_VALID
    await web_sessions.add_sign_in(session, member.id, token, now, expires)
    return SignInLink(url, expires)


async def redeem(session: AsyncSession, token: str, now: datetime) -> Signed | None:
    """Use up a link and open a session for its member; None for a used, expired or forged
    link, or a member who has left."""
    member_id = await web_sessions.take_sign_in(session, token, now)
    member = await _active_member(session, member_id)
    if member is None:
        return None
    return await open_for(session, member, now)


async def open_for(session: AsyncSession, member: Member, now: datetime) -> Signed:
    """A new browser session for `member`."""
    signed = Signed(
        secrets.token_urlsafe(TOKEN_BYTES),
        secrets.token_urlsafe(TOKEN_BYTES),
        member,
        now + SESSION_VALID,
    )
    await web_sessions.open_session(
        session, member.id, signed.token, signed.csrf, now, signed.expires_at
    )
    return signed


@dataclass(frozen=True)
class Visitor:
    """Who is looking: the member of an unexpired session, and its CSRF token."""

    member: Member
    csrf: str


async def visitor(session: AsyncSession, token: str, now: datetime) -> Visitor | None:
    found = await web_sessions.session_of(session, token, now)
    if found is None:
        return None
    member = await _active_member(session, found.member_id)
    return Visitor(member, found.csrf) if member is not None else None


async def sign_out(session: AsyncSession, token: str) -> None:
    await web_sessions.close_session(session, token)


async def _active_member(session: AsyncSession, member_id: int | None) -> Member | None:
    if member_id is None:
        return None
    member = await session.get(Member, member_id, options=[selectinload(Member.org)])
    return member if member is not None and member.active else None


def telegram_user_id(
    init_data: str, tokens: list[str], now: datetime, max_age: timedelta = INIT_DATA_VALID
) -> str | None:
    """The Telegram user id in a Mini App's init data, if one of the bots' `tokens` signed it
    (HMAC-SHA-256 keyed with HMAC-SHA-256("WebAppData", token), as Telegram documents) and
    it is recent; else None."""
    if not init_data or len(init_data) > MAX_INIT_DATA:
        return None
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    given = fields.pop("hash", "")
    if len(fields) + 1 != len(pairs) or not given:  # a repeated field: not Telegram's
        return None
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items())).encode()
    signed = any(
        hmac.compare_digest(
            hmac.new(
                hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest(),
                check,
                hashlib.sha256,
            ).hexdigest(),
            given,
        )
        for token in tokens
        if token
    )
    auth_date = fields.get("auth_date", "")
    if not signed or not auth_date.isascii() or not auth_date.isdigit():
        return None
    age = now.timestamp() - int(auth_date)
    if not -60 <= age <= max_age.total_seconds():
        return None
    try:
        user = json.loads(fields.get("user", ""))
        user_id = user["id"] if isinstance(user, dict) else None
    except ValueError:
        return None
    return str(user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None


async def sign_in_from_telegram(
    session: AsyncSession, init_data: str, default_token: str, now: datetime
) -> Signed | None:
    """A session for the member whose Telegram account opened the Mini App, or None."""
    tokens = [default_token] + [
        b.token for b in await bot_store.every(session) if b.channel == "telegram"
    ]
    user_id = telegram_user_id(init_data, tokens, now)
    found = await member_store.identify(session, "telegram", user_id) if user_id else None
    member = await _active_member(session, found.member.id) if found else None
    return await open_for(session, member, now) if member else None
