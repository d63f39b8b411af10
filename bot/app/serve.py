"""`chibo run` and `chibo worker`: every configured channel in one process, one outbox.

`chibo run` receives on Telegram and/or Zalo (whichever has a token) and sends the
outbox through them; `chibo worker` only sends. The outbox tick runs on
python-telegram-bot's JobQueue when Telegram is served, else on a plain loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from bot.channels import telegram, zalo
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
    """Serve every channel that has a token until SIGINT/SIGTERM (or `stop`)."""
    stop = stop or _stop_on_signals()
    settings = runtime.settings
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(runtime.db.dispose)
        senders: list[Sender] = []
        tasks: list[asyncio.Task[None]] = []
        if settings.zalo_bot_token:
            channel = await stack.enter_async_context(_zalo(runtime))
            senders.append(channel.sender)
            tasks.append(asyncio.create_task(channel.poll(stop)))
            stack.push_async_callback(channel.drain)
        scheduler: Scheduler | None = None
        if settings.telegram_bot_token:
            app = telegram.build_application(runtime)
            await stack.enter_async_context(telegram.receiving(app, settings))
            senders.append(telegram.TelegramSender(app.bot))
            scheduler = Scheduler(runtime, senders)
            assert app.job_queue is not None
            app.job_queue.run_repeating(
                scheduler.safe_tick,
                interval=settings.scheduler_interval_seconds,
                first=1,
                name="outbox",
                job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            )
        else:
            tasks.append(asyncio.create_task(Scheduler(runtime, senders).loop(stop)))
        await stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def _zalo(runtime: Runtime) -> AsyncIterator[zalo.ZaloChannel]:
    api = zalo.api_of(runtime)
    try:
        channel = zalo.ZaloChannel(runtime, api)
        await channel.start()
        yield channel
    finally:
        await api.close()


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
            senders.append(zalo.ZaloSender(runtime, api))
        log.info("chibo worker is dispatching on %s", ", ".join(s.channel for s in senders))
        await Scheduler(runtime, senders).loop(stop)
