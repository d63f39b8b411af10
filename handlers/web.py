"""/web: a personal one-time link to the web view (committee officers, secretaries, members)."""

from __future__ import annotations

from bot.core.chat import Outcome, Reply
from bot.services import web_access
from handlers.context import Turn


async def web(turn: Turn, args: list[str]) -> Outcome:
    """/web: a link that signs this member in to the web view once, within minutes."""
    _ = turn._
    assert turn.member is not None
    base_url = turn.runtime.settings.public_base_url
    if not base_url:
        return Outcome(
            [
                Reply(
                    _(
                        "The web view is not set up on this server: the administrator has to "
                        "set PUBLIC_BASE_URL (the server's public address) first."
                    )
                )
            ]
        )
    made = await web_access.new_link(turn.session, turn.member, turn.now, base_url)
    if isinstance(made, web_access.Throttled):
        return Outcome(
            [
                Reply(
                    _(
                        "You asked for several links in a short time. "
                        "Please try again after {time}."
                    ).format(time=turn.t.time(made.retry_at))
                )
            ]
        )
    text = _(
        "Your personal link to the web view:\n{url}\n"
        "It works once and only until {time}; do not forward it. "
        "Send /web again for a new link."
    ).format(url=made.url, time=turn.t.time(made.expires_at))
    return Outcome([Reply(text)])
