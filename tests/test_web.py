"""The process's one HTTP server (bot/app/web.py): the generic webhook route checks the
secret before it reads a byte of the body and caps the body; file links serve a
published file until it expires; uvicorn runs inside the event loop and leaves the
process's signal handlers alone."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import web
from bot.app.web import FileRoute, WebhookRoute, ascii_fallback, build_app, disposition, serving
from bot.core.chat import Attachment
from bot.services import files as file_links
from storage import files
from storage.db import Database
from storage.models import SharedFile

SECRET = "zalo-secret_1"
HEADER = "X-Bot-Api-Secret-Token"
LIMIT = 4096
HUGE = 80 * 1024 * 1024
PATH = "/zalo"


@dataclass
class Recorder:
    """An `accept` that records what it was given and says yes to JSON objects."""

    taken: list[Any] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    delay: float = 0.0

    async def __call__(self, data: Any) -> bool:
        self.entered.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if not isinstance(data, dict):
            return False
        self.taken.append(data)
        return True


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def port(recorder: Recorder) -> AsyncIterator[int]:
    route = WebhookRoute(
        PATH, secret_header=HEADER, secret=SECRET, max_body_bytes=LIMIT, accept=recorder
    )
    async with serving(build_app([route]), "127.0.0.1", 0) as bound:
        yield bound


def head(
    *,
    secret: str | None = SECRET,
    length: int | None = None,
    chunked: bool = False,
    path: str = PATH,
    method: str = "POST",
    header: str = HEADER,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if secret is not None:
        lines.append(f"{header}: {secret}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def exchange(port: int, sent: bytes, *, close_after: bool = False) -> tuple[int, bytes]:
    """Send raw bytes, read the answer's status and body. The connection stays open
    while the answer is awaited: an answer proves the server did not wait for more."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), 5)
        headers: dict[str, str] = {}
        while (line := await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 5)
    finally:
        writer.close()
    return int(status_line.split()[1]), body


async def post(port: int, body: bytes, **options: Any) -> int:
    return (await exchange(port, head(length=len(body), **options) + body))[0]


# ------------------------------------------------------------------ the webhook route


async def test_an_authentic_update_reaches_accept_as_parsed_json(
    port: int, recorder: Recorder
) -> None:
    update = '{"event": "m", "text": "ü"}'.encode()
    status, body = await exchange(port, head(length=len(update)) + update)
    assert (status, body) == (200, b"ok")
    assert recorder.taken == [{"event": "m", "text": "ü"}]
    assert await post(port, b'{"n": 2}', path=PATH + "/") == 200  # the URL may end in /
    assert await post(port, b'{"n": 3}', path="/other") == 404
    assert (await exchange(port, head(method="GET")))[0] == 405
    assert recorder.taken[1:] == [{"n": 2}]


async def test_a_stranger_is_refused_before_the_body_is_read(port: int, recorder: Recorder) -> None:
    # headers promise a body that never comes: the answer cannot wait for it
    assert (await exchange(port, head(secret=None, length=HUGE)))[0] == 403
    assert (await exchange(port, head(secret="wrong", length=100)))[0] == 403
    assert (await exchange(port, head(secret=SECRET[:-1] + "2", length=100)))[0] == 403
    assert (await exchange(port, head(secret=SECRET + "x", length=100)))[0] == 403
    assert (await exchange(port, head(secret="", length=100)))[0] == 403
    telegram = "X-Telegram-Bot-Api-Secret-Token"  # the right secret under another platform's name
    assert (await exchange(port, head(length=100, header=telegram)))[0] == 403
    assert (await exchange(port, head(secret=None, chunked=True)))[0] == 403
    assert await post(port, b'{"forged": true}', secret="wrong") == 403
    assert not recorder.entered.is_set()


async def test_a_body_announced_over_the_cap_is_refused_unread(
    port: int, recorder: Recorder
) -> None:
    assert (await exchange(port, head(length=LIMIT + 1)))[0] == 413
    assert (await exchange(port, head(length=HUGE)))[0] == 413
    assert (await exchange(port, head(secret="wrong", length=HUGE)))[0] == 403  # no hint
    prefix = b'{"pad": "'
    exactly = prefix + b"x" * (LIMIT - len(prefix) - 2) + b'"}'
    assert len(exactly) == LIMIT
    assert await post(port, exactly) == 200  # the cap itself is allowed
    assert await post(port, exactly[:-2] + b'x"}') == 413
    assert len(recorder.taken) == 1


async def test_a_chunked_body_is_read_only_up_to_the_cap(port: int, recorder: Recorder) -> None:
    whole = head(chunked=True) + chunk(b'{"part":') + chunk(b' "one"}') + b"0\r\n\r\n"
    assert (await exchange(port, whole))[0] == 200
    assert recorder.taken == [{"part": "one"}]
    # over the cap and never finished: the answer comes without the end of the body
    endless = head(chunked=True) + chunk(b"[" + b"1," * (LIMIT // 2))
    assert (await exchange(port, endless))[0] == 413
    assert recorder.taken == [{"part": "one"}]


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe{", b"\xc3(", b'"text"', b"[1, 2]"])
async def test_bad_json_and_what_accept_refuses_answer_400(
    port: int, recorder: Recorder, body: bytes
) -> None:
    assert await post(port, body) == 400
    assert recorder.taken == []


async def test_deeply_nested_json_is_a_400_not_an_error(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    route = WebhookRoute(
        PATH, secret_header=HEADER, secret=SECRET, max_body_bytes=10**6, accept=recorder
    )
    async with serving(build_app([route]), "127.0.0.1", 0) as bound:
        assert await post(bound, b"[" * 100_000) == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_refusals_leave_no_traceback_in_the_log(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await exchange(port, head(secret=None, length=HUGE)))[0] == 403
    assert (await exchange(port, head(length=HUGE)))[0] == 413
    assert await post(port, b"{not json") == 400
    assert await post(port, b"[]") == 400
    # a sender that hangs up halfway through its body
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(length=100) + b'{"half')
    await writer.drain()
    writer.close()
    await asyncio.sleep(0.2)
    assert await post(port, b"{}") == 200  # still serving
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert [r for r in caplog.records if "refused with 403" in r.getMessage()]


async def test_a_failing_accept_is_our_error_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(data: Any) -> bool:
        raise RuntimeError("queue is gone")

    route = WebhookRoute(
        PATH, secret_header=HEADER, secret=SECRET, max_body_bytes=LIMIT, accept=broken
    )
    async with serving(build_app([route]), "127.0.0.1", 0) as bound:
        assert await post(bound, b"{}") == 500
    assert [r for r in caplog.records if r.exc_info and "queue is gone" in str(r.exc_info[1])]


def test_a_webhook_without_a_secret_is_refused() -> None:
    async def accept(data: Any) -> bool:
        return True

    with pytest.raises(ValueError, match="secret"):
        WebhookRoute(PATH, secret_header=HEADER, secret="", max_body_bytes=LIMIT, accept=accept)


# ------------------------------------------------------------------ serving


async def test_a_refusal_closes_the_connection(port: int) -> None:
    """The unread rest of a refused body is never read: the connection ends instead."""
    for refused in (head(secret=None, length=HUGE), head(length=HUGE), head(chunked=True)):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(refused + (chunk(b"x" * (LIMIT + 1)) if b"chunked" in refused else b""))
        await writer.drain()
        try:
            answer = await asyncio.wait_for(reader.read(), 5)  # up to the end of the connection
        finally:
            writer.close()
        assert answer.split(b" ")[1] in (b"403", b"413")


async def test_serving_reports_a_failed_start_before_it_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def failing(self: object, sockets: object = None) -> None:
        raise RuntimeError("cannot start")

    monkeypatch.setattr(web._InLoopServer, "startup", failing)
    entered = False
    with pytest.raises(RuntimeError, match="cannot start"):
        async with serving(build_app([]), "127.0.0.1", 0):
            entered = True
    assert not entered


async def test_serving_listens_on_return_and_stops_on_exit(recorder: Recorder) -> None:
    route = WebhookRoute(
        PATH, secret_header=HEADER, secret=SECRET, max_body_bytes=LIMIT, accept=recorder
    )
    async with serving(build_app([route]), "127.0.0.1", 0) as bound:
        assert bound > 0
        _, writer = await asyncio.open_connection("127.0.0.1", bound)  # no waiting needed
        writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", bound)


async def test_serving_leaves_the_process_signal_handlers_alone() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        before = signal.getsignal(signal.SIGTERM)
        async with serving(build_app([]), "127.0.0.1", 0) as bound:
            assert signal.getsignal(signal.SIGTERM) is before
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(stop.wait(), 5)  # the process's handler ran
            async with httpx.AsyncClient() as client:  # and the server still serves
                assert (await client.get(f"http://127.0.0.1:{bound}/")).status_code == 404
        assert signal.getsignal(signal.SIGTERM) is before
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def test_a_busy_port_raises_instead_of_exiting() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = taken.getsockname()[1]
        with pytest.raises(OSError):
            async with serving(build_app([]), "127.0.0.1", busy):
                pass


async def test_stopping_lets_a_request_in_flight_finish() -> None:
    slow = Recorder(delay=0.5)
    route = WebhookRoute(
        PATH, secret_header=HEADER, secret=SECRET, max_body_bytes=LIMIT, accept=slow
    )
    async with serving(build_app([route]), "127.0.0.1", 0) as bound:
        answer = asyncio.create_task(post(bound, b'{"late": 1}'))
        await asyncio.wait_for(slow.entered.wait(), 5)
    assert await answer == 200
    assert slow.taken == [{"late": 1}]


async def test_stopping_does_not_wait_for_a_stalled_sender(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    monkeypatch.setattr(web, "SHUTDOWN_GRACE", 1)
    route = WebhookRoute(
        PATH, secret_header=HEADER, secret=SECRET, max_body_bytes=LIMIT, accept=recorder
    )
    async with serving(build_app([route]), "127.0.0.1", 0) as bound:
        _, writer = await asyncio.open_connection("127.0.0.1", bound)
        writer.write(head(length=100) + b"{")  # and nothing more
        await writer.drain()
        await asyncio.sleep(0.1)
        started = time.monotonic()
    assert time.monotonic() - started < 3
    writer.close()


# ------------------------------------------------------------------ file links


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def file_server(db: Database) -> AsyncIterator[tuple[httpx.AsyncClient, Clock]]:
    clock = Clock()
    async with (
        serving(build_app([FileRoute(db, clock)]), "127.0.0.1", 0) as bound,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound}") as client,
    ):
        yield client, clock


async def publish(db: Database, name: str, content: bytes, now: datetime, days: int = 7) -> str:
    async with db.session() as session:
        return await files.publish(session, name, content, now, timedelta(days=days))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_a_file_link_serves_the_file_until_it_expires(
    db: Database, file_server: tuple[httpx.AsyncClient, Clock]
) -> None:
    client, clock = file_server
    name = "Báo cáo tháng 12 — Chi bộ Đông Mai.xlsx"
    token = await publish(db, name, b"PK\x03\x04workbook", clock.now)
    shared = await client.get(f"/files/{token}")
    assert shared.status_code == 200
    assert shared.content == b"PK\x03\x04workbook"
    assert shared.headers["content-type"] == XLSX
    assert shared.headers["cache-control"] == "private, no-store"
    assert shared.headers["x-content-type-options"] == "nosniff"
    given = shared.headers["content-disposition"]
    assert given.startswith('attachment; filename="Bao cao thang 12 ')
    assert unquote(given.split("filename*=UTF-8''")[1]) == name

    head_only = await client.head(f"/files/{token}")
    assert head_only.status_code == 200 and head_only.content == b""
    assert head_only.headers["content-length"] == str(len(b"PK\x03\x04workbook"))
    assert head_only.headers["content-type"] == XLSX

    clock.now += timedelta(days=7) - timedelta(seconds=1)
    assert (await client.get(f"/files/{token}")).status_code == 200
    clock.now += timedelta(seconds=1)  # the moment it expires
    assert (await client.get(f"/files/{token}")).status_code == 404
    assert (await client.head(f"/files/{token}")).status_code == 404


async def test_a_chart_shows_inline_as_a_png(
    db: Database, file_server: tuple[httpx.AsyncClient, Clock]
) -> None:
    client, clock = file_server
    token = await publish(db, "chibo-2026-12.png", b"\x89PNG\r\n", clock.now)
    shared = await client.get(f"/files/{token}")
    assert shared.headers["content-type"] == "image/png"
    assert shared.headers["content-disposition"].startswith('inline; filename="chibo-2026-12.png"')
    csv_token = await publish(db, "điểm.csv", "Tên;Điểm\n".encode(), clock.now)
    csv = await client.get(f"/files/{csv_token}")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.text == "Tên;Điểm\n"


async def test_unknown_and_malformed_tokens_are_404_and_only_get_is_served(
    db: Database, file_server: tuple[httpx.AsyncClient, Clock]
) -> None:
    client, clock = file_server
    token = await publish(db, "a.png", b"x", clock.now)
    assert (await client.get(f"/files/{secrets.token_urlsafe(24)}")).status_code == 404
    assert (await client.get(f"/files/{token[:-1]}")).status_code == 404
    assert (await client.get("/files/short")).status_code == 404
    assert (await client.get("/files/" + "%27%20OR%201=1--" * 3)).status_code == 404
    assert (await client.get("/files/")).status_code == 404
    assert (await client.post(f"/files/{token}")).status_code == 405
    assert (await client.delete(f"/files/{token}")).status_code == 405
    assert (await client.get(f"/files/{token}")).status_code == 200  # still there


async def test_share_publishes_and_links_under_the_public_url(db: Database) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    chart = Attachment("photo", "chibo-2026-12.png", b"\x89PNG")
    async with db.session() as session:
        old = await files.publish(session, "old.png", b"o", now - timedelta(days=8), timedelta(7))
        url = await file_links.share(session, chart, now, "https://bot.example.org/chibo/")
    token = url.removeprefix("https://bot.example.org/chibo/files/")
    assert token != url and len(token) >= 32
    async with db.session() as session:
        shared = await files.fetch(session, token, now + timedelta(days=7) - timedelta(seconds=1))
        assert shared is not None and shared.content == b"\x89PNG"
        assert await files.fetch(session, token, now + timedelta(days=7)) is None
        assert await session.get(SharedFile, old) is None  # expired ones went on the way
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        async with db.session() as session:
            await file_links.share(session, chart, now, "")
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(SharedFile)) == 1


def test_link_joins_the_base_url_and_the_token() -> None:
    assert file_links.link("https://x.org", "T0k") == "https://x.org/files/T0k"
    assert file_links.link("https://x.org/p/", "T0k") == "https://x.org/p/files/T0k"


def test_filenames_survive_for_old_and_new_clients() -> None:
    name = 'Đánh giá "Chi bộ 4 tốt"\\\r\n%.xlsx'
    header = disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    fallback = header.split('filename="')[1].split('";')[0]
    assert fallback == ascii_fallback(name) == "Danh gia _Chi bo 4 tot_____.xlsx"
    assert unquote(header.split("filename*=UTF-8''")[1]) == name
    assert ascii_fallback("Тест") == "____" and ascii_fallback("") == "file"
