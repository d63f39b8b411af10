"""``chibo`` with one PTB setting changed, for what-if runs of the benchmark only.

``python bench/chibo_variant.py run`` is ``chibo run`` with the Application that
``bot.channels.telegram.build_application`` builds altered by environment variables:

* ``BENCH_NO_RATE_LIMIT=1``: the ``AIORateLimiter`` keeps its ``max_retries`` but gets
  ``overall_max_rate=0`` and ``group_max_rate=0`` (no client-side 30 requests/s cap);
* ``BENCH_CONCURRENT_UPDATES=N``: ``ApplicationBuilder.concurrent_updates(N)``, PTB's
  plain processor (chibo itself runs different chats concurrently, each in order).

The benchmark runs it (and the echo bot with the same variables) for
``--rate-limiter off`` and ``--concurrent-updates N``. It is not how chibo runs in
production; without any variable set it is exactly ``chibo run``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from telegram.ext import AIORateLimiter, ApplicationBuilder


class UnlimitedRateLimiter(AIORateLimiter):
    """AIORateLimiter without the overall and per-group rate limits (retries kept)."""

    def __init__(self, *args: Any, max_retries: int = 0, **kwargs: Any) -> None:
        super().__init__(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)


def concurrent_updates() -> int:
    """``BENCH_CONCURRENT_UPDATES`` as a number (1: PTB's default, one at a time)."""
    return max(1, int(os.environ.get("BENCH_CONCURRENT_UPDATES") or 1))


def rate_limits() -> bool:
    return os.environ.get("BENCH_NO_RATE_LIMIT", "") not in ("1", "true", "yes")


class VariantBuilder(ApplicationBuilder):  # type: ignore[type-arg]
    """ApplicationBuilder that applies ``BENCH_CONCURRENT_UPDATES`` when building."""

    def build(self) -> Any:
        if concurrent_updates() > 1:
            self.concurrent_updates(concurrent_updates())
        return super().build()


def main() -> None:
    from bot.app import cli
    from bot.channels import telegram

    if not rate_limits():
        telegram.AIORateLimiter = UnlimitedRateLimiter  # type: ignore[misc]
    telegram.ApplicationBuilder = VariantBuilder  # type: ignore[misc]
    sys.argv[0] = "chibo"
    cli.main()


if __name__ == "__main__":
    main()
