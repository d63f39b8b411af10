"""`chibo run` and `chibo worker`: every configured channel in one process, one outbox.

`chibo run` receives on Telegram and/or Zalo (whichever has a token) and sends the
outbox through them; `chibo worker` only sends. The outbox tick runs on
python-telegram-bot's JobQueue when Telegram is served, else on a plain loop. One
HTTP server (`bot.app.web`) carries both webhooks, the file links and, for `chibo run`,
the web view (`bot.web`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

from starlette.routing import BaseRoute
from telegram.ext import Application

from bot.app.health import HealthRoutes, Heartbeat
from bot.app.web import FileRoute, WebhookRoute, build_app, serving
from bot.channels import telegram, zalo
from bot.core.chat import Attachment
from bot.core.config import Settings, UpdateMode
from bot.services import files, privacy
from bot.services.consultations import plan_due as plan_consultations
from bot.services.evaluation import close_months
from bot.services.notify import Dispatcher, Sender
from bot.services.planner import plan_all
from bot.services.runtime import Runtime
from bot.web import WebView
from handlers import notices
from storage import bots as bot_store
from storage import prompts
from storage.models import Bot

log = logging.getLogger(__name__)


class Scheduler:
    """One tick: plan what the calendar says is due, close months, dispatch the outbox;
    once a day, the retention sweep of personal data (`bot.services.privacy.sweep`)."""

    def __init__(
        self, runtime: Runtime, senders: list[Sender], heartbeat: Heartbeat | None = None
    ) -> None:
        """`senders`: every bot this process sends through (default and extra ones);
        `heartbeat`: where it notes each finished tick (read by /healthz)."""
        self.runtime = runtime
        self.heartbeat = heartbeat or Heartbeat(started=runtime.clock())
        self.next_sweep: datetime | None = None  # the retention sweep: on start, then daily
        self.dispatcher = Dispatcher(
            runtime.db,
            {s.channel: s for s in senders if getattr(s, "bot_id", None) is None},
            bots={s.bot_id: s for s in senders if getattr(s, "bot_id", None) is not None},  # type: ignore[attr-defined]
            render=notices.render,
            clock=runtime.clock,
            concurrency=runtime.settings.send_concurrency,
        )

    async def tick(self) -> None:
        now = self.runtime.clock()
        async with self.runtime.db.session() as session:
            await plan_all(session, now)
        async with self.runtime.db.session() as session:
            await plan_consultations(session, now)
        async with self.runtime.db.session() as session:
            await close_months(session, now)
        async with self.runtime.db.session() as session:
            await prompts.forget_processed(session, now - prompts.REPLAY_WINDOW)
        if self.next_sweep is None or now >= self.next_sweep:
            settings = self.runtime.settings
            await privacy.sweep(
                self.runtime.db,
                now,
                settings.free_text_retention_months,
                timedelta(minutes=settings.invite_attempt_window_minutes),
            )
            self.next_sweep = now + privacy.SWEEP_EVERY
        stats = await self.dispatcher.run_once()
        self.heartbeat.last = self.runtime.clock()
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


@dataclass(frozen=True)
class BotSpec:
    """One bot to run: a channel's default bot (`bot_id` None, token from the settings) or
    an extra one (`chibo bot add`), whose webhook path ends in its id."""

    channel: str
    token: str
    bot_id: int | None = None

    def webhook_url(self, base: str) -> str:
        return base if self.bot_id is None else f"{base.rstrip('/')}/{self.bot_id}"


async def bot_specs(runtime: Runtime) -> list[BotSpec]:
    settings = runtime.settings
    specs = []
    if settings.zalo_bot_token:
        specs.append(BotSpec(zalo.CHANNEL, settings.zalo_bot_token))
    if settings.telegram_bot_token:
        specs.append(BotSpec(telegram.CHANNEL, settings.telegram_bot_token))
    async with runtime.db.session() as session:
        extra = await bot_store.every(session)
    return specs + [BotSpec(b.channel, b.token, b.id) for b in extra]


async def serve(runtime: Runtime, stop: asyncio.Event | None = None) -> None:
    """Serve every bot (each channel's default bot and the extra ones) until SIGINT/SIGTERM.

    The HTTP server (webhooks, file links, /healthz, /metrics) listens before any webhook
    is registered, so the first POST lands; it stops after the bots stopped taking updates.
    """
    stop = stop or _stop_on_signals()
    settings = runtime.settings
    specs = await bot_specs(runtime)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(runtime.db.dispose)
        routes: list[BaseRoute] = []
        zalos: list[tuple[BotSpec, zalo.ZaloChannel]] = []
        apps: list[tuple[BotSpec, Application]] = []  # type: ignore[type-arg]
        for spec in specs:
            if spec.channel == zalo.CHANNEL:
                channel = await stack.enter_async_context(_zalo(runtime, spec))
                zalos.append((spec, channel))
                if settings.zalo_mode is UpdateMode.WEBHOOK:
                    routes.append(_zalo_route(settings, spec, channel))
            else:
                app = telegram.build_application(runtime, spec.token, spec.bot_id)
                apps.append((spec, app))
                if settings.telegram_mode is UpdateMode.WEBHOOK:
                    routes.append(_telegram_route(settings, spec, app))
        heartbeat = Heartbeat(started=runtime.clock())
        http = build_app(
            [
                *routes,
                FileRoute(runtime.db, runtime.clock),
                *_health(runtime, heartbeat),
                *WebView(runtime).routes(),
            ]
        )
        await stack.enter_async_context(serving(http, settings.http_listen, settings.http_port))
        senders: list[Sender] = []
        tasks: list[asyncio.Task[None]] = []
        for spec, channel in zalos:
            senders.append(channel.sender)
            if settings.zalo_mode is UpdateMode.WEBHOOK:
                url = spec.webhook_url(settings.zalo_webhook_url)
                await channel.api.set_webhook(url, settings.zalo_webhook_secret)
            else:
                await channel.api.delete_webhook()  # a webhook would silence polling
                tasks.append(asyncio.create_task(channel.poll(stop)))
            stack.push_async_callback(channel.drain)
        for spec, app in apps:
            url = spec.webhook_url(settings.webhook_url)
            await stack.enter_async_context(telegram.receiving(app, settings, url))
            senders.append(telegram.TelegramSender(app.bot, spec.bot_id))
            if spec.bot_id is not None:
                await _learn_username(runtime, spec.bot_id, app.bot.username)
        scheduler = Scheduler(runtime, senders, heartbeat)
        if apps:
            job_queue = apps[0][1].job_queue
            assert job_queue is not None
            job_queue.run_repeating(
                scheduler.safe_tick,
                interval=settings.scheduler_interval_seconds,
                first=1,
                name="outbox",
                job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            )
        else:
            tasks.append(asyncio.create_task(scheduler.loop(stop)))
        await stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _learn_username(runtime: Runtime, bot_id: int, username: str) -> None:
    """An extra Telegram bot's @username, for the invite links of the cells it serves."""
    async with runtime.db.session() as session:
        bot = await session.get(Bot, bot_id)
        if bot is not None and bot.username != username:
            bot.username = username


def _telegram_route(settings: Settings, spec: BotSpec, app: Application) -> WebhookRoute:  # type: ignore[type-arg]
    return WebhookRoute(
        urlparse(spec.webhook_url(settings.webhook_url)).path,
        secret_header=telegram.SECRET_HEADER,
        secret=settings.webhook_secret,
        max_body_bytes=settings.webhook_max_body_bytes,
        accept=telegram.update_taker(app.bot, app.update_queue),
    )


def _zalo_route(settings: Settings, spec: BotSpec, channel: zalo.ZaloChannel) -> WebhookRoute:
    return WebhookRoute(
        urlparse(spec.webhook_url(settings.zalo_webhook_url)).path,
        secret_header=zalo.SECRET_HEADER,
        secret=settings.zalo_webhook_secret,
        max_body_bytes=settings.webhook_max_body_bytes,
        accept=channel.receive,
    )


@contextlib.asynccontextmanager
async def _zalo(runtime: Runtime, spec: BotSpec) -> AsyncIterator[zalo.ZaloChannel]:
    api = zalo.api_of(runtime, spec.token)
    try:
        channel = zalo.ZaloChannel(runtime, api, _publisher(runtime), spec.bot_id)
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
    """Send the outbox only, through every bot (`chibo worker`), with /healthz and /metrics."""
    stop = stop or _stop_on_signals()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(runtime.db.dispose)
        senders: list[Sender] = []
        for spec in await bot_specs(runtime):
            if spec.channel == telegram.CHANNEL:
                bot = await stack.enter_async_context(
                    telegram.worker_bot(runtime.settings, spec.token)
                )
                if spec.bot_id is None:
                    runtime.bot_username = bot.username
                senders.append(telegram.TelegramSender(bot, spec.bot_id))
            else:
                api = zalo.api_of(runtime, spec.token)
                stack.push_async_callback(api.close)
                senders.append(zalo.ZaloSender(runtime, api, _publisher(runtime), spec.bot_id))
        heartbeat = Heartbeat(started=runtime.clock())
        settings = runtime.settings
        http = build_app(_health(runtime, heartbeat))
        await stack.enter_async_context(serving(http, settings.http_listen, settings.http_port))
        log.info("chibo worker is dispatching through %d bots", len(senders))
        await Scheduler(runtime, senders, heartbeat).loop(stop)


def _health(runtime: Runtime, heartbeat: Heartbeat) -> list[BaseRoute]:
    """/healthz and /metrics, served by every process (`chibo run` and each `chibo worker`)."""
    interval = runtime.settings.scheduler_interval_seconds
    return [*HealthRoutes(runtime.db, runtime.clock, heartbeat, interval).routes()]
