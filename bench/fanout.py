"""Fan-out benchmark: one nudge to each of N members through the real ``chibo worker``.

    python -m bench.fanout --members 10000 --rate 300 --backend sqlite

Setup (not measured): a fresh database (an SQLite file in a temp dir, or the
PostgreSQL test database with its ``public`` schema dropped), ``chibo migrate``, a
committee, a cell and N members (member 0 is the secretary), each with a telegram
chat identity, inserted in bulk through the storage layer; the secretary opens the
month and one ``manual_nudge`` row per member is queued (due now, expires in a day),
as ``/remind`` would, through ``storage.notifications.plan``.

Measured: a fake Bot API (``tests/fakebotapi.py``) that answers 429 beyond
``--rate`` messages per second, and the real ``chibo worker`` process with
``TELEGRAM_RATE_LIMIT=--rate``, ``SCHEDULER_INTERVAL_SECONDS=1``, ``LOG_LEVEL=WARNING``.
From the first ``sendMessage`` to the last: the achieved rate as a fraction of the
limit (goal >= 0.9), the 429 answers (goal 0), messages per chat (exactly 1 each),
the worker's peak memory (VmHWM) and the outbox's status counts at the end.

For diagnosis: ``--concurrency`` (SEND_CONCURRENCY), ``--workers N`` (N worker
processes sharing the limit), ``--what-if timing`` (the worker logs the wall time of
each dispatcher phase), ``--py-spy``.

It exits 0 whether the goals pass or not, 1 if the run itself broke (setup failed,
the worker died, ``--timeout`` passed). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import itertools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, insert, select

from bench.common import (
    BenchError,
    proc_cpu_seconds,
    proc_status_kb,
    reset_postgres,
    run_bounded,
)
from bot.core.config import Settings
from storage.db import Database

if TYPE_CHECKING:
    from tests.fakebotapi import Call, FakeBotAPI
    from tests.harness import BotProcess

POSTGRES_URL = os.environ.get(
    "CHIBO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REPO_ROOT = Path(__file__).resolve().parent.parent
GOAL_RATE_FRACTION = 0.9
DEFAULT_CONCURRENCY = Settings.model_fields["send_concurrency"].default
WHAT_IF_ENV = "BENCH_FANOUT_WHAT_IF"
TIMING = "fanout-timing:"
FIRST_CHAT_ID = 5_000_000  # member i writes from Telegram chat FIRST_CHAT_ID + i
PLAN_CHUNK = 500  # rows per INSERT of the outbox (as bot.services.planner does)
OPEN_STATES = ("pending", "sending")
T = TypeVar("T")


# --------------------------------------------------------------------------- processes

_live: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Last resort if the event loop died before the worker was stopped."""
    for process in list(_live):
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()


def worker_process(env: dict[str, str], workdir: Path, what_if: Sequence[str]) -> BotProcess:
    """``chibo worker`` (the harness's BotProcess), remembered for the atexit safety net.

    With ``what_if`` it runs ``python -m bench.fanout --as-worker`` instead: ``chibo
    worker`` with those changes applied (see :func:`apply_what_if`). The harness is
    imported here, not at the top, so that worker does not load aiohttp.
    """
    from tests.harness import BotProcess

    class WorkerProcess(BotProcess):
        def launch(self) -> None:
            if not what_if:
                super().launch()
            else:
                if self.running:
                    raise RuntimeError("the worker is already running")
                self._close_log()
                self._log = self.log_path.open("ab")
                paths = [str(REPO_ROOT), *filter(None, [self.env.get("PYTHONPATH")])]
                variables = {
                    **os.environ,
                    **self.env,
                    "PYTHONUNBUFFERED": "1",
                    "PYTHONPATH": os.pathsep.join(paths),
                    WHAT_IF_ENV: ",".join(what_if),
                    "NO_PROXY": "127.0.0.1,localhost",
                    "no_proxy": "127.0.0.1,localhost",
                }
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "bench.fanout", "--as-worker"],
                    env=variables,
                    cwd=self.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=self._log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            assert self.process is not None
            _live.add(self.process)

    return WorkerProcess(env, args=("worker",), workdir=workdir)


# --------------------------------------------------------------------------- database


def chat_id_of(index: int) -> int:
    return FIRST_CHAT_ID + index


async def populate(url: str, members: int, now: datetime) -> int:
    """Committee, cell, members with telegram identities, an open month, one nudge each.

    Returns the number of nudges queued. The month is marked as planned, so the
    worker's planner adds no "window open" rows: only the nudges go out.
    """
    from bot.services import periods
    from bot.services.planner import Kind
    from bot.services.setup import create_cell
    from storage import notifications as outbox
    from storage import orgs
    from storage.models import ChatIdentity, Member, MemberStatus, OrgKind, Role

    db = Database(url)
    try:
        async with db.session() as session:
            committee = await orgs.create(session, "Đảng bộ fan-out", OrgKind.COMMITTEE)
            cell = await create_cell(
                session, "Chi bộ fan-out", committee, timezone="Asia/Ho_Chi_Minh", locale="vi"
            )
            long_ago = now - timedelta(days=30)
            rows = [
                {
                    "org_id": cell.id,
                    "full_name": f"Đảng viên {i:05d}",
                    "role": Role.SECRETARY if i == 0 else Role.MEMBER,
                    "status": MemberStatus.OFFICIAL,
                    "joined_at": long_ago,
                    "created_at": long_ago,
                }
                for i in range(members)
            ]
            result = await session.execute(
                insert(Member).returning(Member.id, sort_by_parameter_order=True), rows
            )
            member_ids = list(result.scalars())
            await session.execute(
                insert(ChatIdentity),
                [
                    {
                        "member_id": member_id,
                        "channel": "telegram",
                        "external_id": str(chat_id_of(i)),
                        "created_at": long_ago,
                    }
                    for i, member_id in enumerate(member_ids)
                ],
            )
            secretary = await session.get(Member, member_ids[0])
            opened = await periods.open_period(
                session, cell, secretary, now, deadline=now + timedelta(days=3)
            )
            period = opened.period
            period.planned_version, period.planned_at = period.schedule_version, now
            nudges = [  # the rows bot.services.meetings.manual_nudge queues for /remind
                outbox.row(
                    member_id,
                    period.id,
                    Kind.MANUAL_NUDGE,
                    now.strftime("manual-%Y%m%d%H%M"),
                    now,
                    now + timedelta(days=1),
                )
                for member_id in member_ids
            ]
            for start in range(0, len(nudges), PLAN_CHUNK):
                await outbox.plan(session, nudges[start : start + PLAN_CHUNK])
        return len(nudges)
    finally:
        await db.dispose()


async def outbox_counts(db: Database) -> Counter[tuple[str, str]]:
    """Rows of the notifications table by (kind, status)."""
    from storage.models import Notification

    async with db.session() as session:
        rows = await session.execute(
            select(Notification.kind, Notification.status, func.count()).group_by(
                Notification.kind, Notification.status
            )
        )
        return Counter({(kind, status): count for kind, status, count in rows.all()})


# --------------------------------------------------------------------------- measuring


@dataclass
class Options:
    members: int
    rate: float
    backend: str
    limiter_rate: float | None
    concurrency: int | None
    postgres_url: str
    settle: float
    keep: bool
    workers: int = 1
    what_if: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    py_spy: str | None = None


@dataclass
class Sample:
    """One worker process as the monitor saw it."""

    pid: int
    cpu_at_first: float = 0.0
    cpu_at_done: float = 0.0
    rss_peak_kb: int = 0
    hwm_kb: int = 0


@dataclass
class Run:
    """What the monitor saw while the workers sent."""

    launched_at: float = 0.0
    first_seen_at: float | None = None
    done_at: float | None = None
    workers: list[Sample] = field(default_factory=list)
    bench_cpu: float = 0.0
    outbox: Counter[tuple[str, str]] = field(default_factory=Counter)


def _sends(api: FakeBotAPI) -> list[Call]:
    return [c for c in api.calls if c.method.lower() == "sendmessage"]


async def watch(api: FakeBotAPI, workers: Sequence[BotProcess], db: Database, settle: float) -> Run:
    """Sample the workers until no nudge is pending or being sent, then `settle` seconds more."""
    run = Run(launched_at=time.monotonic())
    for worker in workers:
        assert worker.pid is not None
        run.workers.append(Sample(worker.pid))
    bench_cpu = time.process_time()
    next_poll = 0.0
    while True:
        for worker in workers:
            if not worker.running:
                raise BenchError(
                    f"chibo worker exited with code {worker.returncode}; "
                    f"log:\n{worker.log_tail(30)}"
                )
        for sample in run.workers:
            with contextlib.suppress(OSError, KeyError, ValueError):
                rss = proc_status_kb(sample.pid, "VmRSS")
                sample.rss_peak_kb = max(sample.rss_peak_kb, rss)
        now = time.monotonic()
        if run.first_seen_at is None and api.stats["calls"] and _sends(api):
            run.first_seen_at = now
            for sample in run.workers:
                sample.cpu_at_first = proc_cpu_seconds(sample.pid)
        if now >= next_poll:
            next_poll = now + 1.0
            counts = await outbox_counts(db)
            busy = any(n for (_k, status), n in counts.items() if status in OPEN_STATES)
            if not busy and run.done_at is None:
                run.done_at = now
                for sample in run.workers:
                    sample.cpu_at_done = proc_cpu_seconds(sample.pid)
        if run.done_at is not None and now >= run.done_at + settle:
            break
        await asyncio.sleep(0.1)
    for sample in run.workers:
        sample.hwm_kb = proc_status_kb(sample.pid, "VmHWM")
    run.bench_cpu = time.process_time() - bench_cpu
    run.outbox = await outbox_counts(db)
    return run


# --------------------------------------------------------------------------- figures


def _mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(opts: Options, api: FakeBotAPI, run: Run, expected: int, setup_s: float) -> bool:
    """Print the figures; True if every goal passed."""
    limit = opts.rate
    sends = _sends(api)
    ok_sends = sorted(c.at for c in sends if c.status == 200)
    by_chat = Counter(
        int(e.chat_id) for e in api.outbox if e.kind == "message" and e.method == "sendMessage"
    )
    wanted = {chat_id_of(i) for i in range(expected)}
    once = sum(1 for chat in wanted if by_chat.get(chat) == 1)
    duplicates = {chat: n for chat, n in by_chat.items() if chat in wanted and n > 1}
    missing = sorted(chat for chat in wanted if chat not in by_chat)
    unexpected = {chat: n for chat, n in by_chat.items() if chat not in wanted}
    too_many = api.stats["429"]

    print(f"  setup          {expected} members, identities and nudges in {setup_s:.1f} s")
    if not ok_sends:
        print("  sent           nothing")
        return False
    span = ok_sends[-1] - ok_sends[0]
    rate = (len(ok_sends) - 1) / span if span > 0 else 0.0
    fraction = rate / limit
    print(f"  first send     {ok_sends[0] - run.launched_at:.1f} s after the worker started")
    print(f"  sent           {len(ok_sends)} messages in {span:.1f} s (first to last sendMessage)")
    print(
        f"  rate           {rate:.1f} msg/s = {fraction:.2f} of the {limit:g}/s limit"
        f"   [goal >= {GOAL_RATE_FRACTION}: {_verdict(fraction >= GOAL_RATE_FRACTION)}]"
    )
    seconds = Counter(int(at - ok_sends[0]) for at in ok_sends)
    full = [seconds.get(s, 0) for s in range(int(span))]  # whole seconds only
    if full:
        print(
            f"  per second     min {min(full)}, median {statistics.median(full):g}, "
            f"max {max(full)} messages (whole seconds after the first send)"
        )
    gaps = [b - a for a, b in itertools.pairwise(ok_sends)]
    long_gaps = [g for g in gaps if g > 0.1]
    halts = [g for g in gaps if g >= 1.0]
    if span > 0:
        print(
            f"  pauses         {len(long_gaps)} pauses > 0.1 s without a send, "
            f"{sum(long_gaps):.1f} s in all ({sum(long_gaps) / span:.0%} of the time); "
            f"longest {max(gaps, default=0.0):.2f} s; {len(halts)} of >= 1 s"
        )
    print(f"  429 answers    {too_many}   [goal 0: {_verdict(too_many == 0)}]")
    chats_ok = once == len(wanted) and not duplicates and not unexpected
    print(
        f"  per chat       {once}/{len(wanted)} chats got exactly 1 message; "
        f"duplicates {len(duplicates)}, missing {len(missing)}, other chats {len(unexpected)}"
        f"   [{_verdict(chats_ok)}]"
    )
    if duplicates:
        shown = ", ".join(f"{c}×{n}" for c, n in sorted(duplicates.items())[:20])
        print(f"                 duplicates: {shown}")
    if missing:
        print(f"                 missing: {', '.join(map(str, missing[:20]))}")
    if unexpected:
        print(f"                 other chats: {dict(sorted(unexpected.items())[:20])}")
    calls = Counter((c.method, c.status) for c in api.calls)
    print(
        "  Bot API calls  "
        + ", ".join(f"{m} {s}: {n}" for (m, s), n in sorted(calls.items(), key=str))
    )
    for n, sample in enumerate(run.workers, start=1):
        name = "worker memory " if len(run.workers) == 1 else f"worker {n} mem  "
        print(f"  {name} VmHWM {_mb(sample.hwm_kb)} (sampled VmRSS peak {_mb(sample.rss_peak_kb)})")
    if run.first_seen_at is not None and run.done_at is not None:
        busy = run.done_at - run.first_seen_at
        cpu = sum(w.cpu_at_done - w.cpu_at_first for w in run.workers)
        if busy > 0:
            print(
                f"  worker CPU     {cpu:.1f} s = {cpu / busy:.0%} of one core while sending, "
                f"{cpu / max(1, len(ok_sends)) * 1000:.2f} ms per message"
            )
    print(f"  bench CPU      {run.bench_cpu:.1f} s (fake Bot API + outbox polling)")
    outbox = ", ".join(f"{k}/{s}: {n}" for (k, s), n in sorted(run.outbox.items()))
    print(f"  notifications  {outbox}")
    sent_rows = sum(n for (_k, s), n in run.outbox.items() if s == "sent")
    return fraction >= GOAL_RATE_FRACTION and too_many == 0 and chats_ok and sent_rows == expected


def _log_problems(worker: BotProcess) -> list[str]:
    return [
        line
        for line in worker.log_text().splitlines()
        if " WARNING " in line or " ERROR " in line or "Traceback" in line
    ]


# --------------------------------------------------------------------------- profiling


def start_py_spy(executable: str, pid: int, out: Path) -> subprocess.Popen[bytes]:
    """Sample the worker (100 Hz, raw collapsed stacks) until :func:`stop_py_spy`."""
    command = [executable, "record", "-p", str(pid), "-r", "100", "--format", "raw", "-o"]
    process = subprocess.Popen(
        [*command, str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _live.add(process)
    return process


async def stop_py_spy(process: subprocess.Popen[bytes]) -> None:
    """SIGINT makes py-spy write its file; kill it if it does not finish in 20 s."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    for _ in range(200):
        if process.poll() is not None:
            return
        await asyncio.sleep(0.1)
    process.kill()


def print_profile(path: Path, top: int = 12) -> None:
    """Where the worker's event loop thread spends its time (idle aiosqlite threads left out)."""
    if not path.exists():
        print("  profile        py-spy wrote nothing (permission to ptrace?)")
        return
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or any("Thread._bootstrap" in f for f in frames):
            continue
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        leaf = frames[-1]
        by_leaf[leaf] += n
        where = leaf[leaf.rfind("(") + 1 :].split(":")[0]
        by_package[where.split("/")[0]] += n
    if not total:
        return
    print(f"  profile        {total} samples of the event loop thread ({path})")
    packages = ", ".join(f"{p} {n / total:.0%}" for p, n in by_package.most_common(8))
    print(f"    self time by package: {packages}")
    project = [
        (frame, n)
        for frame, n in inclusive.most_common()
        if any(f"({p}/" in frame for p in ("bot", "storage", "handlers"))
        and "(bot/app/cli.py" not in frame
    ]
    print("    chibo functions, with what they call:")
    for frame, n in project[:top]:
        print(f"    {n / total:5.0%}  {frame}")
    print("    hottest functions, own time:")
    for frame, n in by_leaf.most_common(8):
        print(f"    {n / total:5.0%}  {frame}")


# --------------------------------------------------------------------------- what-if

WHAT_IFS = {
    "timing": "the worker logs the wall time of each dispatcher phase at exit",
}


def apply_what_if(names: Sequence[str]) -> None:
    """Patch the worker in this process (``--as-worker``) with the named changes."""
    if "timing" in names:
        _timing()


def _timing() -> None:
    """Wall time of each phase; they overlap, as `Dispatcher.run_once` sends while it
    claims and prepares the next batch and records the last."""
    import atexit as at_exit

    from bot.services import notify
    from storage import notifications as outbox

    spent: dict[str, float] = {}
    calls: Counter[str] = Counter()

    def timed(name: str, function: Callable[..., Awaitable[T]]) -> Any:
        async def wrapper(*args: object, **kwargs: object) -> T:
            started = time.monotonic()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.monotonic() - started
                calls[name] += 1

        return wrapper

    outbox.claim_due = timed("claim_due", outbox.claim_due)
    notify.Dispatcher._prepare = timed("_prepare", notify.Dispatcher._prepare)  # type: ignore[method-assign]
    notify.Dispatcher._send = timed("_send", notify.Dispatcher._send)  # type: ignore[method-assign]
    notify.Dispatcher._record_batch = timed("_record_batch", notify.Dispatcher._record_batch)  # type: ignore[method-assign]

    @at_exit.register
    def _report() -> None:
        for name, seconds in spent.items():
            print(
                f"{TIMING} {name}: {seconds:.2f} s in {calls[name]} calls, "
                f"{1000 * seconds / calls[name]:.0f} ms each",
                flush=True,
            )


def as_worker() -> None:
    """``chibo worker`` with the what-ifs of the environment applied."""
    names = [n for n in os.environ.get(WHAT_IF_ENV, "").split(",") if n]
    apply_what_if(names)
    from bot.app import cli

    sys.argv = ["chibo", "worker"]
    cli.main()


# --------------------------------------------------------------------------- the run


async def run(opts: Options) -> int:
    """One fan-out on one backend; prints the figures. 0 when the run completed."""
    from tests.fakebotapi import FakeBotAPI
    from tests.harness import arun_cli, bot_env

    workdir = Path(tempfile.mkdtemp(prefix="chibo-fanout-"))
    limiter = opts.limiter_rate or opts.rate
    per_worker = limiter / opts.workers
    concurrency = (
        opts.concurrency or opts.env.get("SEND_CONCURRENCY") or os.environ.get("SEND_CONCURRENCY")
    )
    extra = "".join(f", {k}={v}" for k, v in opts.env.items() if k != "SEND_CONCURRENCY")
    processes = f"{opts.workers} workers" if opts.workers > 1 else "1 worker"
    print(
        f"fan-out: {opts.members} members, {opts.backend}, Bot API limit {opts.rate:g}/s, "
        f"{processes} with TELEGRAM_RATE_LIMIT={per_worker:g}, "
        f"SEND_CONCURRENCY={concurrency or f'{DEFAULT_CONCURRENCY} (default)'}{extra}",
        flush=True,
    )
    if opts.what_if:
        print(f"  what-if        {', '.join(opts.what_if)} (not chibo as shipped)")
    print(f"  load average   {_loadavg()} before (2 figures per core: other work skews the rate)")
    try:
        if opts.backend == "postgresql":
            await reset_postgres(opts.postgres_url)
            url = opts.postgres_url
        else:
            url = f"sqlite+aiosqlite:///{workdir / 'chibo.sqlite3'}"
        async with FakeBotAPI(global_rate=opts.rate) as api:
            env = bot_env(
                api,
                workdir,
                DATABASE_URL=url,
                TELEGRAM_RATE_LIMIT=f"{per_worker:g}",
                SCHEDULER_INTERVAL_SECONDS="1",
                LOG_LEVEL="WARNING",
            )
            if opts.concurrency:
                env["SEND_CONCURRENCY"] = str(opts.concurrency)
            env.update(opts.env)
            migrated = await arun_cli(["migrate"], env, cwd=workdir, timeout=180)
            if migrated.returncode != 0:
                raise BenchError(f"chibo migrate failed:\n{migrated.stdout}{migrated.stderr}")
            started = time.monotonic()
            queued = await populate(url, opts.members, datetime.now(UTC))
            setup_s = time.monotonic() - started
            db = Database(url)
            workers = [
                worker_process(env, workdir / f"worker{n}", opts.what_if)
                for n in range(1, opts.workers + 1)
            ]
            profile = workdir / "worker1.collapsed.txt"
            spy: subprocess.Popen[bytes] | None = None
            try:
                for worker in workers:
                    worker.launch()
                assert workers[0].pid is not None
                if opts.py_spy:
                    spy = start_py_spy(opts.py_spy, workers[0].pid, profile)
                result = await watch(api, workers, db, opts.settle)
            finally:
                if spy is not None:
                    await stop_py_spy(spy)
                for worker in workers:
                    await worker.stop()
                await db.dispose()
            passed = report(opts, api, result, queued, setup_s)
            if spy is not None:
                print_profile(profile)
            for worker in workers:
                log = worker.log_text().splitlines()
                for line in (line for line in log if line.startswith(TIMING)):
                    print(f"  phase          {line.removeprefix(TIMING).strip()}")
                problems = _log_problems(worker)
                print(f"  worker log     {len(problems)} WARNING/ERROR lines ({worker.log_path})")
                for line in problems[:10]:
                    print(f"                 {line[:160]}")
            print(f"  load average   {_loadavg()} after")
            print(f"  goals          {_verdict(passed)}")
        return 0
    finally:
        if opts.keep:
            print(f"  kept           {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _loadavg() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/loadavg", encoding="ascii") as loadavg:
            one, five, _rest = loadavg.read().split(maxsplit=2)
        return f"{one} (1 min), {five} (5 min) on {os.cpu_count()} cores"
    return "?"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description="Send one nudge to each of N members through the real chibo worker.",
    )
    parser.add_argument("--members", type=int, default=10_000, help="members (10000)")
    parser.add_argument("--rate", type=float, default=300, help="Bot API limit, messages/s (300)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--limiter-rate",
        type=float,
        default=None,
        help="TELEGRAM_RATE_LIMIT of the worker (default: --rate)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="SEND_CONCURRENCY of the worker "
        f"(default: the environment's, else chibo's {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="chibo worker processes; each gets TELEGRAM_RATE_LIMIT / N (1)",
    )
    parser.add_argument(
        "--what-if",
        default="",
        metavar="NAMES",
        help="comma-separated changes to the worker, for diagnosis: " + ", ".join(WHAT_IFS),
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds to keep watching after the outbox is done, for late duplicates (3)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="whole run, seconds (600)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the worker, e.g. SEND_CONCURRENCY=64 (repeatable)",
    )
    parser.add_argument(
        "--py-spy", metavar="EXE", help="profile the worker with this py-spy while it sends"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (worker log)")
    args = parser.parse_args(argv)
    if args.members < 1:
        parser.error("--members must be at least 1")
    if args.rate <= 0:
        parser.error("--rate must be positive")
    if any("=" not in item for item in args.env):
        parser.error("--env takes KEY=VALUE")
    fixed = {"DATABASE_URL", "TELEGRAM_API_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_RATE_LIMIT"}
    if any(item.partition("=")[0] in fixed for item in args.env):
        parser.error(f"--env cannot set {', '.join(sorted(fixed))} (the benchmark sets them)")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    args.what_if = tuple(n.strip() for n in args.what_if.split(",") if n.strip())
    unknown = [n for n in args.what_if if n not in WHAT_IFS]
    if unknown:
        parser.error(f"unknown --what-if {', '.join(unknown)}; known: {', '.join(WHAT_IFS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else list(argv)) == ["--as-worker"]:
        as_worker()
        return 0
    args = parse_args(argv)
    opts = Options(
        members=args.members,
        rate=args.rate,
        backend=args.backend,
        limiter_rate=args.limiter_rate,
        concurrency=args.concurrency,
        postgres_url=args.postgres_url,
        settle=args.settle,
        keep=args.keep,
        workers=args.workers,
        what_if=args.what_if,
        env=dict(item.split("=", 1) for item in args.env),
        py_spy=args.py_spy,
    )

    return run_bounded(lambda: run(opts), args.timeout, _kill_leftovers)


if __name__ == "__main__":
    sys.exit(main())
