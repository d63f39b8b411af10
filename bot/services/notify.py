"""The outbox dispatcher: sends due notifications once, within the channel's limits.

Each tick claims due rows (other processes skip them), decides whether each is
still useful (grace window, submitted, muted, unreachable), renders it in the
member's language, sends it, and records the outcome. Delivery is at most
once: a row is marked "sending" before the send, and a process that dies
mid-send leaves it "unknown", never resent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import metrics
from bot.core.chat import Reply
from bot.services.planner import TO_REQUIRED_MEMBERS, Kind
from storage import members as member_store
from storage import notifications as outbox
from storage.db import Database
from storage.models import ChatIdentity as Account
from storage.models import (
    Member,
    MemberStatus,
    Notification,
    Organization,
    Period,
)
from storage.models import NotificationStatus as Status

log = logging.getLogger(__name__)
MUTABLE = frozenset({Kind.DEADLINE_NUDGE, Kind.MANUAL_NUDGE})
TO_FORMER_MEMBERS = frozenset({Kind.MEMBER_NOTICE})  # "you were removed" reaches the removed
MAX_ATTEMPTS = 6


class Delivery(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # flood control, network error or 5xx: try again later
    UNREACHABLE = "unreachable"  # blocked, chat gone: stop writing to this person
    FAILED = "failed"  # the message itself was refused: retrying cannot help
    UNKNOWN = "unknown"  # no answer in time: it may have been delivered, so never resent
    REFUSED = (
        "refused"  # refused without a clear reason (Zalo's 403): retry; unreachable if it lasts
    )


@dataclass(frozen=True)
class SendResult:
    delivery: Delivery
    retry_after: float | None = None
    error: str | None = None


class Sender(Protocol):
    """A channel's bot that can deliver a reply to a chat; `locale`: the reply's language."""

    channel: str

    async def send(self, chat_id: str, reply: Reply, locale: str | None = None) -> SendResult: ...


REFUSALS_BEFORE_UNREACHABLE = 3  # refusals in a row on one account (a success resets them)


Part = TypeVar("Part")


async def send_in_parts(
    parts: Sequence[Part], send_one: Callable[[Part], Awaitable[SendResult]]
) -> SendResult:
    """Send a notice that takes several messages, in order.

    Once a part has been delivered, a failure of a later one is never retried (that
    would repeat the parts already read): what would be retried ends as "unknown".
    """
    for number, part in enumerate(parts):
        result = await send_one(part)
        if result.delivery is not Delivery.SENT:
            if number == 0:
                return result
            error = f"part {number + 1} of {len(parts)}: {result.error}"
            again = result.delivery in {Delivery.RETRY, Delivery.REFUSED}
            return SendResult(Delivery.UNKNOWN if again else result.delivery, error=error)
    return SendResult(Delivery.SENT)


@dataclass
class Notice:
    """What a renderer needs to write one notification."""

    notification: Notification
    member: Member
    cell: Organization  # the month's cell; for a notice of no month, the member's
    period: Period | None  # None: a notice of no month (Kind.MEMBER_NOTICE)
    submitted: bool


@dataclass
class DispatchStats:
    sent: int = 0
    retried: int = 0
    skipped: int = 0
    dropped: int = 0
    unreachable: int = 0
    failed: int = 0
    abandoned: int = 0

    def __iadd__(self, other: DispatchStats) -> DispatchStats:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


@dataclass
class _Job:
    notification: Notification
    account: Account | None = None
    locale: str | None = None
    reply: Reply | None = None
    status: Status | None = None  # decided without sending
    result: SendResult | None = None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2**attempts))


@dataclass
class Dispatcher:
    """Sends the outbox through one sender per channel, to each member's latest channel."""

    db: Database
    senders: dict[str, Sender]  # the default bot of each channel
    render: Callable[[AsyncSession, Notice], Awaitable[Reply]]
    clock: Callable[[], datetime]
    batch_size: int = 200
    concurrency: int = 32
    lease: timedelta = timedelta(minutes=10)
    worker: str = field(default_factory=worker_name)
    bots: dict[int, Sender] = field(default_factory=dict)  # extra bots, by id (`chibo bot add`)
    _refused: set[int] = field(default_factory=set)  # accounts refused during this process

    def sender_for(self, account: Account) -> Sender | None:
        """The bot the member writes to, else the channel's default bot."""
        if account.bot_id is not None and account.bot_id in self.bots:
            return self.bots[account.bot_id]
        return self.senders.get(account.channel)

    async def run_once(self, max_rows: int = 100_000) -> DispatchStats:
        """Send everything due now (up to `max_rows`); returns what happened.

        The database work overlaps the sending: while one batch goes out, the next is
        claimed and prepared and the previous one recorded, so the sender never idles.
        """
        stats = DispatchStats()
        async with self.db.session() as session:
            stats.abandoned = await outbox.abandon_stale_claims(session, self.clock())
        jobs = await self._next_batch()
        handled = len(jobs)
        recording: asyncio.Task[DispatchStats] | None = None
        while jobs:
            sending = asyncio.create_task(self._send(jobs))
            following = await self._next_batch() if handled < max_rows else []
            handled += len(following)
            await sending
            if recording is not None:
                stats += await recording
            recording = asyncio.create_task(self._record_batch(jobs))
            jobs = following
        if recording is not None:
            stats += await recording
        return stats

    async def _next_batch(self) -> list[_Job]:
        """Claim due rows (other processes skip them) and decide and render each."""
        async with self.db.session() as session:
            batch = await outbox.claim_due(
                session, self.clock(), self.worker, self.batch_size, self.lease
            )
        jobs = [_Job(n) for n in batch]
        if jobs:
            async with self.db.session() as session:
                await self._prepare(session, jobs)
        return jobs

    async def _send(self, jobs: list[_Job]) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def deliver(job: _Job) -> None:
            if job.status is not None or job.reply is None or job.account is None:
                return
            sender = self.sender_for(job.account)
            assert sender is not None  # checked in _prepare
            async with gate:
                try:
                    job.result = await sender.send(
                        job.account.external_id, job.reply, locale=job.locale
                    )
                except Exception as exc:  # a bug or an unknown error: retry later, log it
                    log.exception("sending notification %s failed", job.notification.id)
                    job.result = SendResult(Delivery.RETRY, error=repr(exc)[:500])

        await asyncio.gather(*(deliver(job) for job in jobs))

    async def _record_batch(self, jobs: list[_Job]) -> DispatchStats:
        async with self.db.session() as session:
            return await self._record(session, jobs)

    async def _prepare(self, session: AsyncSession, jobs: list[_Job]) -> None:
        """Load every row's context in bulk; decide; render what is still useful."""
        now = self.clock()
        member_ids = {j.notification.member_id for j in jobs}
        period_ids = {j.notification.period_id for j in jobs}
        channels = set(self.senders) | {sender.channel for sender in self.bots.values()}
        found = await outbox.recipients(
            session, member_ids, {p for p in period_ids if p is not None}, channels
        )
        members, periods, cells, accounts = (
            found.members,
            found.periods,
            found.cells,
            found.accounts,
        )
        latest = _latest_of_a_kind([j for j in jobs if now < j.notification.expires_at])
        for job in jobs:
            n = job.notification
            member = members[n.member_id]
            period = periods[n.period_id] if n.period_id is not None else None
            done = (n.period_id, n.member_id) in found.done
            job.status = _decide(n, member, done, now)
            if job.status is None and n.id not in latest:
                job.status = Status.SKIPPED  # a later reminder of the same kind goes instead
            job.account = accounts.get(member.id)
            if job.status is None and (job.account is None or not self.sender_for(job.account)):
                job.status = Status.SKIPPED  # no account on a channel this process serves
            if job.status is None:
                cell = cells[period.cell_id if period is not None else member.org_id]
                job.locale = member.locale or cell.locale
                job.reply = await self.render(session, Notice(n, member, cell, period, done))

    async def _record(self, session: AsyncSession, jobs: list[_Job]) -> DispatchStats:
        """Write every outcome: one UPDATE per status for the plain ones, one per row else."""
        stats = DispatchStats()
        now = self.clock()
        plain: dict[tuple[Status, str | None], list[int]] = {}
        for job in jobs:
            n = job.notification
            channel = job.account.channel if job.account is not None else None
            if job.status is not None:
                plain.setdefault((job.status, None), []).append(n.id)
                if job.status is Status.DROPPED:
                    stats.dropped += 1
                else:
                    stats.skipped += 1
                continue
            result = job.result
            assert result is not None and job.account is not None
            delivery = await self._refusals(session, job.account, result.delivery)
            if delivery is Delivery.SENT:
                plain.setdefault((Status.SENT, channel), []).append(n.id)
                stats.sent += 1
            elif delivery is Delivery.UNKNOWN:
                await outbox.finish(
                    session, n.id, Status.UNKNOWN, now, error=result.error, channel=channel
                )
                stats.failed += 1
            elif delivery is Delivery.UNREACHABLE:
                await outbox.finish(
                    session, n.id, Status.UNREACHABLE, now, error=result.error, channel=channel
                )
                await _mark_unreachable(session, n, now)
                stats.unreachable += 1
            elif delivery is Delivery.FAILED or n.attempts + 1 >= MAX_ATTEMPTS:
                await outbox.finish(
                    session, n.id, Status.FAILED, now, error=result.error, channel=channel
                )
                stats.failed += 1
            else:
                wait = backoff(n.attempts)
                if result.retry_after:
                    wait = max(wait, timedelta(seconds=result.retry_after))
                retry_at = now + wait
                if retry_at >= n.expires_at:
                    await outbox.finish(session, n.id, Status.DROPPED, now, error=result.error)
                    stats.dropped += 1
                else:
                    await outbox.finish(
                        session, n.id, Status.PENDING, now, error=result.error, retry_at=retry_at
                    )
                    stats.retried += 1
        for (status, channel), ids in plain.items():
            await outbox.finish_many(session, ids, status, now, channel=channel)
        _count(jobs)
        return stats

    async def _refusals(
        self, session: AsyncSession, account: Account, delivery: Delivery
    ) -> Delivery:
        """Count refusals in a row per account: a few mean unreachable, a success resets them."""
        if delivery is Delivery.REFUSED:
            self._refused.add(account.id)
            failures = await outbox.count_refusal(session, account.id)
            if failures >= REFUSALS_BEFORE_UNREACHABLE:
                return Delivery.UNREACHABLE
            return Delivery.RETRY
        if delivery is Delivery.SENT and (account.failures or account.id in self._refused):
            await outbox.reset_refusals(session, account.id)
            self._refused.discard(account.id)
        return delivery


def _count(jobs: Sequence[_Job]) -> None:
    """Each finished row in the process's metrics, by kind and how it ended."""
    for job in jobs:
        result = job.result
        outcome = job.status or (result.delivery if result is not None else "unknown")
        metrics.NOTIFICATIONS.labels(job.notification.kind, str(outcome)).inc()


SUPERSEDED_BY_LATER = frozenset({Kind.MEETING_REMINDER, Kind.DEADLINE_NUDGE})


def _latest_of_a_kind(jobs: Sequence[_Job]) -> set[int]:
    """After downtime several reminders may be due at once: only the latest is worth sending."""
    keep: dict[tuple[int, int | None, str], Notification] = {}
    others: set[int] = set()
    for job in jobs:
        n = job.notification
        if n.kind not in SUPERSEDED_BY_LATER:
            others.add(n.id)
            continue
        key = (n.member_id, n.period_id, n.kind)
        if key not in keep or keep[key].due_at < n.due_at:
            keep[key] = n
    return others | {n.id for n in keep.values()}


def _decide(n: Notification, member: Member, submitted: bool, now: datetime) -> Status | None:
    """None when the notification should be sent; else the status it ends with."""
    if now >= n.expires_at:
        return Status.DROPPED
    if not member.reachable or not (member.active or n.kind in TO_FORMER_MEMBERS):
        return Status.SKIPPED
    if n.kind in TO_REQUIRED_MEMBERS and member.status == MemberStatus.EXEMPT:
        return Status.SKIPPED
    if n.kind in {Kind.DEADLINE_NUDGE, Kind.MANUAL_NUDGE} and submitted:
        return Status.SKIPPED
    if n.kind in MUTABLE and member.muted:
        return Status.SKIPPED
    return None


async def _mark_unreachable(session: AsyncSession, n: Notification, now: datetime) -> None:
    """The member blocked the bot: stop writing to them and tell the secretaries, once."""
    member = await session.get(Member, n.member_id)
    if member is None or not member.reachable:
        return
    member.reachable = False
    if n.period_id is None:
        return  # a notice about the member themselves (e.g. removed): nothing to report
    await outbox.plan(
        session,
        [
            outbox.row(
                secretary.id,
                n.period_id,
                Kind.MEMBER_UNREACHABLE,
                f"m{member.id}",
                now,
                now + timedelta(days=7),
            )
            for secretary in await member_store.secretaries_of(session, member.org_id)
        ],
    )
