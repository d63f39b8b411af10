"""Telegram channel: a python-telegram-bot Application around the neutral handlers.

Two PTB handlers are enough: every private message and every button press is
turned into a `ChatEvent` and answered by `handlers.handle`, which holds the
command table (so the console and Zalo channels share it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
import signal
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

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
from bot.app.web import FileRoute, WebhookRoute, build_app, serving
from bot.core.chat import MAX_DOCUMENT_BYTES, Attachment, ChatEvent, Outcome, Reply, split_reply
from bot.core.config import SUPPORTED_LOCALES, Settings, TelegramMode
from bot.core.i18n import Translator
from bot.services.evaluation import close_months
from bot.services.notify import Delivery, Dispatcher, SendResult
from bot.services.planner import plan_all
from bot.services.runtime import Runtime
from handlers import notices
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

    The first update of an idle chat runs at once and then drains the chat's queue;
    later updates of that chat join the queue and return, so a chat that sends many
    messages holds one of the `max_concurrent_updates` slots, not all of them. The
    queue lives as long as its drainer, so no update can start beside a queued one.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._queues: dict[int, deque[Awaitable[Any]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        queue = self._queues.get(chat.id)
        if queue is not None:  # the chat is busy: its drainer runs this one in turn
            queue.append(coroutine)
            return
        queue = self._queues[chat.id] = deque()
        try:
            while True:
                try:
                    await coroutine
                except Exception:  # PTB reports handler errors itself; keep the chat going
                    log.exception("update failed")
                if not queue:
                    break
                coroutine = queue.popleft()
        finally:
            del self._queues[chat.id]
            for pending in queue:  # cancelled (shutdown): nothing else will run them
                if inspect.iscoroutine(pending):
                    pending.close()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def build_application(runtime: Runtime) -> Application:  # type: ignore[type-arg]
    settings = runtime.settings
    app = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(_file_url(settings.telegram_api_url))
        .rate_limiter(rate_limiter(settings))
        .concurrent_updates(PerChatUpdateProcessor(settings.update_concurrency))
        # a few connections suffice (the limiter lets 30 requests a second out), and each
        # request costs CPU per pooled connection; a request waits for a free one
        .connection_pool_size(settings.telegram_connections)
        .pool_timeout(POOL_TIMEOUT)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["runtime"] = runtime
    private = filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED
    app.add_handler(MessageHandler(private, on_message))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)
    return app


def run(runtime: Runtime) -> None:
    """Serve until stopped: long polling, or a webhook when TELEGRAM_MODE=webhook."""
    app = build_application(runtime)
    if runtime.settings.telegram_mode is TelegramMode.WEBHOOK:
        asyncio.run(serve_webhook(app, runtime.settings))
    else:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)


ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_route(
    bot: Bot, queue: asyncio.Queue[object], *, path: str, secret: str, limit: int
) -> WebhookRoute:
    """Telegram's POSTs of updates to `path`, put on the application's update queue."""

    async def accept(data: Any) -> bool:
        try:
            update = Update.de_json(data, bot) if isinstance(data, dict) else None
        except Exception:  # JSON, but not an update
            return False
        if update is None:
            return False
        await queue.put(update)
        return True

    return WebhookRoute(
        path, secret_header=SECRET_HEADER, secret=secret, max_body_bytes=limit, accept=accept
    )


async def serve_webhook(app: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Webhook mode: serve the process's HTTP app, register the webhook, stop on SIGINT/SIGTERM.

    The server listens before the webhook is registered, so Telegram's first POST
    lands, and stops before the application, which then handles every update it took.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runtime: Runtime = app.bot_data["runtime"]
    routes = [
        webhook_route(
            app.bot,
            app.update_queue,
            path=urlparse(settings.webhook_url).path,
            secret=settings.webhook_secret,
            limit=settings.webhook_max_body_bytes,
        ),
        FileRoute(runtime.db, runtime.clock),
    ]
    async with app:
        await _post_init(app)
        try:
            async with serving(build_app(routes), settings.http_listen, settings.http_port):
                await app.bot.set_webhook(
                    settings.webhook_url,
                    secret_token=settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                await app.start()
                await stop.wait()
        finally:
            if app.running:
                await app.stop()
    await _post_shutdown(app)


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


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    runtime: Runtime = app.bot_data["runtime"]
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
    scheduler = Scheduler(runtime, TelegramSender(app.bot))
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        scheduler.job,
        interval=runtime.settings.scheduler_interval_seconds,
        first=1,
        name="outbox",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    runtime: Runtime = app.bot_data["runtime"]
    await runtime.db.dispose()


def _event(update: Update, *, text: str | None = None, data: str | None = None) -> ChatEvent:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return ChatEvent(
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
    event = _event(update, text=message.text)
    document = message.document
    if document is not None:
        size = document.file_size or 0
        content = b""  # too large: not downloaded, the handler says so
        if size <= MAX_DOCUMENT_BYTES:
            content = bytes(await (await document.get_file()).download_as_bytearray())
        name = document.file_name or "file"
        attachment = Attachment("document", name, content, size=size or len(content))
        event = dataclasses.replace(event, document=attachment)
    outcome = await handlers.handle(_runtime(context), event)
    async with _shown():
        await _render(update, context, outcome)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: its data is validated by the handler it routes to."""
    query = update.callback_query
    if query is None or update.effective_user is None or update.effective_chat is None:
        return
    outcome = await handlers.handle(_runtime(context), _event(update, data=query.data or ""))
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
    file = InputFile(attachment.content, filename=attachment.filename)
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
    outcome = handlers.error_outcome(_runtime(context), _event(update), saved=saved)
    if update.callback_query is not None:
        with contextlib.suppress(Exception):  # already answered, or the answer is what failed
            await update.callback_query.answer()
    try:
        await send(context.bot, update.effective_chat.id, outcome.replies[0])
    except Exception:  # the network may be what failed; the log has the cause
        log.warning("could not tell the user about the failure", exc_info=True)


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
    """Delivers outbox notifications; maps Telegram's errors to retry or unreachable.

    A notice too long for one message goes out as several, in order. Once a part
    has been delivered, a failure of a later one is never retried (that would
    repeat the parts already read): what would be retried ends as "unknown".
    """

    channel = CHANNEL

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        parts = fitting(reply)
        for number, part in enumerate(parts):
            result = await self._send_one(chat_id, part)
            if result.delivery is not Delivery.SENT:
                if number == 0:
                    return result
                error = f"part {number + 1} of {len(parts)}: {result.error}"
                retry = result.delivery is Delivery.RETRY
                return SendResult(Delivery.UNKNOWN if retry else result.delivery, error=error)
        return SendResult(Delivery.SENT)

    async def _send_one(self, chat_id: str, reply: Reply) -> SendResult:
        try:
            await send(self.bot, int(chat_id), reply)
        except RetryAfter as exc:
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


class Scheduler:
    """One tick: plan what the calendar says is due, then dispatch the outbox."""

    def __init__(self, runtime: Runtime, sender: TelegramSender) -> None:
        self.runtime = runtime
        self.dispatcher = Dispatcher(
            runtime.db,
            sender,
            render=notices.render,
            clock=runtime.clock,
            concurrency=runtime.settings.send_concurrency,
        )

    async def tick(self) -> None:
        async with self.runtime.db.session() as session:
            await plan_all(session, self.runtime.clock())
        async with self.runtime.db.session() as session:
            await close_months(session, self.runtime.clock())
        stats = await self.dispatcher.run_once()
        if any(vars(stats).values()):
            log.info("outbox: %s", stats)

    async def job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.tick()
        except Exception:  # keep the schedule alive; the next tick retries
            log.exception("scheduler tick failed")


async def run_worker(runtime: Runtime, stop: asyncio.Event | None = None) -> None:
    """Scheduler only, no updates: extra processes that share the outbox (`chibo worker`)."""
    settings = runtime.settings
    bot = ExtBot(
        settings.telegram_bot_token,
        base_url=settings.telegram_api_url,
        base_file_url=_file_url(settings.telegram_api_url),
        rate_limiter=rate_limiter(settings),
        # as for `chibo run`: SEND_CONCURRENCY requests share TELEGRAM_CONNECTIONS connections
        request=HTTPXRequest(
            connection_pool_size=settings.telegram_connections, pool_timeout=POOL_TIMEOUT
        ),
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with bot:
        runtime.bot_username = bot.username
        scheduler = Scheduler(runtime, TelegramSender(bot))
        log.info("chibo worker is dispatching for @%s", bot.username)
        while not stop.is_set():
            try:
                await scheduler.tick()
            except Exception:
                log.exception("scheduler tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.scheduler_interval_seconds)
    await runtime.db.dispose()
