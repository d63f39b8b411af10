"""A small async client of the Zalo Bot Platform API, on httpx.

`{ZALO_API_URL}{token}/{method}` with a JSON body; every answer is
`{ok, result, description, error_code}`, and an error may come with HTTP 200
and `ok: false`, so `ok` decides, not the status. `getUpdates` has no offset:
it returns one update, or error 408 when the long poll found nothing.

Why our own: the Python SDKs for this API are young (one calls `asyncio.run`
inside a running loop); the few methods chibo needs fit in this file.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.core import metrics

log = logging.getLogger(__name__)
IDLE = 408  # getUpdates: nothing arrived within the timeout


class ZaloError(Exception):
    """The API answered `ok: false` (or a non-JSON error page)."""

    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description


class ZaloNetworkError(Exception):
    """No answer: `sent` tells whether the request may have reached Zalo."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class ZaloBotAPI:
    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        timeout: float = 20.0,
        connections: int = 8,
    ) -> None:
        self._url = base_url  # "https://…/bot": the token follows without a slash
        self._token = token
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0, pool=30.0),
            limits=httpx.Limits(max_connections=connections),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def call(
        self, method: str, params: dict[str, Any], *, timeout: float | None = None
    ) -> Any:
        """The `result` of one method; ZaloError for `ok: false`, ZaloNetworkError for none."""
        url = f"{self._url}{self._token}/{method}"
        extra = {"timeout": httpx.Timeout(timeout, connect=10.0)} if timeout else {}
        try:
            response = await self._client.post(url, json=params, **extra)  # type: ignore[arg-type]
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ZaloNetworkError(f"{method}: {exc!r}", sent=False) from exc
        except httpx.HTTPError as exc:  # read timeouts, dropped connections: maybe delivered
            raise ZaloNetworkError(f"{method}: {exc!r}", sent=True) from exc
        try:
            body = response.json()
        except ValueError:
            raise ZaloError(response.status_code, response.text[:200] or "no body") from None
        if not isinstance(body, dict):
            raise ZaloError(response.status_code, "unexpected answer")
        if not body.get("ok"):
            code = body.get("error_code") or response.status_code
            if code == 429:
                metrics.RATE_LIMITED.labels("zalo").inc()
            raise ZaloError(int(code), str(body.get("description") or "error"))
        return body.get("result")

    async def get_me(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("getMe", {})
        return result

    async def get_update(self, timeout: int) -> dict[str, Any] | None:
        """One update, or None when the long poll of `timeout` seconds found nothing."""
        try:
            result = await self.call("getUpdates", {"timeout": timeout}, timeout=timeout + 10)
        except ZaloError as exc:
            if exc.error_code == IDLE:
                return None
            raise
        return result if isinstance(result, dict) and result else None

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> Any:
        params = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params)

    async def send_typing(self, chat_id: str) -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": "typing"})

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook", {})
