"""`chibo run` and `chibo worker`: every configured channel in one process, one outbox.

`chibo run` receives on Telegram and/or Zalo (whichever has a token) and sends the
outbox through them; `chibo worker` only sends. The outbox tick runs on
python-telegram-bot's JobQueue when Telegram is served, else on a plain loop. One
HTTP server (`bot.app.web`) carries both webhooks and the file links.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlparse

from starlette.routing import BaseRoute
from telegram.ext import Application

from bot.app.web import FileRoute, WebhookRoute, build_app, serving
from bot.channels import telegram, zalo
from bot.core.chat import Attachment
from bot.core.config import Settings, UpdateMode
from bot.services import files
from bot.services.evaluation import close_months
from bot.services.notify import Dispatcher, Sender
from bot.services.planner import plan_all
from bot.services.runtime import Runtime
from handlers import notices
from storage import prompts

log = logging.getLogger(__name__)


class Scheduler:
    """One tick: plan what the calendar says is due, close months, dispatch the outbox."""

    def __init__(self, runtime: Runtime, senders: list[Sender]) -> None:
        self.runtime = runtime
        self.dispatcher = Dispatcher(
            runtime.db,
            {sender.channel: sender for sender in senders},
            render=notices.render,
            clock=runtime.clock,
            concurrency=runtime.settings.send_concurrency,
        )

    async def tick(self) -> None:
        now = self.runtime.clock()
        async with self.runtime.db.session() as session:
            await plan_all(session, now)
        async with self.runtime.db.session() as session:
            await close_months(session, now)
        async with self.runtime.db.session() as session:
            await prompts.forget_processed(session, now - prompts.REPLAY_WINDOW)
        stats = await self.dispatcher.run_once()
        if any(vars(stats).values()):
            log.info("outbox: %s", stats)

    async def safe_tick(self, *_: object) -> None:
        try:
            await self.tick()
        except Exception:  # keep the schedule alive; the next tick retries
            log.exception("scheduler tick failed")

    async def loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.safe_tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), self.runtime.settings.scheduler_interval_seconds
                )


def run(runtime: Runtime) -> None:
    asyncio.run(serve(runtime))


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def serve(runtime: Runtime, stop: asyncio.Event | None = None) -> None:
    """Serve every channel that has a token until SIGINT/SIGTERM (or `stop`).

    The HTTP server (webhooks, file links) listens before any webhook is registered,
    so the first POST lands; it stops after the channels stopped taking updates.
    """
    stop = stop or _stop_on_signals()
    settings = runtime.settings
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(runtime.db.dispose)
        routes: list[BaseRoute] = []
        zalo_channel = app = None
        if settings.zalo_bot_token:
            zalo_channel = await stack.enter_async_context(_zalo(runtime))
            if settings.zalo_mode is UpdateMode.WEBHOOK:
                routes.append(_zalo_route(settings, zalo_channel))
        if settings.telegram_bot_token:
            app = telegram.build_application(runtime)
            if settings.telegram_mode is UpdateMode.WEBHOOK:
                routes.append(_telegram_route(settings, app))
        if routes or settings.public_base_url:  # webhooks, file links
            http = build_app([*routes, FileRoute(runtime.db, runtime.clock)])
            await stack.enter_async_context(serving(http, settings.http_listen, settings.http_port))
        senders: list[Sender] = []
        tasks: list[asyncio.Task[None]] = []
        if zalo_channel is not None:
            senders.append(zalo_channel.sender)
            if settings.zalo_mode is UpdateMode.WEBHOOK:
                await zalo_channel.api.set_webhook(
                    settings.zalo_webhook_url, settings.zalo_webhook_secret
                )
            else:
                await zalo_channel.api.delete_webhook()  # a webhook would silence polling
                tasks.append(asyncio.create_task(zalo_channel.poll(stop)))
            stack.push_async_callback(zalo_channel.drain)
        if app is not None:
            await stack.enter_async_context(telegram.receiving(app, settings))
            senders.append(telegram.TelegramSender(app.bot))
            assert app.job_queue is not None
            app.job_queue.run_repeating(
                Scheduler(runtime, senders).safe_tick,
                interval=settings.scheduler_interval_seconds,
                first=1,
                name="outbox",
                job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            )
        else:
            tasks.append(asyncio.create_task(Scheduler(runtime, senders).loop(stop)))
        await stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)


def _telegram_route(settings: Settings, app: Application) -> WebhookRoute:  # type: ignore[type-arg]
    return WebhookRoute(
        urlparse(settings.webhook_url).path,
        secret_header=telegram.SECRET_HEADER,
        secret=settings.webhook_secret,
        max_body_bytes=settings.webhook_max_body_bytes,
        accept=telegram.update_taker(app.bot, app.update_queue),
    )


def _zalo_route(settings: Settings, channel: zalo.ZaloChannel) -> WebhookRoute:
    return WebhookRoute(
        urlparse(settings.zalo_webhook_url).path,
        secret_header=zalo.SECRET_HEADER,
        secret=settings.zalo_webhook_secret,
        max_body_bytes=settings.webhook_max_body_bytes,
        accept=channel.receive,
    )


@contextlib.asynccontextmanager
async def _zalo(runtime: Runtime) -> AsyncIterator[zalo.ZaloChannel]:
    api = zalo.api_of(runtime)
    try:
        channel = zalo.ZaloChannel(runtime, api, _publisher(runtime))
        await channel.start()
        yield channel
    finally:
        await api.close()


def _publisher(runtime: Runtime) -> zalo.Publish | None:
    """Charts and workbooks as expiring links, when the server has a public address."""
    settings = runtime.settings
    if not settings.public_base_url:
        return None

    async def publish(attachment: Attachment) -> str:
        async with runtime.db.session() as session:
            return await files.share(
                session,
                attachment,
                runtime.clock(),
                settings.public_base_url,
                timedelta(days=settings.file_link_days),
            )

    return publish


async def work(runtime: Runtime, stop: asyncio.Event | None = None) -> None:
    """Send the outbox only, through every channel that has a token (`chibo worker`)."""
    stop = stop or _stop_on_signals()
    settings = runtime.settings
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(runtime.db.dispose)
        senders: list[Sender] = []
        if settings.telegram_bot_token:
            bot = await stack.enter_async_context(telegram.worker_bot(settings))
            runtime.bot_username = bot.username
            senders.append(telegram.TelegramSender(bot))
        if settings.zalo_bot_token:
            api = zalo.api_of(runtime)
            stack.push_async_callback(api.close)
            senders.append(zalo.ZaloSender(runtime, api, _publisher(runtime)))
        log.info("chibo worker is dispatching on %s", ", ".join(s.channel for s in senders))
        await Scheduler(runtime, senders).loop(stop)
