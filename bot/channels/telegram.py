"""Telegram channel: a python-telegram-bot Application around the neutral handlers.

Two PTB handlers are enough: every private message and every button press is
turned into a `ChatEvent` and answered by `handlers.handle`, which holds the
command table (so the console and Zalo channels share it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

import handlers
from bot.channels.lanes import ChatLanes
from bot.core import metrics
from bot.core.chat import MAX_DOCUMENT_BYTES, Attachment, ChatEvent, Outcome, Reply, split_reply
from bot.core.config import SUPPORTED_LOCALES, Settings, TelegramMode
from bot.core.i18n import Translator
from bot.services.notify import Delivery, SendResult, send_in_parts
from bot.services.runtime import Runtime
from handlers.context import Audience

log = logging.getLogger(__name__)
CHANNEL = "telegram"
TEXT_LIMIT = 4096  # characters of a message's text (UTF-16 units)
CAPTION_LIMIT = 1024  # characters of a photo's or document's caption
POOL_TIMEOUT = 30.0  # seconds a request may wait for a free connection


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; one chat's updates stay in order.

    PTB processes one update at a time by default, so every member would wait
    for everyone else's database work and Bot API round trips.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._lanes = ChatLanes()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        await self._lanes.run(chat.id, coroutine)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def build_application(  # type: ignore[type-arg]
    runtime: Runtime, token: str | None = None, bot_id: int | None = None
) -> Application:
    """The default bot (TELEGRAM_BOT_TOKEN), or the extra bot `bot_id` with its `token`."""
    settings = runtime.settings
    app = (
        ApplicationBuilder()
        .token(token or settings.telegram_bot_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(_file_url(settings.telegram_api_url))
        .rate_limiter(rate_limiter(settings))
        .concurrent_updates(PerChatUpdateProcessor(settings.update_concurrency))
        # a few connections suffice (the limiter lets 30 requests a second out), and each
        # request costs CPU per pooled connection; a request waits for a free one
        .connection_pool_size(settings.telegram_connections)
        .pool_timeout(POOL_TIMEOUT)
        .build()
    )
    app.bot_data["runtime"] = runtime
    app.bot_data["bot_id"] = bot_id
    private = filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED
    app.add_handler(MessageHandler(private, on_message))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)
    return app


@contextlib.asynccontextmanager
async def receiving(  # type: ignore[type-arg]
    app: Application, settings: Settings, webhook_url: str | None = None
) -> AsyncIterator[None]:
    """Take updates while the block runs: long polling, or the webhook (TELEGRAM_MODE) at
    `webhook_url` (default WEBHOOK_URL), whose route (`update_taker`) the process's HTTP
    server must already be serving."""
    async with app:
        await announce(app)
        if settings.telegram_mode is TelegramMode.WEBHOOK:
            await app.bot.set_webhook(
                webhook_url or settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await app.start()
        try:
            yield
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()


ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def update_taker(bot: Bot, queue: asyncio.Queue[object]) -> Callable[[Any], Awaitable[bool]]:
    """What the webhook route does with a POSTed JSON body: an update joins the queue."""

    async def accept(data: Any) -> bool:
        try:
            update = Update.de_json(data, bot) if isinstance(data, dict) else None
        except Exception:  # JSON, but not an update
            return False
        if update is None:
            return False
        await queue.put(update)
        return True

    return accept


def rate_limiter(settings: Settings) -> AIORateLimiter:
    """Telegram's flood limits; RetryAfter (429) waits and retries up to three times.

    The bucket is small (a fiftieth of a second's worth) and the rate 95 % of the
    limit: a bucket holding a whole second lets twice the limit through right after a
    pause, which Telegram answers with 429 and a stop of every send.
    """
    rate = 0.95 * settings.telegram_rate_limit
    burst = max(1.0, 0.02 * rate)
    return AIORateLimiter(overall_max_rate=burst, overall_time_period=burst / rate, max_retries=3)


def _file_url(api_url: str) -> str:
    base = api_url.rstrip("/")
    return base[: -len("bot")] + "file/bot" if base.endswith("bot") else base + "/file/bot"


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    runtime: Runtime = context.bot_data["runtime"]
    return runtime


async def announce(app: Application) -> None:  # type: ignore[type-arg]
    """Learn the bot's name; show the command menu in each language."""
    runtime: Runtime = app.bot_data["runtime"]
    if app.bot_data.get("bot_id") is None:
        runtime.bot_username = app.bot.username
    for locale in SUPPORTED_LOCALES:
        t = Translator(locale)
        commands = [
            BotCommand(c.name, t(c.description))
            for c in handlers.COMMANDS
            if c.audience is not Audience.SECRETARY
        ]
        code = None if locale == runtime.settings.default_locale else locale
        await app.bot.set_my_commands(commands, language_code=code)
    log.info("chibo is serving as @%s", app.bot.username)


def _event(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    *,
    text: str | None = None,
    data: str | None = None,
) -> ChatEvent:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return ChatEvent(
        bot=context.bot_data.get("bot_id"),
        channel=CHANNEL,
        user_id=str(user.id),
        chat_id=str(chat.id),
        display_name=user.full_name,
        language_code=user.language_code,
        text=text,
        callback_data=data,
    )


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any private message: text, a command, a file, or something we cannot read."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    event = _event(update, context, text=message.text)
    document = message.document
    if document is not None:
        size = document.file_size or 0
        content = b""  # too large: not downloaded, the handler says so
        if size <= MAX_DOCUMENT_BYTES:
            content = bytes(await (await document.get_file()).download_as_bytearray())
        name = document.file_name or "file"
        attachment = Attachment(
            "document",
            name,
            content,
            size=size or len(content),
            file_id=document.file_id,
            mime_type=document.mime_type,
        )
        event = dataclasses.replace(event, document=attachment, caption=message.caption)
    elif message.photo:  # kept by Telegram's id (evidence for a task), never downloaded
        largest = message.photo[-1]
        photo = Attachment(
            "photo", "photo.jpg", b"", size=largest.file_size, file_id=largest.file_id
        )
        event = dataclasses.replace(event, document=photo, caption=message.caption)
    outcome = await handlers.handle(_runtime(context), event)
    async with _shown():
        await _render(update, context, outcome)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: its data is validated by the handler it routes to."""
    query = update.callback_query
    if query is None or update.effective_user is None or update.effective_chat is None:
        return
    outcome = await handlers.handle(
        _runtime(context), _event(update, context, data=query.data or "")
    )
    async with _shown():
        await query.answer(popup(outcome.notice))
        await _render(update, context, outcome)


MAX_POPUP_LENGTH = 200  # Telegram refuses longer callback query answers


def popup(text: str | None) -> str | None:
    """`text` cut to what a callback query answer may hold, at a word, with "…"."""
    if text is None or _utf16_len(text) <= MAX_POPUP_LENGTH:
        return text
    room, end = MAX_POPUP_LENGTH - 1, 0  # one unit for the ellipsis
    while _utf16_len(text[: end + 1]) <= room:
        end += 1
    cut = text[:end]
    head = cut.rpartition(" ")[0]
    if not text[end].isspace() and len(head) > end // 2:  # end at a word, not inside one
        cut = head
    return cut.rstrip() + "…"


def _utf16_len(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


class ReplyFailed(Exception):
    """The turn's work was committed; only showing its outcome failed."""


@contextlib.asynccontextmanager
async def _shown() -> AsyncIterator[None]:
    """Mark failures of showing a committed turn, so the person hears the truth."""
    try:
        yield
    except Exception as exc:
        raise ReplyFailed(str(exc)) from exc


async def _render(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
    chat = update.effective_chat
    assert chat is not None
    pressed = update.callback_query.message if update.callback_query else None
    for reply in outcome.replies:
        for part in fitting(reply):
            if part.edit and isinstance(pressed, Message):
                await _edit(pressed, part)
            else:
                await send(context.bot, chat.id, part)


def fitting(reply: Reply) -> list[Reply]:
    """The reply as messages within Telegram's limits (a long text becomes several)."""
    return split_reply(reply, TEXT_LIMIT, CAPTION_LIMIT)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


async def send(bot: Bot, chat_id: int | str, reply: Reply) -> Message:
    """Send one reply as a message, photo or document."""
    attachment = reply.attachment
    if attachment is None:
        return await bot.send_message(chat_id, reply.text, reply_markup=keyboard(reply))
    file: InputFile | str = InputFile(attachment.content, filename=attachment.filename)
    if attachment.file_id is not None:
        file = attachment.file_id  # a file Telegram holds: sent again by its id
    if attachment.kind == "photo":
        return await bot.send_photo(
            chat_id, file, caption=reply.text or None, reply_markup=keyboard(reply)
        )
    return await bot.send_document(
        chat_id, file, caption=reply.text or None, reply_markup=keyboard(reply)
    )


async def _edit(message: Message, reply: Reply) -> None:
    try:
        await message.edit_text(reply.text, reply_markup=keyboard(reply))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure; tell the person whether their change was saved."""
    log.error("update failed", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_user is None:
        return
    saved = isinstance(context.error, ReplyFailed)
    outcome = handlers.error_outcome(_runtime(context), _event(update, context), saved=saved)
    if update.callback_query is not None:
        with contextlib.suppress(Exception):  # already answered, or the answer is what failed
            await update.callback_query.answer()
    try:
        await send(context.bot, update.effective_chat.id, outcome.replies[0])
    except Exception:  # the network may be what failed; the log has the cause
        log.warning("could not tell the user about the failure", exc_info=True)


def worker_bot(settings: Settings, token: str | None = None) -> ExtBot:  # type: ignore[type-arg]
    """A bot that only sends (`chibo worker`), within the same limits as `chibo run`."""
    return ExtBot(
        token or settings.telegram_bot_token,
        base_url=settings.telegram_api_url,
        base_file_url=_file_url(settings.telegram_api_url),
        rate_limiter=rate_limiter(settings),
        # as for `chibo run`: SEND_CONCURRENCY requests share TELEGRAM_CONNECTIONS connections
        request=HTTPXRequest(
            connection_pool_size=settings.telegram_connections, pool_timeout=POOL_TIMEOUT
        ),
    )


async def fetch_username(settings: Settings) -> str | None:
    """The bot's @username via getMe, for invite links printed by the CLI."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    if not settings.telegram_bot_token:
        return None
    try:
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_api_url) as bot:
            return bot.username
    except Exception:
        log.warning("could not ask Telegram for the bot's username", exc_info=True)
        return None


class TelegramSender:
    """Delivers outbox notifications; maps Telegram's errors to retry or unreachable."""

    channel = CHANNEL

    def __init__(self, bot: Bot, bot_id: int | None = None) -> None:
        self.bot, self.bot_id = bot, bot_id

    async def send(self, chat_id: str, reply: Reply, locale: str | None = None) -> SendResult:
        """A notice too long for one message goes out as several, in order."""
        return await send_in_parts(fitting(reply), lambda part: self._send_one(chat_id, part))

    async def _send_one(self, chat_id: str, reply: Reply) -> SendResult:
        try:
            await send(self.bot, int(chat_id), reply)
        except RetryAfter as exc:
            metrics.RATE_LIMITED.labels(CHANNEL).inc()
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return SendResult(Delivery.RETRY, retry_after=seconds, error=str(exc))
        except Forbidden as exc:
            return SendResult(Delivery.UNREACHABLE, error=str(exc))
        except BadRequest as exc:
            if "chat not found" in str(exc).lower() or "user is deactivated" in str(exc).lower():
                return SendResult(Delivery.UNREACHABLE, error=str(exc))
            return SendResult(Delivery.FAILED, error=str(exc))
        except TimedOut as exc:
            if never_sent(exc):
                return SendResult(Delivery.RETRY, error=str(exc))
            # the request went out and no answer came: it may have been delivered
            return SendResult(Delivery.UNKNOWN, error=str(exc) or "timed out")
        except NetworkError as exc:  # 5xx answers, connection errors
            return SendResult(Delivery.RETRY, error=str(exc))
        return SendResult(Delivery.SENT)


def never_sent(exc: Exception) -> bool:
    """True when the request cannot have reached Telegram, so sending again is safe."""
    return isinstance(exc.__cause__, httpx.PoolTimeout | httpx.ConnectTimeout | httpx.ConnectError)
