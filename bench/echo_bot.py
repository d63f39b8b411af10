"""A bare python-telegram-bot bot: the baseline of the assessment throughput benchmark.

It is built like chibo's ``bot/channels/telegram.py`` builds its Application (same
token/base URL/file URL, ``AIORateLimiter(overall_max_rate=TELEGRAM_RATE_LIMIT or 30,
max_retries=3)``, one MessageHandler for
private non-edited messages, one CallbackQueryHandler, an error handler, long polling
with ``allowed_updates=["message", "callback_query"]``, sequential update processing
as PTB's default), but does no work of its own: no database, no state. It plays the
same screens as chibo's assessment so the benchmark can drive both the same way:

* a command (``/assess``) → a new message "Câu 1/16 …" with answer buttons;
* a press of ``as:ans:1:N:V`` → answers the query and edits the message into
  question N+1 (question 16 has no answer buttons: it wants typed text);
* any other text → a new message "Xem lại …" with a ``as:submit:1`` button;
* a press of ``as:submit:1`` → edits the message into "Đã gửi bản tự đánh giá …".

Run (the benchmark does this)::

    TELEGRAM_BOT_TOKEN=123:ABC TELEGRAM_API_URL=http://127.0.0.1:PORT/bot \
        python bench/echo_bot.py

``BENCH_NO_RATE_LIMIT=1`` and ``BENCH_CONCURRENT_UPDATES=N`` change it the same way
``bench/chibo_variant.py`` changes chibo, for the benchmark's what-if runs.
"""

from __future__ import annotations

import logging
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

log = logging.getLogger("echo_bot")

QUESTIONS = 16
OPTIONS = (("1", "Xuất sắc"), ("0.75", "Tốt"), ("0.5", "Hoàn thành"), ("0", "Không hoàn thành"))
QUESTION_TEXT = (
    "Đồng chí có thực hiện đầy đủ nhiệm vụ được chi bộ phân công trong tháng này, "
    "giữ gìn phẩm chất đạo đức, lối sống và gương mẫu nơi cư trú không?"
)


def _file_url(api_url: str) -> str:
    """Same derivation as chibo's ``bot.channels.telegram._file_url``."""
    base = api_url.rstrip("/")
    return base[: -len("bot")] + "file/bot" if base.endswith("bot") else base + "/file/bot"


def question(number: int) -> tuple[str, InlineKeyboardMarkup]:
    """Question ``number`` (1-based) as text and keyboard, shaped like chibo's."""
    lines = [
        f"Câu {number}/{QUESTIONS} · Nhóm {(number - 1) // 4 + 1}: Tiêu chí mẫu",
        "",
        QUESTION_TEXT,
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if number < QUESTIONS:
        rows += [
            [InlineKeyboardButton(label, callback_data=f"as:ans:1:{number}:{value}")]
            for value, label in OPTIONS
        ]
    else:
        lines += ["", "Nhập câu trả lời (tối đa 1000 ký tự)."]
        rows.append([InlineKeyboardButton("Bỏ qua ▶", callback_data=f"as:skip:1:{number}")])
    navigation = [InlineKeyboardButton("⏸ Tạm dừng", callback_data="as:pause:1")]
    if number > 1:
        navigation.insert(
            0, InlineKeyboardButton("◀ Quay lại", callback_data=f"as:back:1:{number}")
        )
    rows.append(navigation)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def review() -> tuple[str, InlineKeyboardMarkup]:
    """The review screen: one line per question, edit buttons, submit, pause."""
    lines = ["Xem lại các câu trả lời trước khi gửi:", ""]
    lines += [f"{n}. {QUESTION_TEXT[:69]}… → Xuất sắc" for n in range(1, QUESTIONS + 1)]
    lines += ["", "Bấm số để sửa câu trả lời đó."]
    edits = [
        InlineKeyboardButton(str(n), callback_data=f"as:edit:1:{n}")
        for n in range(1, QUESTIONS + 1)
    ]
    rows = [edits[i : i + 6] for i in range(0, len(edits), 6)]
    rows.append([InlineKeyboardButton("📨 Gửi bản tự đánh giá", callback_data="as:submit:1")])
    rows.append([InlineKeyboardButton("⏸ Tạm dừng", callback_data="as:pause:1")])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def submitted() -> tuple[str, InlineKeyboardMarkup]:
    text = "Đã gửi bản tự đánh giá. Cảm ơn đồng chí!"
    button = InlineKeyboardButton("✏️ Sửa câu trả lời", callback_data="as:reopen:1")
    return text, InlineKeyboardMarkup([[button]])


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command starts the questions; any other text is the free-text answer."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    text, markup = question(1) if (message.text or "").startswith("/") else review()
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the query, then edit the pressed message into the next screen."""
    query = update.callback_query
    if query is None:
        return
    parts = (query.data or "").split(":")
    verb = parts[1] if len(parts) > 1 else ""
    await query.answer()
    if verb == "ans" and len(parts) > 3 and parts[3].isdigit():
        text, markup = question(min(int(parts[3]) + 1, QUESTIONS))
    elif verb == "submit":
        text, markup = submitted()
    else:
        return
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update failed", exc_info=context.error)


def build_application(  # type: ignore[type-arg]
    token: str,
    api_url: str,
    *,
    rate: float = 30,
    rate_limits: bool = True,
    concurrent_updates: int = 1,
) -> Application:
    """The Application, built with the same builder calls as chibo's (``rate``: chibo's
    TELEGRAM_RATE_LIMIT, the AIORateLimiter's overall requests per second).

    For what-if runs only (``bench/chibo_variant.py`` does the same to chibo):
    ``rate_limits=False`` (env ``BENCH_NO_RATE_LIMIT=1``) keeps the AIORateLimiter but
    without its overall/group limits; ``concurrent_updates`` > 1 (env
    ``BENCH_CONCURRENT_UPDATES``) lets PTB process that many updates at once.
    """
    limiter = (
        AIORateLimiter(overall_max_rate=rate, max_retries=3)
        if rate_limits
        else AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)
    )
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(api_url)
        .base_file_url(_file_url(api_url))
        .rate_limiter(limiter)
    )
    if concurrent_updates > 1:
        builder = builder.concurrent_updates(concurrent_updates)
    app = builder.build()
    private = filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED
    app.add_handler(MessageHandler(private, on_message))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)
    return app


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = build_application(
        os.environ["TELEGRAM_BOT_TOKEN"],
        os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org/bot"),
        rate=float(os.environ.get("TELEGRAM_RATE_LIMIT") or 30),
        rate_limits=os.environ.get("BENCH_NO_RATE_LIMIT", "") not in ("1", "true", "yes"),
        concurrent_updates=max(1, int(os.environ.get("BENCH_CONCURRENT_UPDATES") or 1)),
    )
    app.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
