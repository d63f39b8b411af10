"""Settings: defaults, and one clear line naming a bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import SettingsError, TelegramMode, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.default_timezone == "Asia/Ho_Chi_Minh" and settings.default_locale == "vi"
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.telegram_mode is TelegramMode.POLLING


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "TELEGRAM_API_URL=http://127.0.0.1:8081/bot\nDEFAULT_LOCALE=de\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.telegram_api_url == "http://127.0.0.1:8081/bot"
    assert settings.default_locale == "de"


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"telegram_bot_token": "nonsense"}, "TELEGRAM_BOT_TOKEN: expected the form"),
        ({"telegram_api_url": "ftp://x"}, "TELEGRAM_API_URL: expected an http"),
        ({"database_url": "mysql://x"}, "DATABASE_URL: expected sqlite+aiosqlite"),
        ({"default_timezone": "Mars/Olympus"}, "DEFAULT_TIMEZONE: unknown time zone"),
        ({"default_locale": "fr"}, "DEFAULT_LOCALE: expected one of vi, en, de"),
        ({"webhook_port": "99999"}, "WEBHOOK_PORT:"),
        ({"http_port": "70000"}, "HTTP_PORT:"),
        ({"public_base_url": "bot.example.org"}, "PUBLIC_BASE_URL: expected an http"),
        ({"file_link_days": "0"}, "FILE_LINK_DAYS:"),
        ({"webhook_secret": "has space"}, "WEBHOOK_SECRET: 1-256 characters"),
        ({"telegram_mode": "carrier-pigeon"}, "TELEGRAM_MODE:"),
        ({"log_level": "LOUD"}, "LOG_LEVEL: expected DEBUG"),
    ],
)
def test_bad_settings_name_themselves(overrides: dict[str, str], line: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **overrides)
    assert str(caught.value).startswith(line)
    assert "\n" not in str(caught.value)


def test_run_needs_a_token_and_webhook_needs_url_and_secret() -> None:
    with pytest.raises(SettingsError, match=r"^TELEGRAM_BOT_TOKEN: missing"):
        load_settings(_env_file=None).require_telegram()
    webhook = load_settings(_env_file=None, telegram_bot_token="1:A", telegram_mode="webhook")
    with pytest.raises(SettingsError, match=r"^WEBHOOK_URL: missing"):
        webhook.require_telegram()
    with_url = load_settings(
        _env_file=None,
        telegram_bot_token="1:A",
        telegram_mode="webhook",
        webhook_url="https://bot.example.org/telegram",
    )
    with pytest.raises(SettingsError, match=r"^WEBHOOK_SECRET: missing"):
        with_url.require_telegram()
