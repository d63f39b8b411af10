"""Scenario helpers for end-to-end tests of the real bot on Zalo, through :class:`FakeZaloAPI`.

Like :mod:`harness` for Telegram: start the fake Zalo Bot API, start ``chibo run``
against it, and play users who write and read what the bot answers — in order::

    from fakezaloapi import FakeZaloAPI
    from harness import BotProcess, arun_cli
    from zalo_harness import ZaloUser, zalo_env

    async def test_greets_new_user(tmp_path):
        async with FakeZaloAPI() as api:
            env = zalo_env(api, tmp_path)               # token, API URL, SQLite in tmp_path
            assert (await arun_cli("migrate", env)).returncode == 0
            async with BotProcess(env, workdir=tmp_path) as bot:
                await bot.start(api)                    # waits for getMe + getUpdates
                an = ZaloUser(api, "a1b2c3d4", "An")
                await an.send("/start")
                hello = await an.expect_message("Xin chào")
                assert an.options(hello) == ["Tiếp tục"]
                await an.choose("Tiếp tục")             # sends "1"
                await an.expect_no_message(within=0.5)
                print(api.transcript(an.chat_id))       # → An: /start / ← chibo: …

Zalo has no buttons: chibo ends a message that offers choices with numbered lines
(``1. Xuất sắc``, ``2. Tốt``, ...) and the user answers with the number;
:func:`parse_options` reads them back.

Reading is cursor-based per user: :meth:`ZaloUser.expect_message` returns the next
unread bot message to the user's chat (messages without ``contains`` are skipped unless
``strict``); on timeout it fails showing the chat's transcript, the failed API calls and
the failed webhook deliveries.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, cast

try:
    from .fakezaloapi import (
        EVENT_IMAGE,
        EVENT_STICKER,
        EVENT_UNSUPPORTED,
        JSON,
        Call,
        FakeZaloAPI,
        ZaloMessage,
    )
    from .harness import BotProcess
except ImportError:  # tests/ is on sys.path, not a package
    from fakezaloapi import (  # type: ignore[no-redef]
        EVENT_IMAGE,
        EVENT_STICKER,
        EVENT_UNSUPPORTED,
        JSON,
        Call,
        FakeZaloAPI,
        ZaloMessage,
    )
    from harness import BotProcess  # type: ignore[no-redef]

__all__ = [
    "ZaloMessage",
    "ZaloUser",
    "parse_options",
    "wait_zalo_ready",
    "zalo_env",
]

_OPTION_LINE = re.compile(r"^\s*(\d{1,3})[.)]\s+(\S.*?)\s*$")
_OPTION_SEGMENT = re.compile(r"(?:^|\s)(\d{1,3})[.)]\s+")


def parse_options(text: str) -> list[str]:
    """The labels of the numbered options in ``text``, in order.

    Options are lines ``1. label``, ``2. label``, ... (``1)`` works too) numbered from 1
    without gaps; the last such block in the text counts (a numbered list earlier in the
    text is not taken for the options). Without such lines, one line holding
    ``1. label  2. label ...`` is split into its segments. ``[]`` if there are none.
    """
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        match = _OPTION_LINE.match(line)
        number = int(match.group(1)) if match else None
        if match and number == len(current) + 1:
            current.append(match.group(2))
            continue
        if current:
            blocks.append(current)
        current = [match.group(2)] if match and number == 1 else []
    if current:
        blocks.append(current)
    if blocks:
        return blocks[-1]
    for line in reversed(text.splitlines()):
        segments = _segments(line)
        if segments:
            return segments
    return []


def _segments(line: str) -> list[str]:
    marks = list(_OPTION_SEGMENT.finditer(line))
    numbers = [int(m.group(1)) for m in marks]
    if len(marks) < 2 or numbers != list(range(1, len(marks) + 1)):
        return []
    ends = [m.start() for m in marks[1:]] + [len(line)]
    labels = [
        line[m.end() : end].strip().rstrip("·|,;").strip()
        for m, end in zip(marks, ends, strict=True)
    ]
    return labels if all(labels) else []


class ZaloUser:
    """A Zalo user writing to the bot, in a private chat (chat id == user id) unless
    ``chat_id`` names a group chat.

    ``await user.send("/start")``, then read the answers in order with
    :meth:`expect_message`; :meth:`choose` answers the last numbered options.
    """

    def __init__(
        self,
        api: FakeZaloAPI,
        user_id: str,
        display_name: str,
        *,
        chat_id: str | None = None,
    ) -> None:
        self.api = api
        self.user_id = str(user_id)
        self.display_name = display_name
        self.chat_id = str(chat_id) if chat_id is not None else self.user_id
        self.chat_type = "PRIVATE" if self.chat_id == self.user_id else "GROUP"
        self.sent: list[JSON] = []  # the updates this user sent, in order
        self._cursor = len(api.outbox)

    def __repr__(self) -> str:
        return f"ZaloUser({self.user_id!r}, {self.display_name!r})"

    # ------------------------------------------------------------ acting

    async def _push(self, text: str | None, event_name: str, **extra: Any) -> JSON:
        update = await self.api.push_message(
            self.user_id,
            text,
            display_name=self.display_name,
            event_name=event_name,
            chat_type=self.chat_type,
            chat_id=self.chat_id,
            **extra,
        )
        self.sent.append(update)
        return update

    async def send(self, text: str, **extra: Any) -> JSON:
        """Write ``text`` to the bot; returns the update. ``extra`` goes into ``message``."""
        return await self._push(text, "message.text.received", **extra)

    async def send_sticker(self, sticker: str = "c5a1b2d3e4f5") -> JSON:
        return await self._push(None, EVENT_STICKER, sticker=sticker)

    async def send_image(
        self, url: str = "https://zalo.example/photo.jpg", caption: str | None = None
    ) -> JSON:
        extra: JSON = {"photo_url": url}
        if caption is not None:
            extra["caption"] = caption
        return await self._push(None, EVENT_IMAGE, **extra)

    async def send_unsupported(self) -> JSON:
        """Something the Bot API cannot show the bot (a voice message, a location...)."""
        return await self._push(None, EVENT_UNSUPPORTED)

    async def resend(self, update: JSON | None = None) -> None:
        """Zalo replays ``update`` (default: this user's last one) with the same message_id."""
        if update is None:
            if not self.sent:
                raise AssertionError(f"{self}: nothing was sent yet")
            update = self.sent[-1]
        await self.api.redeliver(update)

    async def choose(self, label: str, message: ZaloMessage | None = None) -> JSON:
        """Answer with the number of option ``label`` (exact, else a unique substring) of
        ``message`` (default: the latest bot message in this chat that has options)."""
        target = message or self._message_with_options()
        labels = self.options(target)
        matches = [n for n, text in enumerate(labels, 1) if text == label] or [
            n for n, text in enumerate(labels, 1) if label in text
        ]
        if len(matches) != 1:
            problem = "no option" if not matches else "several options"
            raise AssertionError(f"{self}: {problem} {label!r} in {labels} of:\n{target.body}")
        return await self.send(str(matches[0]))

    def _message_with_options(self) -> ZaloMessage:
        for candidate in reversed(self.messages):
            if self.options(candidate):
                return candidate
        raise AssertionError(f"{self}: no bot message with numbered options:\n{self.transcript()}")

    # ------------------------------------------------------------ reading

    @property
    def messages(self) -> list[ZaloMessage]:
        """The bot's messages to this chat, oldest first."""
        return self.api.messages(self.chat_id)

    def last_message(self) -> ZaloMessage:
        messages = self.messages
        if not messages:
            raise AssertionError(f"{self}: the bot has sent nothing to this chat")
        return messages[-1]

    def transcript(self) -> str:
        return self.api.transcript(self.chat_id)

    @staticmethod
    def options(message: ZaloMessage | str) -> list[str]:
        """The numbered options a message offers (see :func:`parse_options`)."""
        text = message if isinstance(message, str) else message.body
        return parse_options(text)

    def skip_pending(self) -> None:
        """Forget everything received so far."""
        self._cursor = len(self.api.outbox)

    def _unread(self) -> list[ZaloMessage]:
        return [m for m in self.api.outbox[self._cursor :] if m.chat_id == self.chat_id]

    async def expect_message(
        self, contains: str | None = None, *, timeout: float = 10, strict: bool = False
    ) -> ZaloMessage:
        """The next unread bot message to this chat that contains ``contains`` (any if
        None); messages without it are skipped (read), or with ``strict`` the next one
        must contain it. Fails after ``timeout`` seconds showing what arrived meanwhile,
        the transcript and the failed calls."""
        outbox = self.api.outbox
        skipped: list[ZaloMessage] = []

        def check() -> ZaloMessage | None:
            end = len(outbox)
            for index in range(self._cursor, end):
                message = outbox[index]
                if message.chat_id != self.chat_id:
                    continue
                self._cursor = index + 1
                if contains is None or message.contains(contains):
                    return message
                skipped.append(message)
                if strict:
                    raise AssertionError(
                        f"{self}: the next message does not contain {contains!r}:\n"
                        f"  {message}{self._context()}"
                    )
            self._cursor = end
            return None

        found = await self.api.wait_until(check, timeout)
        if found is None:
            wanted = repr(contains) if contains is not None else "anything"
            received = "\n".join(f"  {m}" for m in skipped) or "  nothing"
            raise AssertionError(
                f"{self}: expected a message containing {wanted} within {timeout}s; "
                f"received meanwhile:\n{received}{self._context()}"
            )
        return cast(ZaloMessage, found)

    async def expect_no_message(self, within: float = 0.5) -> None:
        """Fail if the bot sends anything to this chat within ``within`` seconds (or
        already did, unread)."""
        found = await self.api.wait_until(self._unread, within)
        if found:
            shown = "\n".join(f"  {m}" for m in found)
            raise AssertionError(f"{self}: expected nothing new, but got:\n{shown}")

    def _context(self) -> str:
        parts = [f"\n--- transcript of chat {self.chat_id} ---\n{self.transcript()}"]
        failed = self.api.failed_calls()[-8:]
        if failed:
            parts.append("\n--- failed Zalo API calls ---\n" + "\n".join(f"  {c}" for c in failed))
        deliveries = [d for d in self.api.webhook_deliveries if not d.ok][-8:]
        if deliveries:
            lines = [f"  {d.url} -> {d.status} {d.error or ''}" for d in deliveries]
            parts.append("\n--- failed webhook deliveries ---\n" + "\n".join(lines))
        return "".join(parts)


# --------------------------------------------------------------------------- processes


def zalo_env(api: FakeZaloAPI, workdir: str | Path, **overrides: str) -> dict[str, str]:
    """Environment for ``chibo`` on Zalo talking to ``api``, with an SQLite file in
    ``workdir``. No ``TELEGRAM_*``: for both channels merge ``bot_env(...)`` into it.
    ``overrides`` are extra/replacing variables, e.g. ``ZALO_MODE="webhook"``."""
    workdir = Path(workdir)
    env = {
        "ZALO_BOT_TOKEN": api.token,
        "ZALO_API_URL": api.base_url,
        "ZALO_MODE": "polling",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'chibo.sqlite3'}",
        "LOG_LEVEL": "DEBUG",
    }
    if "WEBHOOK_PORT" not in overrides:  # (its former name, which some tests still use)
        env["HTTP_PORT"] = "0"  # any free port: processes of tests running side by side
    env.update(overrides)
    return env


async def wait_zalo_ready(
    api: FakeZaloAPI, bot: BotProcess, since: int, timeout: float = 30
) -> None:
    """Wait until ``bot`` called getMe and then getUpdates (polling) or, successfully,
    setWebhook (webhook mode; then also until the webhook port accepts connections),
    looking at ``api.calls[since:]``. Fails with the log tail after ``timeout`` seconds or
    as soon as the process exits."""
    deadline = time.monotonic() + timeout

    def find(method: str, after: int) -> tuple[int, Call] | None:
        for index in range(after, len(api.calls)):
            if api.calls[index].method == method:
                return index, api.calls[index]
        return None

    def ready() -> Call | None:
        if not bot.running:
            raise AssertionError(
                f"chibo {' '.join(bot.args)} exited with code {bot.returncode} before it "
                f"was ready on Zalo; log:\n{bot.log_tail()}"
            )
        get_me = find("getMe", since)
        if get_me is None:
            return None
        polled = find("getUpdates", get_me[0] + 1)
        if polled is not None:
            return polled[1]
        for call in api.calls[get_me[0] + 1 :]:
            if call.method == "setWebhook" and call.ok:
                return call
        return None

    call = await api.wait_until(ready, timeout)
    if not call:
        seen = ", ".join(str(c) for c in api.calls[since:][-6:]) or "none"
        raise AssertionError(
            f"chibo {' '.join(bot.args)} not ready on Zalo within {timeout}s (no getMe + "
            f"getUpdates/setWebhook; calls: {seen}); log:\n{bot.log_tail()}"
        )
    if call.method == "setWebhook":
        await bot._wait_port(str(call.params.get("url", "")), deadline)
