"""Issues 3 and 8 benchmark: N members answer the monthly self-assessment at the same time.

    python -m bench.assessment_throughput --members 200 --backend both --rate-limiter off
    python -m bench.assessment_throughput --mode latency        # 2,000 members, think time

For each backend (SQLite file, local PostgreSQL) it starts the fake Bot API, a fresh
database, ``chibo migrate``, ``chibo cell create`` and the real ``chibo run`` process
(LOG_LEVEL=WARNING); a secretary joins, opens the month and invites N members, who
join (setup, not measured). Then all N members do ``/assess``, press the first option
of questions 1-15, type the free text of question 16 and submit, concurrently
(measured). The same N members then drive ``bench/echo_bot.py``, a bare
python-telegram-bot bot built like chibo's, through the same screens. It prints
throughput, latency percentiles, the bot's memory and CPU, and the goals with
PASS/FAIL. ``--mode latency`` is what a member feels instead: N members (2,000) whose
starts are spread out, each pausing 5-20 s before every answer, the rate limiter on,
and the p95 from a press to the next question. It exits 1 when a member failed (or the
run broke), 0 otherwise, whether the goals pass or not.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import collections
import contextlib
import itertools
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from bench.common import (
    BenchError,
    proc_cpu_seconds,
    proc_status_kb,
    reset_postgres,
    run_bounded,
)
from tests.fakebotapi import JSON, BotMessage, ChatId, FakeBotAPI, OutboxEvent
from tests.harness import BotProcess, TelegramUser, arun_cli, bot_env

ECHO_BOT = Path(__file__).resolve().with_name("echo_bot.py")
CHIBO_VARIANT = Path(__file__).resolve().with_name("chibo_variant.py")
POSTGRES_URL = os.environ.get(
    "CHIBO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

GOAL_FRACTION = 0.60  # chibo's throughput as a fraction of the echo bot's, without the limiter
GOAL_P95_MS = 300.0  # press -> next question, as a member with think time feels it
GOAL_MEMORY_MB = 200.0
TELEGRAM_RATE = 0.95 * 30  # what bot.channels.telegram.rate_limiter lets out per second
STEPS = 18  # updates per member: /assess, 16 answers, submit

QUESTION = re.compile(r"Câu (\d+)/(\d+)")
REVIEW = "Xem lại"
SUBMITTED = "Đã gửi bản tự đánh giá"
FREE_TEXT = "Không có đề xuất gì thêm ạ"
GENERIC_ERROR = "đã có lỗi xảy ra"  # handlers.error_outcome: the turn failed
INVITE_CODE = re.compile(r"code: (\S+)")
MAX_INVITE_USES = 200  # handlers.secretary.MAX_INVITE_USES
SECRETARY_ID = 100
SOLO_ID = 9_999
FIRST_MEMBER_ID = 10_000

Kind = Literal["message", "edit", "delete"]
_query_ids = itertools.count(7_000_000_000_000_000)


# --------------------------------------------------------------------------- fake API


class BenchAPI(FakeBotAPI):
    """A FakeBotAPI that hands each chat's next screen change to the one waiting for it.

    The harness's ``expect_*`` re-scan the outbox on every change for every waiter,
    which costs O(members) per request with hundreds of members waiting; here each
    chat has a queue of unread events and at most one waiter.
    """

    def __init__(self, *, delay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delay = delay
        self._unread: dict[ChatId, collections.deque[OutboxEvent]] = {}
        self._waiters: dict[ChatId, asyncio.Future[OutboxEvent]] = {}
        self.last_unsolicited = 0.0

    async def __aenter__(self) -> BenchAPI:
        await self.start()
        return self

    async def _answer(self, method: str, params: JSON) -> tuple[int, JSON]:
        """Like Telegram far away: ``delay`` seconds before answering (not getUpdates)."""
        if self.delay and method.lower() != "getupdates":
            await asyncio.sleep(self.delay)
        return await super()._answer(method, params)

    def _emit(self, kind: Kind, method: str, m: Any) -> None:
        super()._emit(kind, method, m)
        event = self.outbox[-1]
        waiter = self._waiters.pop(event.chat_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(event)
        else:
            self._unread.setdefault(event.chat_id, collections.deque()).append(event)
            self.last_unsolicited = event.at

    async def next_event(self, chat_id: int, timeout: float) -> OutboxEvent:
        """The chat's next message/edit/delete by the bot (its ``at`` is when it arrived)."""
        unread = self._unread.get(chat_id)
        if unread:
            return unread.popleft()
        waiter: asyncio.Future[OutboxEvent] = asyncio.get_running_loop().create_future()
        self._waiters[chat_id] = waiter
        try:
            return await asyncio.wait_for(waiter, timeout)
        finally:
            if self._waiters.get(chat_id) is waiter:
                del self._waiters[chat_id]

    def drop_unread(self) -> int:
        """Forget the events nobody waited for (e.g. notifications); return how many."""
        dropped = sum(len(q) for q in self._unread.values())
        self._unread.clear()
        return dropped


# --------------------------------------------------------------------------- users


class Member:
    """One simulated person: pushes an update, waits for the bot's answer to it.

    Other messages to the chat meanwhile (the bot's own notifications, e.g. "the
    self-assessment is open") are skipped and counted in :attr:`skipped`.
    """

    def __init__(self, api: BenchAPI, user_id: int, first: str, last: str, timeout: float):
        self.api = api
        self.user = TelegramUser(api, user_id, first, last)
        self.timeout = timeout
        self.answer_ms: list[float] = []
        self.other_ms: list[float] = []
        self.skipped: list[OutboxEvent] = []
        self.last_at = 0.0

    @property
    def chat_id(self) -> int:
        return self.user.chat_id

    async def _step(
        self,
        update: JSON,
        accept: Callable[[OutboxEvent], bool],
        timing: list[float] | None,
        what: str,
    ) -> BotMessage:
        started = time.monotonic()
        deadline = started + self.timeout
        await self.api.push_update(update)
        skipped: list[OutboxEvent] = []
        while True:
            try:
                event = await self.api.next_event(self.chat_id, deadline - time.monotonic())
            except TimeoutError:
                seen = "".join(f"\n    skipped: {e.kind} {e.message}" for e in skipped)
                raise BenchError(
                    f"{self.user}: no {what} within {self.timeout:.0f} s{seen}"
                ) from None
            if accept(event):
                break
            if event.kind == "message" and GENERIC_ERROR in (event.message.text or ""):
                raise BenchError(f"{self.user}: the bot's error message instead of the {what}")
            skipped.append(event)
        self.skipped += skipped
        if timing is not None:
            timing.append((event.at - started) * 1000)
        self.last_at = event.at
        return event.message

    async def send(
        self,
        text: str,
        timing: list[float] | None = None,
        contains: str | re.Pattern[str] | Sequence[str] = (QUESTION.pattern, REVIEW),
    ) -> BotMessage:
        """Type ``text``; return the bot's next new message that matches ``contains``
        (a substring, or any of several regular expressions)."""

        def accept(event: OutboxEvent) -> bool:
            if event.kind != "message":
                return False
            shown = event.message.text or ""
            if isinstance(contains, str):
                return contains in shown
            patterns = [contains] if isinstance(contains, re.Pattern) else contains
            return any(re.search(p, shown) for p in patterns)

        update = {"message": self.user.make_message(text)}
        return await self._step(update, accept, timing, f"answer to {text!r} ({contains})")

    async def press(self, data: str, message_id: int, timing: list[float] | None) -> BotMessage:
        """Press a button of ``message_id``; return that message as the bot edited it."""
        query = {
            "id": str(next(_query_ids)),
            "from": self.user.user_dict,
            "message": self.api.message_dict(self.chat_id, message_id),
            "chat_instance": f"-{self.chat_id}0",
            "data": data,
        }

        def accept(event: OutboxEvent) -> bool:
            return event.kind == "edit" and event.message.message_id == message_id

        update = {"callback_query": query}
        return await self._step(update, accept, timing, f"edit after pressing {data!r}")


def _verb(data: str) -> str:
    parts = data.split(":")
    return parts[1] if len(parts) > 1 else ""


def _button(screen: BotMessage, verb: str) -> str | None:
    """The callback data of the first button of ``screen`` whose verb is ``verb``."""
    for row in screen.buttons:
        for _text, data in row:
            if data and _verb(data) == verb:
                return data
    return None


Think = Callable[[], float]


def no_think() -> float:
    return 0.0


async def assess(member: Member, think: Think) -> int:
    """/assess, first option of every question, the free text, submit; return #answers.

    ``think()`` is the pause (seconds) before each answer and before submitting.
    """
    screen = await member.send("/assess", member.other_ms)
    expected = 1
    total: int | None = None
    for _ in range(100):
        text = screen.text or ""
        found = QUESTION.search(text)
        if found:
            number, total = int(found[1]), int(found[2])
            if number != expected:
                raise BenchError(f"{member.user}: expected question {expected}, got {text[:60]!r}")
            await _pause(think())
            answer = _button(screen, "ans")
            if answer is not None:
                screen = await member.press(answer, screen.message_id, member.answer_ms)
            else:
                screen = await member.send(FREE_TEXT, member.answer_ms)
            expected += 1
        elif REVIEW in text:
            if total is None or expected != total + 1:
                raise BenchError(f"{member.user}: review after {expected - 1} answers")
            submit = _button(screen, "submit")
            if submit is None:
                raise BenchError(f"{member.user}: no submit button on the review: {screen}")
            await _pause(think())
            screen = await member.press(submit, screen.message_id, member.other_ms)
            if not screen.contains(SUBMITTED):
                raise BenchError(f"{member.user}: not submitted: {screen}")
            return expected - 1
        else:
            raise BenchError(f"{member.user}: unexpected screen: {screen}")
    raise BenchError(f"{member.user}: no review screen after 100 steps")


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


# --------------------------------------------------------------------------- processes


_live: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Last resort if the event loop died before the processes were stopped."""
    for process in list(_live):
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()


class ChiboProcess(BotProcess):
    """``chibo run`` (the harness's BotProcess), remembered for the atexit safety net."""

    def launch(self) -> None:
        super().launch()
        assert self.process is not None
        _live.add(self.process)


class ScriptProcess(BotProcess):
    """``python SCRIPT ARGS`` with BotProcess's start/stop/log handling."""

    def __init__(self, env: dict[str, str], script: Path, *args: str, workdir: Path) -> None:
        super().__init__(env, args, workdir=workdir)
        self.script = script

    def launch(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.script.name} is already running")
        self._close_log()
        self._log = self.log_path.open("ab")
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        self.process = subprocess.Popen(
            [sys.executable, str(self.script), *self.args],
            env=env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _live.add(self.process)


class RssSampler:
    """Samples the process's VmRSS every ``interval`` seconds while running."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.peak_kb = max(self.peak_kb, proc_status_kb(self.pid, "VmRSS"))
                self.samples += 1
            await asyncio.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


class Profiler:
    """Optional py-spy sampling of the bot during the measured phase (``--py-spy DIR``)."""

    def __init__(self, executable: str | None, out: Path | None, name: str, pid: int) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        self.path = out / f"{safe}.collapsed.txt" if out and executable else None
        self.process: subprocess.Popen[bytes] | None = None
        if self.path is not None and executable is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # --gil: only threads running Python (not the driver threads waiting for work)
            argv = [executable, "record", "--pid", str(pid), "--rate", "250", "--gil"]
            argv += ["--format", "raw"]
            argv += ["--output", str(self.path), "--nonblocking"]
            self.process = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _live.add(self.process)

    async def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)
        for _ in range(100):
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        else:
            self.process.kill()


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    """The figures of one measured phase."""

    name: str
    members: int
    answers: int = 0
    updates: int = 0
    wall: float = 0.0
    answer_ms: list[float] = field(default_factory=list)
    other_ms: list[float] = field(default_factory=list)
    solo_ms: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unasked: int = 0
    log_lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rss_peak_mb: float = 0.0
    hwm_mb: float = 0.0
    cpu_s: float = 0.0
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    failed_calls: int = 0
    log_errors: int = 0
    setup_s: float = 0.0
    profile: Path | None = None

    @property
    def throughput(self) -> float:
        return self.answers / self.wall if self.wall > 0 else 0.0

    @property
    def peak_mb(self) -> float:
        return max(self.rss_peak_mb, self.hwm_mb)

    def p(self, q: float) -> float:
        return percentile(self.answer_ms, q)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _mb(kb: int | float) -> float:
    return kb / 1024


def print_result(r: Result) -> None:
    print(
        f"  measured: {r.answers} answers (+{r.updates - r.answers} /assess and submit) "
        f"in {r.wall:.1f} s; setup took {r.setup_s:.1f} s"
    )
    print(
        f"  throughput      {r.throughput:8.1f} answers/s   ({r.updates / r.wall:.1f} updates/s)"
        if r.wall
        else "  throughput      n/a"
    )
    print(
        f"  latency/answer  p50 {r.p(50):7.0f} ms   p95 {r.p(95):7.0f} ms   "
        f"max {max(r.answer_ms, default=float('nan')):7.0f} ms"
    )
    if r.other_ms:
        print(
            f"  /assess, submit p50 {percentile(r.other_ms, 50):7.0f} ms   "
            f"p95 {percentile(r.other_ms, 95):7.0f} ms   max {max(r.other_ms):7.0f} ms"
        )
    if r.solo_ms:
        print(
            f"  one member alone p50 {percentile(r.solo_ms, 50):6.0f} ms   "
            f"p95 {percentile(r.solo_ms, 95):7.0f} ms   max {max(r.solo_ms):7.0f} ms"
            "   (before the concurrent phase)"
        )
    print(f"  bot memory      peak RSS sampled {r.rss_peak_mb:.1f} MB, VmHWM {r.hwm_mb:.1f} MB")
    if r.wall and r.updates:
        print(
            f"  bot CPU         {r.cpu_s:.1f} s = {100 * r.cpu_s / r.wall:.0f} % of one core, "
            f"{1000 * r.cpu_s / r.updates:.1f} ms per update"
        )
    calls = ", ".join(f"{m} {n}" for m, n in r.calls.most_common())
    print(f"  Bot API calls   {calls}; failed calls: {r.failed_calls}")
    if r.unasked:
        print(f"  unasked         {r.unasked} message(s) the members did not ask for (skipped)")
    print(
        f"  errors          {len(r.failed)} member(s) failed, {r.log_errors} ERROR line(s) in "
        "the bot log"
    )
    for problem in r.failed[:5]:
        print(f"    {problem}")
    for line in r.log_lines:
        print(f"    log: {line}")
    for warning in r.warnings:
        print(f"  WARNING         {warning}")
    if r.profile is not None:
        print(f"  py-spy profile  {r.profile}")
        for line in summarize_profile(r.profile):
            print(f"    {line}")


PACKAGES = {
    "bot": "chibo code (bot/, handlers/, storage/)",
    "handlers": "chibo code (bot/, handlers/, storage/)",
    "storage": "chibo code (bot/, handlers/, storage/)",
    "sqlalchemy": "SQLAlchemy",
    "greenlet": "SQLAlchemy",
    "asyncpg": "database driver (asyncpg / aiosqlite + sqlite3)",
    "aiosqlite": "database driver (asyncpg / aiosqlite + sqlite3)",
    "sqlite3": "database driver (asyncpg / aiosqlite + sqlite3)",
    "threading": "database driver (asyncpg / aiosqlite + sqlite3)",
    "queue": "database driver (asyncpg / aiosqlite + sqlite3)",
    "telegram": "python-telegram-bot",
    "httpx": "HTTP client (httpx, httpcore, h11, anyio)",
    "httpcore": "HTTP client (httpx, httpcore, h11, anyio)",
    "h11": "HTTP client (httpx, httpcore, h11, anyio)",
    "anyio": "HTTP client (httpx, httpcore, h11, anyio)",
    "asyncio": "asyncio event loop",
    "selectors": "asyncio event loop",
    "json": "json",
    "babel": "babel / gettext",
    "gettext": "babel / gettext",
}


def _frame_package(frame: str) -> str:
    """``func (path/to/file.py:12)`` -> its top-level package or module name."""
    inside = frame.rpartition(" (")[2].rstrip(")")
    path = inside.rsplit(":", 1)[0]
    if path.startswith("<frozen "):
        return path[len("<frozen ") : -1].split(".")[0]
    first = path.split("/", 1)[0]
    return first.removesuffix(".py")


def summarize_profile(path: Path, top: int = 10) -> list[str]:
    """Self time by package and the hottest functions of a py-spy ``--format raw`` file."""
    if not path.exists():
        return ["(no profile written)"]
    by_package: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or not stack:
            continue
        count = int(count_text)
        frames = [_short_frame(f) for f in stack.split(";") if f]
        total += count
        package = _frame_package(frames[-1])
        by_package[PACKAGES.get(package, package)] += count
        leaf[frames[-1]] += count
    if not total:
        return ["(empty profile)"]
    lines = [f"self time by package ({total} samples of the bot's threads):"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in by_package.most_common(top)]
    lines.append("hottest functions (self time):")
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in leaf.most_common(top)]
    return lines


ROOT = Path(__file__).resolve().parents[1]


def _short_frame(frame: str) -> str:
    """``func (/long/path/pkg/mod.py:12)`` -> ``func (pkg/mod.py:12)``."""
    name, _, where = frame.partition(" (")
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3.11/"):
        if marker in where:
            return f"{name} ({where.split(marker, 1)[1]}"
    return frame


# --------------------------------------------------------------------------- scenarios


@dataclass
class Options:
    members: int
    think_range: tuple[float, float]  # seconds before each answer, drawn uniformly
    arrival_s: float  # the members' starts are spread uniformly over this many seconds
    latency_mode: bool
    api_delay: float
    step_timeout: float
    keep: bool
    rate_limiter: bool
    concurrent_updates: int
    py_spy: str | None
    profile_dir: Path | None
    postgres_url: str

    def think(self) -> float:
        low, high = self.think_range
        return random.uniform(low, high) if high > 0 else 0.0

    @property
    def variant(self) -> str:
        """The name suffix of a what-if run ("" for the real configuration)."""
        changes = [] if self.rate_limiter else ["no limiter"]
        if self.concurrent_updates > 1:
            changes.append(f"concurrent {self.concurrent_updates}")
        return f" [{', '.join(changes)}]" if changes else ""

    def variant_env(self) -> dict[str, str]:
        env = {} if self.rate_limiter else {"BENCH_NO_RATE_LIMIT": "1"}
        if self.concurrent_updates > 1:
            env["BENCH_CONCURRENT_UPDATES"] = str(self.concurrent_updates)
        return env


async def _count_identities(url: str) -> int | None:
    """How many chat identities the database holds (None if it cannot be read)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM chat_identities"))
        return int(count or 0)
    except SQLAlchemyError:
        return None
    finally:
        await engine.dispose()


async def _cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    done = await arun_cli(list(args), env, cwd=workdir, timeout=180)
    if done.returncode != 0:
        raise BenchError(
            f"chibo {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def _members(api: BenchAPI, n: int, timeout: float) -> list[Member]:
    return [
        Member(api, FIRST_MEMBER_ID + i, "Đảng viên", f"{i + 1:03d}", timeout) for i in range(n)
    ]


async def _join_members(secretary: Member, members: list[Member]) -> None:
    """The secretary makes invites (≤ 200 uses each) and the members join with them."""
    codes: list[str] = []
    for start in range(0, len(members), MAX_INVITE_USES):
        uses = min(MAX_INVITE_USES, len(members) - start)
        invite = await secretary.send(f"/invite {uses} 7", contains="Mã:")
        codes += [(invite.text or "").split("Mã: ")[1].split()[0]] * uses
    await asyncio.gather(
        *(
            m.send(f"/start {code}", contains="Chào mừng")
            for m, code in zip(members, codes, strict=True)
        )
    )


def _scheduler_interval() -> float | None:
    """chibo's SCHEDULER_INTERVAL_SECONDS (its notification ticks), if this chibo has one."""
    from bot.core.config import Settings

    value = getattr(Settings(_env_file=None), "scheduler_interval_seconds", None)  # type: ignore[call-arg]
    return float(value) if value else None


async def _settle(api: BenchAPI) -> tuple[int, float]:
    """Wait until the bot sent nothing unasked (notifications) for one scheduler tick + 2 s.

    Returns how many such messages were dropped and how long it took; a chibo without
    a scheduler is not waited for.
    """
    interval = _scheduler_interval()
    started = time.monotonic()
    if interval is not None:
        quiet = interval + 2
        while True:
            now = time.monotonic()
            if now - max(api.last_unsolicited, started) >= quiet or now - started > 3 * quiet:
                break
            await asyncio.sleep(0.2)
    return api.drop_unread(), time.monotonic() - started


async def _solo(member: Member, opts: Options) -> list[float]:
    """One member alone (the bot idle otherwise): the latency without queueing."""
    await asyncio.sleep(1.5)  # let the rate limiter's bucket drain after the setup
    await assess(member, no_think)
    await asyncio.sleep(1.5)
    return member.answer_ms


async def _measure(
    name: str,
    api: BenchAPI,
    bot: BotProcess,
    members: list[Member],
    opts: Options,
) -> Result:
    """All members do the assessment (starting within ``arrival_s``); the bot is watched."""
    pid = bot.pid
    assert pid is not None
    result = Result(name, len(members))
    calls_before = len(api.calls)
    log_before = bot.log_text().count(" ERROR ")
    profiler = Profiler(opts.py_spy, opts.profile_dir, name, pid)
    cpu_before = proc_cpu_seconds(pid)
    started = time.monotonic()
    with RssSampler(pid) as sampler:

        async def arrive(member: Member) -> int:
            await _pause(random.uniform(0, opts.arrival_s))
            return await assess(member, opts.think)

        outcomes = await asyncio.gather(*(arrive(m) for m in members), return_exceptions=True)
        finished = max((m.last_at for m in members), default=started)
        result.cpu_s = proc_cpu_seconds(pid) - cpu_before
        result.hwm_mb = _mb(proc_status_kb(pid, "VmHWM"))
        result.rss_peak_mb = _mb(max(sampler.peak_kb, proc_status_kb(pid, "VmRSS")))
    await profiler.stop()
    result.profile = profiler.path
    result.wall = max(finished - started, 1e-9)
    for member, outcome in zip(members, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome
            result.failed.append(str(outcome))
        result.answer_ms += member.answer_ms
        result.other_ms += member.other_ms
        result.unasked += len(member.skipped)
    result.answers = len(result.answer_ms)  # acknowledged answers, also of failed members
    result.updates = len(result.answer_ms) + len(result.other_ms)
    measured_calls = api.calls[calls_before:]
    result.calls.update(c.method for c in measured_calls)
    result.failed_calls = sum(1 for c in measured_calls if c.status not in (None, 200))
    result.log_errors = bot.log_text().count(" ERROR ") - log_before
    if not bot.running:
        raise BenchError(f"{name}: the bot died; log:\n{bot.log_tail()}")
    return result


async def run_chibo(backend: str, opts: Options) -> Result:
    """Fresh database, migrate, cell, ``chibo run``, secretary, open month, members; measure."""
    name = f"chibo/{backend}" + opts.variant
    print(f"\n== {name}: {opts.members} members ==", flush=True)
    setup_started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"chibo-bench-{backend}-"))
    try:
        async with BenchAPI(delay=opts.api_delay) as api:
            overrides = {"LOG_LEVEL": "WARNING"}
            if backend == "postgresql":
                await reset_postgres(opts.postgres_url)
                overrides["DATABASE_URL"] = opts.postgres_url
            env = bot_env(api, workdir, **overrides)
            await _cli(env, workdir, "migrate")
            created = await _cli(
                env, workdir, "cell", "create", "Chi bộ đo tải", "--committee", "Đảng bộ đo tải"
            )
            code = INVITE_CODE.search(created)
            if code is None:
                raise BenchError(f"no invite code in:\n{created}")
            env.update(opts.variant_env())
            bot: BotProcess = (
                ScriptProcess(env, CHIBO_VARIANT, "run", workdir=workdir)
                if opts.variant
                else ChiboProcess(env, workdir=workdir)
            )
            async with bot:
                await bot.start(api, timeout=60)
                secretary = Member(api, SECRETARY_ID, "An", "Nguyễn", opts.step_timeout)
                await secretary.send(f"/start {code[1]}", contains="bí thư")
                deadline = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%d 19:30")
                await secretary.send(f"/open {deadline}", contains="Đã mở đợt tự đánh giá")
                members = _members(api, opts.members, opts.step_timeout)
                solo = Member(api, SOLO_ID, "Đảng viên", "đo riêng", opts.step_timeout)
                await _join_members(secretary, [solo, *members])
                dropped, waited = await _settle(api)
                print(
                    f"  waited {waited:.0f} s for the bot's notifications to settle "
                    f"({dropped} unasked message(s) during setup)",
                    flush=True,
                )
                setup_s = time.monotonic() - setup_started
                print(f"  setup done in {setup_s:.1f} s; measuring…", flush=True)
                solo_ms = await _solo(solo, opts)
                result = await _measure(name, api, bot, members, opts)
                result.setup_s = setup_s
                result.solo_ms = solo_ms
                if result.log_errors:
                    errors = [line for line in bot.log_text().splitlines() if " ERROR " in line]
                    result.log_lines = [line[:240] for line in errors[:3]]
                identities = await _count_identities(env["DATABASE_URL"])
                if identities != len(members) + 2:
                    result.warnings.append(
                        f"the database has {identities} chat identities instead of "
                        f"{len(members) + 2} after the run: something else changed it "
                        "(the test suite resetting the shared PostgreSQL database?); "
                        "these figures are not valid"
                    )
        print_result(result)
        return result
    finally:
        if opts.keep:
            print(f"  kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def run_echo(opts: Options) -> Result:
    """The bare PTB echo bot against a fresh fake API, driven by the same members."""
    name = "echo (bare PTB)" + opts.variant
    print(f"\n== {name}: {opts.members} members ==", flush=True)
    setup_started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="chibo-bench-echo-"))
    try:
        async with BenchAPI(delay=opts.api_delay) as api:
            env = {
                "TELEGRAM_BOT_TOKEN": api.token,
                "TELEGRAM_API_URL": api.base_url,
                "LOG_LEVEL": "WARNING",
            }
            env.update(opts.variant_env())
            async with ScriptProcess(env, ECHO_BOT, workdir=workdir) as bot:
                await bot.start(api, timeout=60)
                members = _members(api, opts.members, opts.step_timeout)
                solo = Member(api, SOLO_ID, "Đảng viên", "đo riêng", opts.step_timeout)
                setup_s = time.monotonic() - setup_started
                print(f"  setup done in {setup_s:.1f} s; measuring…", flush=True)
                solo_ms = await _solo(solo, opts)
                result = await _measure(name, api, bot, members, opts)
                result.setup_s = setup_s
                result.solo_ms = solo_ms
        print_result(result)
        return result
    finally:
        if opts.keep:
            print(f"  kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _verdict(ok: bool, r: Result) -> str:
    if r.warnings:
        return "INVALID (see the warning)"
    if r.failed:
        return ("PASS" if ok else "FAIL") + " (incomplete: members failed)"
    return "PASS" if ok else "FAIL"


def _cpu_ms(r: Result) -> float:
    return 1000 * r.cpu_s / r.updates if r.updates else float("nan")


def print_summary(results: list[Result], echo: Result | None, opts: Options) -> None:
    print("\n== summary ==")
    header = (
        f"{'bot':<34} {'answers/s':>9} {'vs echo':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'max ms':>8} {'peak MB':>8} {'CPU ms/upd':>10} {'failed':>6}"
    )
    print(header)
    for r in [*results, *([echo] if echo else [])]:
        ratio = r.throughput / echo.throughput if echo and echo.throughput else float("nan")
        print(
            f"{r.name:<34} {r.throughput:>9.1f} {ratio:>7.2f} {r.p(50):>8.0f} {r.p(95):>8.0f} "
            f"{max(r.answer_ms, default=float('nan')):>8.0f} {r.peak_mb:>8.1f} "
            f"{_cpu_ms(r):>10.1f} {len(r.failed):>6}"
        )
    print("\n== goals (issues 3 and 8) ==")
    for r in results:
        if opts.rate_limiter:
            print(
                f"{r.name}: throughput vs echo: n/a (both bots are capped by the rate limiter; "
                "measure it with --rate-limiter off)"
            )
        elif echo is not None and echo.throughput > 0:
            fraction = r.throughput / echo.throughput
            print(
                f"{r.name}: throughput {fraction:.2f} of the echo bot's (goal ≥ {GOAL_FRACTION}), "
                f"CPU {_cpu_ms(r):.1f} ms per update against {_cpu_ms(echo):.1f} ms: "
                f"{_verdict(fraction >= GOAL_FRACTION, r)}"
            )
        else:
            print(f"{r.name}: throughput vs echo: n/a (the echo bot was not measured)")
        if opts.latency_mode:
            print(
                f"{r.name}: p95 press → next question {r.p(95):.0f} ms "
                f"(goal < {GOAL_P95_MS:.0f} ms): {_verdict(r.p(95) < GOAL_P95_MS, r)}"
            )
        else:
            print(
                f"{r.name}: p95 latency: n/a (members answer back to back: queueing; "
                "the goal is measured with --mode latency)"
            )
        print(
            f"{r.name}: peak memory {r.peak_mb:.1f} MB (goal < {GOAL_MEMORY_MB:.0f} MB): "
            f"{_verdict(r.peak_mb < GOAL_MEMORY_MB, r)}"
        )
        for warning in r.warnings:
            print(f"{r.name}: WARNING: {warning}")
    failed = [r for r in [*results, *([echo] if echo else [])] if r.failed]
    for r in failed:
        print(f"FAILED: {len(r.failed)} of {r.members} members of {r.name} did not finish")
    if not failed:
        print("every member finished")


def offered_load(opts: Options) -> float:
    """Updates per second the members send while all of them are active at once (a bound)."""
    mean_think = sum(opts.think_range) / 2
    session = STEPS * mean_think
    return opts.members * STEPS / (opts.arrival_s + session) if opts.arrival_s + session else 0


async def run(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    py_spy = None
    if args.py_spy:
        py_spy = shutil.which("py-spy") or shutil.which(args.py_spy) or args.py_spy
        if not Path(py_spy).exists():
            print(f"py-spy not found ({args.py_spy}); profiling is off")
            py_spy = None
    opts = Options(
        members=args.members,
        think_range=args.think,
        arrival_s=args.arrival_s,
        latency_mode=args.mode == "latency",
        api_delay=args.api_delay_ms / 1000,
        step_timeout=args.step_timeout,
        keep=args.keep,
        rate_limiter=args.rate_limiter == "on",
        concurrent_updates=args.concurrent_updates,
        py_spy=py_spy,
        profile_dir=Path(args.profile_dir) if py_spy else None,
        postgres_url=args.postgres_url,
    )
    low, high = opts.think_range
    print(
        f"assessment {args.mode}: {opts.members} members, backends {', '.join(backends)}, "
        f"think time {low:g}-{high:g} s, starts spread over {opts.arrival_s:.0f} s, "
        f"rate limiter {args.rate_limiter}, timeout {args.timeout:.0f} s"
    )
    if opts.arrival_s or high:
        load = offered_load(opts)
        print(
            f"  offered load about {load:.1f} updates/s "
            f"({load / TELEGRAM_RATE:.0%} of the limiter's {TELEGRAM_RATE:.1f}/s)"
        )
    results: list[Result] = []
    echo: Result | None = None
    for backend in backends:
        results.append(await run_chibo(backend, opts))
    if not args.skip_echo:
        echo = await run_echo(opts)
    print_summary(results, echo, opts)
    return 1 if any(r.failed for r in [*results, *([echo] if echo else [])]) else 0


def _seconds_range(text: str) -> tuple[float, float]:
    """``5-20`` -> (5, 20); ``2`` -> (2, 2)."""
    low, _, high = text.partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not seconds or a range of seconds: {text!r}") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"not a range from low to high: {text!r}")
    return bounds


LATENCY_DEFAULTS = {"members": 2000, "think": (5.0, 20.0), "rate_limiter": "on", "load": 0.7}
QUICK_LATENCY = {"members": 200, "think": (1.0, 4.0)}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.assessment_throughput",
        description="Issues 3 and 8: N members answer the 16 questions; chibo vs a bare "
        "python-telegram-bot echo bot (throughput), or what a member feels (latency).",
    )
    parser.add_argument(
        "--mode",
        choices=["throughput", "latency"],
        default="throughput",
        help="throughput: all members back to back, against the echo bot; latency: 2,000 "
        "members with 5-20 s think time, limiter on, p95 press → next question (throughput)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="latency mode: 200 members, 1-4 s think time"
    )
    parser.add_argument(
        "--members", type=int, help="simulated members (throughput 200, latency 2,000)"
    )
    parser.add_argument(
        "--backend", choices=["sqlite", "postgresql", "both"], default="both", help="(both)"
    )
    parser.add_argument(
        "--timeout", type=float, help="time limit of the whole run in seconds (900; latency 3,600)"
    )
    parser.add_argument(
        "--step-timeout", type=float, default=120, help="longest wait for one answer (120 s)"
    )
    parser.add_argument(
        "--think",
        type=_seconds_range,
        metavar="S[-S]",
        help="pause before each answer, e.g. 5-20 (throughput 0: back to back; latency 5-20)",
    )
    parser.add_argument(
        "--arrival-s",
        type=float,
        help="spread the members' starts over this many seconds (throughput 0; latency: "
        "so that the offered load is --load of the rate limiter's)",
    )
    parser.add_argument(
        "--load",
        type=float,
        help="latency mode: the offered load as a fraction of the limiter's rate (0.7)",
    )
    parser.add_argument(
        "--api-delay-ms",
        type=float,
        default=0,
        help="the fake API waits this long before each answer, like a distant server (0)",
    )
    parser.add_argument(
        "--rate-limiter",
        choices=["on", "off"],
        help="off: both bots without AIORateLimiter's 30/s cap (on)",
    )
    parser.add_argument(
        "--concurrent-updates",
        type=int,
        default=1,
        metavar="N",
        help="what-if: both bots with PTB's concurrent_updates(N) (1: as shipped)",
    )
    parser.add_argument("--skip-echo", action="store_true", help="do not run the echo bot")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="(the test database)")
    parser.add_argument(
        "--py-spy",
        metavar="EXE",
        help="profile the bot with this py-spy during the measured phase (e.g. py-spy)",
    )
    parser.add_argument(
        "--profile-dir", default="bench-profiles", help="where py-spy writes (bench-profiles)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (bot logs)")
    args = parser.parse_args(argv)
    latency = args.mode == "latency"
    defaults: dict[str, Any] = (
        {**LATENCY_DEFAULTS, **(QUICK_LATENCY if args.quick else {}), "timeout": 3600}
        if latency
        else {"members": 200, "think": (0.0, 0.0), "rate_limiter": "on", "timeout": 900}
    )
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.members < 1:
        parser.error("--members must be at least 1")
    if args.arrival_s is None:
        args.arrival_s = 0.0
        if latency:  # N * STEPS / (arrival + session) = load * rate
            session = STEPS * sum(args.think) / 2
            args.arrival_s = max(0.0, args.members * STEPS / (args.load * TELEGRAM_RATE) - session)
    if latency and args.rate_limiter == "off":
        parser.error("the latency goal is measured with the rate limiter on")
    if latency:
        args.skip_echo = True  # the goal is absolute; the echo bot adds nothing here
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_bounded(lambda: run(args), args.timeout, _kill_leftovers)


if __name__ == "__main__":
    sys.exit(main())
