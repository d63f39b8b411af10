"""A fake Telegram Bot API server on loopback, for end-to-end tests.

The real bot (python-telegram-bot) talks to it exactly as it would talk to
``api.telegram.org``: point ``base_url`` at :attr:`FakeBotAPI.base_url`.

    async with FakeBotAPI(token="123456:TEST") as api:
        bot = telegram.Bot(api.token, base_url=api.base_url)
        ...
        await api.push_update({"message": {...}})       # a user writes to the bot
        call = await api.wait_for_call("sendMessage")   # the bot answers
        api.messages(chat_id)                            # the chat's "screen"

What it does, like Telegram does it:

* ``/bot{token}/{method}`` for GET and POST; params from the query string, JSON,
  urlencoded or multipart bodies (uploads are kept as :class:`UploadedFile`);
  a wrong token answers 401, an unknown method 404; method names are
  case-insensitive.
* getUpdates long polling with ``offset``/``limit``/``timeout``; a second
  concurrent getUpdates terminates the first with 409; getUpdates while a
  webhook is set answers 409.
* setWebhook/deleteWebhook: while a webhook is set, :meth:`FakeBotAPI.push_update`
  POSTs the update to it (with ``X-Telegram-Bot-Api-Secret-Token``).
* Messages get per-chat increasing ids and are stored with their current
  (edited) state; every send/edit/delete is also appended to
  :attr:`FakeBotAPI.outbox`, which :mod:`harness` reads in order.
* HTML / MarkdownV2 / Markdown texts are parsed like Telegram does: malformed
  markup answers ``400 Bad Request: can't parse entities: ...``; the visible
  text (markup stripped) is what the returned Message carries.
* Telegram's limits, with its error answers: text empty or over 4,096 characters and
  captions over 1,024 (UTF-16 units, after markup), callback_data over 64 bytes, more
  than 100 inline buttons, popups (answerCallbackQuery text) over 200 characters,
  more than 100 commands, uploads over 50 MB (413) and photos over 10 MB. Rows of more
  than 8 inline buttons are refused too: Telegram accepts them but its apps do not show
  the extra buttons, so a test should fail on them.
* Other realistic 400s: "message is not modified", "message to edit not found",
  unknown callback query id.
* Failure injection (:meth:`FakeBotAPI.fail`, :meth:`FakeBotAPI.block`) and optional
  rate limits (``global_rate`` / ``per_chat_rate`` messages per second).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import math
import re
import socket
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
ChatId = int | str
Handler = Callable[[JSON], Any]

__all__ = [
    "BotAPIError",
    "BotMessage",
    "Call",
    "FakeBotAPI",
    "OutboxEvent",
    "UploadedFile",
    "WebhookDelivery",
    "visible_text",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100  # per keyboard
MAX_INLINE_BUTTONS_PER_ROW = 8
MAX_COMMANDS = 100
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # bots upload files of up to 50 MB
MAX_PHOTO_BYTES = 10 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# Parameters that Telegram treats as plain strings even when they look like JSON.
_STRING_PARAMS = frozenset(
    {
        "action",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "custom_emoji_id",
        "description",
        "document",
        "emoji",
        "file_id",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "photo",
        "query",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "video",
        "video_note",
        "voice",
    }
)

# Methods that put a message on a chat's screen or change one (rate limits, blocking).
_SEND_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendaudio",
        "sendvideo",
        "sendanimation",
        "sendvoice",
        "sendsticker",
        "sendmediagroup",
        "sendlocation",
        "sendcontact",
        "sendpoll",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
        "editmessagemedia",
    }
)


class BotAPIError(Exception):
    """An error answer of the Bot API; raise it from a handler given to :meth:`FakeBotAPI.on`."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(description: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {description}")


@dataclass
class UploadedFile:
    """A file the bot uploaded (multipart) or a user "sent" (:meth:`FakeBotAPI.add_file`)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    file_id: str = ""
    file_unique_id: str = ""
    file_path: str = ""

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class Call:
    """One request the bot made.

    ``at`` is ``time.monotonic()`` when the request arrived; ``status`` is the HTTP
    status answered (``None`` while still running, e.g. a long poll).
    """

    method: str
    params: JSON
    at: float
    status: int | None = None
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> ChatId | None:
        return self.params.get("chat_id")


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook."""

    url: str
    update: JSON
    secret_token: str | None
    status: int
    at: float


@dataclass(frozen=True)
class BotMessage:
    """A snapshot of one message in a chat (as sent, or after an edit).

    ``text`` is the visible text (markup stripped; the caption for media), ``raw_text``
    what the bot sent. ``buttons`` are the inline keyboard as rows of
    ``(text, callback_data)``; ``callback_data`` is ``None`` for URL buttons.
    """

    chat_id: ChatId
    message_id: int
    method: str
    text: str | None
    raw_text: str | None = None
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    document: UploadedFile | None = None
    photo: UploadedFile | None = None
    from_bot: bool = True
    date: int = 0
    edit_date: int | None = None
    deleted: bool = False

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(b.get("text", ""), b.get("callback_data")) for b in row] for row in rows]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    @property
    def keyboard(self) -> list[list[str]]:
        """A reply keyboard (``ReplyKeyboardMarkup``) as rows of button texts."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]

    @property
    def edited(self) -> bool:
        return self.edit_date is not None

    @property
    def document_bytes(self) -> bytes | None:
        return self.document.content if self.document else None

    @property
    def photo_bytes(self) -> bytes | None:
        return self.photo.content if self.photo else None

    def contains(self, needle: str) -> bool:
        """Case-sensitive substring of the visible or the raw text."""
        return any(needle in t for t in (self.text, self.raw_text) if t is not None)

    def __str__(self) -> str:
        who = "bot" if self.from_bot else "user"
        flags = "".join([" (edited)" if self.edited else "", " (deleted)" if self.deleted else ""])
        head = f"[{self.message_id} {who} {self.method}{flags}]"
        parts = [head, self.text if self.text is not None else "<no text>"]
        if self.document:
            parts.append(f"<document {self.document.filename} {self.document.size} B>")
        if self.photo:
            parts.append(f"<photo {self.photo.filename} {self.photo.size} B>")
        if self.buttons:
            rows = [" | ".join(f"{t} ⟶ {d}" for t, d in row) for row in self.buttons]
            parts.append("buttons: " + " // ".join(rows))
        if self.keyboard:
            parts.append("keyboard: " + " // ".join(" | ".join(r) for r in self.keyboard))
        return " ".join(parts)


@dataclass(frozen=True)
class OutboxEvent:
    """A change on a chat's screen made by the bot: ``message`` (new), ``edit``, ``delete``."""

    seq: int
    kind: Literal["message", "edit", "delete"]
    method: str
    message: BotMessage
    at: float

    @property
    def chat_id(self) -> ChatId:
        return self.message.chat_id


@dataclass
class _Failure:
    method: str
    chat_id: str | None
    error: BotAPIError
    times: int | None

    def matches(self, method: str, params: JSON) -> bool:
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or str(params.get("chat_id")) == self.chat_id


@dataclass
class _Poller:
    superseded: bool = False


class _EntityError(Exception):
    pass


# --------------------------------------------------------------------------- markup parsing

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_HTML_ENTITY_VALUES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ATTR = re.compile(r"""\s*([a-zA-Z_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _parse_html(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "&":
            m = _HTML_ENTITY.match(text, i)
            if m:
                name = m.group(1)
                if name.startswith("#x"):
                    out.append(chr(int(name[2:], 16)))
                elif name.startswith("#"):
                    out.append(chr(int(name[1:])))
                else:
                    out.append(_HTML_ENTITY_VALUES[name])
                i = m.end()
            else:
                out.append(c)
                i += 1
        elif c == "<":
            offset = _byte_offset(text, i)
            if text.startswith("</", i):
                end = text.find(">", i)
                if end == -1:
                    raise _EntityError(f"Unclosed end tag at byte offset {offset}")
                name = text[i + 2 : end].strip().lower()
                if not stack:
                    raise _EntityError(f"Unexpected end tag at byte offset {offset}")
                if name != stack[-1]:
                    raise _EntityError(
                        f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", '
                        f'found "</{name}>"'
                    )
                stack.pop()
                i = end + 1
            else:
                j = i + 1
                while j < n and not text[j].isspace() and text[j] != ">":
                    j += 1
                name = text[i + 1 : j].lower()
                if name not in _HTML_TAGS:
                    raise _EntityError(f'Unsupported start tag "{name}" at byte offset {offset}')
                attrs: dict[str, str] = {}
                while True:
                    while j < n and text[j].isspace():
                        j += 1
                    if j >= n:
                        raise _EntityError(f"Unclosed start tag at byte offset {offset}")
                    if text[j] == ">":
                        break
                    m = _HTML_ATTR.match(text, j)
                    if not m:
                        raise _EntityError(
                            "Expected equal sign in declaration of an attribute of the tag "
                            f'"{name}" at byte offset {_byte_offset(text, j)}'
                        )
                    attrs[m.group(1).lower()] = next(g for g in m.groups()[1:] if g is not None)
                    j = m.end()
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _EntityError('Tag "span" must have class "tg-spoiler"')
                stack.append(name)
                i = j + 1
        else:
            out.append(c)
            i += 1
    if stack:
        raise _EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


_MDV2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "`": "Code",
    "```": "PreCode",
    "[": "TextUrl",
}
_MDV2_ALWAYS_RESERVED = frozenset("#+-={}.!()")


def _parse_markdown_v2(text: str) -> str:
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)

    def reserved(ch: str) -> _EntityError:
        return _EntityError(
            f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
        )

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        top = stack[-1][0] if stack else None
        if top in ("`", "```"):
            assert top is not None
            if text.startswith(top, i):
                stack.pop()
                i += len(top)
            else:
                out.append(c)
                i += 1
            continue
        if text.startswith("```", i):
            stack.append(("```", i))
            i += 3
            newline = text.find("\n", i)
            if newline != -1 and re.fullmatch(r"[^\s`]*", text[i:newline]):
                i = newline + 1  # skip the language line
            continue
        marker = None
        for candidate in ("||", "__", "*", "_", "~", "`"):
            if text.startswith(candidate, i):
                marker = candidate
                break
        if marker is not None:
            if top == marker:
                stack.pop()
            elif any(m == marker for m, _ in stack):
                opened = next(pos for m, pos in reversed(stack) if m == marker)
                raise _EntityError(
                    f"Can't find end of {_MDV2_NAMES[marker]} entity at byte offset "
                    f"{_byte_offset(text, opened)}"
                )
            else:
                stack.append((marker, i))
            i += len(marker)
            continue
        if c == "[":
            stack.append(("[", i))
            i += 1
            continue
        if c == "]":
            if top != "[":
                raise reserved(c)
            stack.pop()
            i += 1
            if i < n and text[i] == "(":
                j = i + 1
                while j < n and text[j] != ")":
                    j += 2 if text[j] == "\\" else 1
                if j >= n:
                    raise _EntityError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                i = j + 1
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # block quotation marker
            continue
        if c == "|" or c == ">" or c in _MDV2_ALWAYS_RESERVED:
            raise reserved(c)
        out.append(c)
        i += 1
    if stack:
        marker, pos = stack[-1]
        raise _EntityError(
            f"Can't find end of {_MDV2_NAMES[marker]} entity at byte offset "
            f"{_byte_offset(text, pos)}"
        )
    return "".join(out)


def _parse_markdown(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)

    def unclosed(pos: int) -> _EntityError:
        return _EntityError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, pos)}"
        )

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
        elif text.startswith("```", i):
            end = text.find("```", i + 3)
            if end == -1:
                raise unclosed(i)
            body = text[i + 3 : end]
            first, sep, rest = body.partition("\n")
            out.append(rest if sep and re.fullmatch(r"[^\s`]*", first) else body)
            i = end + 3
        elif c in "*_`":
            end = text.find(c, i + 1)
            if end == -1:
                raise unclosed(i)
            out.append(text[i + 1 : end])
            i = end + 1
        elif c == "[":
            end = text.find("]", i + 1)
            if end == -1:
                raise unclosed(i)
            out.append(text[i + 1 : end])
            i = end + 1
            if i < n and text[i] == "(":
                close = text.find(")", i)
                if close == -1:
                    raise unclosed(i)
                i = close + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text a user sees for ``text`` sent with ``parse_mode``.

    Raises :class:`BotAPIError` (400 "can't parse entities") on malformed markup.
    """
    mode = (parse_mode or "").lower()
    try:
        if mode == "html":
            return _parse_html(text)
        if mode == "markdownv2":
            return _parse_markdown_v2(text)
        if mode == "markdown":
            return _parse_markdown(text)
    except _EntityError as exc:
        raise _bad_request(f"can't parse entities: {exc}") from None
    if mode:
        raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
    return text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- stored messages


@dataclass
class _Stored:
    chat_id: ChatId
    message_id: int
    method: str
    from_bot: bool
    date: int
    text: str | None = None  # visible text (or caption)
    raw_text: str | None = None
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    document: UploadedFile | None = None
    photo: UploadedFile | None = None
    edit_date: int | None = None
    deleted: bool = False
    raw: JSON | None = None  # the Telegram dict of a user's message

    def snapshot(self) -> BotMessage:
        return BotMessage(
            chat_id=self.chat_id,
            message_id=self.message_id,
            method=self.method,
            text=self.text,
            raw_text=self.raw_text,
            parse_mode=self.parse_mode,
            reply_markup=copy.deepcopy(self.reply_markup),
            document=self.document,
            photo=self.photo,
            from_bot=self.from_bot,
            date=self.date,
            edit_date=self.edit_date,
            deleted=self.deleted,
        )


def _file_dict(f: UploadedFile) -> JSON:
    return {
        "file_id": f.file_id,
        "file_unique_id": f.file_unique_id,
        "file_size": f.size,
    }


# --------------------------------------------------------------------------- the server


class FakeBotAPI:
    """A fake Bot API HTTP server on 127.0.0.1 (free port).

    Args:
        token: the bot token the server accepts; the bot's user id is its number part.
        username: the bot's username (``getMe``).
        global_rate / per_chat_rate: messages per second (sliding one-second window) over
            the sending/editing methods; beyond them the answer is 429 with ``retry_after``
            and ``stats["429"]`` is incremented.
        strict_chats: answer ``400 Bad Request: chat not found`` for sends to chats that
            never appeared in a pushed update.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        username: str = "chibo_test_bot",
        first_name: str = "Chibo",
        global_rate: float | None = None,
        per_chat_rate: float | None = None,
        strict_chats: bool = False,
    ) -> None:
        self.token = token
        number = token.split(":", 1)[0]
        self.bot_id = int(number) if number.isdigit() else 123456
        self.username = username
        self.first_name = first_name
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.strict_chats = strict_chats

        self.calls: list[Call] = []
        self.outbox: list[OutboxEvent] = []
        self.updates: list[JSON] = []  # every pushed update, with its update_id
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.stats: Counter[str] = Counter()
        self.files: dict[str, UploadedFile] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_queries: dict[str, JSON] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.chat_actions: list[tuple[ChatId, str]] = []
        self.known_chats: dict[ChatId, JSON] = {}
        self.blocked: set[str] = set()

        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self.allowed_updates: list[str] | None = None

        self._chats: dict[ChatId, dict[int, _Stored]] = {}
        self._next_message_id: dict[ChatId, int] = {}
        self._queue: list[JSON] = []
        self._next_update_id = 1
        self._next_file = 1
        self._poller: _Poller | None = None
        self._failures: list[_Failure] = []
        self._handlers: dict[str, Handler] = {}
        self._sent_global: deque[float] = deque()
        self._sent_per_chat: dict[str, deque[float]] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._builtin: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            name.lower(): getattr(self, f"_m_{name}")
            for name in (
                "getMe",
                "getUpdates",
                "sendMessage",
                "sendPhoto",
                "sendDocument",
                "editMessageText",
                "editMessageCaption",
                "editMessageReplyMarkup",
                "deleteMessage",
                "answerCallbackQuery",
                "sendChatAction",
                "setMyCommands",
                "getMyCommands",
                "deleteMyCommands",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
                "getFile",
                "close",
                "logOut",
                "setMyDescription",
                "setMyShortDescription",
                "setMyName",
                "setChatMenuButton",
            )
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> FakeBotAPI:
        """Start listening on 127.0.0.1 (free port)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
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
        """Stop the server; pending long polls return at once."""
        self._closing = True
        self._notify()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` — python-telegram-bot's ``base_url``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """``http://127.0.0.1:PORT/file/bot`` — python-telegram-bot's ``base_file_url``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # ----------------------------------------------------------------- waiting

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_until(self, check: Callable[[], Any], timeout: float) -> Any:
        """Wait until ``check()`` returns something truthy (re-checked on every change)."""
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
    ) -> Call:
        """The first call of ``method`` (case-insensitive) at index >= ``since`` in
        :attr:`calls` matching ``predicate``; waits up to ``timeout`` seconds for it."""
        wanted = method.lower()

        def check() -> Call | None:
            for call in self.calls[since:]:
                if call.method.lower() == wanted and (predicate is None or predicate(call)):
                    return call
            return None

        found = await self.wait_until(check, timeout)
        if found is None:
            seen = ", ".join(c.method for c in self.calls[since:][-20:]) or "none"
            raise AssertionError(f"no {method} call within {timeout}s (last calls: {seen})")
        return cast(Call, found)

    def calls_to(self, method: str) -> list[Call]:
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    # ----------------------------------------------------------------- chats

    def next_message_id(self, chat_id: ChatId) -> int:
        """Allocate the next message id in a chat (shared by the user and the bot)."""
        key = self._chat_key(chat_id)
        value = self._next_message_id.get(key, 1)
        self._next_message_id[key] = value + 1
        return value

    def messages(self, chat_id: ChatId, *, include_user: bool = False) -> list[BotMessage]:
        """The chat's screen: current state of every (not deleted) message, oldest first."""
        stored = self._chats.get(self._chat_key(chat_id), {})
        return [
            m.snapshot()
            for _, m in sorted(stored.items())
            if not m.deleted and (include_user or m.from_bot)
        ]

    def message(self, chat_id: ChatId, message_id: int) -> BotMessage | None:
        stored = self._chats.get(self._chat_key(chat_id), {}).get(message_id)
        return stored.snapshot() if stored else None

    def message_dict(self, chat_id: ChatId, message_id: int) -> JSON | None:
        """The Telegram ``Message`` JSON of a stored message (as in a callback query)."""
        stored = self._chats.get(self._chat_key(chat_id), {}).get(message_id)
        return self._message_dict(stored) if stored else None

    def transcript(self, chat_id: ChatId) -> str:
        """The chat, user and bot messages, one per line (for failure messages)."""
        lines = [str(m) for m in self.messages(chat_id, include_user=True)]
        return "\n".join(lines) or "<empty chat>"

    def get_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self.commands.get(self._commands_key(scope, language_code), []))

    def add_file(
        self, content: bytes, filename: str, content_type: str = "application/octet-stream"
    ) -> UploadedFile:
        """Store a file (as if a user had sent it) and give it a file_id."""
        return self._store_file(UploadedFile(filename, content, content_type))

    def block(self, chat_id: ChatId) -> None:
        """The user blocked the bot: sends to the chat answer 403 until :meth:`unblock`."""
        self.blocked.add(str(chat_id))

    def unblock(self, chat_id: ChatId) -> None:
        self.blocked.discard(str(chat_id))

    # ----------------------------------------------------------------- updates

    def learn_chat(self, chat: Mapping[str, Any]) -> None:
        """Remember a chat (its title/first_name etc. are used in returned Messages)."""
        if "id" in chat:
            self.known_chats[self._chat_key(chat["id"])] = dict(chat)

    def record_user_message(self, message: JSON) -> JSON:
        """Put a user's message on the chat's screen; assigns message_id/date if missing."""
        chat_id = message["chat"]["id"]
        self.learn_chat(message["chat"])
        message.setdefault("message_id", self.next_message_id(chat_id))
        message.setdefault("date", int(time.time()))
        text = message.get("text", message.get("caption"))
        stored = _Stored(
            chat_id=self._chat_key(chat_id),
            message_id=message["message_id"],
            method="user",
            from_bot=False,
            date=message["date"],
            text=text,
            raw_text=text,
            raw=message,
        )
        self._chats.setdefault(stored.chat_id, {})[stored.message_id] = stored
        return message

    async def push_update(self, update: JSON) -> int | None:
        """Deliver an update, as Telegram would.

        Assigns ``update_id`` (the dict is copied; see :attr:`updates`). Without a webhook
        it is queued for getUpdates and ``None`` is returned; with a webhook set it is
        POSTed there and the HTTP status is returned (connection errors propagate).
        """
        update = copy.deepcopy(update)
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._learn_from_update(update)
        self.updates.append(update)
        if self.webhook_url:
            return await self.post_to_webhook(update)
        self._queue.append(update)
        self._notify()
        return None

    async def post_to_webhook(
        self,
        update: JSON,
        secret_token: str | Literal["<configured>"] | None = "<configured>",
        *,
        url: str | None = None,
        timeout: float = 10,
    ) -> int:
        """POST ``update`` to the webhook (or ``url``) and return the HTTP status.

        ``secret_token`` defaults to the one given in setWebhook; pass another string to
        send a wrong one, or ``None`` to send no header at all.
        """
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook is set (setWebhook was not called)")
        secret = self.webhook_secret if secret_token == "<configured>" else secret_token
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        if "update_id" not in update:
            update = {**update, "update_id": self._next_update_id}
            self._next_update_id += 1
        self._learn_from_update(update)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            target,
            json=update,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            await response.read()
            status = response.status
        self.webhook_deliveries.append(
            WebhookDelivery(target, update, secret, status, time.monotonic())
        )
        self._notify()
        return status

    def _learn_from_update(self, update: JSON) -> None:
        for value in update.values():
            if isinstance(value, dict):
                if isinstance(value.get("chat"), dict):
                    self.learn_chat(value["chat"])
                message = value.get("message")
                if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                    self.learn_chat(message["chat"])
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self.callback_queries[str(query["id"])] = query

    # ----------------------------------------------------------------- failures

    def fail(
        self,
        method: str,
        chat_id: ChatId | None = None,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any; optionally only for
        ``chat_id``) answer with a Telegram error instead. ``times=None``: until
        :meth:`clear_failures`. 429 defaults to ``retry_after=1``."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        error = BotAPIError(status, description, retry_after)
        key = str(chat_id) if chat_id is not None else None
        self._failures.append(_Failure(method.lower(), key, error, times))

    def clear_failures(self) -> None:
        self._failures.clear()

    def on(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(params)`` (sync or async; its return value is the
        ``result``; raise :class:`BotAPIError` for an error answer). Overrides built-ins."""
        self._handlers[method.lower()] = handler

    def _injected_failure(self, method: str, params: JSON) -> BotAPIError | None:
        for failure in self._failures:
            if failure.matches(method, params):
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure.error
        return None

    def _rate_limited(self, params: JSON) -> BotAPIError | None:
        now = time.monotonic()
        windows: list[tuple[deque[float], float]] = []
        if self.global_rate:
            windows.append((self._sent_global, self.global_rate))
        if self.per_chat_rate and "chat_id" in params:
            key = str(params["chat_id"])
            windows.append((self._sent_per_chat.setdefault(key, deque()), self.per_chat_rate))
        wait = 0.0
        for window, rate in windows:
            while window and window[0] <= now - 1.0:
                window.popleft()
            capacity = max(1, math.floor(rate))
            if len(window) >= capacity:
                wait = max(wait, window[len(window) - capacity] + 1.0 - now)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            return BotAPIError(429, f"Too Many Requests: retry after {retry}", retry)
        for window, _ in windows:
            window.append(now)
        return None

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except ValueError as exc:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"},
                status=400,
            )
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        self.stats["calls"] += 1
        self._notify()
        status: int = 499  # client went away during a long poll
        body: JSON = {}
        try:
            status, body = await self._answer(method, params)
        finally:
            call.status = status
            if body.get("ok"):
                call.result = body.get("result")
            else:
                call.error = body.get("description")
            self.stats[str(status)] += 1
            self._notify()
        return web.json_response(body, status=status)

    async def _answer(self, method: str, params: JSON) -> tuple[int, JSON]:
        key = method.lower()
        try:
            error = self._injected_failure(method, params)
            if error is None and any(
                isinstance(v, UploadedFile) and v.size > MAX_UPLOAD_BYTES for v in params.values()
            ):
                error = BotAPIError(413, "Request Entity Too Large")  # Telegram's front end
            if error is None and key in _SEND_METHODS:
                error = self._blocked_or_unknown(params) or self._rate_limited(params)
            if error is not None:
                raise error
            handler = self._handlers.get(key)
            if handler is not None:
                result = handler(params)
                if asyncio.iscoroutine(result):
                    result = await result
            elif key in self._builtin:
                result = await self._builtin[key](params)
            else:
                raise BotAPIError(404, "Not Found: method not found")
        except BotAPIError as exc:
            return exc.status, exc.body()
        return 200, {"ok": True, "result": result}

    def _blocked_or_unknown(self, params: JSON) -> BotAPIError | None:
        if "chat_id" not in params:
            return None
        if str(params["chat_id"]) in self.blocked:
            return BotAPIError(403, DEFAULT_DESCRIPTIONS[403])
        if self.strict_chats and self._chat_key(params["chat_id"]) not in self.known_chats:
            return _bad_request("chat not found")
        return None

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {k: self._decode(k, v) for k, v in request.query.items()}
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            params.update(body)
        else:
            form = await request.post()
            files: dict[str, UploadedFile] = {}
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = UploadedFile(
                        value.filename or name,
                        value.file.read(),
                        value.content_type or "application/octet-stream",
                    )
                else:
                    params[name] = self._decode(name, str(value))
            for name, upload in files.items():
                stored = self._store_file(upload)
                referring = [k for k, v in params.items() if v == f"attach://{name}"]
                for k in referring:
                    params[k] = stored
                if not referring:
                    params[name] = stored
        return params

    @staticmethod
    def _decode(name: str, value: str) -> Any:
        if name in _STRING_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for f in self.files.values():
            if f.file_path == path:
                return web.Response(body=f.content, content_type=f.content_type)
        return web.Response(status=404)

    # ----------------------------------------------------------------- helpers

    @staticmethod
    def _chat_key(chat_id: Any) -> ChatId:
        if isinstance(chat_id, int):
            return chat_id
        text = str(chat_id)
        return int(text) if re.fullmatch(r"-?\d+", text) else text

    def _chat_dict(self, chat_id: ChatId) -> JSON:
        known = self.known_chats.get(chat_id)
        if known:
            return dict(known)
        if isinstance(chat_id, int) and chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        if isinstance(chat_id, int):
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
        return {"id": -1000000000001, "type": "channel", "title": chat_id, "username": chat_id}

    def _store_file(self, upload: UploadedFile) -> UploadedFile:
        n = self._next_file
        self._next_file += 1
        upload.file_id = upload.file_id or f"BQACAgIAAxkBAAIB{n:06d}"
        upload.file_unique_id = upload.file_unique_id or f"AgAD{n:06d}"
        suffix = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
        upload.file_path = upload.file_path or f"documents/file_{n}.{suffix}"
        self.files[upload.file_id] = upload
        return upload

    def _resolve_file(self, value: Any, field_name: str) -> UploadedFile:
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value:
            # a URL or an unknown file_id: keep a placeholder
            return self._store_file(UploadedFile(value.rsplit("/", 1)[-1] or field_name, b""))
        raise _bad_request(f"there is no {field_name} in the request")

    def _stored(self, params: JSON) -> _Stored:
        if "chat_id" not in params or "message_id" not in params:
            raise _bad_request("message identifier is not specified")
        chat = self._chat_key(params["chat_id"])
        stored = self._chats.get(chat, {}).get(int(params["message_id"]))
        if stored is None or stored.deleted:
            raise _bad_request("message to edit not found")
        if not stored.from_bot:
            raise _bad_request("message can't be edited")
        return stored

    def _message_dict(self, m: _Stored) -> JSON:
        if m.raw is not None:
            return copy.deepcopy(m.raw)
        d: JSON = {
            "message_id": m.message_id,
            "from": self.bot_user,
            "chat": self._chat_dict(m.chat_id),
            "date": m.date,
        }
        if m.edit_date is not None:
            d["edit_date"] = m.edit_date
        media = m.document is not None or m.photo is not None
        if m.text is not None:
            d["caption" if media else "text"] = m.text
        if m.document is not None:
            d["document"] = {
                **_file_dict(m.document),
                "file_name": m.document.filename,
                "mime_type": m.document.content_type,
            }
        if m.photo is not None:
            small = {**_file_dict(m.photo), "width": 90, "height": 90}
            small["file_unique_id"] += "s"
            d["photo"] = [small, {**_file_dict(m.photo), "width": 800, "height": 600}]
        if m.reply_markup and "inline_keyboard" in m.reply_markup:
            d["reply_markup"] = copy.deepcopy(m.reply_markup)
        return d

    def _emit(self, kind: Literal["message", "edit", "delete"], method: str, m: _Stored) -> None:
        self.outbox.append(
            OutboxEvent(len(self.outbox), kind, method, m.snapshot(), time.monotonic())
        )
        self._notify()

    @staticmethod
    def _check_markup(markup: Any) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard", [])
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise _bad_request("reply markup is too long")
        for row in rows:
            if len(row) > MAX_INLINE_BUTTONS_PER_ROW:
                raise _bad_request(
                    f"too many buttons in a row ({len(row)}; Telegram's apps show at most "
                    f"{MAX_INLINE_BUTTONS_PER_ROW}) [refused by the fake Bot API only]"
                )
            for button in row:
                if not button.get("text"):
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not (
                    0 < len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
        return markup

    def _text(self, params: JSON, key: str, limit: int, required: bool) -> tuple[str | None, str]:
        raw = params.get(key)
        if raw is None:
            if required:
                raise _bad_request("message text is empty")
            return None, ""
        raw = str(raw)
        entities = params.get("caption_entities" if key == "caption" else "entities")
        plain = raw if entities else visible_text(raw, params.get("parse_mode"))
        plain = plain.strip()  # Telegram trims messages
        if required and not plain.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(plain) > limit:
            raise _bad_request(
                "message is too long" if key == "text" else "message caption is too long"
            )
        return plain, raw

    def _new_message(self, method: str, params: JSON, **fields: Any) -> JSON:
        if "chat_id" not in params:
            raise _bad_request("chat_id is empty")
        chat = self._chat_key(params["chat_id"])
        m = _Stored(
            chat_id=chat,
            message_id=self.next_message_id(chat),
            method=method,
            from_bot=True,
            date=int(time.time()),
            parse_mode=params.get("parse_mode"),
            reply_markup=self._check_markup(params.get("reply_markup")),
            **fields,
        )
        self._chats.setdefault(chat, {})[m.message_id] = m
        self._emit("message", method, m)
        return self._message_dict(m)

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        if isinstance(scope, dict) and scope.get("type", "default") != "default":
            scope_key = json.dumps(scope, sort_keys=True)
        else:
            scope_key = "default"
        return scope_key, str(language_code or "")

    # ----------------------------------------------------------------- methods

    async def _m_getMe(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise BotAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if params.get("allowed_updates") is not None:
            self.allowed_updates = list(params["allowed_updates"]) or None
        if offset is not None:
            offset = int(offset)
            if offset < 0:
                self._queue = self._queue[offset:]
            else:
                self._queue = [u for u in self._queue if u["update_id"] >= offset]

        if self._poller is not None:
            self._poller.superseded = True
        poller = self._poller = _Poller()
        self._notify()

        def ready() -> list[JSON]:
            allowed = self.allowed_updates
            found = [u for u in self._queue if not allowed or any(k in u for k in allowed)]
            return found[:limit]

        try:
            deadline = time.monotonic() + timeout
            while True:
                if poller.superseded:
                    raise BotAPIError(409, DEFAULT_DESCRIPTIONS[409])
                found = ready()
                remaining = deadline - time.monotonic()
                if found or remaining <= 0 or self._closing:
                    return copy.deepcopy(found)
                event = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            if self._poller is poller:
                self._poller = None

    async def _m_sendMessage(self, params: JSON) -> JSON:
        plain, raw = self._text(params, "text", MAX_TEXT_LENGTH, required=True)
        return self._new_message("sendMessage", params, text=plain, raw_text=raw)

    async def _m_sendPhoto(self, params: JSON) -> JSON:
        photo = self._resolve_file(params.get("photo"), "photo")
        if photo.size > MAX_PHOTO_BYTES:
            raise _bad_request("PHOTO_SAVE_FILE_INVALID")
        plain, raw = self._text(params, "caption", MAX_CAPTION_LENGTH, required=False)
        return self._new_message("sendPhoto", params, text=plain, raw_text=raw or None, photo=photo)

    async def _m_sendDocument(self, params: JSON) -> JSON:
        document = self._resolve_file(params.get("document"), "document")
        plain, raw = self._text(params, "caption", MAX_CAPTION_LENGTH, required=False)
        return self._new_message(
            "sendDocument", params, text=plain, raw_text=raw or None, document=document
        )

    def _finish_edit(self, method: str, m: _Stored, changes: JSON) -> JSON:
        current = {k: getattr(m, k) for k in changes}
        if current == changes:
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        for k, v in changes.items():
            setattr(m, k, v)
        m.edit_date = int(time.time())
        self._emit("edit", method, m)
        return self._message_dict(m)

    async def _m_editMessageText(self, params: JSON) -> JSON | bool:
        if "inline_message_id" in params:
            return True
        m = self._stored(params)
        if m.document is not None or m.photo is not None:
            raise _bad_request("there is no text in the message to edit")
        plain, raw = self._text(params, "text", MAX_TEXT_LENGTH, required=True)
        changes = {
            "text": plain,
            "raw_text": raw,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": self._check_markup(params.get("reply_markup")),
        }
        return self._finish_edit("editMessageText", m, changes)

    async def _m_editMessageCaption(self, params: JSON) -> JSON | bool:
        if "inline_message_id" in params:
            return True
        m = self._stored(params)
        if m.document is None and m.photo is None:
            raise _bad_request("there is no caption in the message to edit")
        plain, raw = self._text(params, "caption", MAX_CAPTION_LENGTH, required=False)
        changes = {
            "text": plain,
            "raw_text": raw or None,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": self._check_markup(params.get("reply_markup")),
        }
        return self._finish_edit("editMessageCaption", m, changes)

    async def _m_editMessageReplyMarkup(self, params: JSON) -> JSON | bool:
        if "inline_message_id" in params:
            return True
        m = self._stored(params)
        changes = {"reply_markup": self._check_markup(params.get("reply_markup"))}
        return self._finish_edit("editMessageReplyMarkup", m, changes)

    async def _m_deleteMessage(self, params: JSON) -> bool:
        chat = self._chat_key(params.get("chat_id"))
        m = self._chats.get(chat, {}).get(int(params.get("message_id") or 0))
        if m is None or m.deleted:
            raise _bad_request("message to delete not found")
        m.deleted = True
        self._emit("delete", "deleteMessage", m)
        return True

    async def _m_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self.callback_queries:
            raise _bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = params.get("text")
        if text is not None and _utf16_len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = dict(params)
        self._notify()
        return True

    async def _m_sendChatAction(self, params: JSON) -> bool:
        self.chat_actions.append((self._chat_key(params.get("chat_id")), str(params.get("action"))))
        return True

    async def _m_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        if len(commands) > MAX_COMMANDS:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        for c in commands:
            name = c.get("command", "") if isinstance(c, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(c.get("description", "")) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _m_getMyCommands(self, params: JSON) -> list[JSON]:
        return self.get_commands(params.get("scope"), params.get("language_code") or "")

    async def _m_deleteMyCommands(self, params: JSON) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands.pop(key, None)
        return True

    async def _m_setWebhook(self, params: JSON) -> bool:
        url = params.get("url") or ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if not url:
            self.webhook_url = self.webhook_secret = self.webhook_allowed_updates = None
            return True
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        self.webhook_url = str(url)
        self.webhook_secret = str(secret) if secret else None
        self.webhook_allowed_updates = params.get("allowed_updates")
        if self._poller is not None:
            self._poller.superseded = True
            self._notify()
        return True

    async def _m_deleteWebhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook_url = self.webhook_secret = self.webhook_allowed_updates = None
        return True

    async def _m_getWebhookInfo(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": 0 if self.webhook_url else len(self._queue),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self.webhook_allowed_updates:
                info["allowed_updates"] = self.webhook_allowed_updates
        return info

    async def _m_getFile(self, params: JSON) -> JSON:
        f = self.files.get(str(params.get("file_id")))
        if f is None:
            raise _bad_request("invalid file_id")
        return {**_file_dict(f), "file_path": f.file_path}

    async def _m_close(self, params: JSON) -> bool:
        return True

    async def _m_logOut(self, params: JSON) -> bool:
        return True

    async def _m_setMyDescription(self, params: JSON) -> bool:
        return True

    async def _m_setMyShortDescription(self, params: JSON) -> bool:
        return True

    async def _m_setMyName(self, params: JSON) -> bool:
        return True

    async def _m_setChatMenuButton(self, params: JSON) -> bool:
        return True
