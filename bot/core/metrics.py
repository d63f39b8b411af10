"""The process's Prometheus metrics (served at /metrics by `bot.app.health`).

Counters are process-wide, like logging: the layers that see an event count it here,
and nothing here knows about HTTP or any chat platform.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

UPDATES = Counter(
    "chibo_updates",
    "Chat messages and button presses handled, by channel, kind and outcome.",
    ["channel", "kind", "outcome"],
)
TURN_SECONDS = Histogram(
    "chibo_turn_seconds",
    "From a message's arrival to its answer being ready (database work included).",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
NOTIFICATIONS = Counter(
    "chibo_notifications",
    "Outbox notifications finished, by kind and outcome (sent, skipped, failed…).",
    ["kind", "outcome"],
)
RATE_LIMITED = Counter(
    "chibo_rate_limited",
    "Sends the platform refused for flood or quota (Telegram RetryAfter, Zalo 429).",
    ["channel"],
)


def kind_of(text: str | None, button: str | None) -> str:
    """What a chat event was, for counting: a command, a button, a text, or other."""
    if button is not None:
        return "button"
    if text is None:
        return "other"
    return "command" if text.startswith("/") else "text"
