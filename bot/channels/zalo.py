"""Zalo channel: the Zalo Bot Platform around the neutral handlers.

Zalo has no buttons and no editing: every reply is a new message, buttons become
numbered options (`bot.channels.numbered`), and what a number means is kept per
chat in the database. A text longer than 2,000 characters goes as several messages.
Zalo has no update offsets either: a message may arrive twice, and `handlers.handle`
answers each message id once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential
from tenacity.wait import wait_base

import handlers
from bot.channels import numbered
from bot.channels.lanes import ChatLanes
from bot.channels.zalo_api import ZaloBotAPI, ZaloError, ZaloNetworkError
from bot.core.chat import Attachment, ChatEvent, Outcome, Reply, split_text
from bot.core.i18n import Translator
from bot.services.notify import Delivery, SendResult, send_in_parts
from bot.services.runtime import Runtime

log = logging.getLogger(__name__)
CHANNEL = "zalo"
TEXT_LIMIT = 2000  # characters of a message (sendMessage refuses more)
TEXT_EVENTS = {"message.text.received"}
OTHER_EVENTS = {
    "message.image.received",
    "message.sticker.received",
    "message.unsupported.received",
}
POLL_SECONDS = 30
SECRET_HEADER = "X-Bot-Api-Secret-Token"  # the webhook's secret, as set by setWebhook

Publish = Callable[[Attachment], Awaitable[str]]
"""Stores a chart or workbook and returns its expiring public URL."""


def event_of(update: dict[str, Any], bot_id: str | None) -> ChatEvent | None:
    """The chat event of a Zalo update; None for what chibo ignores.

    Ignored: the bot's own messages coming back, group chats, empty texts, and
    anything that is not shaped like a message. Images, stickers and other
    events become an event without text, which gets a clear reply.
    """
    if isinstance(update.get("result"), dict) and "event_name" not in update:
        update = update["result"]  # a webhook body may come wrapped as {ok, result}
    name, message = update.get("event_name"), update.get("message")
    if not isinstance(message, dict) or name not in TEXT_EVENTS | OTHER_EVENTS:
        return None
    sender, chat = message.get("from"), message.get("chat")
    if not isinstance(sender, dict) or not isinstance(chat, dict):
        return None
    user_id, chat_id = str(sender.get("id") or ""), str(chat.get("id") or "")
    if not user_id or not chat_id or sender.get("is_bot") or user_id == bot_id:
        return None
    if str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE":
        return None  # chibo talks to each member alone; it stays silent in groups
    text = message.get("text") if name in TEXT_EVENTS else None
    if name in TEXT_EVENTS and (not isinstance(text, str) or not text.strip()):
        return None
    message_id = message.get("message_id")
    return ChatEvent(
        channel=CHANNEL,
        user_id=user_id[:64],
        chat_id=chat_id[:64],
        display_name=str(sender.get("display_name") or sender.get("name") or ""),
        text=text,
        message_id=str(message_id)[:64] if message_id else None,
        edits=False,
    )


@dataclass(frozen=True)
class Part:
    """One Zalo message: a text, or a photo by URL (Zalo cannot upload)."""

    text: str
    photo_url: str | None = None


class ZaloSender:
    """Sends replies to Zalo chats as plain messages; maps Zalo's errors for the outbox."""

    channel = CHANNEL
    reply_wait: wait_base = wait_exponential(multiplier=1, max=8)  # between tries of a reply

    def __init__(
        self,
        runtime: Runtime,
        api: ZaloBotAPI,
        publish: Publish | None = None,
        bot_id: int | None = None,
    ) -> None:
        self.runtime, self.api, self.publish, self.bot_id = runtime, api, publish, bot_id
        self.limiter = AsyncLimiter(runtime.settings.zalo_rate_limit, 1)

    async def send(self, chat_id: str, reply: Reply, locale: str | None = None) -> SendResult:
        """A notification: its options are remembered, then its parts sent in order."""
        t = Translator(locale or self.runtime.settings.default_locale)
        outcome = Outcome([reply])
        rendered = numbered.render(outcome, t)
        parts = await self._parts(rendered, outcome, t)
        # the options are stored first, so a quick answer finds them; if nothing reached
        # the person, the options they saw before are put back
        earlier = await numbered.remember(self.runtime, CHANNEL, chat_id, rendered)
        result = await send_in_parts(parts, lambda part: self._send_one(chat_id, part))
        if result.delivery not in {Delivery.SENT, Delivery.UNKNOWN} and rendered.prompt:
            await numbered.restore(self.runtime, CHANNEL, chat_id, earlier)
        return result

    async def show(self, chat_id: str, outcome: Outcome, t: Translator) -> list[Part]:
        """Remember the outcome's options for this chat; the messages to send, in order.

        A turn's options are stored before its answer is sent, so a quick reply to it
        finds them."""
        rendered = await numbered.shown(self.runtime, CHANNEL, chat_id, outcome, t)
        return await self._parts(rendered, outcome, t)

    async def _parts(
        self, rendered: numbered.Rendered, outcome: Outcome, t: Translator
    ) -> list[Part]:
        parts = [Part(piece) for text in rendered.texts for piece in split_text(text, TEXT_LIMIT)]
        for reply in outcome.replies:
            if reply.attachment is not None:
                parts.append(await self._attachment(reply.attachment, t))
        return [part for part in parts if part.text.strip() or part.photo_url]

    async def _attachment(self, attachment: Attachment, t: Translator) -> Part:
        _ = t.gettext
        if attachment.link is not None:  # published already (a meeting document)
            return Part(
                _("Download {name}: {url}").format(name=attachment.filename, url=attachment.link)
            )
        if attachment.file_id is not None and not attachment.content:
            return Part(
                _(
                    "(The file {name} was sent on Telegram and cannot be sent on Zalo. Open it "
                    "on Telegram, or ask the secretary for a copy.)"
                ).format(name=attachment.filename)
            )
        if self.publish is None:
            return Part(
                _(
                    "(The chart or file cannot be sent on Zalo: this server has no public "
                    "address (PUBLIC_BASE_URL). Open it on Telegram, or ask the administrator.)"
                )
            )
        url = await self.publish(attachment)
        if attachment.kind == "photo":
            return Part("", photo_url=url)
        return Part(_("Download {name}: {url}").format(name=attachment.filename, url=url))

    async def deliver(self, chat_id: str, parts: list[Part]) -> None:
        """Send a turn's answer while the person waits for it: a quota refusal (429) or a
        connection never made is tried again a few times, a second apart and more; any
        other failure raises (the caller says what happened)."""
        for part in parts:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_worth_again),
                wait=self.reply_wait,
                stop=stop_after_attempt(4),
                reraise=True,
            ):
                with attempt:
                    await self._post(chat_id, part)

    async def _post(self, chat_id: str, part: Part) -> None:
        async with self.limiter:
            if part.photo_url is not None:
                await self.api.send_photo(chat_id, part.photo_url, part.text or None)
            else:
                await self.api.send_message(chat_id, part.text)

    async def _send_one(self, chat_id: str, part: Part) -> SendResult:
        try:
            await self._post(chat_id, part)
        except ZaloError as exc:
            return SendResult(_delivery(exc), error=str(exc))
        except ZaloNetworkError as exc:
            return SendResult(Delivery.UNKNOWN if exc.sent else Delivery.RETRY, error=str(exc))
        return SendResult(Delivery.SENT)


def _worth_again(exc: BaseException) -> bool:
    """Sending again cannot show the person a message twice."""
    if isinstance(exc, ZaloError):
        return exc.error_code == 429
    return isinstance(exc, ZaloNetworkError) and not exc.sent


def _delivery(exc: ZaloError) -> Delivery:
    """Zalo's error codes as outbox outcomes (its docs say little; we assume little)."""
    if exc.error_code == 429 or exc.error_code >= 500 or exc.error_code == 401:
        return Delivery.RETRY  # quota, Zalo's trouble, or a token being replaced
    if exc.error_code == 403:
        return Delivery.REFUSED  # unclear: a blocked bot, or an internal error
    return Delivery.FAILED  # the message itself was refused (400: too long, bad chat)


class ZaloChannel:
    """Receives Zalo updates (long polling or webhook) and answers them in chat order."""

    def __init__(
        self,
        runtime: Runtime,
        api: ZaloBotAPI,
        publish: Publish | None = None,
        bot_id: int | None = None,
    ) -> None:
        self.runtime = runtime
        self.api = api
        self.sender = ZaloSender(runtime, api, publish, bot_id)
        self.account_id: str | None = None  # the bot's own Zalo id
        self._lanes = ChatLanes()
        self._gate = asyncio.Semaphore(runtime.settings.update_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        me = await self.api.get_me()
        self.account_id = str(me.get("id") or "") or None
        log.info("chibo is serving on Zalo as %s", me.get("account_name") or self.account_id)

    async def receive(self, update: dict[str, Any]) -> bool:
        """Take one update (from a poll or the webhook); False if it is not one."""
        if not isinstance(update, dict):
            return False
        event = event_of(update, self.account_id)
        if event is None:
            log.debug("zalo update ignored: %s", update.get("event_name"))
            return True
        event = dataclasses.replace(event, bot=self.sender.bot_id)
        task = asyncio.create_task(self._in_lane(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling until `stop`; errors wait and retry (at most a minute apart)."""
        pause = 1.0
        while not stop.is_set():
            try:
                update = await self.api.get_update(POLL_SECONDS)
            except (ZaloError, ZaloNetworkError) as exc:
                log.warning("zalo getUpdates failed (%s); again in %.0f s", exc, pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(60.0, pause * 2)
                continue
            pause = 1.0
            if update is not None:
                await self.receive(update)

    async def drain(self, timeout: float = 10) -> None:
        """Let the turns already started finish (shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def _in_lane(self, event: ChatEvent) -> None:
        async with self._gate:
            await self._lanes.run(event.chat_id, self._turn(event))

    async def _turn(self, event: ChatEvent) -> None:
        try:
            read = await numbered.pressed(self.runtime, event)
            event = read.event
            outcome = read.answer or await handlers.handle(self.runtime, event)
        except Exception:
            log.exception("zalo turn failed")
            await self._tell_failure(event, saved=False)
            return
        t = self._translator(outcome)
        try:
            await self.sender.deliver(
                event.chat_id, await self.sender.show(event.chat_id, outcome, t)
            )
        except Exception:
            log.exception("zalo reply failed")
            await self._tell_failure(event, saved=True)

    def _translator(self, outcome: Outcome) -> Translator:
        return Translator(outcome.locale or self.runtime.settings.default_locale)

    async def _tell_failure(self, event: ChatEvent, *, saved: bool) -> None:
        outcome = handlers.error_outcome(self.runtime, event, saved=saved)
        try:
            await self.sender.deliver(event.chat_id, [Part(outcome.replies[0].text)])
        except Exception:  # the network may be what failed; the log has the cause
            log.warning("could not tell the Zalo user about the failure", exc_info=True)


def api_of(runtime: Runtime, token: str | None = None) -> ZaloBotAPI:
    """The client of the default bot (ZALO_BOT_TOKEN), or of an extra bot's `token`."""
    settings = runtime.settings
    return ZaloBotAPI(token or settings.zalo_bot_token, settings.zalo_api_url)
