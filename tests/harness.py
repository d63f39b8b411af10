"""Scenario helpers for end-to-end tests of the real bot through :class:`FakeBotAPI`.

A scenario starts the fake Bot API, starts ``chibo run`` against it, and plays
users who write, press buttons and read what the bot answers — in order::

    from fakebotapi import FakeBotAPI
    from harness import BotProcess, TelegramUser, arun_cli, bot_env

    async def test_greets_new_user(tmp_path):
        async with FakeBotAPI() as api:
            env = bot_env(api, tmp_path)              # token, API URL, SQLite in tmp_path
            assert (await arun_cli("migrate", env)).returncode == 0
            async with BotProcess(env, workdir=tmp_path) as bot:
                await bot.start(api)                  # waits for getMe + getUpdates
                await scenario(api)

    async def scenario(api):
        an = TelegramUser(api, 1001, "An", "Nguyễn")
        await an.send("/start")
        hello = await an.expect_message(contains="Xin chào")
        assert hello.button_texts == ["Tiếp tục"]
        await an.press("Tiếp tục")                 # by visible text (or data=...)
        await an.expect_edit(contains="Bước 1")     # the menu message was edited
        assert an.callback_answers == [""]         # the press was answered
        await an.expect_no_message(within=0.5)

(Inside the ``tests`` package, import with ``from tests.harness import ...``.)

Reading is cursor-based per user: :meth:`TelegramUser.expect_message` returns the
next new bot message to that user's chat after the ones already read (messages
that do not contain ``contains`` are skipped, unless ``strict=True``);
:meth:`TelegramUser.expect_edit` does the same for edits, with its own cursor.
On timeout they raise an AssertionError showing what the chat received, the
chat's screen and the bot's failed API calls.

Other pieces: ``api.fail("sendMessage", status=429, retry_after=1)`` for errors,
``api.block(user.chat_id)`` for a user who blocked the bot, ``run_cli(["migrate"],
env)`` for the other console commands, ``bot.log_text()`` for the bot's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

try:
    from .fakebotapi import JSON, BotMessage, Call, FakeBotAPI, OutboxEvent
    from .fakezaloapi import FakeZaloAPI
except ImportError:  # tests/ is on sys.path, not a package
    from fakebotapi import JSON, BotMessage, Call, FakeBotAPI, OutboxEvent  # type: ignore[no-redef]
    from fakezaloapi import FakeZaloAPI  # type: ignore[no-redef]

__all__ = [
    "BotMessage",
    "BotProcess",
    "TelegramUser",
    "arun_cli",
    "bot_env",
    "chibo_executable",
    "run_cli",
]

_query_ids = itertools.count(4_000_000_000_000_000)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _quote(text: str | None) -> str:
    return repr(text) if text is not None else "any"


class TelegramUser:
    """A user in a private chat with the bot (chat id == user id).

    ``await user.send("/start")``, ``await user.press("Yes")``, then read the answers
    in order with ``expect_message`` / ``expect_edit``.
    """

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        language_code: str | None = "vi",
        *,
        username: str | None = None,
    ) -> None:
        self.api = api
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self.username = username
        self.query_ids: list[str] = []  # the callback queries this user sent, in order
        self._message_cursor = len(api.outbox)
        self._edit_cursor = len(api.outbox)
        self._answers_read = 0

    def __repr__(self) -> str:
        return f"TelegramUser({self.user_id}, {self.first_name!r})"

    # ------------------------------------------------------------ identity

    @property
    def chat_id(self) -> int:
        return self.user_id

    @property
    def user_dict(self) -> JSON:
        """The Telegram ``User`` object of this user."""
        user: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat_dict(self) -> JSON:
        """The Telegram ``Chat`` object of the private chat with the bot."""
        chat: JSON = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # ------------------------------------------------------------ acting

    async def send(self, text: str, **extra: Any) -> JSON:
        """Write ``text`` to the bot. ``/command args`` gets a ``bot_command`` entity.

        ``extra`` is merged into the Message (e.g. ``reply_to_message=...``).
        Returns the Message dict that was delivered.
        """
        message = self.make_message(text, **extra)
        await self.api.push_update({"message": message})
        return message

    def make_message(self, text: str, **extra: Any) -> JSON:
        """A Message dict from this user (put on the chat's screen, with message_id and
        date) without delivering it — for hand-made updates."""
        message: JSON = {"chat": self.chat_dict, "from": self.user_dict, "text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        message.update(extra)
        return self.api.record_user_message(message)

    async def send_document(
        self,
        content: bytes,
        filename: str,
        caption: str | None = None,
        mime_type: str = "application/octet-stream",
        file_size: int | None = None,
    ) -> JSON:
        """Send a file to the bot; the bot can fetch it with getFile / download.
        ``file_size``: the size Telegram reports, when it is not the content's (a file too
        large to send here)."""
        stored = self.api.add_file(content, filename, mime_type)
        message: JSON = {
            "chat": self.chat_dict,
            "from": self.user_dict,
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": filename,
                "mime_type": mime_type,
                "file_size": len(content) if file_size is None else file_size,
            },
        }
        if caption is not None:
            message["caption"] = caption
        message = self.api.record_user_message(message)
        await self.api.push_update({"message": message})
        return message

    async def press(
        self,
        button: str | BotMessage | None = None,
        *,
        text: str | None = None,
        data: str | None = None,
        message: BotMessage | int | None = None,
    ) -> str:
        """Press an inline button and return the callback query id.

        The button is looked up on ``message`` (a BotMessage or message id), else on
        the latest bot message in this chat that has inline buttons, by its visible
        ``text`` (exact, else a unique substring) or by its callback ``data``.
        ``press("Yes")`` == ``press(text="Yes")``; ``press(msg, text="Yes")`` also works.
        """
        if isinstance(button, BotMessage):
            message = button
        elif button is not None:
            text = button
        if text is None and data is None:
            raise ValueError("press() needs the button's text or its callback data")
        target = self._message_with_buttons(message)
        buttons = [b for row in target.buttons for b in row]
        listing = ", ".join(f"{t!r} ⟶ {d!r}" for t, d in buttons)
        if data is not None:
            matches = [b for b in buttons if b[1] == data]
        else:
            assert text is not None
            matches = [b for b in buttons if b[0] == text] or [b for b in buttons if text in b[0]]
        what = f"text {text!r}" if data is None else f"data {data!r}"
        if not matches:
            raise AssertionError(
                f"{self}: no button with {what} on message {target.message_id} "
                f"({target.text!r}); buttons: {listing}"
            )
        if len(matches) > 1 and data is None and not any(b[0] == text for b in matches):
            raise AssertionError(
                f"{self}: {what} matches several buttons on message {target.message_id}: "
                f"{matches}; buttons: {listing}"
            )
        button_text, button_data = matches[0]
        if button_data is None:
            raise AssertionError(f"{self}: button {button_text!r} has no callback_data")
        return await self.press_data(button_data, target.message_id)

    async def press_data(self, data: str, message_id: int | None = None) -> str:
        """Send a callback query with arbitrary (even forged) ``data`` for ``message_id``
        (default: the latest bot message in this chat). Returns the query id."""
        if message_id is None:
            message_id = self.last_message().message_id
        message = self.api.message_dict(self.chat_id, message_id) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat_dict,
            "from": self.api.bot_user,
            "text": "",
        }
        query_id = str(next(_query_ids))
        self.query_ids.append(query_id)
        await self.api.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user_dict,
                    "message": message,
                    "chat_instance": f"-{self.user_id}0",
                    "data": data,
                }
            }
        )
        return query_id

    def _message_with_buttons(self, message: BotMessage | int | None) -> BotMessage:
        if message is not None:
            message_id = message if isinstance(message, int) else message.message_id
            current = self.api.message(self.chat_id, message_id)
            if current is None or current.deleted:
                raise AssertionError(f"{self}: message {message_id} is not on the screen")
            return current
        for candidate in reversed(self.messages):
            if candidate.buttons:
                return candidate
        raise AssertionError(
            f"{self}: no bot message with inline buttons in the chat:\n{self.transcript()}"
        )

    # ------------------------------------------------------------ reading

    @property
    def messages(self) -> list[BotMessage]:
        """The bot's messages in this chat, current (edited) state, oldest first."""
        return self.api.messages(self.chat_id)

    def last_message(self) -> BotMessage:
        """The latest bot message in this chat (current state)."""
        messages = self.messages
        if not messages:
            raise AssertionError(f"{self}: the bot has sent nothing to this chat")
        return messages[-1]

    def transcript(self) -> str:
        return self.api.transcript(self.chat_id)

    @property
    def callback_answers(self) -> list[str]:
        """Texts of answerCallbackQuery for this user's presses, in press order
        (``""`` when answered without text; unanswered presses are left out)."""
        answers = self.api.callback_answers
        return [str(answers[q].get("text") or "") for q in self.query_ids if q in answers]

    def skip_pending(self) -> None:
        """Forget everything received so far (move both cursors to the end)."""
        self._message_cursor = self._edit_cursor = len(self.api.outbox)

    async def expect_message(
        self, contains: str | None = None, timeout: float = 10, *, strict: bool = False
    ) -> BotMessage:
        """The next new bot message (sendMessage/sendPhoto/sendDocument) to this chat
        containing ``contains`` (case-sensitive; visible or raw text).

        Non-matching messages before it are consumed, or fail at once if ``strict``.
        """
        return await self._expect("message", contains, timeout, strict, None)

    async def expect_edit(
        self,
        contains: str | None = None,
        timeout: float = 10,
        *,
        strict: bool = False,
        message_id: int | None = None,
    ) -> BotMessage:
        """The next edit of a bot message in this chat (optionally only ``message_id``),
        as the message looks after it; same rules as :meth:`expect_message`."""
        return await self._expect("edit", contains, timeout, strict, message_id)

    async def expect_no_message(self, within: float = 1.0, *, include_edits: bool = False) -> None:
        """Fail if the bot sends (or, with ``include_edits``, edits) anything to this chat
        within ``within`` seconds after the last one read."""
        kinds = {"message", "edit"} if include_edits else {"message"}

        def unexpected() -> list[OutboxEvent]:
            return [e for e in self._unread("message") + self._unread("edit") if e.kind in kinds]

        found = await self.api.wait_until(unexpected, within)
        if found:
            shown = "\n".join(f"  {e.kind}: {e.message}" for e in found)
            raise AssertionError(f"{self}: expected nothing new, but got:\n{shown}")

    async def expect_callback_answer(self, contains: str | None = None, timeout: float = 10) -> str:
        """Wait until the bot answered this user's latest press; return the answer text."""
        if not self.query_ids:
            raise AssertionError(f"{self}: nothing was pressed")
        query_id = self.query_ids[-1]
        answer = await self.api.wait_until(lambda: self.api.callback_answers.get(query_id), timeout)
        if not answer:
            raise AssertionError(
                f"{self}: callback query {query_id} not answered within {timeout}s"
                f"{self._failed_calls()}"
            )
        text = str(answer.get("text") or "")
        if contains is not None and contains not in text:
            raise AssertionError(f"{self}: callback answer {text!r} lacks {contains!r}")
        return text

    def _unread(self, kind: str) -> list[OutboxEvent]:
        cursor = self._message_cursor if kind == "message" else self._edit_cursor
        return [e for e in self.api.outbox[cursor:] if e.kind == kind and e.chat_id == self.chat_id]

    async def _expect(
        self,
        kind: str,
        contains: str | None,
        timeout: float,
        strict: bool,
        message_id: int | None,
    ) -> BotMessage:
        outbox = self.api.outbox
        skipped: list[OutboxEvent] = []

        def check() -> BotMessage | None:
            start = self._message_cursor if kind == "message" else self._edit_cursor
            end = len(outbox)
            for index in range(start, end):
                event = outbox[index]
                if event.kind != kind or event.chat_id != self.chat_id:
                    continue
                if message_id is not None and event.message.message_id != message_id:
                    continue
                if contains is None or event.message.contains(contains):
                    self._advance(kind, index + 1)
                    return event.message
                skipped.append(event)
                if strict:
                    self._advance(kind, index + 1)
                    raise AssertionError(
                        f"{self}: the next {kind} does not contain {contains!r}:\n"
                        f"  {event.message}{self._context()}"
                    )
            self._advance(kind, end)
            return None

        result = await self.api.wait_until(check, timeout)
        if result is None:
            what = "new message" if kind == "message" else "edit"
            received = "\n".join(f"  {e.message}" for e in skipped) or "  nothing"
            raise AssertionError(
                f"{self}: expected a {what} containing {_quote(contains)} within {timeout}s; "
                f"received meanwhile:\n{received}{self._context()}"
            )
        return result

    def _advance(self, kind: str, cursor: int) -> None:
        if kind == "message":
            self._message_cursor = max(self._message_cursor, cursor)
        else:
            self._edit_cursor = max(self._edit_cursor, cursor)

    def _context(self) -> str:
        return f"\n--- chat screen ---\n{self.transcript()}{self._failed_calls()}"

    def _failed_calls(self) -> str:
        failed = [c for c in self.api.calls if c.status not in (None, 200)][-8:]
        if not failed:
            return ""
        lines = "\n".join(
            f"  {c.method} {_short(c.params)} -> {c.status} {c.error}" for c in failed
        )
        return f"\n--- failed Bot API calls ---\n{lines}"


def _short(params: Mapping[str, Any], limit: int = 160) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- processes


def chibo_executable() -> Path:
    """The ``chibo`` console script of the venv running the tests."""
    path = Path(sys.executable).parent / "chibo"
    if not path.exists():
        raise RuntimeError(f"{path} not found; run `pip install -e '.[dev]'` in this venv")
    return path


def _environment(env: Mapping[str, str] | None) -> dict[str, str]:
    merged = {**os.environ, **(env or {})}
    merged.setdefault("PYTHONUNBUFFERED", "1")
    for key in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in merged.get(key, "").split(",") if h]
        merged[key] = ",".join([*hosts, "127.0.0.1", "localhost"])
    return merged


def bot_env(api: FakeBotAPI, workdir: str | Path, **overrides: str) -> dict[str, str]:
    """Environment for ``chibo`` talking to ``api`` with an SQLite file in ``workdir``.

    ``overrides`` are extra/replacing variables, e.g. ``TELEGRAM_MODE="webhook"``.
    """
    workdir = Path(workdir)
    env = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.base_url,
        "TELEGRAM_BOT_USERNAME": api.username,
        "TELEGRAM_MODE": "polling",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'chibo.sqlite3'}",
        "LOG_LEVEL": "DEBUG",
    }
    if "WEBHOOK_PORT" not in overrides:  # (its former name, which some tests still use)
        env["HTTP_PORT"] = "0"  # any free port: processes of tests running side by side
    env.update(overrides)
    return env


def run_cli(
    args: Sequence[str] | str,
    env: Mapping[str, str] | None = None,
    *,
    cwd: str | Path | None = None,
    timeout: float = 60,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``chibo <args>`` (output captured as text, ``check=False``).

    ``cwd`` defaults to a fresh temp dir so no stray ``.env`` is read. Blocking: from an
    async test that needs the fake API to answer meanwhile, use :func:`arun_cli`.
    """
    argv = shlex.split(args) if isinstance(args, str) else list(args)
    workdir = Path(cwd) if cwd is not None else Path(tempfile.mkdtemp(prefix="chibo-cli-"))
    return subprocess.run(
        [str(chibo_executable()), *argv],
        env=_environment(env),
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        input=input,
    )


async def arun_cli(
    args: Sequence[str] | str,
    env: Mapping[str, str] | None = None,
    *,
    cwd: str | Path | None = None,
    timeout: float = 60,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """:func:`run_cli` in a thread, so the event loop (and the fake API) keeps running."""
    return await asyncio.to_thread(run_cli, args, env, cwd=cwd, timeout=timeout, input=input)


class BotProcess:
    """The real bot: ``chibo <args>`` as a subprocess, output to :attr:`log_path`.

    ``env`` is merged over ``os.environ``; ``cwd`` defaults to :attr:`workdir` (given, e.g.
    pytest's ``tmp_path``, or a fresh temp dir), so no stray ``.env`` is read.
    ``async with BotProcess(env) as bot:`` stops it on exit.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        args: Sequence[str] = ("run",),
        cwd: str | Path | None = None,
        *,
        workdir: str | Path | None = None,
    ) -> None:
        self.env = dict(env)
        self.args = tuple(args)
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="chibo-e2e-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cwd = Path(cwd) if cwd is not None else self.workdir
        self.log_path = self.workdir / "bot.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    async def __aenter__(self) -> BotProcess:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ state

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        """Exit code once it has exited (negative: killed by that signal), else None."""
        return self.process.poll() if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        if self._log is not None:
            self._log.flush()
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    # ------------------------------------------------------------ control

    def launch(self) -> None:
        """Start the process without waiting for anything."""
        if self.running:
            raise RuntimeError("the bot process is already running")
        self._close_log()
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(chibo_executable()), *self.args],
            env=_environment(self.env),
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def start(
        self,
        api: FakeBotAPI | FakeZaloAPI | None = None,
        wait_ready: bool = True,
        timeout: float = 30,
    ) -> None:
        """Launch; with ``wait_ready`` wait until ``api`` saw getMe and then getUpdates
        (polling) or setWebhook (webhook mode; then also until the webhook port
        accepts connections). Fails with the log tail after ``timeout`` seconds or if the
        process exits first (the process is killed on failure). ``api`` may be the fake
        Telegram or the fake Zalo Bot API (:func:`zalo_harness.wait_zalo_ready`)."""
        since = len(api.calls) if api is not None else 0
        self.launch()
        if not wait_ready:
            return
        if api is None:
            raise ValueError("start(wait_ready=True) needs the FakeBotAPI or FakeZaloAPI")
        try:
            if isinstance(api, FakeZaloAPI):
                try:
                    from .zalo_harness import wait_zalo_ready
                except ImportError:  # tests/ is on sys.path, not a package
                    from zalo_harness import wait_zalo_ready  # type: ignore[no-redef]
                await wait_zalo_ready(api, self, since, timeout)
            else:
                await self._wait_ready(api, since, timeout)
        except BaseException:
            self.kill()
            raise

    async def _wait_ready(self, api: FakeBotAPI, since: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout

        def find(method: str, after: int) -> tuple[int, Call] | None:
            for index in range(after, len(api.calls)):
                call = api.calls[index]
                if call.method.lower() == method.lower():
                    return index, call
            return None

        def ready() -> Call | None:
            if not self.running:
                raise AssertionError(
                    f"chibo {' '.join(self.args)} exited with code {self.returncode} "
                    f"before it was ready; log:\n{self.log_tail()}"
                )
            get_me = find("getMe", since)
            if get_me is None:
                return None
            for method in ("getUpdates", "setWebhook"):
                hit = find(method, get_me[0] + 1)
                if hit and (method == "getUpdates" or hit[1].status == 200):
                    return hit[1]
            return None

        call = await api.wait_until(ready, timeout)
        if not call:
            raise AssertionError(
                f"chibo {' '.join(self.args)} not ready within {timeout}s "
                f"(no getMe + getUpdates/setWebhook); log:\n{self.log_tail()}"
            )
        if call.method.lower() == "setwebhook":
            await self._wait_port(str(call.params.get("url", "")), deadline)

    async def _wait_port(self, url: str, deadline: float) -> None:
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1") or not parts.port:
            return
        while True:
            try:
                _, writer = await asyncio.open_connection(parts.hostname, parts.port)
            except OSError:
                if not self.running or time.monotonic() > deadline:
                    raise AssertionError(
                        f"webhook {url} does not accept connections; log:\n{self.log_tail()}"
                    ) from None
                await asyncio.sleep(0.05)
            else:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                return

    async def wait_exit(self, timeout: float = 10) -> int:
        """Wait for the process to exit on its own; return its exit code."""
        deadline = time.monotonic() + timeout
        while self.running:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"chibo still running after {timeout}s; log:\n{self.log_tail()}"
                )
            await asyncio.sleep(0.05)
        self._close_log()
        code = self.returncode
        assert code is not None
        return code

    async def wait_for_log(self, text: str, timeout: float = 10) -> None:
        """Wait until ``text`` appears in the log."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in the log; tail:\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL. Returns the exit code."""
        if self.process is None:
            return None
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.running and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.running:
                self.kill()
        self._close_log()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL (a crash: no shutdown code runs)."""
        if self.process is not None and self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None and not self.running:
            self._log.close()
            self._log = None
