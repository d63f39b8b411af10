"""The process's one HTTP server: a Starlette app served by uvicorn in the bot's event loop.

Webhooks (Telegram, Zalo) and expiring file links are routes of this one app, not
servers of their own. The channels add their `WebhookRoute`; this module knows
nothing of any chat platform, and nothing below the outer layer imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import socket
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from datetime import datetime
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from bot.services.files import PATH as FILES_PATH
from storage import files
from storage.db import Database

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 5  # seconds requests in flight get to finish when the server stops
# A refusal closes the connection: the rest of an unread body is never read.
CLOSE = {"Connection": "close"}


class WebhookRoute(Route):
    """POSTed updates of one chat platform, checked before they are handed on.

    The secret and the announced length are checked on the headers, before any of
    the body is read: a stranger is refused (403) unread, whatever the length, and a
    body over the cap is refused (413) unread. A chunked body is read only up to the
    cap. (uvicorn itself takes up to 64 KiB off the socket before it pauses reading:
    that much, no more, may sit in memory for a request that is then refused.)

    `accept` gets the parsed JSON and returns False for what is not an update it can
    take (400). If it raises, that is our bug: 500 and a traceback in the log.
    Refusals are the sender's mistake and are logged at debug only.
    """

    def __init__(
        self,
        path: str,
        *,
        secret_header: str,
        secret: str,
        max_body_bytes: int,
        accept: Callable[[Any], Awaitable[bool]],
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret: without one anybody could post updates")
        route = "/" + path.strip("/")
        super().__init__(route, self.post, methods=["POST"], name=f"webhook {route}")
        # the URL registered with the platform may end in "/" or not: serve both
        self.path_regex = re.compile("^" + re.escape(route.rstrip("/")) + "/?$")
        self.secret_header = secret_header
        self.secret = secret.encode()
        self.max_body_bytes = max_body_bytes
        self.accept = accept

    async def post(self, request: Request) -> Response:
        """One POST: secret, length, then the body, then `accept`."""
        given = request.headers.get(self.secret_header, "").encode("latin-1")
        authentic = hmac.compare_digest(given, self.secret)
        if not authentic:
            return self._refuse(HTTPStatus.FORBIDDEN)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            return self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        body = bytearray()
        try:
            async with contextlib.aclosing(request.stream()) as stream:
                async for chunk in stream:
                    body += chunk
                    if len(body) > self.max_body_bytes:  # chunked: no length was announced
                        return self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        except ClientDisconnect:
            log.debug("webhook %s: the sender hung up", self.path)
            return Response(status_code=HTTPStatus.BAD_REQUEST)  # nobody reads it
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
            return self._refuse(HTTPStatus.BAD_REQUEST, close=False)
        if not await self.accept(data):
            return self._refuse(HTTPStatus.BAD_REQUEST, close=False)
        return PlainTextResponse("ok")

    def _refuse(self, status: HTTPStatus, *, close: bool = True) -> Response:
        log.debug("webhook %s: refused with %d", self.path, status)
        headers = CLOSE if close else None
        return PlainTextResponse(status.phrase, status_code=status, headers=headers)


# Content types of what chibo publishes; anything else is offered as a plain download.
CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".yaml": "application/yaml",
    ".json": "application/json",
}
OCTET_STREAM = "application/octet-stream"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what secrets.token_urlsafe makes


class FileRoute(Route):
    """GET (or HEAD) /files/<token>: a published file until its link expires, else 404."""

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        super().__init__(FILES_PATH + "{token}", self.serve, methods=["GET"], name="files")
        self.database = database
        self.clock = clock

    async def serve(self, request: Request) -> Response:
        token = request.path_params["token"]
        if not TOKEN_SHAPE.fullmatch(token):  # no database trip for junk
            return PlainTextResponse("Not Found", status_code=HTTPStatus.NOT_FOUND)
        async with self.database.session() as session:
            shared = await files.fetch(session, token, self.clock())
            if shared is None:
                return PlainTextResponse("Not Found", status_code=HTTPStatus.NOT_FOUND)
            filename, content = shared.filename, shared.content
        media_type = content_type(filename)
        inline = media_type.startswith("image/")  # a photo shows; a workbook downloads
        headers = {
            "Content-Disposition": disposition(filename, inline=inline),
            "Cache-Control": "private, no-store",  # the link is the only key: keep no copies
            "X-Content-Type-Options": "nosniff",
        }
        return Response(content, media_type=media_type, headers=headers)


def content_type(filename: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(filename).suffix.lower(), OCTET_STREAM)


def disposition(filename: str, *, inline: bool = False) -> str:
    """Content-Disposition with an ASCII fallback and the real name per RFC 5987/6266.

    "Báo cáo tháng 12.xlsx" → filename="Bao cao thang 12.xlsx";
    filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20th%C3%A1ng%2012.xlsx
    """
    kind = "inline" if inline else "attachment"
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"{kind}; filename=\"{ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"


def ascii_fallback(filename: str) -> str:
    """The name without diacritics, for clients that ignore filename* (đ → d)."""
    decomposed = unicodedata.normalize("NFD", filename.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    safe = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in plain)
    return safe.strip() or "file"


def build_app(routes: Sequence[BaseRoute]) -> Starlette:
    """The one ASGI app of the process; anything unrouted answers 404."""
    return Starlette(routes=list(routes))


class _InLoopServer(uvicorn.Server):
    """uvicorn's server without its signal handling: the process owns SIGINT and SIGTERM.

    `Server.serve` replaces the handlers with `signal.signal` for as long as it runs
    (and raises the caught signal again afterwards); the bot's own handlers, set with
    `loop.add_signal_handler`, would be lost meanwhile.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, host: str, port: int) -> AsyncIterator[int]:
    """Serve `app` on host:port inside the running event loop, as a task.

    Returns once the server listens and yields the port (useful with port 0); on
    exit it stops accepting, gives requests in flight `SHUTDOWN_GRACE` seconds and
    ends. The socket is bound here, so a busy port raises OSError here, instead of
    the `sys.exit` uvicorn calls when it binds and fails.
    """
    listener = _listen(host, port)
    config = uvicorn.Config(
        app,
        lifespan="off",  # the bot starts and stops what the app needs
        http="h11",  # the same protocol everywhere (httptools buffers differently)
        ws="none",
        log_config=None,  # leave the process's logging as it is
        access_log=False,
        proxy_headers=False,  # nothing reads the client's address
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    server = _InLoopServer(config)
    task = asyncio.create_task(server.serve(sockets=[listener]), name="http server")
    try:
        while not server.started:
            if task.done():
                task.result()  # its error, if it failed
                raise RuntimeError("the HTTP server stopped before it listened")
            await asyncio.sleep(0.005)
        bound = int(listener.getsockname()[1])
        log.info("HTTP server listening on %s:%d", host, bound)
        yield bound
    finally:
        server.should_exit = True
        try:
            await task
        finally:
            listener.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host: an IPv4 or IPv6 address or a name; empty means 0.0.0.0."""
    family, _, _, _, address = socket.getaddrinfo(
        host or "0.0.0.0", port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return socket.create_server(address, family=family, backlog=2048)
