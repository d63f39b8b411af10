"""A fake Zalo Bot API server on loopback, for end-to-end tests.

The bot talks to it as it would talk to Zalo's Bot Platform: point ``ZALO_API_URL`` at
:attr:`FakeZaloAPI.base_url` (``http://127.0.0.1:PORT/bot``); requests go to
``{base_url}{token}/{method}``.

    async with FakeZaloAPI() as api:
        update = await api.push_message("a1b2c3", "xin chào", display_name="An")
        call = await api.wait_for_call("sendMessage")     # the bot answers
        api.messages("a1b2c3")                             # what the chat received
        print(api.transcript("a1b2c3"))                    # → An: xin chào / ← chibo: …

What it does, as far as Zalo's behaviour is known:

* GET or POST, params from the query string, a JSON body or a form; every answer is
  JSON ``{"ok": ..., "result": ..., "description": ..., "error_code": ...}`` with HTTP 200,
  errors included (an injected failure may choose another HTTP status, a non-JSON body or
  a dropped connection). A wrong token answers ``error_code`` 401, an unknown method 404
  (method names are case-sensitive; Zalo has no buttons, edits or documents).
* getUpdates has no offset: each call returns ONE update as ``result`` (oldest first; it
  is gone afterwards) or, when nothing arrives within ``timeout`` seconds (capped at
  ``idle_timeout``), ``error_code`` 408 "Request timeout".
* setWebhook (``url``, ``secret_token``) / deleteWebhook / getWebhookInfo: while a webhook
  is set, getUpdates answers 409 and new user messages are POSTed to the webhook with the
  header ``X-Bot-Api-Secret-Token``, wrapped as ``{"ok": true, "result": update}`` or bare
  (``webhook_wrapped``; ``None`` alternates, wrapped first). Deliveries are recorded, not
  retried; :meth:`FakeZaloAPI.redeliver` replays one by hand. Updates queued before the
  webhook was set stay queued for getUpdates.
* sendMessage (``text`` 1..2,000 characters), sendPhoto (``photo`` an http(s) URL,
  ``caption`` up to 2,000), sendSticker, sendChatAction; sends to a chat that never wrote
  to the bot answer 400 "Chat not found". Every message the bot sent is in
  :attr:`FakeZaloAPI.outbox`; with ``echo_own_messages`` it also comes back as an update
  from the bot (``from.is_bot`` true).
* Failure injection: :meth:`FakeZaloAPI.fail`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, cast

import aiohttp
from aiohttp import web

JSON = dict[str, Any]

__all__ = [
    "EVENT_IMAGE",
    "EVENT_STICKER",
    "EVENT_TEXT",
    "EVENT_UNSUPPORTED",
    "SECRET_HEADER",
    "Call",
    "FakeZaloAPI",
    "WebhookDelivery",
    "ZaloAPIError",
    "ZaloMessage",
]

MAX_TEXT_LENGTH = 2000
MAX_CAPTION_LENGTH = 2000
SECRET_MIN_LENGTH = 8
SECRET_MAX_LENGTH = 256

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"
SECRET_HEADER = "X-Bot-Api-Secret-Token"

CHAT_ACTIONS = frozenset({"typing", "upload_photo"})

DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Internal error",
    404: "Not found",
    408: "Request timeout",
    409: "Conflict",
    429: "Quota exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}

WEBHOOK_ACTIVE = "Conflict: a webhook is active; call deleteWebhook before using getUpdates"

MessageKind = Literal["text", "photo", "sticker"]


class ZaloAPIError(Exception):
    """An error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, error_code: int, description: str | None = None) -> None:
        description = description or DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description

    def body(self) -> JSON:
        return {"ok": False, "error_code": self.error_code, "description": self.description}


def _bad_request(description: str) -> ZaloAPIError:
    return ZaloAPIError(400, description)


def _now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    """A fresh opaque id (32 hex digits), like Zalo's message ids."""
    return uuid.uuid4().hex


@dataclass
class Call:
    """One request the bot made.

    ``at`` is ``time.monotonic()`` when it arrived; ``status`` the HTTP status answered
    (``None`` while running, e.g. a long poll; ``0`` when the fake dropped the connection);
    ``answer`` the JSON body (``None`` for a dropped connection or a non-JSON body).
    """

    method: str
    params: JSON
    at: float
    status: int | None = None
    answer: JSON | None = None
    raw_body: str | None = None  # an injected non-JSON body

    @property
    def ok(self) -> bool:
        return self.answer is not None and self.answer.get("ok") is True

    @property
    def result(self) -> Any:
        return self.answer.get("result") if self.answer else None

    @property
    def error_code(self) -> int | None:
        if self.answer is None:
            return None
        code = self.answer.get("error_code")
        return int(code) if code is not None else None

    @property
    def description(self) -> str | None:
        if self.answer is not None:
            return cast("str | None", self.answer.get("description"))
        if self.status == 0:
            return "connection dropped by the fake"
        return self.raw_body

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return str(value) if value is not None else None

    def __str__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        if len(params) > 160:
            params = params[:159] + "…"
        outcome = "ok" if self.ok else f"{self.error_code} {self.description}"
        return f"{self.method}({params}) -> HTTP {self.status} {outcome}"


@dataclass(frozen=True)
class ZaloMessage:
    """A message the bot sent (sendMessage / sendPhoto / sendSticker).

    ``text`` is set for text messages, ``photo_url`` and ``caption`` for photos,
    ``sticker`` for stickers. ``photo_bytes`` is the fetched image with ``fetch_photos``.
    """

    seq: int
    chat_id: str
    kind: MessageKind
    message_id: str
    date: int
    at: float
    text: str | None = None
    photo_url: str | None = None
    caption: str | None = None
    sticker: str | None = None
    photo_bytes: bytes | None = None

    @property
    def body(self) -> str:
        """What a reader sees as text: the text, or the caption of a photo."""
        return self.text or self.caption or ""

    def contains(self, needle: str) -> bool:
        """Case-sensitive substring of the text or the caption."""
        return any(needle in t for t in (self.text, self.caption) if t is not None)

    def describe(self) -> str:
        """The message as one transcript entry (without the speaker)."""
        if self.kind == "photo":
            return f"[photo {self.photo_url}]" + (f" {self.caption}" if self.caption else "")
        if self.kind == "sticker":
            return f"[sticker {self.sticker}]"
        return self.text or ""

    def __str__(self) -> str:
        return f"[{self.kind} {self.message_id[:8]}] {self.describe()}"


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook.

    ``status`` is the HTTP status the bot answered, ``None`` if the POST failed
    (``error`` says why). ``wrapped``: the body was ``{"ok": true, "result": update}``.
    """

    url: str
    update: JSON
    wrapped: bool
    secret_token: str | None
    at: float
    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Failure:
    method: str
    chat_id: str | None
    error: ZaloAPIError
    http_status: int
    times: int | None
    disconnect: bool
    body: str | None

    def matches(self, method: str, params: JSON) -> bool:
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or str(params.get("chat_id")) == self.chat_id


@dataclass(frozen=True)
class _LogEntry:
    chat_id: str
    incoming: bool
    speaker: str
    content: str

    def lines(self, prefix: str = "") -> list[str]:
        arrow = "→" if self.incoming else "←"
        first, *rest = self.content.split("\n")
        return [f"{prefix}{arrow} {self.speaker}: {first}", *(f"{prefix}    {r}" for r in rest)]


# --------------------------------------------------------------------------- the server


class FakeZaloAPI:
    """A fake Zalo Bot API HTTP server on 127.0.0.1 (free port).

    Args:
        token: the bot token the server accepts.
        bot_id: the bot's id (``getMe``, and ``from.id`` of echoed messages).
        account_name: the bot's name (``getMe``; the speaker of its lines in transcripts).
        idle_timeout: the longest a getUpdates waits for an update before answering 408.
        webhook_wrapped: webhook bodies as ``{"ok": true, "result": update}`` (True), the
            bare update (False) or alternating, wrapped first (None).
        echo_own_messages: every message the bot sends comes back as an update from the
            bot itself, like Zalo may do.
        strict_chats: sends to a chat that never wrote to the bot (see
            :attr:`known_chats`) answer 400 "Chat not found".
        fetch_photos: sendPhoto downloads the photo URL (400 unless it answers 200 with
            an ``image/*`` type) and keeps the bytes in :attr:`ZaloMessage.photo_bytes`.
    """

    def __init__(
        self,
        *,
        token: str = "zalo-test-token",
        bot_id: str = "5f1d2c3b4a596877",
        account_name: str = "chibo",
        idle_timeout: float = 1.0,
        webhook_wrapped: bool | None = None,
        echo_own_messages: bool = False,
        strict_chats: bool = True,
        fetch_photos: bool = False,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.account_name = account_name
        self.idle_timeout = idle_timeout
        self.webhook_wrapped = webhook_wrapped
        self.echo_own_messages = echo_own_messages
        self.strict_chats = strict_chats
        self.fetch_photos = fetch_photos

        self.calls: list[Call] = []
        self.outbox: list[ZaloMessage] = []
        self.updates: list[JSON] = []  # every update delivered or queued, replays included
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.chat_actions: list[tuple[str, str]] = []
        self.known_chats: dict[str, str] = {}  # chat id -> chat_type

        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_updated_at: int = 0

        self._queue: deque[JSON] = deque()
        self._log: list[_LogEntry] = []
        self._failures: list[_Failure] = []
        self._deliveries_made = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._others: dict[str, FakeZaloAPI] = {}
        self._methods: dict[str, Callable[[JSON], Coroutine[Any, Any, Any]]] = {
            name: getattr(self, f"_m_{name}")
            for name in (
                "getMe",
                "getUpdates",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
                "sendMessage",
                "sendPhoto",
                "sendSticker",
                "sendChatAction",
            )
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> FakeZaloAPI:
        """Start listening on 127.0.0.1 (free port)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(
            app, shutdown_timeout=2.0, handler_cancellation=True, access_log=None
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._closing = False
        return self

    async def stop(self) -> None:
        """Stop the server; pending long polls answer 408 at once, background webhook
        deliveries (echoes) get two seconds to finish."""
        self._closing = True
        self._notify()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeZaloAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` — the ``ZALO_API_URL``."""
        return f"http://127.0.0.1:{self.port}/bot"

    def url(self, method: str) -> str:
        """The full URL of ``method`` with the right token."""
        return f"{self.base_url}{self.token}/{method}"

    @property
    def bot_info(self) -> JSON:
        """getMe's result."""
        return {
            "id": self.bot_id,
            "account_name": self.account_name,
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    # ----------------------------------------------------------------- waiting

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_until(self, check: Callable[[], Any], timeout: float) -> Any:
        """Wait until ``check()`` returns something truthy (re-checked on every change);
        returns its last value (falsy on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return result
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.5))

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10,
        *,
        since: int = 0,
        answered: bool = False,
    ) -> Call:
        """The first call of ``method`` at index >= ``since`` in :attr:`calls` matching
        ``predicate`` (and, with ``answered``, already answered); waits up to ``timeout``."""

        def check() -> Call | None:
            for call in self.calls[since:]:
                if call.method != method or (answered and call.status is None):
                    continue
                if predicate is None or predicate(call):
                    return call
            return None

        found = await self.wait_until(check, timeout)
        if found is None:
            seen = ", ".join(c.method for c in self.calls[since:][-20:]) or "none"
            raise AssertionError(f"no {method} call within {timeout}s (last calls: {seen})")
        return cast(Call, found)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def failed_calls(self) -> list[Call]:
        """Answered calls that were not ok, except idle polls (408)."""
        return [c for c in self.calls if c.status is not None and not c.ok and c.error_code != 408]

    # ----------------------------------------------------------------- chats

    def messages(self, chat_id: str) -> list[ZaloMessage]:
        """Every message the bot sent to ``chat_id``, in order."""
        return [m for m in self.outbox if m.chat_id == str(chat_id)]

    def add_chat(self, chat_id: str, chat_type: str = "PRIVATE") -> None:
        """Let the bot write to ``chat_id`` without a message from it first."""
        self.known_chats[str(chat_id)] = chat_type

    def transcript(self, chat_id: str) -> str:
        """The conversation of one chat, in order: ``→ An: …`` for the user's messages,
        ``← chibo: …`` for the bot's (continuation lines indented)."""
        lines = [line for e in self._log if e.chat_id == str(chat_id) for line in e.lines()]
        return "\n".join(lines) or "<empty chat>"

    def log_lines(self) -> list[str]:
        """The conversations of all chats, in order, each line prefixed with its chat id."""
        return [line for e in self._log for line in e.lines(f"[{e.chat_id}] ")]

    # ----------------------------------------------------------------- users' messages

    async def push_message(
        self,
        user_id: str,
        text: str | None,
        *,
        display_name: str = "Người dùng",
        event_name: str = EVENT_TEXT,
        chat_type: str = "PRIVATE",
        chat_id: str | None = None,
        message_id: str | None = None,
        **extra: Any,
    ) -> JSON:
        """A user writes to the bot. Returns the update, which is queued for getUpdates
        or, while a webhook is set, POSTed there (see :attr:`webhook_deliveries`; a
        failed POST does not raise). ``extra`` goes into ``message`` (``photo_url``,
        ``caption``, ``sticker``...). In a private chat the chat id is the user id."""
        if chat_type not in ("PRIVATE", "GROUP"):
            raise ValueError(f"chat_type must be PRIVATE or GROUP, not {chat_type!r}")
        chat = str(chat_id) if chat_id is not None else str(user_id)
        if chat_type == "PRIVATE" and chat != str(user_id):
            raise ValueError("in a PRIVATE chat the chat id is the user id")
        message: JSON = {
            "from": {"id": str(user_id), "display_name": display_name, "is_bot": False},
            "chat": {"id": chat, "chat_type": chat_type},
        }
        if text is not None:
            message["text"] = text
        message["message_id"] = message_id or new_id()
        message["date"] = _now_ms()
        message.update(extra)
        update: JSON = {"event_name": event_name, "message": message}
        self.known_chats[chat] = chat_type
        self._log.append(_LogEntry(chat, True, display_name, _describe_update(update)))
        await self._deliver(update)
        return copy.deepcopy(update)

    async def redeliver(self, update: JSON) -> None:
        """Deliver ``update`` once more, unchanged (same message_id), as Zalo may replay."""
        message = update.get("message") or {}
        chat = str((message.get("chat") or {}).get("id", "?"))
        sender = (message.get("from") or {}).get("display_name", "?")
        self._log.append(_LogEntry(chat, True, f"{sender} (replayed)", _describe_update(update)))
        await self._deliver(copy.deepcopy(update))

    async def _deliver(self, update: JSON) -> WebhookDelivery | None:
        self.updates.append(update)
        if self.webhook_url:
            return await self.post_to_webhook(update)
        self._queue.append(update)
        self._notify()
        return None

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued for getUpdates, oldest first."""
        return list(self._queue)

    async def post_to_webhook(
        self,
        update: JSON,
        secret_token: str | None = "<configured>",
        *,
        url: str | None = None,
        wrapped: bool | None = None,
        timeout: float = 10,
    ) -> WebhookDelivery:
        """POST ``update`` to the webhook (or ``url``); record and return the delivery.

        ``secret_token`` defaults to the one given in setWebhook; pass another string to
        send a wrong one, ``None`` for no header. ``wrapped`` defaults to
        :attr:`webhook_wrapped` (alternating when that is None).
        """
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook is set (setWebhook was not called)")
        secret = self.webhook_secret if secret_token == "<configured>" else secret_token
        if wrapped is None:
            wrapped = self.webhook_wrapped
        if wrapped is None:
            wrapped = self._deliveries_made % 2 == 0
        self._deliveries_made += 1
        body = {"ok": True, "result": update} if wrapped else update
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        delivery = WebhookDelivery(target, update, wrapped, secret, time.monotonic())
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                target, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                await response.read()
                delivery.status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        self.webhook_deliveries.append(delivery)
        self._notify()
        return delivery

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------------- failures

    def fail(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        *,
        times: int | None = 1,
        http_status: int = 200,
        chat_id: str | None = None,
        disconnect: bool = False,
        body: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any, case-insensitive;
        optionally only those for ``chat_id``) fail; ``times=None``: until
        :meth:`clear_failures`.

        The answer is ``{"ok": false, "error_code": error_code, "description": ...}`` with
        HTTP ``http_status`` (200 like Zalo); ``body`` replaces it with that text (e.g. a
        proxy's HTML page with ``http_status=502``); ``disconnect`` closes the connection
        without any answer. The call is not carried out.
        """
        error = ZaloAPIError(error_code, description)
        key = str(chat_id) if chat_id is not None else None
        self._failures.append(
            _Failure(method.lower(), key, error, http_status, times, disconnect, body)
        )

    def clear_failures(self) -> None:
        self._failures.clear()

    def _injected_failure(self, method: str, params: JSON) -> _Failure | None:
        for failure in self._failures:
            if failure.matches(method, params):
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    # ----------------------------------------------------------------- HTTP

    def add_bot(self, other: FakeZaloAPI) -> None:
        """Answer requests with `other`'s token as `other` (never started itself): two
        bots behind one ZALO_API_URL, each with its own chats, updates and outbox."""
        self._others[other.token] = other

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        other = self._others.get(request.match_info["token"])
        if other is not None:
            return await other._handle(request)
        method = request.match_info["method"]
        bad_params: str | None = None
        try:
            params = await self._read_params(request)
        except ValueError as exc:
            params, bad_params = {}, str(exc)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        self._notify()
        try:
            if request.match_info["token"] != self.token:
                failure = None
                answer = ZaloAPIError(401).body()
            elif bad_params is not None:
                failure = None
                answer = _bad_request(bad_params).body()
            else:
                failure = self._injected_failure(method, params)
                answer = failure.error.body() if failure else await self._answer(method, params)
            if failure is not None and failure.disconnect:
                call.status = 0
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)  # never reaches the closed connection
            status = failure.http_status if failure else 200
            call.status = status
            if failure is not None and failure.body is not None:
                call.raw_body = failure.body
                return web.Response(text=failure.body, status=status, content_type="text/html")
            call.answer = answer
            return web.json_response(answer, status=status)
        finally:
            if call.status is None:
                call.status = 0  # the client went away during a long poll
            self._notify()

    async def _answer(self, method: str, params: JSON) -> JSON:
        handler = self._methods.get(method)
        try:
            if handler is None:
                raise ZaloAPIError(404, f"Not found: no method {method}")
            result = await handler(params)
        except ZaloAPIError as exc:
            return exc.body()
        return {"ok": True, "result": result}

    @staticmethod
    async def _read_params(request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            text = await request.text()
            if not text.strip():
                return params
            try:
                body = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"invalid JSON body: {exc}") from None
            if not isinstance(body, dict):
                raise ValueError("the JSON body must be an object")
            params.update(body)
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    params[name] = f"<upload {value.filename}>"  # Zalo takes no uploads
                else:
                    params[name] = str(value)
        return params

    # ----------------------------------------------------------------- methods

    async def _m_getMe(self, params: JSON) -> JSON:
        return self.bot_info

    async def _m_getUpdates(self, params: JSON) -> JSON:
        if self.webhook_url:
            raise ZaloAPIError(409, WEBHOOK_ACTIVE)
        raw = params.get("timeout")
        try:
            timeout = float(raw) if raw not in (None, "") else self.idle_timeout
        except (TypeError, ValueError):
            raise _bad_request(f"timeout must be a number of seconds, not {raw!r}") from None
        deadline = time.monotonic() + max(0.0, min(timeout, self.idle_timeout))
        while True:
            if self.webhook_url:
                raise ZaloAPIError(409, WEBHOOK_ACTIVE)
            if self._queue:
                return self._queue.popleft()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                raise ZaloAPIError(408, "Request timeout")
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _m_setWebhook(self, params: JSON) -> JSON:
        url = str(params.get("url") or "")
        if not url.startswith(("http://", "https://")):
            raise _bad_request("url must be an http(s) URL")
        secret = str(params.get("secret_token") or "")
        if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
            raise _bad_request(
                f"secret_token must have {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters"
            )
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_updated_at = _now_ms()
        self._notify()  # a waiting getUpdates answers 409
        return {"url": url, "updated_at": self.webhook_updated_at}

    async def _m_deleteWebhook(self, params: JSON) -> JSON:
        self.webhook_url = self.webhook_secret = None
        self.webhook_updated_at = _now_ms()
        return {"url": "", "updated_at": self.webhook_updated_at}

    async def _m_getWebhookInfo(self, params: JSON) -> JSON:
        return {"url": self.webhook_url or "", "updated_at": self.webhook_updated_at}

    def _chat(self, params: JSON) -> str:
        chat = params.get("chat_id")
        if chat is None or str(chat) == "":
            raise _bad_request("chat_id is required")
        chat = str(chat)
        if self.strict_chats and chat not in self.known_chats:
            raise _bad_request(f"Chat not found: {chat}")
        return chat

    @staticmethod
    def _limited(params: JSON, key: str, limit: int, *, required: bool) -> str | None:
        value = params.get(key)
        if value is None or (not required and value == ""):
            if required:
                raise _bad_request(f"{key} is required")
            return None
        text = str(value)
        if required and not text.strip():
            raise _bad_request(f"{key} is empty")
        if len(text) > limit:
            raise _bad_request(f"{key} is too long ({len(text)} characters; at most {limit})")
        return text

    async def _m_sendMessage(self, params: JSON) -> JSON:
        chat = self._chat(params)
        text = self._limited(params, "text", MAX_TEXT_LENGTH, required=True)
        return self._sent(chat, "text", text=text)

    async def _m_sendPhoto(self, params: JSON) -> JSON:
        chat = self._chat(params)
        photo = str(params.get("photo") or "")
        if not photo.startswith(("http://", "https://")):
            raise _bad_request("photo must be an http(s) URL of an image")
        caption = self._limited(params, "caption", MAX_CAPTION_LENGTH, required=False)
        content = await self._fetch_photo(photo) if self.fetch_photos else None
        return self._sent(chat, "photo", photo_url=photo, caption=caption, photo_bytes=content)

    async def _m_sendSticker(self, params: JSON) -> JSON:
        chat = self._chat(params)
        sticker = str(params.get("sticker") or "")
        if not sticker:
            raise _bad_request("sticker is required")
        return self._sent(chat, "sticker", sticker=sticker)

    async def _m_sendChatAction(self, params: JSON) -> JSON:
        chat = self._chat(params)
        action = str(params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise _bad_request(f"action must be one of {sorted(CHAT_ACTIONS)}, not {action!r}")
        self.chat_actions.append((chat, action))
        self._notify()
        return {}

    async def _fetch_photo(self, url: str) -> bytes:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as r:
                content = await r.read()
                if r.status != 200 or not r.content_type.startswith("image/"):
                    raise _bad_request(
                        f"photo could not be fetched: HTTP {r.status} {r.content_type}"
                    )
                return content
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _bad_request(f"photo could not be fetched: {exc}") from None

    def _sent(self, chat: str, kind: MessageKind, **fields: Any) -> JSON:
        message = ZaloMessage(
            seq=len(self.outbox),
            chat_id=chat,
            kind=kind,
            message_id=new_id(),
            date=_now_ms(),
            at=time.monotonic(),
            **fields,
        )
        self.outbox.append(message)
        self._log.append(_LogEntry(chat, False, self.account_name, message.describe()))
        if self.echo_own_messages:
            self._echo(message)
        self._notify()
        return {"message_id": message.message_id, "date": message.date}

    def _echo(self, sent: ZaloMessage) -> None:
        event = {"text": EVENT_TEXT, "photo": EVENT_IMAGE, "sticker": EVENT_STICKER}[sent.kind]
        message: JSON = {
            "from": {"id": self.bot_id, "display_name": self.account_name, "is_bot": True},
            "chat": {
                "id": sent.chat_id,
                "chat_type": self.known_chats.get(sent.chat_id, "PRIVATE"),
            },
            "message_id": sent.message_id,
            "date": sent.date,
        }
        for key in ("text", "photo_url", "caption", "sticker"):
            value = getattr(sent, key)
            if value is not None:
                message[key] = value
        update: JSON = {"event_name": event, "message": message}
        self.updates.append(update)
        if self.webhook_url:
            self._spawn(self.post_to_webhook(update))  # not while the bot awaits this answer
        else:
            self._queue.append(update)


def _describe_update(update: JSON) -> str:
    message = update.get("message") or {}
    event = update.get("event_name")
    text = message.get("text")
    if event == EVENT_IMAGE:
        caption = message.get("caption")
        url = message.get("photo_url") or message.get("photo")
        return f"[image {url}]" + (f" {caption}" if caption else "")
    if event == EVENT_STICKER:
        return f"[sticker {message.get('sticker')}]"
    if event == EVENT_UNSUPPORTED:
        return "[unsupported message]"
    if event != EVENT_TEXT:
        return f"[{event}]" + (f" {text}" if text is not None else "")
    return str(text) if text is not None else "<no text>"
