"""Settings from the environment and `.env`, as one typed object.

Every setting is documented in `.env.example`. A missing or malformed value
stops start-up with one line that names it (see `load_settings`).
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_LOCALES = ("vi", "en", "de")


class UpdateMode(StrEnum):
    """How a channel receives messages: it asks (polling), or they are POSTed (webhook)."""

    POLLING = "polling"
    WEBHOOK = "webhook"


TelegramMode = UpdateMode


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = ""
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_bot_username: str = ""
    telegram_mode: TelegramMode = TelegramMode.POLLING
    webhook_url: str = ""
    webhook_path: str = "telegram"
    webhook_secret: str = ""
    webhook_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    # The process's one HTTP server (webhooks, file links). WEBHOOK_LISTEN/WEBHOOK_PORT
    # were its names while it served only Telegram's webhook: still accepted.
    http_listen: str = Field(
        default="127.0.0.1",  # behind a TLS proxy on the same machine
        validation_alias=AliasChoices("http_listen", "webhook_listen"),
    )
    http_port: int = Field(
        default=8080, ge=0, le=65535, validation_alias=AliasChoices("http_port", "webhook_port")
    )
    public_base_url: str = ""  # where the proxy publishes the HTTP server, for file links
    file_link_days: int = Field(default=7, ge=1, le=365)

    database_url: str = "sqlite+aiosqlite:///chibo.sqlite3"
    default_timezone: str = "Asia/Ho_Chi_Minh"
    default_locale: str = "vi"
    max_text_length: int = Field(default=1000, ge=10, le=4000)
    invite_attempts_per_window: int = Field(default=5, ge=1)
    invite_attempt_window_minutes: int = Field(default=15, ge=1)
    scheduler_interval_seconds: float = Field(default=20, gt=0, le=3600)
    telegram_rate_limit: float = Field(default=30, gt=0, le=10_000)
    send_concurrency: int = Field(default=8, ge=1, le=1000)
    update_concurrency: int = Field(default=64, ge=1, le=1000)
    # connections to the Bot API: httpx checks every pooled connection on each request
    telegram_connections: int = Field(default=8, ge=1, le=256)
    log_level: str = "INFO"
    # months a free-text answer, comment or reason is kept after its month ended; 0: forever
    free_text_retention_months: int = Field(default=24, ge=0, le=1200)

    zalo_bot_token: str = ""
    zalo_api_url: str = "https://bot-api.zaloplatforms.com/bot"
    zalo_mode: UpdateMode = UpdateMode.POLLING
    zalo_webhook_url: str = ""
    zalo_webhook_secret: str = ""
    zalo_rate_limit: float = Field(default=10, gt=0, le=1000)  # Zalo publishes no limit
    zalo_bot_link: str = ""  # the bot's Zalo link, shown in invites (e.g. https://zalo.me/…)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        if value and (":" not in value or not value.split(":", 1)[0].isdigit()):
            raise ValueError("expected the form 123456:ABC… given by @BotFather")
        return value

    @field_validator(
        "telegram_api_url", "webhook_url", "zalo_api_url", "zalo_webhook_url", "public_base_url"
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB"
            )
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"expected one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("webhook_secret", "zalo_webhook_secret")
    @classmethod
    def _secret_charset(cls, value: str) -> str:
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        if len(value) > 256 or not set(value) <= allowed:
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _zalo_secret_length(cls, value: str) -> str:
        if value and len(value) < 8:
            raise ValueError("at least 8 characters (Zalo refuses shorter ones)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    def require_channel(self, extra_bots: int = 0) -> None:
        """Check the settings `chibo run` needs beyond the defaults: at least one bot
        (a token here, or `extra_bots` added with `chibo bot add`)."""
        if not self.telegram_bot_token and not self.zalo_bot_token and not extra_bots:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN: missing (get a token from @BotFather "
                "or the Zalo Bot Platform, put it in .env)"
            )
        if self.telegram_bot_token:
            self._require_telegram_mode()
        if self.zalo_bot_token and self.zalo_mode is UpdateMode.WEBHOOK:
            if not self.zalo_webhook_url:
                raise SettingsError("ZALO_WEBHOOK_URL: missing (required when ZALO_MODE=webhook)")
            if not self.zalo_webhook_secret:
                raise SettingsError(
                    "ZALO_WEBHOOK_SECRET: missing (required when ZALO_MODE=webhook)"
                )

    def require_telegram(self) -> None:
        """Check the settings a Telegram-only command needs."""
        if not self.telegram_bot_token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN: missing (get one from @BotFather, put it in .env)"
            )
        self._require_telegram_mode()

    def _require_telegram_mode(self) -> None:
        if self.telegram_mode is TelegramMode.WEBHOOK:
            if not self.webhook_url:
                raise SettingsError("WEBHOOK_URL: missing (required when TELEGRAM_MODE=webhook)")
            if not self.webhook_secret:
                raise SettingsError("WEBHOOK_SECRET: missing (required when TELEGRAM_MODE=webhook)")


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn pydantic's report into one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
